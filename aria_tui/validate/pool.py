"""The connections validation runs on: every one in REPEATABLE READ on one exported snapshot, so
tables checked side by side are judged against the same target; the tables handed out to them,
biggest file first, and their events serialised for the caller.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from aria_tui.errors import AriaError
from aria_tui.pg.connect import Target
from aria_tui.pg.rows import one
from aria_tui.pg.session import DEFAULT_TIME_ZONE, prepare_session
from aria_tui.validate import journal as journal_mod
from aria_tui.validate.model import NOTHING_DECIDED, Decided, TableValidation, ValidateEvent
from aria_tui.validate.table import EventCallback, validate_table

if TYPE_CHECKING:
    from aria_tui.scan.model import Inventory, TableScan


MAX_WORKERS = 4
TEMP_BUFFERS = "128MB"  # each connection stages the export files it checks

def begin(conn: psycopg.Connection, snapshot: str | None = None) -> None:
    """One consistent picture of the target for every check, on every connection."""
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    if snapshot is not None:
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
    # hash joins of a whole table at a time: give them room rather than spill to disk
    conn.execute("SET LOCAL work_mem = '64MB'")
    # the proof must see every row: a row-level security policy that applies to this role (a
    # table's owner under FORCE ROW LEVEL SECURITY, a role granted SELECT) would hide rows, a
    # duplicate or an extra one, and the checks would judge what is left. Off, a read such a
    # policy would filter fails instead, and the table is not proven (table.py says why)
    conn.execute("SET LOCAL row_security = off")


def worker_count(chosen: list[TableScan]) -> int:
    # the server does the work: one backend per core it can use, and never more than the tables
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1, len(chosen)))


def helper_connections(
    conn: psycopg.Connection,
    target: Target,
    count: int,
    lock_timeout: str,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> list[psycopg.Connection]:
    """Extra connections that see exactly the snapshot of `conn` (pg_export_snapshot), so tables
    checked side by side are judged against the same target; none when that is not possible."""
    if count <= 1:
        return []
    # not in a savepoint: the server refuses to export a snapshot from a subtransaction. The
    # transaction has done nothing yet, so on failure it simply starts again.
    try:
        snapshot = one(conn.execute("SELECT pg_export_snapshot()"))[0]
    except psycopg.Error:  # e.g. a hot standby: validate on one connection
        conn.rollback()
        begin(conn)
        return []
    helpers: list[psycopg.Connection] = []
    try:
        for _ in range(count - 1):
            helper = target.connect()
            helpers.append(helper)
            prepare_session(helper, lock_timeout, TEMP_BUFFERS, time_zone)
            begin(helper, snapshot)
    except (psycopg.Error, AriaError):
        for helper in helpers:  # too few connection slots: fewer workers is still correct
            helper.close()
        return []
    return helpers


def run_tables(
    conns: list[psycopg.Connection],
    inventory: Inventory,
    chosen: list[TableScan],
    entries: dict[str, journal_mod.JournalEntry],
    check_cancel: Callable[[], None],
    emit: EventCallback,
    lock_timeout: str,
    exact: bool = False,
    decided: Decided = NOTHING_DECIDED,
) -> list[TableValidation]:
    """Validate the tables on the connections side by side, biggest file first; results come
    back in the order of `chosen`, whatever order they finished in."""
    total = len(chosen)
    pending = sorted(range(total), key=lambda i: -chosen[i].file.bytes)
    results: list[TableValidation | None] = [None] * total
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def work(conn: psycopg.Connection) -> None:
        while not stop.is_set():
            with lock:
                if not pending:
                    return
                i = pending.pop(0)
            ts = chosen[i]
            name = ts.target or ts.name
            try:
                check_cancel()
                emit(ValidateEvent(name, i, total, None, f"validating {ts.file.name}"))
                result = validate_table(
                    conn, inventory, ts, entries, check_cancel, emit, i, total, lock_timeout, exact,
                    decided,
                )
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread below
                errors.append(exc)
                stop.set()
                return
            results[i] = result
            emit(ValidateEvent(name, i, total, None, result.status, result))

    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in conns[1:]]
    for t in threads:
        t.start()
    try:
        work(conns[0])
    except BaseException:
        stop.set()
        raise
    finally:
        if stop.is_set():
            for c in conns[1:]:
                c.cancel_safe()  # a helper deep in a long statement: end it now
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


def serialised(on_event: EventCallback | None) -> EventCallback:
    """Events arrive from several threads; the wizard and Rich see them one at a time, each
    stamped with the number of tables finished so far."""
    lock = threading.Lock()
    done = [0]

    def emit(event: ValidateEvent) -> None:
        with lock:
            if event.result is not None:
                done[0] += 1
            if on_event is not None:
                on_event(replace(event, done=done[0]))

    return emit
