"""Record-aligned blocks of a CSV body, each read by polars when polars provably reads it right.

A file is read as a stream of blocks of about BLOCK_BYTES that always end on a record boundary.
Because PostgreSQL toggles "inside quotes" at every quote character, a line terminator is a
record boundary exactly when an even number of quotes precede it, so cutting needs nothing but
quote counts (C-speed `bytes.count`), and memory stays flat whatever the file size.

Each block is parsed by `polars.read_csv` (about 1.5 GB/s here) and then *verified* against
counts of its raw bytes (see `_verify`): its size, its quotes, its carriage returns and its
doubled quotes must be exactly what PostgreSQL's own CSV writer would produce for the values
polars returned. Polars reads some input differently from PostgreSQL without complaint, and
each of those moves a count:

- a row with too few fields (polars pads it with nulls; the missing commas are missing bytes),
- an empty line in a multi-column file (polars: a row of nulls; PostgreSQL: an error),
- a quote in the middle of a field (polars keeps it; PostgreSQL opens a quoted part there),
- an unquoted \\r before a comma or the terminator (polars drops it; PostgreSQL: an error),
- a byte-order mark at the start of a block (polars strips it; PostgreSQL keeps the character),
- quoting a value that needs none (what non-PostgreSQL writers do; harmless, but not modelled).

Polars refuses outright (an exception) too many fields, invalid UTF-8 and an unterminated quote.
NUL bytes, which polars accepts and PostgreSQL does not, are looked for directly. A block that
fails any of this is re-read by the exact parser (`_exact`), which gives the values PostgreSQL
would read, or the first problem with its physical line: slower, never wrong. Files written by
COPY never need it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import polars as pl

from aria_tui.csvio import _exact
from aria_tui.csvio.files import raw_position

# Peak memory grows with about ten times the block size (the block, the next read, polars' parse
# buffers and what its allocator keeps for reuse): 4 MB blocks kept a 1.5 GB file of 1536-d
# embeddings at 118 MB peak RSS, 8 MB at 154 MB, for 10% less CPU. Per-block overhead is ~1 ms.
BLOCK_BYTES = 4 * 1024 * 1024


@dataclass
class Block:
    data: bytes  # whole records (the last block of a file may lack its final terminator)
    quotes: int  # quote characters in data
    final: bool  # the file ends with this block
    raw_done: int | None  # on-disk bytes consumed once this block was read (compressed for .gz)


def iter_blocks(stream: BinaryIO, eol: bytes, block_bytes: int = BLOCK_BYTES) -> Iterator[Block]:
    """Cut the rest of `stream` (positioned at a record boundary) into record-aligned blocks."""
    term = _exact.line_char(eol)
    leftover = b""  # a record begun but not ended by the previous read
    left_quotes = 0
    while True:
        # A record longer than a block (a 50 MB field) grows the read geometrically, so
        # finding its end costs linear time, not quadratic.
        chunk = stream.read(max(block_bytes, len(leftover)))
        if not chunk:
            if leftover:
                yield Block(leftover, left_quotes, True, raw_position(stream))
            return
        # The boundary lies in the new chunk (leftover holds none); quotes already seen in
        # leftover set the parity the chunk starts with.
        cut, quotes = _cut(chunk, term, left_quotes % 2)
        if cut < 0:
            leftover += chunk
            left_quotes += quotes
            continue
        if leftover:
            data = b"".join((leftover, memoryview(chunk)[:cut]))  # one copy, not two
        else:
            data = chunk if cut == len(chunk) else chunk[:cut]
        yield Block(data, left_quotes + quotes, False, raw_position(stream))
        leftover = chunk[cut:]
        left_quotes = leftover.count(b'"')


def _cut(chunk: bytes, term: bytes, parity: int) -> tuple[int, int]:
    """(offset just past the last record boundary in chunk, quotes before it), or (-1, quotes in
    chunk) when it holds none. `parity` is the count of quotes before the chunk, modulo 2."""
    total = chunk.count(b'"')
    p = chunk.rfind(term)
    if p < 0:
        return -1, total
    after = chunk.count(b'"', p)
    while True:
        if (parity + total - after) % 2 == 0:
            return p + 1, total - after
        prev = chunk.rfind(term, 0, p)
        if prev < 0:
            return -1, total
        after += chunk.count(b'"', prev, p)
        p = prev


def names(ncols: int) -> list[str]:
    # Positional names keep polars away from the header's own (possibly odd) spellings.
    return [f"c{i}" for i in range(ncols)]


def _schema(ncols: int) -> dict[str, pl.DataType]:
    return {n: pl.String() for n in names(ncols)}


def fast_frame(
    block: Block, ncols: int, eol: bytes, per_record: bool = True
) -> tuple[pl.DataFrame, pl.Series] | None:
    """The block read by polars, with each record's count of embedded newlines (per_record) or
    just their total, or None when polars' reading cannot be proven identical to PostgreSQL's
    (then the exact parser must read the block)."""
    if eol == b"\r" or b"\x00" in block.data:
        return None
    try:
        df = pl.read_csv(
            block.data,
            has_header=False,
            schema=_schema(ncols),
            separator=",",
            quote_char='"',
            eol_char="\n",
            comment_prefix=None,
            null_values=None,
            empty_string_is_null=True,  # unquoted empty -> null, quoted "" -> "" (as PostgreSQL)
            ignore_errors=False,
            truncate_ragged_lines=False,
            raise_if_empty=False,
            try_parse_dates=False,
            encoding="utf8",
            glob=False,
        )
    except Exception:  # any refusal (ragged row, bad UTF-8, open quote) goes to the exact parser
        return None
    if df.width != ncols:
        return None
    newlines = _verify(df, block, ncols, eol, per_record)
    if newlines is None:
        return None
    return df, newlines


def _verify(
    df: pl.DataFrame, block: Block, ncols: int, eol: bytes, per_record: bool = True
) -> pl.Series | None:
    """Embedded newlines of each record (or, with per_record False, their total as a one-item
    series) if the block is exactly what PostgreSQL's CSV writer would produce for these values
    (see the module docstring), else None.

    Counts of the raw block must match the values: bytes, quotes, carriage returns, doubled
    quotes; and a lone \r (not part of \r\n) is not accepted here at all. Each way polars can
    read differently moves at least one of them and no combination cancels out: a quote polars
    kept literally leaves fewer doubled quotes than its value implies; a \r it dropped shows in
    the CR count, one it kept unquoted is a lone \r; with those gone, extra quoting by a
    non-PostgreSQL writer has nothing left to offset it in the quote count; and then only a
    missing field (or an empty line, or a byte-order mark polars strips at the start of a block)
    is left to move the size, always downwards.
    """
    n = df.height
    if n == 0:
        return pl.Series("nl", [], dtype=pl.Int64) if not block.data else None
    sums, nls = [], []
    for name in df.columns:
        v = pl.col(name)
        length = v.str.len_bytes().cast(pl.Int64)
        inner = v.str.count_matches('"', literal=True).cast(pl.Int64)
        # PostgreSQL's writer must quote these; quoting anything else is a writer's choice,
        # which these sums do not model, so such a block goes to the exact parser.
        quoted = ((length == 0) | v.str.contains(r'[",\r\n]')).cast(pl.Int64)
        sums += [
            length.sum(),
            (quoted * (inner + 1)).sum(),  # quote bytes: 2 per quoted field + 2 per inner quote
            quoted.sum(),
            inner.sum(),
            v.str.count_matches("\r", literal=True).cast(pl.Int64).sum(),
            # "" pairs a written field adds beyond its inner quotes: 1 for '' or '"' * k
            v.str.contains(r'\A"*\z').cast(pl.Int64).sum(),
        ]
        nls.append(v.str.count_matches("\n", literal=True).cast(pl.Int64).fill_null(0))
    sums = [e.alias(f"s{i}") for i, e in enumerate(sums)]
    if per_record:
        out = df.lazy().select(*sums, pl.sum_horizontal(nls).alias("nl")).collect()
        newlines = out.get_column("nl")
        agg = out.drop("nl").row(0)
    else:
        out = df.lazy().select(*sums, pl.sum_horizontal([e.sum() for e in nls]).alias("nl"))
        row = out.collect().row(0)
        agg, newlines = row[:-1], pl.Series("nl", [row[-1]], dtype=pl.Int64)
    lengths, half_quotes, quoted_fields, inner, crs, all_quotes = (sum(agg[i::6]) for i in range(6))
    data = block.data
    terminators = n - (1 if block.final and not data.endswith(eol) else 0)
    # bytes: values, one extra byte per inner quote plus the two around each quoted field
    # (= half_quotes + quoted_fields), the commas, the terminators
    size = lengths + half_quotes + quoted_fields + n * (ncols - 1) + terminators * len(eol)
    if size != len(data) or 2 * half_quotes != block.quotes:
        return None
    if eol == b"\r\n" or b"\r" in data:
        cr = data.count(b"\r")
        if cr != crs + (terminators if eol == b"\r\n" else 0):
            return None  # polars dropped a \r (before a comma or a \n) that PostgreSQL refuses
        if cr != data.count(b"\r\n"):
            # A lone \r: fine inside quotes, an error outside, and an unquoted one could hide
            # behind a needlessly quoted field in the sums above. Rare: let the exact parser see.
            return None
    if inner and data.count(b'""') != inner + all_quotes:
        return None
    return newlines


def exact_frame(
    block: Block, columns: tuple[str, ...], eol: bytes, first_line: int, want_values: bool
) -> _exact.ExactResult:
    return _exact.parse_exact(
        block.data, eol=eol, columns=columns, first_line=first_line, want_values=want_values
    )
