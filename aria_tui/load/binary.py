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

import io
import queue
import struct
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path

import polars as pl
import psycopg
from psycopg import sql

from aria_tui.load.chunks import Chunk, LineIndex, iter_chunks
from aria_tui.load.encoders import Encoder, encoder_for
from aria_tui.load.events import Emitter
from aria_tui.load.fastpath import CancelledLoad
from aria_tui.load.model import TablePlan
from aria_tui.load.rejects import RejectWriter
from aria_tui.load.staging import Stage
from aria_tui.load.vectors import NULL_FIELD, parse_vector_column

CHUNK_BYTES = 3 << 20  # ~3 MB of CSV per batch: amortises per-batch costs, keeps RSS flat
SETTLE_BYTES = 24 << 20  # stage mode: insert and truncate after about this much CSV
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER = b"\xff\xff"

_int8 = struct.Struct(">iq").pack
_len = struct.Struct(">i").pack


@dataclass
class Batch:
    offset: int  # where the chunk starts in the byte stream (for reject lines)
    rows: int
    columns: list[list[bytes]]  # encoded fields, one list per COPY column (rec not yet included)
    tuple_head: bytes
    with_rec: bool
    sent: int
    bytes_done: int
    bytes_in: int  # CSV bytes of the chunk
    bad: dict[int, str] = field(default_factory=dict)  # row index -> reason
    bad_fields: dict[int, tuple] = field(default_factory=dict)  # row index -> raw CSV fields
    start_rec: int = 0  # record number of the first row (1-based), known once batches are in order

    def payload(self) -> bytes:
        """The binary COPY tuples of the rows that go to the server."""
        n = self.rows
        columns = self.columns
        if self.with_rec:
            columns = [[_int8(8, r) for r in range(self.start_rec, self.start_rec + n)], *columns]
        rows = zip(repeat(self.tuple_head, n), *columns, strict=True)
        if self.bad:
            bad = self.bad
            rows = (row for i, row in enumerate(rows) if i not in bad)
        return b"".join(chain.from_iterable(rows))


class Encoding:
    """How each CSV column becomes a binary COPY field, for one of the two destinations."""

    def __init__(self, plan: TablePlan, stage: Stage | None, with_line: bool) -> None:
        self.plan = plan
        self.names = [f"c{i + 1}" for i in range(len(plan.csv_columns))]
        self.with_line = with_line
        self.stage = stage
        # (csv index, how): how = 'vector' (dim, name) | encoder | 'text'
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
        n = len(self.fields) + (0 if stage is None else 1 + (1 if with_line else 0))
        self.tuple_head = struct.pack(">h", n)

    @staticmethod
    def direct_possible(plan: TablePlan) -> bool:
        for _, target in plan.columns:
            col = plan.table.column(target)
            if col is None or (not col.is_vector and encoder_for(col) is None):
                return False
        return True

    def encode(self, chunk: Chunk, lines: LineIndex | None) -> Batch:
        frame = pl.read_csv(
            io.BytesIO(chunk.data),
            has_header=False,
            new_columns=self.names,
            infer_schema=False,
            quote_char='"',
        )
        n = frame.height
        bad: dict[int, str] = {}
        columns: list[list[bytes]] = []
        if self.stage is not None:
            if self.with_line:
                assert lines is not None
                found = lines.lines_of(chunk.offset, list(range(n)))
                columns.append([_int8(8, found[i]) for i in range(n)])
        for index, how in self.fields:
            series = frame.get_column(self.names[index])
            if how == "text":
                values = series.cast(pl.Binary).to_list()
                columns.append([NULL_FIELD if v is None else _len(len(v)) + v for v in values])
            elif isinstance(how, tuple):
                parsed = parse_vector_column(series, how[1], self.plan.csv_columns[index])
                for i, why in parsed.bad.items():
                    bad.setdefault(i, why)
                columns.append(parsed.fields)
            else:
                encoder: Encoder = how  # type: ignore[assignment]
                columns.append(encoder(series))
        return Batch(
            offset=chunk.offset,
            rows=n,
            columns=columns,
            tuple_head=self.tuple_head,
            with_rec=self.stage is not None,
            sent=n - len(bad),
            bytes_done=chunk.bytes_done,
            bytes_in=len(chunk.data),
            bad=bad,
            bad_fields={i: frame.row(i) for i in bad},
        )


WORKERS = 2  # parse two chunks at once: polars releases the GIL, and the server needs one core


def _produce(
    encoding: Encoding, path: Path, hasher, out: queue.Queue, stop: threading.Event
) -> None:
    """Read chunks in order, encode them on WORKERS threads, hand the futures over in order."""
    local = threading.local()

    def encode(chunk: Chunk) -> Batch:
        lines = None
        if encoding.with_line:  # one line index per worker: each sees increasing offsets
            lines = getattr(local, "lines", None)
            if lines is None:
                lines = local.lines = LineIndex(path)
        return encoding.encode(chunk, lines)

    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="aria-load-encode")
    try:
        for chunk in iter_chunks(path, hasher, CHUNK_BYTES):
            future = pool.submit(encode, chunk)
            while not stop.is_set():
                try:
                    out.put(future, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        out.put(None)
    except BaseException as exc:  # handed to the loading thread, which decides what it means
        out.put(exc)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def batches(encoding: Encoding, path: Path, hasher, stop: threading.Event) -> Iterator[Batch]:
    """Encoded batches in file order, with their record numbers, parsed ahead in threads."""
    # one finished batch waiting, WORKERS being parsed, one being sent: flat memory
    q: queue.Queue = queue.Queue(maxsize=1)
    worker = threading.Thread(
        target=_produce, args=(encoding, path, hasher, q, stop), name="aria-load-read", daemon=True
    )
    worker.start()
    rec = 1
    try:
        while True:
            item = q.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            batch = item.result()
            batch.start_rec = rec
            rec += batch.rows
            yield batch
    finally:
        stop.set()
        while worker.is_alive():
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass
        worker.join()


def _client_rejects(batch: Batch, writer: RejectWriter, lines: LineIndex) -> int:
    if not batch.bad:
        return 0
    found = lines.lines_of(batch.offset, list(batch.bad))
    writer.write(
        (found.get(i, 0), why, batch.bad_fields[i]) for i, why in sorted(batch.bad.items())
    )
    return len(batch.bad)


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
    _tune_malloc()
    encoding = Encoding(plan, None, with_line=False)
    targets = [
        plan.table.column(dict(plan.columns)[plan.csv_columns[i]]) for i, _ in encoding.fields
    ]
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        plan.table.ident, sql.SQL(", ").join(sql.Identifier(c.name) for c in targets if c)
    )
    rows = sent = rejected = 0
    stop = threading.Event()
    lines = LineIndex(plan.file)
    try:
        with conn.cursor() as cur:
            with cur.copy(statement) as copy:
                copy.write(COPY_HEADER)
                for batch in batches(encoding, plan.file, hasher, stop):
                    if cancel is not None and cancel.is_set():
                        raise CancelledLoad()
                    rows += batch.rows
                    rejected += _client_rejects(batch, writer, lines)
                    copy.write(batch.payload())
                    sent += batch.sent
                    emitter.progress(bytes_done=batch.bytes_done, rows_done=rows)
                copy.write(COPY_TRAILER)
            if cur.rowcount != sent:
                raise RuntimeError(f"the server stored {cur.rowcount} rows of the {sent} sent")
    finally:
        stop.set()
        lines.close()
    return rows, sent, rejected


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
    _tune_malloc()
    plan = stage.plan
    whole_file = bool(plan.self_fks)
    encoding = Encoding(plan, stage, with_line=whole_file)
    cols = [sql.Identifier("rec")] + ([sql.Identifier("line")] if whole_file else [])
    statement = sql.SQL("COPY {} ({}, {}) FROM STDIN (FORMAT binary)").format(
        stage.ident, sql.SQL(", ").join(cols), stage.copy_columns
    )
    lines = LineIndex(plan.file)
    pending: list[Batch] = []  # staged, not yet settled: their offsets give reject lines

    def line_of(recs: list[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for b in pending:
            mine = [r - b.start_rec for r in recs if b.start_rec <= r < b.start_rec + b.rows]
            if mine:
                out.update(
                    {b.start_rec + i: line for i, line in lines.lines_of(b.offset, mine).items()}
                )
        return out

    rows = inserted = rejected = 0
    stop = threading.Event()
    cur = conn.cursor()

    def settle() -> None:
        nonlocal inserted, rejected
        ins, rej = stage.settle(
            conn,
            writer,
            line_of=None if whole_file else line_of,
            header_lines=lines.header_lines,
            skip_fk_to=skip_fk_to,
            plain_first=plain_first,
        )
        inserted += ins
        rejected += rej
        stage.truncate(conn)
        pending.clear()

    try:
        copy_cm = None
        staged_bytes = 0
        for batch in batches(encoding, plan.file, hasher, stop):
            if cancel is not None and cancel.is_set():
                raise CancelledLoad()
            rows += batch.rows
            rejected += _client_rejects(batch, writer, lines)
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
        stop.set()
        lines.close()
        cur.close()
    return rows, inserted, rejected
