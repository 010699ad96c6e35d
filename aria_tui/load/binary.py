"""The vector path: records parsed on the client, vectors checked there, binary COPY.

A producer thread cuts the file into record-aligned blocks (csvio, constant memory); worker
threads read each block as PostgreSQL's COPY would (csvio.read_block: polars where its reading is
proven identical, the exact parser where it is not, so a mid-field quote or a value starting
with U+FEFF loads what COPY loads), parse and check the vectors (csvio.vector_copy_fields: bad
ones become rejects with their line and never reach the server) and encode binary COPY tuples;
the loading thread sends them while the next blocks are being read, so the client and the
server work at the same time. A record COPY would refuse stops the table with its line.

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
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path

import polars as pl
import psycopg
from psycopg import sql

from aria_tui import csvio
from aria_tui.csvio import NULL_FIELD, Header, _blocks, native
from aria_tui.csvio.batches import placed
from aria_tui.errors import ExportError
from aria_tui.load import encoders
from aria_tui.load.chunks import Hasher, blocks
from aria_tui.load.encoders import Encoder, encoder_for
from aria_tui.load.events import Emitter
from aria_tui.load.fastpath import CancelledLoad
from aria_tui.load.model import TablePlan
from aria_tui.load.rejects import RejectWriter
from aria_tui.load.staging import Stage
from aria_tui.timing import mark

# CSV per batch. A block read by polars costs ~7x its size in flight (the text, polars' frame,
# the vector elements' views, floats, fields, payload), one read by the C reader ~1.5x: 3 MB
# blocks kept `aria-tui load` of a 1.1 GB vector file at 180-200 MB peak RSS on the polars path
# (4 MB: 200-215), and of a 4 GB one at 153-167 MB on the C path with READ_AHEAD blocks ahead.
BLOCK_BYTES = 3 << 20
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
    # records COPY would refuse, by row index (lines counted from the block's first)
    structural: dict[int, csvio.BadRecord] = field(default_factory=dict)
    # known once batches are in file order:
    start_rec: int = 0  # record number of the first row (1-based)
    first_line: int = 0  # physical line the block starts on
    bytes_done: int = 0  # on-disk bytes consumed once this block is done
    ready: bytes | None = None  # the payload, once built

    def payload(self) -> bytes:
        """The binary COPY tuples of the rows that go to the server."""
        n = self.rows
        columns = self.columns
        if not self.with_rec:  # nothing depends on the file order: done by the worker
            if self.ready is None:
                self.ready = _tuples(self.tuple_head, n, columns, self.bad)
                self.columns = []  # a payload's worth of small bytes objects, freed now
            return self.ready
        if self.with_line:
            assert self.lines is not None
            lines = (self.lines + self.first_line).to_list()
            columns = [[_int8(8, line) for line in lines], *columns]
        if self.with_rec:
            columns = [[_int8(8, r) for r in range(self.start_rec, self.start_rec + n)], *columns]
        return _tuples(self.tuple_head, n, columns, self.bad)

    def line_of(self, index: int) -> int:
        assert self.lines is not None
        return self.first_line + int(self.lines[index])


def _tuples(head: bytes, n: int, columns: list[list[bytes]], bad: dict[int, str]) -> bytes:
    rows: Iterable[tuple[bytes, ...]] = zip(repeat(head, n), *columns, strict=True)
    if bad:
        rows = (row for i, row in enumerate(rows) if i not in bad)
    return b"".join(chain.from_iterable(rows))


# what the C reader makes itself (the stage's text fields, and the encoders whose exact work it
# does: same accepted spellings, same bytes); other encoders get the values as str, for polars
_NATIVE_KINDS: dict[object, native.ColumnKind] = {
    "text": native.ColumnKind.COPYTEXT,
    encoders.text_field: native.ColumnKind.COPYTEXT,
    encoders.jsonb_field: native.ColumnKind.JSONB,
    encoders.uuid_field: native.ColumnKind.UUID,
    encoders.timestamptz_field: native.ColumnKind.TIMESTAMPTZ,
    encoders.timestamp_field: native.ColumnKind.TIMESTAMP,
}


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
                if target.base_type == "vector":
                    self.fields.append((i, ("vector", target.dimension)))
                else:
                    enc = encoder_for(target)
                    assert enc is not None
                    self.fields.append((i, enc))
        n = len(self.fields) + (0 if stage is None else 1 + (1 if self.with_line else 0))
        self.tuple_head = struct.pack(">h", n)
        # what the C reader makes of each CSV column (csvio.native's kinds)
        kinds: list[native.ColumnKind | int] = [native.ColumnKind.SKIP] * len(header.columns)
        for index, how in self.fields:
            if isinstance(how, tuple):
                kinds[index] = native.vector(how[1])
            else:
                kinds[index] = _NATIVE_KINDS.get(how, native.ColumnKind.STR)
        self.kinds = tuple(kinds)

    @staticmethod
    def direct_possible(plan: TablePlan) -> bool:
        for _, target in plan.columns:
            col = plan.table.column(target)
            # only pgvector's `vector` has the float32 binary form the client makes; a halfvec
            # column goes through the stage (staged as vector(n), cast there)
            if col is None or (col.base_type != "vector" and encoder_for(col) is None):
                return False
        return True

    def encode(self, block: _blocks.Block) -> Batch:
        """Read one block the way PostgreSQL would (csvio) and encode its rows; runs in a
        worker thread, several blocks at once."""
        batch = self._encode_native(block)
        return batch if batch is not None else self._encode_polars(block)

    def _encode_native(self, block: _blocks.Block) -> Batch | None:
        """The block read by csvio's C reader, vectors parsed in the same pass: a third of the
        CPU of the polars reading. None when it does not vouch for the block, or when a row must
        be rejected (the reject file wants the raw fields and lines the other reading gives)."""
        got = native.read_records(block.data, self.header, self.kinds, self.lines)
        if got is None:
            return None
        columns: list[list[bytes]] = []
        for index, how in self.fields:
            values = got.columns[index]
            assert values is not None
            if isinstance(how, tuple):
                deferred = got.deferred[index]
                if deferred:
                    rows = [r for r, _ in deferred]
                    texts = pl.Series([t for _, t in deferred], dtype=pl.String)
                    parsed = csvio.complete_fields(values, rows, texts, how[1])
                    if parsed.bad:
                        return None
                    values = parsed.fields
                columns.append(values)
            elif how in _NATIVE_KINDS:
                columns.append(values)  # the C reader made the binary fields
            else:
                encoder: Encoder = how  # type: ignore[assignment]
                columns.append(encoder(pl.Series(values, dtype=pl.String)))
        return self._batch(block, got.rows, columns, got.spans, got.lines)

    def _encode_polars(self, block: _blocks.Block) -> Batch:
        read = csvio.read_block(block, self.header, lines=self.lines)
        frame = read.frame
        n = frame.height
        # records COPY would refuse (rows of NULLs in the frame): rejected with their raw bytes
        bad: dict[int, str] = {i: b.reject_reason() for i, b in read.bad.items()}
        raw: dict[int, tuple] = {i: (b.raw_text(),) for i, b in read.bad.items()}
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
        return self._batch(
            block,
            n,
            columns,
            read.spans,
            lines,
            bad,
            {i: raw[i] if i in raw else frame.row(i) for i in bad},
            read.bad,
        )

    def _batch(
        self,
        block: _blocks.Block,
        rows: int,
        columns: list[list[bytes]],
        spans: int,
        lines: pl.Series | None,
        bad: dict[int, str] | None = None,
        bad_fields: dict[int, tuple] | None = None,
        structural: dict[int, csvio.BadRecord] | None = None,
    ) -> Batch:
        batch = Batch(
            rows=rows,
            columns=columns,
            tuple_head=self.tuple_head,
            with_rec=self.stage is not None,
            sent=rows - len(bad or ()),
            bytes_in=len(block.data),
            raw_done=block.raw_done,
            spans=spans,
            lines=lines,
            with_line=self.with_line,
            bad=bad or {},
            bad_fields=bad_fields or {},
            structural=structural or {},
        )
        if self.stage is None:
            batch.payload()  # here, in parallel, and the per-field bytes are freed at once
        return batch


WORKERS = 2  # read and encode two blocks at once: the C reader and polars release the GIL
# Blocks handed to the workers ahead of the sending thread. The server's pace is uneven (WAL
# writes, TOAST), and a deeper queue lets the client run on through its pauses: on a 920 MB
# vector file, 1 ahead loaded in 10.2-10.5 s, 3 in 8.7-9.6 s, 5 in 7.8-8.9 s, for ~4 MB of
# memory each (the block until encoded, then its payload); peak RSS stayed at 162-166 MB.
READ_AHEAD = 4


def batches(
    encoding: Encoding, path: Path, hasher: Hasher | None
) -> Generator[Batch, None, None]:
    """Encoded batches in file order, with their record and line numbers, read ahead in threads.

    One thread cuts the file into blocks (csvio) and hands them to WORKERS encoding threads;
    at most READ_AHEAD batches wait (encoded or being encoded), one is being sent: flat memory.
    A record COPY would refuse is a reject of its batch (see csvio.read_block).
    """
    header = encoding.header
    eol = header.eol.encode("ascii")
    slow = native.module() is None  # else a block only goes to polars when the C reader balks

    def produce() -> Iterator[Future]:
        pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="aria-load-encode")
        try:
            with blocks(path, header, hasher, BLOCK_BYTES) as cut:
                for block in cut:
                    if slow:  # the byte counts polars' reading is verified with, done here
                        _blocks.precount(block, eol)
                    yield pool.submit(encoding.encode, block)
        except GeneratorExit:  # the consumer is gone: nobody will read what is not done yet
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            # at the end of the file (or a read error) the futures already handed over must
            # still run: the consumer waits on them, then sees the error in its turn
            pool.shutdown(wait=False)

    rec, line, done = 1, header.lines + 1, header.bytes
    # polars' reading holds ~7x a block in memory where the C reader holds ~1.5x: without the
    # extension, one block ahead keeps the peak under 200 MB
    depth = 1 if slow else READ_AHEAD
    with _blocks.run_ahead(produce, "aria-load-read", depth=depth) as futures:
        for future in futures:
            batch = future.result()
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


@dataclass(frozen=True)
class Sink:
    """Where one table's load reports to: its reject file, the progress events, the operator's
    cancel, and the journal's checksum of the file (None: computed apart, for a .gz)."""

    writer: RejectWriter
    emitter: Emitter
    cancel: threading.Event | None = None
    hasher: Hasher | None = None


def _in_order(encoding: Encoding, path: Path, sink: Sink) -> Generator[Batch, None, None]:
    """The batches to send, in file order; the operator's cancel honoured between them and the
    rows the client refused (bad vectors) written to the reject file with their lines."""
    _blocks.tune_malloc()
    records = 0
    undecodable: list[bytes] = []  # records refused for invalid UTF-8 (their first bytes)
    for batch in batches(encoding, path, sink.hasher):
        if sink.cancel is not None and sink.cancel.is_set():
            raise CancelledLoad()
        records += batch.rows
        undecodable += [b.raw[:256] for b in batch.structural.values() if b.kind == "encoding"]
        if batch.bad:
            sink.writer.write(
                (batch.line_of(i), _reason(batch, i, why), batch.bad_fields[i])
                for i, why in sorted(batch.bad.items())
            )
        yield batch
    verdict = csvio.wrong_encoding(len(undecodable), records, undecodable)
    if verdict:
        raise ExportError(f"{path.name} {verdict}")


def _reason(batch: Batch, index: int, why: str) -> str:
    """A reject's reason; a structural one names its lines, known once the batch is placed."""
    bad = batch.structural.get(index)
    return why if bad is None else placed(bad, batch.first_line).reject_reason()


def load_direct(conn: psycopg.Connection, plan: TablePlan, sink: Sink) -> tuple[int, int, int]:
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
            with closing(_in_order(encoding, plan.file, sink)) as in_order:
                for batch in in_order:
                    rows += batch.rows
                    mark("first COPY byte", once=True)
                    copy.write(batch.payload())
                    sent += batch.sent
                    sink.emitter.progress(bytes_done=batch.bytes_done, rows_done=rows)
            copy.write(COPY_TRAILER)
        if cur.rowcount != sent:
            raise RuntimeError(f"the server stored {cur.rowcount} rows of the {sent} sent")
    return rows, sent, rows - sent


def load_staged(
    conn: psycopg.Connection,
    stage: Stage,
    sink: Sink,
    skip_fk_to: tuple[str, ...] = (),
    plain_first: bool = False,
    before_settle: Callable[[Stage], None] | None = None,
) -> tuple[int, int, int]:
    """Stage the file in binary and insert it with ON CONFLICT; returns (csv_rows, inserted, rejected).

    `before_settle`: a check of the whole staged file before anything is inserted (the file is
    then staged whole, as for a self-reference)."""
    plan = stage.plan
    whole_file = bool(plan.self_fks) or before_settle is not None
    header = _header(plan.file)
    encoding = Encoding(plan, header, stage, lines=True)
    cols = [sql.Identifier("rec")] + ([sql.Identifier("line")] if stage.with_line else [])
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
            sink.writer,
            line_of=None if whole_file else line_of,
            header_lines=header.lines,
            skip_fk_to=skip_fk_to,
            plain_first=plain_first,
        )
        inserted += ins
        rejected += rej
        stage.truncate(conn)
        pending.clear()

    in_order = _in_order(encoding, plan.file, sink)
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
            mark("first COPY byte", once=True)
            copy.write(batch.payload())
            pending.append(batch)
            staged_bytes += batch.bytes_in
            if not whole_file and staged_bytes >= SETTLE_BYTES:
                copy.write(COPY_TRAILER)
                copy_cm.__exit__(None, None, None)
                copy_cm = None
                staged_bytes = 0
                settle()
            sink.emitter.progress(bytes_done=batch.bytes_done, rows_done=rows)
        if copy_cm is not None:
            copy.write(COPY_TRAILER)
            copy_cm.__exit__(None, None, None)
            copy_cm = None
            sink.emitter.progress(phase="insert", force=True)
            if before_settle is not None:
                before_settle(stage)
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
