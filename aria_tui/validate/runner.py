"""`validate()`: scan the export against the live target, then ask each selected table the checks.

Everything runs on one connection in one REPEATABLE READ transaction, so foreign keys are judged
against one consistent picture of the target, and the transaction is rolled back at the end: the
only things validation creates are temporary tables and functions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aria_tui.errors import AriaError, Cancelled
from aria_tui.pg import commits, locks
from aria_tui.pg.connect import Target
from aria_tui.pg.session import DEFAULT_TIME_ZONE, prepare_session
from aria_tui.selection import Selection, manifest_block
from aria_tui.validate import journal as journal_mod
from aria_tui.validate import pool
from aria_tui.validate import report as report_mod
from aria_tui.validate.model import NOTHING_DECIDED, Decided, Validation
from aria_tui.validate.pool import TEMP_BUFFERS, begin, helper_connections, run_tables, serialised
from aria_tui.validate.table import EventCallback

if TYPE_CHECKING:
    from aria_tui.scan.model import Inventory, TableScan


CancelSignal = Callable[[], bool] | threading.Event | None
DEFAULT_LOCK_TIMEOUT = locks.DEFAULT_LOCK_TIMEOUT


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
    decided: Decided = NOTHING_DECIDED,
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

    `decided`: what the caller decided away (model.Decided): rejects accepted on purpose are
    listed as decided away, not missing, and only records validation itself finds unloadable
    are excused, never more than the load rejected; conflicts a keep-target load kept count as
    decided only for the tables the caller says keep-target for. What a load recorded in the
    target is never an excuse by itself.

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
    emit = serialised(on_event)
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
        refused = commits.unreadable(conn)
        conn.rollback()  # the snapshot validation takes (begin, below) must come first
        if refused:
            raise AriaError(refused)
        entries = journal_mod.read_entries(folder, target, conn)
        resolved = selection.resolve(
            inventory, also_accept=_loaded_despite_manifest(inventory, entries)
        )
        inventory = resolved.inventory
        chosen = list(resolved.picked)
        if not chosen:
            raise AriaError(
                f"Nothing to validate in {folder}: no table is selected (name some with --tables)."
            )
        # a typo must not look like a decision that was honoured; a table the selection leaves
        # out (a plan's, validated in part with --tables) is simply not judged
        unknown = set(decided.accept_rejects) - {ts.target for ts in inventory.tables if ts.target}
        if unknown:
            raise AriaError(
                f"--accept-rejects names {', '.join(sorted(unknown))}, which no file of this "
                "export loads into."
            )
        begin(conn)
        conns = [conn]
        try:
            conns += helper_connections(
                conn, target, pool.worker_count(chosen), lock_timeout, time_zone
            )
            results = run_tables(
                conns,
                inventory,
                chosen,
                entries,
                check_cancel,
                emit,
                lock_timeout,
                exact,
                decided,
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


def _canceller(cancel: CancelSignal) -> Callable[[], None]:
    def check() -> None:
        if cancel is None:
            return
        fired = cancel.is_set() if isinstance(cancel, threading.Event) else cancel()
        if fired:
            raise Cancelled("Validation cancelled; nothing was changed.")

    return check


__all__ = ["validate"]
