"""The three readers of one grammar, side by side: each reads a record-aligned block as
PostgreSQL's `COPY ... (FORMAT csv)` reads it, or declines it and says why.

- polars (`cutter.proven_frame`): the fastest on what PostgreSQL's writer produces; its
  reading is checked against the block's byte counts, and it declines any block where the two
  could differ.
- native (the C `read_records`, here with every column read as str): declines a block holding
  anything COPY would refuse, a lone-\\r file, a `\\.` line in a one-column file, and every
  block when the extension was not built. The loader's vector path asks it first with column
  kinds (`native.read_records`), which gives binary COPY fields instead of str: the same
  scanner, the same declining.
- exact (`exact.parse_exact`): PostgreSQL's rules in Python, the reference. It never declines:
  a record COPY would refuse is read on past, a row of NULLs in the frame and the record in
  `bad`, so the records after it are still read as COPY reads them.

`read_block` walks `declining()` (the C reader, or polars without it), then the exact reader. tests/unit/test_csvio_readers.py holds every
reader to the exact one over a corpus: what a reader does not decline, it reads identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from aria_tui.csvio import cutter, exact, native
from aria_tui.csvio.header import Header
from aria_tui.lazy import lazy

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy


@dataclass(frozen=True)
class BlockRead:
    """One record-aligned block as PostgreSQL reads it."""

    frame: pl.DataFrame  # every header column, named c0, c1, ... (pl.String; None = NULL)
    lines: pl.Series | None  # Int64, when asked: each record's first line - the block's first
    spans: int  # physical lines in the block: its first line + spans = the next block's
    # records COPY would refuse, by their index in `frame` (which holds a row of NULLs for each)
    bad: dict[int, exact.BadRecord] = field(default_factory=dict)


@dataclass(frozen=True)
class Declined:
    """A reader's "not this block": another reader must read it."""

    reader: str
    reason: str


class Reader(Protocol):
    name: str

    def read(self, block: cutter.Block, header: Header, lines: bool) -> BlockRead | Declined:
        """The block's records (with each record's first line when `lines`), or Declined."""
        ...


def _starts(newlines: pl.Series) -> pl.Series:
    """Each record's first line from each record's embedded newlines: record i starts after i
    terminators and the newlines inside records 0..i-1."""
    inside = newlines.cum_sum() - newlines
    return (pl.int_range(0, len(newlines), eager=True, dtype=pl.Int64) + inside).rename("line")


class PolarsReader:
    name = "polars"

    def read(self, block: cutter.Block, header: Header, lines: bool) -> BlockRead | Declined:
        eol = header.eol.encode("ascii")
        got = cutter.proven_frame(block, len(header.columns), eol, per_record=lines)
        if isinstance(got, str):
            return Declined(self.name, got)
        df, newlines = got
        spans = df.height + int(newlines.sum())
        return BlockRead(df, _starts(newlines) if lines else None, spans)


class NativeReader:
    name = "native"

    def read(self, block: cutter.Block, header: Header, lines: bool) -> BlockRead | Declined:
        if native.module() is None:
            return Declined(self.name, "the C extension was not built (or ARIA_TUI_NATIVE=0)")
        kinds = (native.ColumnKind.STR,) * len(header.columns)
        got = native.read_records(block.data, header, kinds, lines)
        if got is None:
            return Declined(
                self.name,
                "a record COPY would refuse, a lone-\\r file or a \\. line: not vouched for",
            )
        names = cutter.names(len(header.columns))
        frame = pl.DataFrame(
            [pl.Series(n, got.columns[j], dtype=pl.String) for j, n in enumerate(names)],
            schema={n: pl.String for n in names},
        )
        return BlockRead(frame, got.lines, got.spans)


class ExactReader:
    name = "exact"

    def read(self, block: cutter.Block, header: Header, lines: bool) -> BlockRead:
        eol = header.eol.encode("ascii")
        res = cutter.exact_frame(block, header.columns, eol, 0, want_values=True)
        assert res.values is not None
        names = cutter.names(len(header.columns))
        frame = pl.DataFrame(
            [pl.Series(n, vals, dtype=pl.String) for n, vals in zip(names, res.values, strict=True)],
            schema={n: pl.String for n in names},
        )
        # the exact reading is the slow path anyway: its lines come with it (a reject names them)
        starts = pl.Series("line", res.lines, dtype=pl.Int64)
        return BlockRead(frame, starts, res.end_line, {b.index: b for b in res.bad})


POLARS, NATIVE, EXACT = PolarsReader(), NativeReader(), ExactReader()
# read_block's order before the exact reader: the C reader where it was built, else polars.
# Where the C reader declines a block (a record COPY refuses, a lone \r, a \. line), polars is
# not asked: its reading is proven by byte counts only, and an audit found blocks with quotes in
# unquoted fields whose misreading those counts do not catch (csvio/cutter.py, proven_frame);
# the C reader is also faster here (43 ms against 63 for a 4 MB block of activity_log).
DECLINING: tuple[Reader, ...] = (NATIVE,)


def declining() -> tuple[Reader, ...]:
    return DECLINING if native.module() is not None else (POLARS,)


def read_block(block: cutter.Block, header: Header, lines: bool = False) -> BlockRead:
    """Read one block of `header`'s file (see cutter): by the first reader of declining() that
    does not decline it, else by the exact reader, which reads on past a record COPY would
    refuse (a row of NULLs in the frame, the record in `bad`, lines counted from 0).

    Blocks are independent: the loader reads several at once in threads and numbers their
    lines afterwards, in file order. `lines` False spares the count of each record's embedded
    newlines when only the block's total is needed (see `record_lines` for the few records a
    reject names).
    """
    for reader in declining():
        got = reader.read(block, header, lines)
        if not isinstance(got, Declined):
            return got
    return EXACT.read(block, header, lines)
