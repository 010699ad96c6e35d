"""The vector path: records parsed on the client, vectors checked there, binary COPY.

A producer thread reads whole-record chunks (constant memory), parses each with polars, parses
and checks the vectors (bad ones become rejects with their line and never reach the server) and
encodes binary COPY tuples; the loading thread sends them while the next chunk is being parsed,
so the client and the server work at the same time.

Two ways to hand the rows over:

- direct (the target table is empty and every loaded column has an exact client-side encoder,
  see encoders.py): one binary COPY straight into the table, the cheapest thing the server can
  do. Anything unexpected (a value the encoders will not vouch for, a duplicate key, a missing
  parent) makes the caller roll back and use the stage;
- stage: non-vector columns go to a TEMP stage as `text` (binary text = the UTF-8 bytes) and
  vectors as `vector(n)`; the server casts the text with its own input functions in
  `INSERT ... SELECT ... ON CONFLICT DO NOTHING` (staging.py). Without a self-reference the stage
  is settled every few batches and truncated (the server inserts while the client parses, and
  the stage stays small); with one, the whole file is staged first so a reply may come before
  its parent.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path

import polars as pl
import psycopg
from psycopg import sql

from aria_tui import csvio
from aria_tui.csvio import NULL_FIELD, BlockProblem, Header, _blocks
from aria_tui.errors import ExportError
from aria_tui.load.chunks import blocks
from aria_tui.load.encoders import Encoder, encoder_for
from aria_tui.load.events import Emitter
from aria_tui.load.fastpath import CancelledLoad
from aria_tui.load.model import TablePlan
from aria_tui.load.rejects import RejectWriter
from aria_tui.load.staging import Stage

BLOCK_BYTES = 4 << 20  # ~4 MB of CSV per batch: amortises per-batch costs, keeps RSS flat
SETTLE_BYTES = 24 << 20  # stage mode: insert and truncate after about this much CSV
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER = b"\xff\xff"

_int8 = struct.Struct(">iq").pack
_len = struct.Struct(">i").pack


@dataclass
class Batch:
    rows: int
    columns: list[list[bytes]]  # encoded fields, one list per COPY column (rec, line not included)
    tuple_head: bytes
    with_rec: bool
    sent: int
    bytes_in: int  # CSV bytes of the block
    raw_done: int | None  # compressed bytes read once this block was (.gz only)
    spans: int  # physical lines the block spans
    lines: pl.Series | None  # each record's line minus the block's first (when computed)
    with_line: bool = False  # the stage wants each record's line (whole-file staging)
    bad: dict[int, str] = field(default_factory=dict)  # row index -> reason
    bad_fields: dict[int, tuple] = field(default_factory=dict)  # row index -> raw CSV fields
    # known once batches are in file order:
    start_rec: int = 0  # record number of the first row (1-based)
    first_line: int = 0  # physical line the block starts on
    bytes_done: int = 0  # on-disk bytes consumed once this block is done

    def payload(self) -> bytes:
        """The binary COPY tuples of the rows that go to the server."""
        n = self.rows
        columns = self.columns
        if self.with_line:
            assert self.lines is not None
            lines = (self.lines + self.first_line).to_list()
            columns = [[_int8(8, line) for line in lines], *columns]
        if self.with_rec:
            columns = [[_int8(8, r) for r in range(self.start_rec, self.start_rec + n)], *columns]
        rows = zip(repeat(self.tuple_head, n), *columns, strict=True)
        if self.bad:
            bad = self.bad
            rows = (row for i, row in enumerate(rows) if i not in bad)
        return b"".join(chain.from_iterable(rows))

    def line_of(self, index: int) -> int:
        assert self.lines is not None
        return self.first_line + int(self.lines[index])


class Encoding:
    """How each CSV column becomes a binary COPY field, for one of the two destinations."""

    def __init__(self, plan: TablePlan, header: Header, stage: Stage | None, lines: bool) -> None:
        self.plan = plan
        self.header = header
        self.lines = lines  # every record's line is wanted (staging: rejects found in SQL)
        self.with_line = stage is not None and stage.with_line
        self.stage = stage
        # (csv index, how): how = ('vector', dim) | encoder | 'text'
        self.fields: list[tuple[int, object]] = []
        if stage is not None:
            for c in stage.columns:
                if c.typed_vector:
                    assert c.target is not None
                    self.fields.append((c.index, ("vector", c.target.dimension)))
                else:
                    self.fields.append((c.index, "text"))
        else:
            mapped = dict(plan.columns)
            for i, name in enumerate(plan.csv_columns):
                target = plan.table.column(mapped[name]) if name in mapped else None
                if target is None:
                    continue
                if target.is_vector:
                    self.fields.append((i, ("vector", target.dimension)))
                else:
                    enc = encoder_for(target)
                    assert enc is not None
                    self.fields.append((i, enc))
        n = len(self.fields) + (0 if stage is None else 1 + (1 if self.with_line else 0))
        self.tuple_head = struct.pack(">h", n)

    @staticmethod
    def direct_possible(plan: TablePlan) -> bool:
        for _, target in plan.columns:
            col = plan.table.column(target)
            if col is None or (not col.is_vector and encoder_for(col) is None):
                return False
        return True

    def encode(self, block: _blocks.Block) -> Batch:
        """Read one block the way PostgreSQL would (csvio) and encode its rows; runs in a
        worker thread, several blocks at once."""
        read = csvio.read_block(block, self.header, lines=self.lines)
        frame = read.frame
        n = frame.height
        bad: dict[int, str] = {}
        columns: list[list[bytes]] = []
        for index, how in self.fields:
            series = frame.get_column(f"c{index}")
            if how == "text":
                values = series.cast(pl.Binary).to_list()
                columns.append([NULL_FIELD if v is None else _len(len(v)) + v for v in values])
            elif isinstance(how, tuple):
                parsed = csvio.vector_copy_fields(series, how[1])
                name = self.plan.csv_columns[index]
                for i, why in parsed.bad.items():
                    bad.setdefault(i, f'column "{name}": {why}')
                columns.append(parsed.fields)
            else:
                encoder: Encoder = how  # type: ignore[assignment]
                columns.append(encoder(series))
        lines = read.lines
        if bad and lines is None:  # the few records a reject names need their line
            lines = csvio.record_lines(frame, self.header)
        return Batch(
            rows=n,
            columns=columns,
            tuple_head=self.tuple_head,
            with_rec=self.stage is not None,
            sent=n - len(bad),
            bytes_in=len(block.data),
            raw_done=block.raw_done,
            spans=read.spans,
            lines=lines,
            with_line=self.with_line,
            bad=bad,
            bad_fields={i: frame.row(i) for i in bad},
        )


WORKERS = 2  # read and encode two blocks at once: polars releases the GIL


def batches(encoding: Encoding, path: Path, hasher) -> Iterator[Batch]:
    """Encoded batches in file order, with their record and line numbers, read ahead in threads.

    One thread cuts the file into blocks (csvio) and hands them to WORKERS encoding threads;
    at most one finished batch waits, WORKERS are being encoded, one is being sent: flat memory.
    Raises ExportError (file, line, reason) at the first record COPY would refuse.
    """
    header = encoding.header
    eol = header.eol.encode("ascii")

    def produce() -> Iterator[Future]:
        pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="aria-load-encode")
        try:
            with blocks(path, header, hasher, BLOCK_BYTES) as cut:
                for block in cut:
                    _blocks.precount(block, eol)  # here, not in a worker: they run in parallel
                    yield pool.submit(encoding.encode, block)
        except GeneratorExit:  # the consumer is gone: nobody will read what is not done yet
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            # at the end of the file (or a read error) the futures already handed over must
            # still run: the consumer waits on them, then sees the error in its turn
            pool.shutdown(wait=False)

    rec, line, done = 1, header.lines + 1, header.bytes
    with _blocks.run_ahead(produce, "aria-load-read") as futures:
        for future in futures:
            try:
                batch = future.result()
            except BlockProblem as problem:
                raise ExportError(problem.at(path.name, line).sentence()) from None
            batch.start_rec, batch.first_line = rec, line
            done = batch.raw_done if batch.raw_done is not None else done + batch.bytes_in
            batch.bytes_done = done
            rec += batch.rows
            line += batch.spans
            yield batch


def _header(path: Path) -> Header:
    header = csvio.read_header(path)
    if isinstance(header, csvio.CsvProblem):
        raise ExportError(header.sentence())
    return header


def _in_order(
    encoding: Encoding,
    path: Path,
    hasher,
    writer: RejectWriter,
    cancel: threading.Event | None,
) -> Iterator[Batch]:
    """The batches to send, in file order; the operator's cancel honoured between them and the
    rows the client refused (bad vectors) written to the reject file with their lines."""
    _tune_malloc()
    for batch in batches(encoding, path, hasher):
        if cancel is not None and cancel.is_set():
            raise CancelledLoad()
        if batch.bad:
            writer.write(
                (batch.line_of(i), why, batch.bad_fields[i]) for i, why in sorted(batch.bad.items())
            )
        yield batch


_malloc_tuned = False


def _tune_malloc() -> None:
    """Keep glibc from mmap-ing (and page-faulting in) every multi-megabyte buffer afresh.

    Each chunk, payload and column list is a few MB; by default glibc serves those with a new
    mmap and returns them on free, so every byte is faulted in again: measured here as ~0.45 s
    of system time per GB and 180,000 page faults. Raising the thresholds lets the heap reuse
    them; memory stays flat because the buffers are the same sizes over and over.
    """
    global _malloc_tuned
    if _malloc_tuned:
        return
    _malloc_tuned = True
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


def load_direct(
    conn: psycopg.Connection,
    plan: TablePlan,
    writer: RejectWriter,
    emitter: Emitter,
    cancel: threading.Event | None,
    hasher=None,
) -> tuple[int, int, int]:
    """One binary COPY into the (empty) table; returns (csv_rows, inserted, rejected)."""
    encoding = Encoding(plan, _header(plan.file), None, lines=False)
    targets = [
        plan.table.column(dict(plan.columns)[plan.csv_columns[i]]) for i, _ in encoding.fields
    ]
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        plan.table.ident, sql.SQL(", ").join(sql.Identifier(c.name) for c in targets if c)
    )
    rows = sent = 0
    with conn.cursor() as cur:
        with cur.copy(statement) as copy:
            copy.write(COPY_HEADER)
            with closing(_in_order(encoding, plan.file, hasher, writer, cancel)) as in_order:
                for batch in in_order:
                    rows += batch.rows
                    copy.write(batch.payload())
                    sent += batch.sent
                    emitter.progress(bytes_done=batch.bytes_done, rows_done=rows)
            copy.write(COPY_TRAILER)
        if cur.rowcount != sent:
            raise RuntimeError(f"the server stored {cur.rowcount} rows of the {sent} sent")
    return rows, sent, rows - sent


def load_staged(
    conn: psycopg.Connection,
    stage: Stage,
    writer: RejectWriter,
    emitter: Emitter,
    cancel: threading.Event | None,
    hasher=None,
    skip_fk_to: tuple[str, ...] = (),
    plain_first: bool = False,
) -> tuple[int, int, int]:
    """Stage the file in binary and insert it with ON CONFLICT; returns (csv_rows, inserted, rejected)."""
    plan = stage.plan
    whole_file = bool(plan.self_fks)
    header = _header(plan.file)
    encoding = Encoding(plan, header, stage, lines=True)
    cols = [sql.Identifier("rec")] + ([sql.Identifier("line")] if whole_file else [])
    statement = sql.SQL("COPY {} ({}, {}) FROM STDIN (FORMAT binary)").format(
        stage.ident, sql.SQL(", ").join(cols), stage.copy_columns
    )
    pending: list[Batch] = []  # staged, not yet settled: they know their records' lines

    def line_of(recs: list[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for b in pending:
            for r in recs:
                if b.start_rec <= r < b.start_rec + b.rows:
                    out[r] = b.line_of(r - b.start_rec)
        return out

    rows = inserted = rejected = 0
    cur = conn.cursor()

    def settle() -> None:
        nonlocal inserted, rejected
        ins, rej = stage.settle(
            conn,
            writer,
            line_of=None if whole_file else line_of,
            header_lines=header.lines,
            skip_fk_to=skip_fk_to,
            plain_first=plain_first,
        )
        inserted += ins
        rejected += rej
        stage.truncate(conn)
        pending.clear()

    in_order = _in_order(encoding, plan.file, hasher, writer, cancel)
    try:
        copy_cm = None
        staged_bytes = 0
        for batch in in_order:
            rows += batch.rows
            rejected += len(batch.bad)
            if copy_cm is None:
                copy_cm = cur.copy(statement)
                copy = copy_cm.__enter__()
                copy.write(COPY_HEADER)
            copy.write(batch.payload())
            pending.append(batch)
            staged_bytes += batch.bytes_in
            if not whole_file and staged_bytes >= SETTLE_BYTES:
                copy.write(COPY_TRAILER)
                copy_cm.__exit__(None, None, None)
                copy_cm = None
                staged_bytes = 0
                settle()
            emitter.progress(bytes_done=batch.bytes_done, rows_done=rows)
        if copy_cm is not None:
            copy.write(COPY_TRAILER)
            copy_cm.__exit__(None, None, None)
            copy_cm = None
            emitter.progress(phase="insert", force=True)
            settle()
    except BaseException as exc:
        if copy_cm is not None:
            try:
                copy_cm.__exit__(type(exc), exc, exc.__traceback__)
            except Exception:
                pass
        raise
    finally:
        in_order.close()  # stops the reading threads now, not when the generator is collected
        cur.close()
    return rows, inserted, rejected
