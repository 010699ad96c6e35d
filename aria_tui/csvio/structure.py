"""How many records a file holds and which ones COPY would refuse, in one pass without polars.

What the scan before a load needs of a file it samples no value of: the load reads and checks
every record again, and a plain table's load (raw COPY) never imports polars, a seventh of a
second of its start-up. The C reader counts each block it vouches for (what PostgreSQL reads
the same way); the exact parser reads the others and names their bad records, as iter_batches
does, so the count and the bad records are the ones the polars stream finds.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aria_tui.csvio import cutter, exact, native
from aria_tui.csvio.batches import placed
from aria_tui.csvio.files import open_bytes, skip
from aria_tui.csvio.header import Header, unreadable
from aria_tui.errors import ExportError


@dataclass
class Structure:
    records: int = 0  # every record, refused ones included (COPY's count)
    bad: list[exact.BadRecord] = field(default_factory=list)  # lines from the file's start


def read_structure(
    path: Path, header: Header, stopped: Callable[[], bool] | None = None
) -> Structure | None:
    """The file's Structure, or None when the C reader was not built (the caller streams it
    with polars then). Raises ExportError for an unreadable file, as iter_batches does; returns
    what it has read when `stopped()` says the caller gave up."""
    if native.module() is None:
        return None
    path = Path(path)
    eol = header.eol.encode("ascii")
    kinds = (native.ColumnKind.SKIP,) * len(header.columns)
    out = Structure()
    line = header.lines + 1
    try:
        with open_bytes(path) as stream:
            skip(stream, header.bytes)
            with cutter.reading(stream, eol) as blocks:
                for block in blocks:
                    if stopped is not None and stopped():
                        break
                    got = native.read_records(block.data, header, kinds, lines=False)
                    if got is not None:
                        out.records += got.rows
                        line += got.spans
                        continue
                    res = cutter.exact_frame(block, header.columns, eol, 0, want_values=False)
                    out.records += res.records
                    out.bad += [placed(b, line) for b in res.bad]
                    line += res.end_line
    except (OSError, EOFError, zlib.error) as exc:
        raise ExportError(f"{path.name} cannot be read ({unreadable(exc)}).") from None
    return out
