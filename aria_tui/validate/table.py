"""`validate_table()`: one table's checks, in a savepoint, and its verdict; the sentences for a
table that could not be checked (missing, no target, blocked, unreadable, locked).
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from aria_tui.csvio.files import Sha256, sha256_file
from aria_tui.csvio.header import unreadable
from aria_tui.errors import AriaError, Cancelled
from aria_tui.pg import access, locks
from aria_tui.pg.catalog import Table, exact_row_count
from aria_tui.pg.rows import one
from aria_tui.status import FILLED_WITH, CheckStatus, ScanStatus
from aria_tui.validate import journal as journal_mod
from aria_tui.validate.checks.content import content, kept_conflicts
from aria_tui.validate.checks.foreign_keys import foreign_keys
from aria_tui.validate.checks.measure import measure
from aria_tui.validate.checks.presence import presence
from aria_tui.validate.checks.reconciliation import journal_applies, reconciliation
from aria_tui.validate.checks.sequences import sequences
from aria_tui.validate.checks.staged import Parent, ParentFile, Staged
from aria_tui.validate.checks.vectors import vectors
from aria_tui.validate.model import (
    BLOCKED,
    CONTENT,
    ERROR,
    FAILED,
    INCOMPLETE,
    NO_TARGET,
    NOTHING_DECIDED,
    PASSED,
    PRESENCE,
    SKIPPED,
    STATUS,
    Check,
    Decided,
    TableValidation,
    ValidateEvent,
)
from aria_tui.validate.staging.layout import Layout, layout
from aria_tui.validate.staging.server_copy import drop_all, stage

if TYPE_CHECKING:
    from aria_tui.scan.model import Inventory, TableScan


EventCallback = Callable[[ValidateEvent], None]

def validate_table(
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
    decided_by: Decided = NOTHING_DECIDED,
) -> TableValidation:
    started = time.monotonic()
    name = ts.target or ts.name
    table = inventory.catalog.get(ts.target) if ts.target else None

    def done(
        status: str,
        found: list[Check],
        target_rows: int = 0,
        staged: Staged | None = None,
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

    hidden_from = access.row_security_applies(conn, table.oid)
    if hidden_from is not None:  # rows it cannot see would be missing, rows it should not see, too
        return done(
            ERROR,
            [Check(STATUS, False, access.rls_sentence(hidden_from, name, "validate"))],
            _row_count(conn, table),
        )

    entry = entries.get(table.qualified) or entries.get(ts.file.name)
    found: list[Check] = []

    def step(check: str) -> None:
        check_cancel()
        on_event(ValidateEvent(name, index, total, check, f"{check} of {ts.file.name}"))

    lay = layout(table, tuple(ts.header.columns), ts.diff.mapping)
    digest = None if ts.file.compressed else Sha256()
    conn.execute("SAVEPOINT aria_table")
    try:
        step("staging")
        try:
            records, source = stage(
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
        applies = journal_applies(entry, digest.bytes, sha256)
        # the journal shows the table held nothing before its load: nothing else may be there
        judged_exact = exact or (applies and entry is not None and entry.rows_before == 0)
        if sum(1 for t in inventory.tables if t.target == ts.target) > 1:
            # a table fed by several files (an export split in parts) holds more than any one
            judged_exact = False
        staged = measure(
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
            reconciliation(
                staged,
                target_rows,
                entry,
                journal_found=bool(entries),
                file_bytes=digest.bytes,
                sha256=sha256,
            )
        )
        if entry is not None and entry.pending_indexes:
            n = len(entry.pending_indexes)
            found.append(
                Check(
                    STATUS,
                    False,
                    f"{n} index{'es' if n != 1 else ''} of {name} ("
                    + ", ".join(entry.pending_indexes)
                    + (") was" if n == 1 else ") were")
                    + " taken down by a load that did not finish and not built again: run the "
                    "load again, which builds them first (or says why the rows refuse them).",
                )
            )
        reject_file = entry.reject_file if applies and entry is not None else None
        # accepted only when whoever asks for the proof says so (--accept-rejects, a plan file,
        # the wizard's choices): what the load recorded in the target is a note, never an excuse
        # (a row of aria_tui.commits is as easy to edit as the data it speaks for)
        accepted = name in decided_by.accept_rejects
        loaded_accepting = applies and entry is not None and entry.accept_rejects
        found.append(
            presence(staged, reject_file, accepted=accepted, load_accepted=loaded_accepting)
        )
        step("content")
        # kept conflicts are on purpose only when the caller says keep-target for this table too
        decided = (
            journal_mod.decided_records(entry)
            if applies and decided_by.keeps(name)
            else frozenset()
        )
        kept_pair = kept_conflicts(conn, staged, decided, journal_mod.kept_on(entry))
        kept = sum(kept_pair)
        checked = content(conn, staged, decided, kept_pair)
        unasked = journal_mod.decided_records(entry) if applies and not decided else frozenset()
        if not checked.ok and unasked:
            # the load kept these on the operator's word, which the proof does not take from the
            # load's own record: say how to give it
            n = len(unasked)
            checked = replace(
                checked,
                detail=f"{checked.detail}; the load kept {n:,} conflict{'s' if n != 1 else ''} "
                "by decision (keep-target): validate with --on-conflict keep-target (or the "
                "plan file) to count them as decided",
            )
        filled = _filled(ts)
        if filled:  # a fill decision: the export has no such column, there is nothing to compare
            checked = replace(
                checked,
                detail=f"{checked.detail} ({', '.join(filled)} filled by decision, not in the "
                "export, so not compared)",
            )
        found.append(checked)
        # these three apply only when the table has foreign keys, vector columns, sequences
        step("foreign_keys")
        optional = [foreign_keys(conn, table, lay)]
        step("vectors")
        optional.append(vectors(conn, table))
        step("sequences")
        optional.append(sequences(conn, table))
        found += [c for c in optional if c is not None]
        drop_all(conn)
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
        if _hidden_by_row_security(exc):
            found.append(Check(STATUS, False, _row_security_sentence(conn, table, exc)))
            return done(ERROR, found)
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
        decisions=_decisions(
            entry if applies else None, accepted, staged.rejected, kept, _fills_held(conn, ts, table)
        ),
    )


def _filled(ts: TableScan) -> tuple[str, ...]:
    """The target columns a fill decision gives a value the export does not hold."""
    from aria_tui.scan.model import BY_FILL

    return tuple(m.name for m in ts.diff.missing_columns if m.filled_by == BY_FILL)


def _fills_held(conn: psycopg.Connection, ts: TableScan, table: Table) -> tuple[str, ...]:
    """Each filled column with the values the table's rows hold in it (read from the target, not
    taken from the decision: a re-run under another value inserted nothing with it)."""
    out = []
    for name in _filled(ts):
        rows = conn.execute(
            sql.SQL("SELECT DISTINCT {c}::text FROM {t} LIMIT 4").format(
                c=sql.Identifier(name), t=table.own_rows
            )
        ).fetchall()
        held = ", ".join(repr(r[0]) for r in rows[:3]) + (", ..." if len(rows) > 3 else "")
        out.append(f"{name} filled by decision: the rows hold {held or 'nothing'}")
    return tuple(out)


def _decisions(
    entry: journal_mod.JournalEntry | None,
    accepted: bool,
    rejected: int,
    kept: int,
    filled: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """The operator's decisions this table's verdict rests on, for the certificate: what the
    load's plan changed, the conflict policy, and what was decided away instead of loaded."""
    # the notes are sentences; the certificate lists them as items (joined with '; '). A fill
    # is listed as the target holds it (`filled`), not as the load's note said it
    notes = entry.notes if entry is not None else ()
    out: list[str] = [n.rstrip(".") for n in notes if FILLED_WITH not in n]
    out += [f"{f} (not in the export)" for f in filled]
    if entry is not None and entry.on_conflict != "reject":
        out.append(f"conflict policy {entry.on_conflict}")
    if entry is not None and entry.triggers_off is not None:
        out.append(
            "loaded with its user triggers switched off ("
            + (", ".join(entry.triggers_off) or "none fired")
            + "), on again as they were"
        )
    if kept:
        out.append(f"{kept:,} conflict{'s' if kept != 1 else ''} kept by decision (the target's row stays)")
    if accepted and rejected:
        out.append(f"{rejected:,} rejected record{'s' if rejected != 1 else ''} accepted by decision")
    return tuple(out)


def _status(found: list[Check], staged: Staged) -> str:
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


def _parents(inventory: Inventory, lay: Layout) -> dict[str, Parent]:
    """Where the export holds the parent table of each of the layout's foreign keys: every file
    the scan matched to it, selected or not (the export is the truth, not the selection)."""
    out: dict[str, Parent] = {}
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
                parent_lay = layout(parent_table, tuple(ps.header.columns), mapping)
            files.append(ParentFile(ps.file.path, parent_lay, ps.file.name))
        out[ref] = Parent(tuple(files))
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


def _hidden_by_row_security(exc: psycopg.Error) -> bool:
    """The server refused a read that a row-level security policy would filter (row_security
    is off for validation: validate/pool.py `begin`)."""
    diag = getattr(exc, "diag", None)
    text = diag.message_primary if diag and diag.message_primary else str(exc)
    return isinstance(exc, psycopg.errors.InsufficientPrivilege) and "row-level security" in text


def _row_security_sentence(conn: psycopg.Connection, table: Table, exc: psycopg.Error) -> str:
    role = one(conn.execute("SELECT current_user"))[0]
    # the table the server names: a parent read by the foreign-key check may be the one
    m = re.search(r'for table "([^"]+)"', str(exc))
    name = table.qualified if m is None or m.group(1) == table.name else m.group(1)
    return access.rls_sentence(role, name, "validate")


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


def _server_reason(exc: psycopg.Error, lay: Layout | None = None) -> str:
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
