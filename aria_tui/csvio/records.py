"""Counting records and finding the first structural problem, the way COPY ... CSV HEADER would."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from aria_tui.csvio import cutter, exact
from aria_tui.csvio.batches import Batch, placed
from aria_tui.csvio.files import is_gzip, open_bytes, skip
from aria_tui.csvio.header import Header, scan_header, unreadable
from aria_tui.csvio.problems import CsvProblem
from aria_tui.csvio.readers import BlockRead, read_block
from aria_tui.errors import ExportError
from aria_tui.lazy import lazy

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy

# Above this size a file is counted without mapping it (see count_records) and the scan samples
# its structure instead of reading every record (see Survey).
LARGE_BYTES = 64 * 1024 * 1024
# Blocks only counted, never parsed. A polars count costs a few ms a call whatever the size
# (a third of the work at 4 MB), but each block in flight costs ~4x its size: 4 MB kept the
# scan inside `aria-tui load` of a 1.1 GB file at ~165-170 MB peak RSS, 8 MB at ~200.
COUNT_BLOCK_BYTES = 4 * 1024 * 1024


def count_records(path: Path, flat: bool = False) -> int:
    """Data records in `path` (header excluded), as COPY ... (FORMAT csv, HEADER true) splits them:
    quoted fields span lines, "" is a quote, CRLF and a byte-order mark are understood. A 0-byte
    or header-only file has 0.

    Plain files are counted by polars straight from disk, multi-threaded, twice as fast as
    `wc -l`. Polars maps the file to do it, and the mapped pages count in the process's RSS
    (page cache, shared and reclaimable, but RSS): `flat` counts record-aligned blocks read one
    after the other instead, in flat memory but slower (the quote parity that finds record
    boundaries is counted by the C extension when it was built, else by bytes.count), which is what a
    process that must stay small while it loads a large file wants (the scan of
    `aria-tui load`, see Survey).
    The count is PostgreSQL's for every file whose quotes open and close at field boundaries,
    which is every file COPY writes; a quote in the middle of a field (which only a
    hand-edited file has) or, unless `flat`, a quote left open to the end of the file (polars
    drops that last record) can make it differ, and iter_batches reads such files exactly.
    """
    path = Path(path)
    header, _ = scan_header(path)
    if header is None:
        return 0
    eol = header.eol.encode("ascii")
    if not flat and not is_gzip(path) and eol != b"\r":
        try:
            # skip_lines drops physical lines unparsed: the header (BOM included) whatever its names
            frame = pl.scan_csv(
                path,
                has_header=False,
                skip_lines=header.lines,
                infer_schema=False,
                quote_char='"',
                comment_prefix=None,
                raise_if_empty=False,
                low_memory=True,  # measured faster here for a bare count
                glob=False,
            ).select(pl.len())
            return int(frame.collect().item())
        except Exception:  # polars refused the file; the block reader is more forgiving
            pass
    try:
        with open_bytes(path) as stream:
            skip(stream, header.bytes)
            with cutter.run_ahead(
                lambda: cutter.iter_blocks(stream, eol, COUNT_BLOCK_BYTES), "csvio-count"
            ) as blocks:
                return sum(block_records(block, eol) for block in blocks)
    except (OSError, EOFError, zlib.error) as exc:
        raise ExportError(f"{path.name} cannot be read ({unreadable(exc)}).") from None


def block_records(block: cutter.Block, eol: bytes) -> int:
    """Records in a record-aligned block (without parsing its fields)."""
    if eol != b"\r":
        # polars counts a block as it counts a plain file (outside the GIL, so the thread
        # reading the next block runs meanwhile), 2.5x faster than splitting on quotes
        n = cutter.polars_records(block.data)
        if block.final and block.quotes % 2 and block.data.endswith(b"\n"):
            n += 1  # a quote open to the end: polars drops that record when a newline ends it
        return n
    # polars knows no \r terminator. Quotes toggle, so the records of a record-aligned
    # block are the terminators in its even-numbered quote-separated pieces.
    term = exact.line_char(eol)
    pieces = block.data.split(b'"')
    total = sum(map(bytes.count, pieces[0::2], repeat(term)))
    if block.final and (len(pieces) % 2 == 0 or not block.data.endswith(term)):
        total += 1  # the last record has no terminator (or its quote never closes)
    return total


def block_lines(block: cutter.Block, eol: bytes) -> int:
    """Physical lines a block spans: its first line + this = the next block's first line."""
    term = exact.line_char(eol)
    n = block.data.count(term)
    if block.final and block.data and not block.data.endswith(term):
        n += 1  # the file's last line, unterminated, still ends before the next (none)
    return n


class Survey:
    """One pass over a large file in flat memory: its record count, and a sample of it.

    The sample is the head of the file (`head_rows` records, at most about `head_bytes`) and
    `pieces` small record-aligned pieces spread evenly over the rest, each read as COPY reads it
    (polars where that is proven the same, the exact parser elsewhere) and yielded as Batches
    with their true line numbers. The records in between are only counted (polars, fields not
    parsed) and their lines (bytes.count, in the reading thread), so a file costs about what
    reading it once costs (1.5-3 s of CPU for 1.1 GB here, against 12 s to parse and check
    every record) and the memory of a few blocks. `records` is set once iteration is over.
    A problem found in the sample raises ExportError, as iter_batches does; one in the records
    only counted is found by whoever reads them all (the loader).
    """

    def __init__(
        self,
        path: Path,
        header: Header,
        columns: list[str] | None = None,
        head_rows: int = 2000,
        head_bytes: int = 8 * 1024 * 1024,
        pieces: int = 32,
        piece_rows: int = 64,
        piece_bytes: int = 512 * 1024,
        walk: bool = True,
    ) -> None:
        self.path = Path(path)
        self.header = header
        wanted = list(header.columns) if columns is None else list(dict.fromkeys(columns))
        missing = [c for c in wanted if c not in header.columns]
        if missing:
            raise ExportError(f"{self.path.name} has no column {missing[0]!r} in its header.")
        self.wanted = wanted
        self.picked = [f"c{header.columns.index(c)}" for c in wanted]
        self.head_rows = head_rows
        self.head_bytes = head_bytes
        self.pieces = pieces
        self.piece_rows = piece_rows
        self.piece_bytes = piece_bytes
        # walk=False: only the head is read, the rest neither sampled nor counted (a caller that
        # reads every record itself, the loader, needs the head's judgement in a fraction of a
        # second, not a pass over 1 GB); `estimate` is then the file's size over the head's
        # bytes per record.
        self.walk = walk
        self.records: int | None = None
        self.estimate: int | None = None
        self.sampled_records = 0

    def __iter__(self) -> Iterator[Batch]:
        path, header = self.path, self.header
        try:
            with open_bytes(path) as stream:
                skip(stream, header.bytes)
                yield from self._walk(stream, path.stat().st_size)
        except (OSError, EOFError, zlib.error) as exc:
            raise ExportError(f"{path.name} cannot be read ({unreadable(exc)}).") from None

    def _walk(self, stream: BinaryIO, size: int) -> Iterator[Batch]:
        header = self.header
        eol = header.eol.encode("ascii")
        gz = is_gzip(self.path)
        # on-disk offsets (compressed for a .gz) where the spread pieces are taken
        start = header.bytes if not gz else 0
        targets = [start + (size - start) * (k + 0.5) / self.pieces for k in range(self.pieces)]
        line, record, done = header.lines + 1, 0, header.bytes
        head_left = self.head_rows  # records of the head still to sample
        head_bytes = self.head_bytes  # and the bytes it may still take (wide records)

        def cut() -> Iterator[tuple[cutter.Block, int]]:
            # the reading thread counts lines (bytes.count, holding the GIL) while this one
            # counts records (polars, outside it): on two cores the two overlap
            for block in cutter.iter_blocks(stream, eol, COUNT_BLOCK_BYTES):
                yield block, block_lines(block, eol)

        with cutter.run_ahead(cut, "csvio-survey") as blocks:
            for block, spans in blocks:
                before = done
                done = (block.raw_done or done) if gz else done + len(block.data)
                if not self.walk and (head_left <= 0 or head_bytes <= 0):
                    read_bytes = before - start
                    self.estimate = round(record * (size - start) / read_bytes) if read_bytes else 0
                    return
                if head_left > 0 and head_bytes > 0:
                    # the head is read whole, in blocks of the parsing size (memory)
                    for part in cutter.split(block, eol, cutter.BLOCK_BYTES):
                        read = self._read(part, line)
                        if head_left > 0 and head_bytes > 0:
                            batch_rows = min(read.frame.height, head_left)
                            yield self._batch(read, line, record, done, batch_rows)
                            head_left -= batch_rows
                            head_bytes -= len(part.data)
                        record += read.frame.height
                        line += read.spans
                    continue
                while targets and targets[0] < before:
                    targets.pop(0)  # passed inside the head
                if targets and targets[0] < done:
                    while targets and targets[0] < done:
                        targets.pop(0)
                    piece = self._piece(block, eol)
                    read = self._read(piece, line)
                    yield self._batch(read, line, record, done, self.piece_rows)
                record += block_records(block, eol)
                line += spans
        self.records = record

    def _piece(self, block: cutter.Block, eol: bytes) -> cutter.Block:
        """The first records of a block, about piece_bytes of them (at least one record)."""
        if len(block.data) <= self.piece_bytes:
            return block
        head = block.data[: self.piece_bytes]
        cut, quotes = cutter.last_boundary(head, exact.line_char(eol), 0)
        if cut <= 0:
            return block  # one record longer than a piece: read the block
        return cutter.Block(head[:cut], quotes, False, block.raw_done)

    def _read(self, block: cutter.Block, line: int) -> BlockRead:
        return read_block(block, self.header, lines=True)

    def _batch(self, read: BlockRead, line: int, record: int, done: int, rows: int) -> Batch:
        assert read.lines is not None
        frame = read.frame.select(self.picked).head(rows)
        frame.columns = self.wanted
        lines = read.lines.head(rows) + line
        bad = tuple(placed(b, line) for i, b in read.bad.items() if i < rows)
        if bad:  # records COPY would refuse are listed, not sampled
            keep = pl.Series(range(frame.height)).is_in([b.index for b in bad]).not_()
            frame, lines = frame.filter(keep), lines.filter(keep)
        self.sampled_records += frame.height
        return Batch(frame=frame, lines=lines, start_record=record, bytes_done=done, bad=bad)


def check_structure(path: Path, header: Header) -> CsvProblem | None:
    """The first record that COPY would refuse in `path`, with its physical line, or None (the
    loader rejects such records one by one; see structure_report for all of them).

    Found: invalid UTF-8, a NUL byte, a row with more or fewer fields than the header (an empty
    line in a multi-column file is one), an unquoted \\r or a line terminator of another style
    than the header's, a quoted field still open at the end of the file. Streaming, flat memory;
    clean blocks are read by polars, only a suspicious block is re-read byte by byte.
    """
    path = Path(path)
    eol = header.eol.encode("ascii")
    try:
        with open_bytes(path) as stream:
            skip(stream, header.bytes)
            with cutter.reading(stream, eol) as blocks:
                problem = _first_problem(path, header, blocks, eol)
    except (OSError, EOFError, zlib.error) as exc:
        return CsvProblem(path.name, None, None, f"cannot be read ({unreadable(exc)})")
    return problem


def _first_problem(
    path: Path, header: Header, blocks: Iterator[cutter.Block], eol: bytes
) -> CsvProblem | None:
    ncols = len(header.columns)
    line = header.lines + 1
    for block in blocks:
        fast = cutter.fast_frame(block, ncols, eol, per_record=False)
        if fast is not None:
            df, newlines = fast
            line += df.height + int(newlines.sum())
            continue
        res = cutter.exact_frame(block, header.columns, eol, line, want_values=False)
        if res.problem is not None:
            p = res.problem
            return CsvProblem(path.name, p.line, p.column, p.reason)
        line = res.end_line
    return None
