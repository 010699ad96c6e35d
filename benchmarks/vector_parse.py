"""The C reader on a vector export, in-process: instructions (callgrind) or CPU per element.

    python benchmarks/vector_parse.py FILE [MB] [REPEATS]
    valgrind --tool=callgrind --toggle-collect=read_records python benchmarks/vector_parse.py FILE 8

FILE: an archon_crawled_pages.csv (`aria-tui sample DIR --profile archon`, or the benchmark's
cached input). Its first MB are cut into ~3 MB record-aligned blocks and read the way the loader
reads them (csvio.native.read_records with the table's column kinds, 1536-d embeddings parsed to
binary COPY fields); prints the rows and CPU nanoseconds per embedding element (all columns).
callgrind counts instructions: reproducible on a shared, noisy machine, where times are not.
"""

from __future__ import annotations

import re
import sys
import time

from aria_tui.csvio import _native as nat  # type: ignore[attr-defined]

# archon_crawled_pages' columns, as the loader's Encoding gives them to the C reader: id, url,
# chunk_number, content, metadata (jsonb), source_id (uuid), five vector columns, two texts,
# embedding_dimension, created_at (timestamptz), page_id (uuid)
KINDS = (-2, -1, -2, -1, -4, -7, 384, 768, 1024, 1536, 3072, -1, -1, -2, -5, -7)


def main() -> None:
    path = sys.argv[1]
    mb = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    with open(path, "rb") as fh:
        data = fh.read(mb << 20)
    data = data[data.index(b"\n") + 1 :]
    blocks, pos = [], 0
    for m in re.finditer(rb"\n\d+,https?://", data):  # a record starts: id, then the url
        if m.start() + 1 - pos >= 3 << 20:
            blocks.append(data[pos : m.start() + 1])
            pos = m.start() + 1
    rows, elements = 0, 0
    t = time.process_time()
    for _ in range(repeats):
        for block in blocks:
            got = nat.read_records(block, len(KINDS), False, KINDS, False)
            assert got is not None, "the C reader declined a block"
            rows += got[0]
            assert not any(got[3][j] for j in range(6, 11)), "rows deferred to the exact tiers"
            elements += sum(
                (len(f) - 8) // 4 for j in range(6, 11) for f in got[2][j] if len(f) > 4
            )
    dt = time.process_time() - t
    print(f"{rows} rows, {elements} elements, {dt:.3f} s CPU, {dt / elements * 1e9:.1f} ns/element")


if __name__ == "__main__":
    main()
