"""Streaming an export file as batches of string columns, each record with its physical line."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from aria_tui.csvio import _blocks
from aria_tui.csvio.files import is_gzip, open_bytes, skip
from aria_tui.csvio.header import Header, unreadable
from aria_tui.csvio.problems import CsvProblem
from aria_tui.errors import ExportError


@dataclass(frozen=True)
class Batch:
    frame: pl.DataFrame  # every column pl.String, named as in the header; None = unquoted empty
    lines: pl.Series  # Int64: physical line each record starts on (header = line 1)
    start_record: int  # 0-based index of this batch's first record in the file
    bytes_done: int  # on-disk bytes consumed so far (compressed bytes for .gz), for progress


def iter_batches(
    path: Path,
    header: Header,
    batch_rows: int = 50_000,
    columns: list[str] | None = None,
) -> Iterator[Batch]:
    """Every record of `path` after the header, in order, at most `batch_rows` per batch.

    Memory stays flat in the file size: the file is read in record-aligned blocks of about
    4 MB, so a batch never holds more than one block's records (with 10 KB embedding rows that
    is about 400 rows; with short rows `batch_rows` is the limit). `columns` restricts the frame
    to those header columns; line numbers still count the newlines inside every column.
    A .csv.gz is decompressed as a stream, never to memory or disk as a whole.

    Raises ExportError naming file and line at the first structural problem (see
    check_structure, which callers should run first to report it without loading anything).
    """
    path = Path(path)
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    wanted = list(header.columns) if columns is None else list(dict.fromkeys(columns))
    missing = [c for c in wanted if c not in header.columns]
    if missing:
        raise ExportError(f"{path.name} has no column {missing[0]!r} in its header.")
    positions = [header.columns.index(c) for c in wanted]
    picked = [_blocks.names(len(header.columns))[i] for i in positions]
    # checked above, now; the reading below starts at the first next()
    return _iterate(path, header, batch_rows, picked, wanted)


def _iterate(
    path: Path, header: Header, batch_rows: int, picked: list[str], wanted: list[str]
) -> Iterator[Batch]:
    eol = header.eol.encode("ascii")
    gz = is_gzip(path)
    try:
        with open_bytes(path) as stream:
            skip(stream, header.bytes)
            with _blocks.reading(stream, eol) as blocks:
                yield from _batches(path, header, blocks, batch_rows, picked, wanted, gz)
    except (OSError, EOFError, zlib.error) as exc:
        raise ExportError(f"{path.name} cannot be read ({unreadable(exc)}).") from None


def _batches(
    path: Path,
    header: Header,
    blocks: Iterator[_blocks.Block],
    batch_rows: int,
    picked: list[str],
    wanted: list[str],
    gz: bool,
) -> Iterator[Batch]:
    line = header.lines + 1
    record = 0
    done = header.bytes
    for block in blocks:
        before = done
        done = (block.raw_done or done) if gz else done + len(block.data)
        frame, lines, line = _read_block(path, header, block, line, picked, wanted)
        height = frame.height
        for off in range(0, height, batch_rows):
            size = min(batch_rows, height - off)
            yield Batch(
                frame=frame.slice(off, size),
                lines=lines.slice(off, size),
                start_record=record + off,
                bytes_done=before + (done - before) * (off + size) // height,
            )
        record += height


def _read_block(
    path: Path,
    header: Header,
    block: _blocks.Block,
    line: int,
    picked: list[str],
    wanted: list[str],
) -> tuple[pl.DataFrame, pl.Series, int]:
    """(frame with the wanted columns, start line of each record, line after the block)."""
    eol = header.eol.encode("ascii")
    fast = _blocks.fast_frame(block, len(header.columns), eol)
    if fast is not None:
        df, newlines = fast
        n = df.height
        # record i starts after i terminators and the newlines inside records 0..i-1
        inside = newlines.cum_sum() - newlines
        lines = (pl.int_range(0, n, eager=True, dtype=pl.Int64) + inside + line).rename("line")
        frame = df.select(picked)
        frame.columns = wanted
        return frame, lines, line + n + int(newlines.sum())
    res = _blocks.exact_frame(block, header.columns, eol, line, want_values=True)
    if res.problem is not None:
        p = res.problem
        raise ExportError(CsvProblem(path.name, p.line, p.column, p.reason).sentence())
    assert res.values is not None
    index = {c: i for i, c in enumerate(header.columns)}
    frame = pl.DataFrame(
        {c: pl.Series(c, res.values[index[c]], dtype=pl.String) for c in wanted},
        schema={c: pl.String for c in wanted},
    )
    return frame, pl.Series("line", res.lines, dtype=pl.Int64), res.end_line
