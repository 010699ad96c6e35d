"""Streaming an export file as batches of string columns, each record with its physical line."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from aria_tui.csvio import cutter, exact
from aria_tui.csvio.files import is_gzip, open_bytes, skip
from aria_tui.csvio.header import Header, unreadable
from aria_tui.csvio.problems import CsvProblem
from aria_tui.csvio.readers import read_block
from aria_tui.errors import ExportError
from aria_tui.lazy import lazy

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy


@dataclass(frozen=True)
class Batch:
    frame: pl.DataFrame  # every column pl.String, named as in the header; None = unquoted empty
    lines: pl.Series  # Int64: physical line each record starts on (header = line 1)
    start_record: int  # 0-based index of this batch's first record in the file
    bytes_done: int  # on-disk bytes consumed so far (compressed bytes for .gz), for progress
    # records COPY would refuse (see exact.BadRecord), lines absolute; they are not in `frame`
    bad: tuple[exact.BadRecord, ...] = ()


def iter_batches(
    path: Path,
    header: Header,
    batch_rows: int = 50_000,
    columns: list[str] | None = None,
    keep_bad: bool = False,
) -> Iterator[Batch]:
    """Every record of `path` after the header, in order, at most `batch_rows` per batch.

    Memory stays flat in the file size: the file is read in record-aligned blocks of about
    4 MB, so a batch never holds more than one block's records (with 10 KB embedding rows that
    is about 400 rows; with short rows `batch_rows` is the limit). `columns` restricts the frame
    to those header columns; line numbers still count the newlines inside every column.
    A .csv.gz is decompressed as a stream, never to memory or disk as a whole.

    A record COPY would refuse (see exact.parse_exact) is not in any frame: it is listed in
    the `bad` of the batch it falls in, with its lines, reason and raw bytes. With `keep_bad`
    it keeps its place instead, as a row of NULLs whose `BadRecord.index` is its row in the
    batch's frame, so `start_record` + row is every record's position in the file.
    """
    path = Path(path)
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    wanted = list(header.columns) if columns is None else list(dict.fromkeys(columns))
    missing = [c for c in wanted if c not in header.columns]
    if missing:
        raise ExportError(f"{path.name} has no column {missing[0]!r} in its header.")
    positions = [header.columns.index(c) for c in wanted]
    picked = [cutter.names(len(header.columns))[i] for i in positions]
    # checked above, now; the reading below starts at the first next()
    return _iterate(path, header, batch_rows, picked, wanted, keep_bad)


def _iterate(
    path: Path,
    header: Header,
    batch_rows: int,
    picked: list[str],
    wanted: list[str],
    keep_bad: bool = False,
) -> Iterator[Batch]:
    eol = header.eol.encode("ascii")
    gz = is_gzip(path)
    try:
        with open_bytes(path) as stream:
            skip(stream, header.bytes)
            with cutter.reading(stream, eol) as blocks:
                yield from _batches(path, header, blocks, batch_rows, picked, wanted, gz, keep_bad)
    except (OSError, EOFError, zlib.error) as exc:
        raise ExportError(f"{path.name} cannot be read ({unreadable(exc)}).") from None


def _batches(
    path: Path,
    header: Header,
    blocks: Iterator[cutter.Block],
    batch_rows: int,
    picked: list[str],
    wanted: list[str],
    gz: bool,
    keep_bad: bool = False,
) -> Iterator[Batch]:
    line = header.lines + 1
    record = 0
    done = header.bytes
    for block in blocks:
        before = done
        done = (block.raw_done or done) if gz else done + len(block.data)
        read = read_block(block, header, lines=True)
        assert read.lines is not None
        frame = read.frame.select(picked)
        frame.columns = wanted
        lines = read.lines + line
        bad = tuple(placed(b, line) for b in read.bad.values())
        if bad and not keep_bad:
            keep = pl.Series(range(frame.height)).is_in(list(read.bad)).not_()
            frame, lines = frame.filter(keep), lines.filter(keep)
        height = frame.height
        if not height and bad:
            yield Batch(frame=frame, lines=lines, start_record=record, bytes_done=done, bad=bad)
        for off in range(0, height, batch_rows):
            size = min(batch_rows, height - off)
            if keep_bad:  # each in the slice that holds its row, indexed within it
                here = tuple(replace(b, index=b.index - off) for b in bad if off <= b.index < off + size)
            else:
                here = bad if off == 0 else ()
            yield Batch(
                frame=frame.slice(off, size),
                lines=lines.slice(off, size),
                start_record=record + off,
                bytes_done=before + (done - before) * (off + size) // height,
                bad=here,
            )
        record += height
        line += read.spans


def placed(bad: exact.BadRecord, first_line: int) -> exact.BadRecord:
    """A block's bad record with its lines counted from the file's start (the block's first
    line is `first_line`; the block's own reading counts from 0)."""
    return replace(
        bad,
        line=bad.line + first_line,
        last_line=bad.last_line + first_line,
        at=bad.at + first_line,
    )


class BlockProblem(Exception):
    """The first record of a block that COPY would refuse; its line counted from the block's."""

    def __init__(self, offset: int, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.column = column
        self.reason = reason

    def at(self, file: str, first_line: int) -> CsvProblem:
        return CsvProblem(file, first_line + self.offset, self.column, self.reason)


def record_lines(frame: pl.DataFrame, header: Header) -> pl.Series:
    """Each record's first line minus the block's first, from a BlockRead frame (all columns):
    what `read_block(..., lines=True)` returns, computed later for a block that needs it."""
    if frame.height == 0:
        return pl.Series("line", [], dtype=pl.Int64)
    nl = exact.line_char(header.eol.encode("ascii")).decode("ascii")
    newlines = frame.select(
        pl.sum_horizontal(
            pl.all().str.count_matches(nl, literal=True).cast(pl.Int64).fill_null(0)
        ).alias("nl")
    ).to_series()
    inside = newlines.cum_sum() - newlines
    return (pl.int_range(0, frame.height, eager=True, dtype=pl.Int64) + inside).rename("line")
