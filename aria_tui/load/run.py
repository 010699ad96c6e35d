"""`run_plan()`: execute a LoadPlan on a target, one transaction per table, and prove the counts.

What a run does around its tables: one run at a time per database (an advisory lock; the
second is refused with a sentence naming the first); the session (pg/session.prepare_session:
time zone, lock timeout, temp_buffers); the target's commit records read once; the units (one
table, or the tables of one FK cycle) handed to a `Runner` (runner.py: the table's transaction,
its load paths in chain.py, the invariant, its commit record), serially or over `--jobs`
connections (parallel.py); the results in plan order, with the tables never reached.

Exactly once: each table's transaction also writes its commit record in the target
(`aria_tui.commits`, aria_tui/pg/commits.py); a re-run resumes from those records, never from a
client-side file (aria_tui/load/resume.py), and the journal is only their mirror.

Dry run: the same work in ONE outer transaction with a savepoint per table (children need
their parents' rows to judge their foreign keys), rolled back at the end, commit records
included; the sequences a table's load can advance are rewritten in that transaction first, so
the rollback restores them too (sequences.SequenceGuard).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import cast

import psycopg

from aria_tui import csvio
from aria_tui.errors import AriaError
from aria_tui.load import journal as journal_mod
from aria_tui.load import model as m
from aria_tui.load import parallel
from aria_tui.load.events import Emitter, EventCallback, RunFinished
from aria_tui.load.runner import Runner, not_loaded
from aria_tui.pg import commits, locks, pending
from aria_tui.pg.connect import Target
from aria_tui.pg.session import pin_replication_role, prepare_session

TEMP_BUFFERS = "64MB"  # the stages of one table at a time stay in memory


class _Rollback(Exception):
    """Ends a dry run's outer transaction."""


def run_plan(
    target: Target,
    plan: m.LoadPlan,
    *,
    dry_run: bool = False,
    on_event: EventCallback | None = None,
    cancel: threading.Event | None = None,
    force_staging: bool = False,
    lock_timeout: str = locks.DEFAULT_LOCK_TIMEOUT,
    jobs: int = 1,
) -> m.RunResult:
    """Load every table of `plan` into `target`. Raises only when the target is unreachable.

    `jobs`: tables loaded side by side over that many connections (a parent committed before its
    children start); 0 = the machine's cores capped by the target's free connections; a dry run
    is always serial (one outer transaction)."""
    started = time.monotonic()
    csvio.tune_malloc()  # before the reading threads start (see there)
    emitter = Emitter(on_event)
    export = Path(plan.export or ".")
    # one load per database at a time: refused here, before anything, naming the other one
    run_lock = commits.RunLock(lambda: target.connect(autocommit=True)).acquire()
    try:
        return _run_locked(
            target,
            plan,
            export,
            emitter,
            started,
            dry_run,
            cancel,
            force_staging,
            lock_timeout,
            jobs,
        )
    finally:
        run_lock.release()


def _run_locked(
    target: Target,
    plan: m.LoadPlan,
    export: Path,
    emitter: Emitter,
    started: float,
    dry_run: bool,
    cancel: threading.Event | None,
    force_staging: bool,
    lock_timeout: str,
    jobs: int = 1,
) -> m.RunResult:
    on_event = emitter._on_event
    helpers: list[Runner] = []  # the runners of --jobs beyond the first
    results = [
        replace(not_loaded(s.scan, s.reason, s.status), blockers=s.blockers) for s in plan.skipped
    ]
    conn = target.connect()
    watcher = _CancelWatch(conn, cancel)
    cancelled = False
    notes: list[str] = []
    journal = None
    try:
        ident = commits.identify(conn)
        conn.commit()
        journal = None if dry_run else journal_mod.Journal(export, ident.key, target.display)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        run_key = f"{journal_mod.run_key(export, ident.key)}-{stamp}{'-dry' if dry_run else ''}"
        if not dry_run:  # a dry run creates them in its own transaction, rolled back
            commits.ensure(conn)
            conn.commit()
        records = commits.read(conn)
        conn.commit()
        # a typo in the lock timeout is the operator's, said here once, before any table
        _session(conn, plan.time_zone, lock_timeout)
        runner = Runner(
            conn, target, emitter, cancel, force_staging, lock_timeout, run_key, journal, dry_run
        )
        runner.records = records
        runner.identity = ident.key
        runner.export = str(export.resolve())
        units = transaction_units(plan.tables)
        total = len(plan.tables)
        state: Runner | parallel.Outcome = runner
        if not dry_run and jobs <= 0:
            jobs = parallel.auto_jobs(conn)
        if not dry_run:
            runner.pending = pending.tables(conn)
            conn.commit()

        def extra_connection() -> tuple[psycopg.Connection, Callable[[], None]] | None:
            """One more connection to the target, set up as the runner's (chunked loads)."""
            try:
                other = target.connect()
                _session(other, plan.time_zone, lock_timeout)
            except (psycopg.Error, AriaError):
                return None
            watch = _CancelWatch(other, cancel)

            def close() -> None:
                watch.close()
                try:
                    other.close()
                except Exception:
                    pass

            return other, close

        runner.jobs = max(jobs, 1)
        runner.extra_connection = extra_connection
        try:
            if dry_run:
                try:
                    with conn.transaction():
                        commits.ensure(conn)
                        for unit in units:
                            results += runner.unit(unit, total)
                            if runner.stopped:
                                break
                        runner.sequences.before_rollback(conn)
                        raise _Rollback()
                except _Rollback:
                    notes += runner.sequences.after_rollback(conn)
                except psycopg.Error:
                    if not (conn.broken or conn.closed):  # a lost connection was reported already
                        raise
            elif jobs > 1 and len(units) > 1:
                if journal is not None:
                    shared = cast(journal_mod.Journal, parallel.LockedJournal(journal))
                    runner.journal = journal = shared

                def new_runner() -> tuple[Runner, Callable[[], None]] | None:
                    made = extra_connection()
                    if made is None:
                        return None
                    other, close = made
                    helper = Runner(
                        other,
                        target,
                        Emitter(on_event),
                        cancel,
                        force_staging,
                        lock_timeout,
                        run_key,
                        journal,
                        dry_run,
                    )
                    # one run: the same run id, commit records and identity as the first runner
                    helper.run_id = runner.run_id
                    helper.jobs = runner.jobs
                    helper.extra_connection = extra_connection
                    helper.pending = runner.pending
                    helper.records = records
                    helper.identity = runner.identity
                    helper.export = runner.export
                    helpers.append(helper)
                    return helper, close

                out, state = parallel.run_units(units, total, jobs, runner, new_runner)
                results += out
            else:
                for unit in units:
                    results += runner.unit(unit, total)
                    if runner.stopped:
                        break
        finally:
            cancelled = state.cancelled
        done = {r.target for r in results}
        for tp in plan.tables:  # tables never reached (cancel, lost connection)
            if tp.target not in done:
                why = (
                    "Not loaded: the run was cancelled before this table."
                    if cancelled
                    else f"Not loaded: the run stopped after {state.stopped_at} failed."
                )
                results.append(not_loaded(tp.scan, why, m.SKIPPED, tp.target))
        if state.stopped and state.stop_reason:
            notes.append(state.stop_reason)
        for r in (runner, *helpers):
            notes += [n for n in r.journal_notes if n not in notes]
    finally:
        watcher.close()
        try:
            conn.close()
        except Exception:
            pass
    order = {tp.target: tp.order for tp in plan.tables}
    results.sort(key=lambda r: order.get(r.target, 0))
    result = m.RunResult(
        dry_run=dry_run,
        tables=tuple(results),
        cancelled=cancelled,
        seconds=time.monotonic() - started,
        journal=str(journal.path) if journal and journal.path.exists() else None,
        notes=tuple(notes),
        not_selected=tuple(s.file.name for s in plan.left_out),
        # connections that loaded side by side: tables, or the chunks of one file
        jobs=max([getattr(state, "workers", 1), *(r.chunk_connections for r in results)]),
    )
    emitter.emit(RunFinished(result))
    return result


def _session(conn: psycopg.Connection, time_zone: str, lock_timeout: str) -> None:
    conn.execute("SET client_encoding = 'UTF8'")  # the export files are UTF-8
    prepare_session(conn, lock_timeout, TEMP_BUFFERS, time_zone)
    pin_replication_role(conn)


def transaction_units(tables: tuple[m.TablePlan, ...]) -> list[list[m.TablePlan]]:
    """One unit per table, except the tables of one FK cycle, which share a transaction."""
    units: list[list[m.TablePlan]] = []
    for tp in tables:
        if tp.group is not None and units and units[-1][0].group == tp.group:
            units[-1].append(tp)
        else:
            units.append([tp])
    return units


class _CancelWatch:
    """Interrupts a long server statement when the operator cancels (checked between chunks too)."""

    def __init__(self, conn: psycopg.Connection, cancel: threading.Event | None) -> None:
        self._done = threading.Event()
        self._thread = None
        if cancel is not None:
            self._thread = threading.Thread(target=self._run, args=(conn, cancel), daemon=True)
            self._thread.start()

    def _run(self, conn: psycopg.Connection, cancel: threading.Event) -> None:
        while not self._done.wait(0.1):
            if cancel.is_set():
                try:
                    conn.cancel_safe(timeout=5)
                except Exception:
                    pass
                return

    def close(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=6)
