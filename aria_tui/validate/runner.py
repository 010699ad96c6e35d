"""`validate()`: scan the export against the live target, then ask each selected table the checks.

Everything runs on one connection in one REPEATABLE READ transaction, so foreign keys are judged
against one consistent picture of the target, and the transaction is rolled back at the end: the
only things validation creates are temporary tables and functions.
"""

from __future__ import annotations

import os
import re
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from aria_tui.csvio.files import Sha256, sha256_file
from aria_tui.csvio.header import unreadable
from aria_tui.errors import AriaError, Cancelled
from aria_tui.pg import locks
from aria_tui.pg.catalog import Table, exact_row_count
from aria_tui.pg.connect import Target
from aria_tui.pg.rows import one
from aria_tui.pg.session import DEFAULT_TIME_ZONE, prepare_session
from aria_tui.selection import Selection, manifest_block
from aria_tui.status import CheckStatus, ScanStatus
from aria_tui.validate import checks
from aria_tui.validate import journal as journal_mod
from aria_tui.validate import report as report_mod
from aria_tui.validate import staging as st
from aria_tui.validate.model import (
    BLOCKED,
    CONTENT,
    ERROR,
    FAILED,
    INCOMPLETE,
    NO_TARGET,
    PASSED,
    PRESENCE,
    SKIPPED,
    STATUS,
    Check,
    TableValidation,
    ValidateEvent,
    Validation,
)

if TYPE_CHECKING:
    from aria_tui.scan.model import Inventory, TableScan


EventCallback = Callable[[ValidateEvent], None]
MAX_WORKERS = 4
CancelSignal = Callable[[], bool] | threading.Event | None
DEFAULT_LOCK_TIMEOUT = locks.DEFAULT_LOCK_TIMEOUT
TEMP_BUFFERS = "128MB"  # each connection stages the export files it checks


def validate(
    folder: Path,
    target: Target,
    *,
    profile: str | None = None,
    tables: list[str] | None = None,
    priorities: list[str] | None = None,
    report_dir: Path | None = None,
    on_event: EventCallback | None = None,
    cancel: CancelSignal = None,
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT,
    accept_changed: list[str] | None = None,
    exact: bool = False,
    adjust: Callable[[Inventory], Inventory] | None = None,
    time_zone: str = DEFAULT_TIME_ZONE,
    selection: Selection | None = None,
    accept_rejects: frozenset[str] = frozenset(),
) -> Validation:
    """Prove the cutover of `folder` into `target`; writes the Markdown + JSON report.

    A file that differs from the export's manifest is validated, not reported blocked, when the
    operator accepts it (`accept_changed`, as for the load) or when the load journal shows these
    very bytes were loaded under that override (same size and modification time).

    `selection` (aria_tui.selection) says which files, as for the load; without it, `tables`,
    `priorities` and `accept_changed` make one. A selected file that cannot be loaded (no target
    table, blocked, missing from the folder) is validated as a failure, never left out.

    `lock_timeout` (a PostgreSQL duration) bounds the wait for a table another session holds:
    that table then fails with a sentence naming it and the lock's holder. Raises AriaError
    (exit 2) for an unusable folder, target, lock timeout or report folder (checked before any
    work), Cancelled when `cancel` fires.

    `accept_rejects`: tables ('schema.table') whose records that cannot be loaded the operator
    accepts on purpose (`--accept-rejects`, a plan's `accept_rejects`), as a load that recorded
    that decision in its commit records does: they are listed as decided away, not missing. Only
    records validation itself finds unloadable are excused, and only as many as the load rejected.

    `exact`: every table must hold nothing but its file's records (the target as a multiset
    equal to the export); without it, that is asked of the tables the load journal shows empty
    before their load.
    """
    from aria_tui.scan import scan as scan_export

    folder = Path(folder)
    report_mod.check_dir(report_dir)  # a report that cannot be written must not cost a run
    if selection is None:
        selection = Selection.of(tables, priorities, accept_changed)
    started = time.monotonic()
    started_at = datetime.now(UTC).replace(microsecond=0)
    check_cancel = _canceller(cancel)
    emit = _serialised(on_event)
    with target.connect() as conn:
        prepare_session(conn, lock_timeout, TEMP_BUFFERS, time_zone)
        # the value sample only feeds the scan's type warnings; validation casts every value.
        # Files the selection cannot take are read no further than their header (as the load
        # does): validating 14 tables of an 88-file export must not cost a read of all 88.
        inventory = scan_export(
            folder,
            conn,
            profile,
            target_display=target.display,
            sample_values=False,
            needed=selection.needs(generic=profile in (None, "none")),
        )
        conn.rollback()  # the scan's reads must not pin the snapshot validation takes next
        if adjust is not None:  # the operator's decisions (a plan file): mapping, drops, renames
            inventory = adjust(inventory)
        entries = journal_mod.read_entries(folder, target, conn)
        resolved = selection.resolve(inventory, also_accept=_loaded_despite_manifest(inventory, entries))
        inventory = resolved.inventory
        chosen = list(resolved.picked)
        if not chosen:
            raise AriaError(
                f"Nothing to validate in {folder}: no table is selected (name some with --tables)."
            )
        unknown = set(accept_rejects) - {ts.target for ts in chosen}
        if unknown:  # a typo must not look like a decision that was honoured
            raise AriaError(
                f"--accept-rejects names {', '.join(sorted(unknown))}, which this validation does "
                "not validate."
            )
        _begin(conn)
        conns = [conn]
        try:
            conns += _helpers(conn, target, _worker_count(chosen), lock_timeout, time_zone)
            results = _run_tables(
                conns, inventory, chosen, entries, check_cancel, emit, lock_timeout, exact,
                accept_rejects,
            )
        finally:
            for c in conns:
                if not c.closed:
                    c.rollback()
            for c in conns[1:]:
                c.close()
    notes = [
        f"{ts.file.name} differs from the export's manifest ({ts.manifest}): validated against "
        "the file as it is, as accepted for its load (--accept-changed)."
        for ts in resolved.accepted
    ]
    validation = Validation(
        ok=all(r.ok for r in results),
        tables=tuple(results),
        report_path=None,
        export=folder.resolve(),
        target_display=target.display,
        profile=inventory.profile,
        not_selected=tuple(t.file.name for t in resolved.left_out),
        started_at=started_at.isoformat().replace("+00:00", "Z"),
        seconds=time.monotonic() - started,
        notes=(*inventory.notes, *notes),
    )
    return report_mod.write(validation, target, report_dir)


def _loaded_despite_manifest(
    inventory: Inventory, entries: dict[str, journal_mod.JournalEntry]
) -> list[TableScan]:
    """Files the load journal shows were loaded, these very bytes (same size and modification
    time), under a manifest override: validated as accepted, as they were loaded."""
    out = []
    for ts in inventory.tables:
        if manifest_block(ts) is None:
            continue
        entry = (entries.get(ts.target) if ts.target else None) or entries.get(ts.file.name)
        if entry is not None and entry.size is not None and entry.mtime_ns is not None:
            st = ts.file.path.stat()
            if (st.st_size, st.st_mtime_ns) == (entry.size, entry.mtime_ns):
                out.append(ts)
    return out


def _begin(conn: psycopg.Connection, snapshot: str | None = None) -> None:
    """One consistent picture of the target for every check, on every connection."""
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    if snapshot is not None:
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
    # hash joins of a whole table at a time: give them room rather than spill to disk
    conn.execute("SET LOCAL work_mem = '64MB'")


def _worker_count(chosen: list[TableScan]) -> int:
    # the server does the work: one backend per core it can use, and never more than the tables
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1, len(chosen)))


def _helpers(
    conn: psycopg.Connection, target: Target, count: int, lock_timeout: str
, time_zone: str = DEFAULT_TIME_ZONE) -> list[psycopg.Connection]:
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
        _begin(conn)
        return []
    helpers: list[psycopg.Connection] = []
    try:
        for _ in range(count - 1):
            helper = target.connect()
            helpers.append(helper)
            prepare_session(helper, lock_timeout, TEMP_BUFFERS, time_zone)
            _begin(helper, snapshot)
    except (psycopg.Error, AriaError):
        for helper in helpers:  # too few connection slots: fewer workers is still correct
            helper.close()
        return []
    return helpers


def _run_tables(
    conns: list[psycopg.Connection],
    inventory: Inventory,
    chosen: list[TableScan],
    entries: dict[str, journal_mod.JournalEntry],
    check_cancel: Callable[[], None],
    emit: EventCallback,
    lock_timeout: str,
    exact: bool = False,
    accept_rejects: frozenset[str] = frozenset(),
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
                result = _validate_table(
                    conn, inventory, ts, entries, check_cancel, emit, i, total, lock_timeout, exact,
                    accept_rejects,
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


def _serialised(on_event: EventCallback | None) -> EventCallback:
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


def _validate_table(
    conn: psycopg.Connection,
    inventory: Inventory,
    ts: TableScan,
    entries: dict[str, journal_mod.JournalEntry],
    check_cancel: Callable[[], None],
    on_event: EventCallback,
    index: int,
    total: int,
    lock_timeout: str,
    exact: bool = False,
    accept_rejects: frozenset[str] = frozenset(),
) -> TableValidation:
    started = time.monotonic()
    name = ts.target or ts.name
    table = inventory.catalog.get(ts.target) if ts.target else None

    def done(
        status: str,
        found: list[Check],
        target_rows: int = 0,
        staged: checks.Staged | None = None,
        **more: Any,
    ) -> TableValidation:
        if staged is not None:
            more.update(
                rejected=staged.rejected,
                not_in_target=staged.not_in_target,
                # a passing content check leaves no difference (conflicts kept by decision)
                differing=0 if all(c.ok for c in found if c.name == CONTENT) else staged.differ,
                exact=staged.exact,
                export_checksum=staged.export_checksum,
                target_checksum=staged.target_checksum,
            )
        return TableValidation(
            target=name,
            file=ts.file.name,
            csv_rows=ts.rows,
            target_rows=target_rows,
            checks=tuple(found),
            status=status,
            seconds=time.monotonic() - started,
            priority=ts.priority,
            **more,
        )

    if ts.status == ScanStatus.MISSING:
        why = ts.diff.reason or f"{ts.file.name} is not in the folder"
        rows = _row_count(conn, table) if table is not None else 0
        return done(
            CheckStatus.MISSING,
            [Check(STATUS, False, f"Not validated: {why.rstrip('.')}.")],
            rows,
            # the manifest's count: every record of a file that never arrived is missing
            not_in_target=ts.expected_rows or 0,
        )
    if ts.status == ScanStatus.NO_TARGET or (table is None and ts.status != ScanStatus.BLOCKED):
        why = ts.diff.reason or f"the target has no table for {ts.file.name}"
        return done(
            NO_TARGET,
            [Check(STATUS, False, f"Not validated: {why.rstrip('.')}.")],
            not_in_target=ts.rows,
        )
    if ts.status == ScanStatus.BLOCKED or ts.problem is not None or ts.header is None or table is None:
        why = ts.problem.sentence() if ts.problem is not None else ts.diff.reason or "the scan blocked it"
        rows = _row_count(conn, table) if table is not None else 0
        return done(
            BLOCKED, [Check(STATUS, False, f"Not loadable, so not validated: {why.rstrip('.')}.")], rows
        )

    entry = entries.get(table.qualified) or entries.get(ts.file.name)
    found: list[Check] = []

    def step(check: str) -> None:
        check_cancel()
        on_event(ValidateEvent(name, index, total, check, f"{check} of {ts.file.name}"))

    lay = st.layout(table, tuple(ts.header.columns), ts.diff.mapping)
    digest = None if ts.file.compressed else Sha256()
    conn.execute("SAVEPOINT aria_table")
    try:
        step("staging")
        try:
            records, source = st.stage(
                conn, ts.file.path, lay, check_cancel=check_cancel, digest=digest
            )
            if digest is None:  # the bytes sent were decompressed: hash the file as it is
                digest = sha256_file(ts.file.path)
        except Cancelled:
            raise
        except psycopg.Error as exc:
            conn.execute("ROLLBACK TO SAVEPOINT aria_table")
            reason = _server_reason(exc, lay)
            return done(
                ERROR,
                [Check(STATUS, False, f"PostgreSQL cannot read {ts.file.name} as CSV: {reason}.")],
                _row_count(conn, table),
            )
        except (AriaError, OSError, EOFError, zlib.error) as exc:
            # the export file itself: vanished, unreadable, a damaged or truncated .gz
            conn.execute("ROLLBACK TO SAVEPOINT aria_table")
            why = (
                str(exc)
                if isinstance(exc, AriaError)
                else f"{ts.file.name} cannot be read ({unreadable(exc)})."
            )
            return done(ERROR, [Check(STATUS, False, why)], _row_count(conn, table))
        target_rows = exact_row_count(conn, table)
        step("presence")
        sha256 = digest.hexdigest()
        applies = checks.journal_applies(entry, digest.bytes, sha256)
        # the journal shows the table held nothing before its load: nothing else may be there
        judged_exact = exact or (applies and entry is not None and entry.rows_before == 0)
        if sum(1 for t in inventory.tables if t.target == ts.target) > 1:
            # a table fed by several files (an export split in parts) holds more than any one
            judged_exact = False
        staged = checks.measure(
            conn,
            lay,
            ts.file.name,
            ts.rows,
            records,
            source,
            exact=judged_exact,
            parents=_parents(inventory, lay),
            target_rows=target_rows,
            check_cancel=check_cancel,
        )
        found.append(
            checks.reconciliation(
                staged,
                target_rows,
                entry,
                journal_found=bool(entries),
                file_bytes=digest.bytes,
                sha256=sha256,
            )
        )
        reject_file = entry.reject_file if applies and entry is not None else None
        accepted = name in accept_rejects or (applies and entry is not None and entry.accept_rejects)
        found.append(checks.presence(staged, reject_file, accepted=accepted))
        step("content")
        decided = journal_mod.decided_records(entry) if applies else frozenset()
        kept = checks.kept_conflicts(conn, staged, decided)
        found.append(checks.content(conn, staged, decided, kept))
        # these three apply only when the table has foreign keys, vector columns, sequences
        step("foreign_keys")
        optional = [checks.foreign_keys(conn, table, lay)]
        step("vectors")
        optional.append(checks.vectors(conn, table))
        step("sequences")
        optional.append(checks.sequences(conn, table))
        found += [c for c in optional if c is not None]
        st.drop_all(conn)
        conn.execute("RELEASE SAVEPOINT aria_table")
    except Cancelled:
        raise
    except psycopg.errors.LockNotAvailable:
        conn.execute("ROLLBACK TO SAVEPOINT aria_table")
        # no row count: it would only wait for the same lock again
        found.append(Check(STATUS, False, _lock_sentence(conn, table, lock_timeout)))
        return done(ERROR, found)
    except psycopg.Error as exc:
        conn.execute("ROLLBACK TO SAVEPOINT aria_table")
        found.append(Check(STATUS, False, f"A check could not run: {_server_reason(exc, lay)}."))
        return done(ERROR, found, _row_count(conn, table))
    status = _status(found, staged)
    if entry is not None and entry.status not in ("loaded", "resumed"):
        status = SKIPPED
    return done(
        status,
        found,
        target_rows,
        staged,
        reject_file=reject_file,
        file_sha256=sha256,
        file_bytes=digest.bytes,
        accepted_rejects=staged.rejected if accepted else 0,
        kept_conflicts=kept,
        decisions=_decisions(entry if applies else None, accepted, staged.rejected, kept),
    )


def _decisions(
    entry: journal_mod.JournalEntry | None, accepted: bool, rejected: int, kept: int
) -> tuple[str, ...]:
    """The operator's decisions this table's verdict rests on, for the certificate: what the
    load's plan changed, the conflict policy, and what was decided away instead of loaded."""
    out: list[str] = list(entry.notes) if entry is not None else []
    if entry is not None and entry.on_conflict != "reject":
        out.append(f"conflict policy {entry.on_conflict}")
    if kept:
        out.append(f"{kept:,} conflict{'s' if kept != 1 else ''} kept by decision (the target's row stays)")
    if accepted and rejected:
        out.append(f"{rejected:,} rejected record{'s' if rejected != 1 else ''} accepted by decision")
    return tuple(out)


def _status(found: list[Check], staged: checks.Staged) -> str:
    """Passed only when every check holds; incomplete when the one thing wrong is records of the
    file that cannot be loaded (the target holds the rest exactly); failed otherwise."""
    failed = {c.name for c in found if not c.ok}
    if not failed:
        return PASSED
    only_rejects = (
        failed == {PRESENCE}
        and staged.rejected > 0
        and staged.missing == 0
        and staged.differ == 0
        and not (staged.exact and staged.extras)
        and not staged.doubled
    )
    return INCOMPLETE if only_rejects else FAILED


def _parents(inventory: Inventory, lay: st.Layout) -> dict[str, checks.Parent]:
    """Where the export holds the parent table of each of the layout's foreign keys: every file
    the scan matched to it, selected or not (the export is the truth, not the selection)."""
    out: dict[str, checks.Parent] = {}
    for _name, _cols, ref, _ref_cols in lay.fks:
        if ref in out or ref == lay.table.qualified:
            continue
        parent_table = inventory.catalog.get(ref)
        files = []
        for ps in inventory.tables:
            if ps.target != ref:
                continue
            parent_lay = None
            if ps.problem is None and ps.header is not None and parent_table is not None:
                mapping = ps.diff.mapping or tuple(
                    # a file the scan did not read past its header: its columns by name
                    (h, h if parent_table.column(h) is not None else None) for h in ps.header.columns
                )
                parent_lay = st.layout(parent_table, tuple(ps.header.columns), mapping)
            files.append(checks.ParentFile(ps.file.path, parent_lay, ps.file.name))
        out[ref] = checks.Parent(tuple(files))
    return out


def _row_count(conn: psycopg.Connection, table: Table) -> int:
    """count(*) for a table whose checks could not run; 0 when even that is refused (the
    failing check says why)."""
    conn.execute("SAVEPOINT aria_count")
    try:
        n = exact_row_count(conn, table)
    except psycopg.Error:
        conn.execute("ROLLBACK TO SAVEPOINT aria_count")
        return 0
    conn.execute("RELEASE SAVEPOINT aria_count")
    return n


def _lock_sentence(conn: psycopg.Connection, table: Table, lock_timeout: str) -> str:
    """The loader's sentence for a table another session holds (aria_tui.pg.locks)."""
    # the look at the holders must leave validation's transaction open and never aborted
    conn.execute("SAVEPOINT aria_lock")
    held_by = ""
    try:
        # stats views are read once per transaction: see the holders as they are now
        conn.execute("SELECT pg_stat_clear_snapshot()")
        held_by = locks.holders(conn, table.oid)
    except psycopg.Error:
        pass
    finally:
        conn.execute("ROLLBACK TO SAVEPOINT aria_lock")
        conn.execute("RELEASE SAVEPOINT aria_lock")
    return locks.gave_up_sentence(table.qualified, lock_timeout, held_by)


def _server_reason(exc: psycopg.Error, lay: st.Layout | None = None) -> str:
    """The server's message, with COPY's "line N, column cK" in the file's own terms."""
    diag = getattr(exc, "diag", None)
    text = (diag.message_primary if diag and diag.message_primary else str(exc)).strip()
    context = diag.context if diag and diag.context else ""
    for part in context.splitlines():
        m = re.search(r"\bline (\d+)(?:, column (\w+))?", part)
        if m:
            where = f"line {m.group(1)}"
            if m.group(2) and lay is not None and m.group(2) in lay.stage_columns:
                where += f", column {lay.header[lay.stage_columns.index(m.group(2))]}"
            return f"{text.rstrip('.')} ({where})"
    return text.rstrip(".")


def _canceller(cancel: CancelSignal) -> Callable[[], None]:
    def check() -> None:
        if cancel is None:
            return
        fired = cancel.is_set() if isinstance(cancel, threading.Event) else cancel()
        if fired:
            raise Cancelled("Validation cancelled; nothing was changed.")

    return check


__all__ = ["validate"]
