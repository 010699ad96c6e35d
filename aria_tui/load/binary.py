"""The vector path: records parsed on the client, vectors checked there, binary COPY.

The file is read and encoded in threads (encoding.py: record-aligned blocks read as COPY would,
vectors parsed and checked on the client, bad ones rejects with their line that never reach the
server); the loading thread here sends the batches while the next blocks are being read, so the
client and the server work at the same time. A record COPY would refuse stops the table with
its line.

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
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from aria_tui import csvio
from aria_tui.csvio import Header, cutter
from aria_tui.csvio.batches import placed
from aria_tui.errors import ExportError
from aria_tui.load.chunks import Hasher
from aria_tui.load.encoding import Batch, Encoding, batches
from aria_tui.load.events import Emitter
from aria_tui.load.fastpath import CancelledLoad
from aria_tui.load.model import TablePlan
from aria_tui.load.rejects import RejectWriter
from aria_tui.load.staging import Stage
from aria_tui.timing import mark

SETTLE_BYTES = 24 << 20  # stage mode: insert and truncate after about this much CSV
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER = b"\xff\xff"


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
    cutter.tune_malloc()
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


def direct_copy(plan: TablePlan, header: Header) -> tuple[Encoding, sql.Composed]:
    """How the rows go straight into the table: their encoding and the binary COPY statement
    (load_direct, and each chunk of a chunked load)."""
    encoding = Encoding(plan, header, None, lines=False)
    targets = [
        plan.table.column(dict(plan.columns)[plan.csv_columns[i]]) for i, _ in encoding.fields
    ]
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        plan.table.ident, sql.SQL(", ").join(sql.Identifier(c.name) for c in targets if c)
    )
    return encoding, statement


def load_direct(conn: psycopg.Connection, plan: TablePlan, sink: Sink) -> tuple[int, int, int]:
    """One binary COPY into the (empty) table; returns (csv_rows, inserted, rejected).

    Not TRUNCATE + COPY FREEZE: measured slower here (wal_level replica skips no WAL, the vectors
    are TOAST the hint-bit pass never reads), and it would lock out readers and fail on a table a
    foreign key references; the numbers are in benchmarks/README.md."""
    encoding, statement = direct_copy(plan, _header(plan.file))
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
