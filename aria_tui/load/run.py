"""`run_plan()`: execute a LoadPlan on a target, one transaction per table, and prove the counts.

Per table (or per FK-cycle group): one transaction; `SET LOCAL lock_timeout`, then `LOCK TABLE
... IN SHARE ROW EXCLUSIVE MODE` so that nobody writes to the table while its emptiness decides
the path and its counts are taken, and so that a table locked by someone else ends in a sentence
naming the table and the session holding it instead of a hang. Then:

- fast: empty table, direct mapping, no vectors: raw bytes COPY into the table (savepoint);
- binary: vector columns: client-side parsing, binary COPY into a stage, INSERT ... SELECT;
- staging: anything else, or when the fast or binary path hits a bad value.

After the insert: sequences move past the loaded maximum (never backwards), and the invariant
csv_rows == inserted + updated + duplicates + conflicts + rejected (each counted positively) is
checked, with inserted against a count(*) of the table before and after, so a load can never
report success for rows that are not there (seed 004).

Exactly once: each table's transaction also writes its commit record in the target
(`aria_tui.commits`, aria_tui/pg/commits.py); a re-run resumes from those records, never from a
client-side file, and a table already holding rows that no record accounts for is loaded only
when the file's rows can be matched against them (aria_tui/load/resume.py). One run at a time
per database (an advisory lock; the second is refused with a sentence naming the first).

Dry run: the same work in ONE outer transaction with a savepoint per table (children need
their parents' rows to judge their foreign keys), rolled back at the end, commit records
included; the sequences a table's load can advance are rewritten in that transaction first, so
the rollback restores them too (sequences.SequenceGuard).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import polars as pl
import psycopg
from psycopg import sql

from aria_tui import csvio
from aria_tui.csvio.files import sha256_file
from aria_tui.errors import AriaError, ExportError, first_line
from aria_tui.load import conflicts as conflicts_mod
from aria_tui.load import indexes as indexes_mod
from aria_tui.load import journal as journal_mod
from aria_tui.load import model as m
from aria_tui.load import parallel, sequences
from aria_tui.load import resume as resume_mod
from aria_tui.load.binary import Encoding, Sink, load_direct, load_staged
from aria_tui.load.chunks import Hasher, new_hash
from aria_tui.load.encoders import Unencodable
from aria_tui.load.events import Emitter, EventCallback, RunFinished, TableFinished, TableStarted
from aria_tui.load.fastpath import CancelledLoad, EndMarker, copy_into_target, stream_file
from aria_tui.load.rejects import RejectWriter, reject_path
from aria_tui.load.staging import DATA_ERRORS, Stage, _message
from aria_tui.pg import commits, locks
from aria_tui.pg.connect import Target
from aria_tui.pg.rows import one
from aria_tui.pg.session import prepare_session

if TYPE_CHECKING:
    from aria_tui.scan.model import TableScan

TEMP_BUFFERS = "64MB"  # the stages of one table at a time stay in memory

# what makes the binary COPY paths hand a table to the next path (the staging table)
_BINARY_STOPS: tuple[type[Exception], ...] = (*DATA_ERRORS, pl.exceptions.PolarsError, UnicodeError)
_DIRECT_STOPS: tuple[type[Exception], ...] = (*_BINARY_STOPS, Unencodable)
# what makes a raw-bytes COPY hand a table on (a bad value, or a record COPY refuses)
_COPY_STOPS: tuple[type[Exception], ...] = (*DATA_ERRORS, EndMarker)


class _TableFailed(Exception):
    """One sentence about one table; its transaction rolls back, the run goes on."""


class _Stop(Exception):
    """The run cannot go on (connection lost): the sentence names the table."""


class _Rollback(Exception):
    """Ends a dry run's outer transaction."""


@dataclass
class _Work:
    plan: m.TablePlan
    writer: RejectWriter
    started: float
    csv_rows: int = 0
    inserted: int = 0
    rejected: int = 0
    path: str | None = None
    sha256: str | None = None
    size: int = 0
    mtime_ns: int = 0
    sequences: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    empty_before: bool = False
    rows_before: int | None = None
    duplicates: int = 0
    conflicts: int = 0  # left as they are: rejected, or kept by decision
    kept: int = 0
    updated: int = 0
    kept_records: tuple[tuple[int, int, str], ...] = ()  # (record, line, reason)
    conflict_records: tuple[m.ConflictRecord, ...] = ()  # both sides, the first few
    sinks: conflicts_mod.Sinks = field(default_factory=conflicts_mod.Sinks)
    ddl: tuple[str, ...] = ()
    record: commits.Commit | None = None  # written with the rows; the journal mirrors it

    def take(self, stage: Stage, rejected: int) -> None:
        """The counts of a settled stage; `rejected` is every record its reject file got."""
        t = stage.tally
        self.duplicates = t.duplicates
        self.conflicts = t.conflicts_rejected + t.kept
        self.kept = t.kept
        self.updated = t.updated
        self.kept_records = tuple(t.kept_records)
        self.conflict_records = tuple(t.details)
        self.rejected = rejected - t.conflicts_rejected

    def writers(self) -> tuple[RejectWriter, ...]:
        return tuple(w for w in (self.writer, self.sinks.kept, self.sinks.undo) if w is not None)
    indexes: tuple[indexes_mod.IndexBuild, ...] = ()

    def result(self, status: str, error: str | None = None) -> m.TableResult:
        loaded = status == m.LOADED
        return m.TableResult(
            target=self.plan.target,
            file=self.plan.scan.file.name,
            csv_rows=self.csv_rows if loaded else self.plan.scan.rows,
            inserted=self.inserted if loaded else 0,
            duplicates=self.duplicates if loaded else 0,
            rejected=self.rejected if loaded else 0,
            conflicts=self.conflicts if loaded else 0,
            conflicts_kept=self.kept if loaded else 0,
            updated=self.updated if loaded else 0,
            on_conflict=self.plan.on_conflict,
            kept=tuple((line, why) for _, line, why in self.kept_records) if loaded else (),
            kept_file=self.sinks.kept.written if loaded and self.sinks.kept else None,
            undo_file=self.sinks.undo.written if loaded and self.sinks.undo else None,
            ddl=self.ddl,
            accept_rejects=self.plan.accept_rejects,
            status=status,
            error=error,
            reject_file=self.writer.written if loaded else None,
            seconds=time.monotonic() - self.started,
            path=self.path,
            bytes=self.size,
            sequences_reset=self.sequences if loaded else (),
            notes=tuple(self.notes),
            indexes=self.indexes if loaded else (),
            conflict_records=self.conflict_records if loaded else (),
        )


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
    helpers: list[_Runner] = []  # the runners of --jobs beyond the first
    results = [
        replace(_not_loaded(s.scan, s.reason, s.status), blockers=s.blockers) for s in plan.skipped
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
        runner = _Runner(
            conn, target, emitter, cancel, force_staging, lock_timeout, run_key, journal, dry_run
        )
        runner.records = records
        runner.identity = ident.key
        runner.export = str(export.resolve())
        units = _units(plan.tables)
        total = len(plan.tables)
        state: _Runner | parallel.Outcome = runner
        if not dry_run and jobs != 1 and len(units) > 1:
            if jobs <= 0:
                jobs = parallel.auto_jobs(conn, len(units))
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

                def new_runner() -> tuple[_Runner, Callable[[], None]] | None:
                    try:
                        other = target.connect()
                        _session(other, plan.time_zone, lock_timeout)
                    except (psycopg.Error, AriaError):
                        return None
                    watch = _CancelWatch(other, cancel)
                    helper = _Runner(
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
                    helper.records = records
                    helper.identity = runner.identity
                    helper.export = runner.export
                    helpers.append(helper)

                    def close() -> None:
                        watch.close()
                        try:
                            other.close()
                        except Exception:
                            pass

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
                results.append(_not_loaded(tp.scan, why, m.SKIPPED, tp.target))
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
        jobs=getattr(state, "workers", 1),
    )
    emitter.emit(RunFinished(result))
    return result


def _session(conn: psycopg.Connection, time_zone: str, lock_timeout: str) -> None:
    conn.execute("SET client_encoding = 'UTF8'")  # the export files are UTF-8
    prepare_session(conn, lock_timeout, TEMP_BUFFERS, time_zone)


def _not_loaded(scan: TableScan, why: str, status: str, target: str | None = None) -> m.TableResult:
    """The result of a table that was not loaded at all (skipped, blocked, never reached)."""
    return m.TableResult(
        target=target or scan.target or scan.name,
        file=scan.file.name,
        csv_rows=scan.rows,
        inserted=0,
        duplicates=0,
        rejected=0,
        status=status,
        error=why,
    )


def _units(tables: tuple[m.TablePlan, ...]) -> list[list[m.TablePlan]]:
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


class _Runner:
    def __init__(
        self,
        conn: psycopg.Connection,
        target: Target,
        emitter: Emitter,
        cancel: threading.Event | None,
        force_staging: bool,
        lock_timeout: str,
        run_key: str,
        journal: journal_mod.Journal | None,
        dry_run: bool,
    ) -> None:
        self.conn = conn
        self.target = target
        self.emitter = emitter
        self.cancel = cancel
        self.force_staging = force_staging
        self.lock_timeout = lock_timeout
        self.run_key = run_key
        self.journal = journal
        self.dry_run = dry_run
        self.stopped = False
        self.stopped_at: str | None = None
        self.stop_reason: str | None = None
        self.cancelled = False
        self.run_id = commits.new_run_id()
        self.records: list[commits.Commit] = []  # the target's, read when the run started
        self.identity = ""
        self.export = ""
        self.sequences = sequences.SequenceGuard()
        self.journal_notes: list[str] = []

    # -- a unit: one table, or the tables of one deferrable FK cycle ---------------------------
    def unit(self, unit: list[m.TablePlan], total: int) -> list[m.TableResult]:
        out: list[m.TableResult] = []
        todo: list[m.TablePlan] = []
        for tp in unit:
            resumed = self._resume(tp)
            if resumed is not None:
                self.emitter.emit(TableFinished(resumed))
                out.append(resumed)
            else:
                todo.append(tp)
        if not todo:
            return out
        works: list[_Work] = []
        current: _Work | None = None
        try:
            with self.conn.transaction():
                self.conn.execute(
                    sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(self.lock_timeout))
                )
                if len(todo) > 1:
                    self.conn.execute("SET CONSTRAINTS ALL DEFERRED")
                members = tuple(tp.target for tp in todo)
                for tp in todo:
                    current = self._start(tp, total)
                    works.append(current)
                    with self.emitter.heartbeat():
                        if self.dry_run or len(todo) > 1:
                            with self.conn.transaction():
                                self._load(current, tuple(m for m in members if m != tp.target))
                        else:
                            self._load(current, ())
                if len(todo) > 1:
                    self.conn.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the cycle's FKs, now
                current = None
                for work in works:  # the rejects on disk, then the records with the rows
                    for w in work.writers():
                        w.close()
                    commits.write(self.conn, self._record(work))
            _crash_point(members)  # tests: a kill -9 right after the COMMIT
        except _TableFailed as exc:
            return out + self._fail_all(works, current, str(exc))
        except CancelledLoad:
            return out + self._cancelled(works, current)
        except psycopg.Error as exc:
            who = current.plan if current else todo[0]
            if self.cancel is not None and self.cancel.is_set():
                return out + self._cancelled(works, current)
            if self.conn.broken or self.conn.closed:
                self.stopped = True
                self.stopped_at = who.target
                why = _message(exc)
                self.stop_reason = (
                    f"Lost the connection to the target while loading {who.target} ({why}); "
                    "nothing of that table was committed, and a re-run resumes."
                )
                return out + self._fail_all(works, current, self.stop_reason)
            if isinstance(exc, psycopg.errors.LockNotAvailable):
                return out + self._fail_all(works, current, self._lock_sentence(who))
            return out + self._fail_all(works, current, self._failure(who, exc))
        except (
            OSError,
            EOFError,
            zlib.error,
            pl.exceptions.PolarsError,
            ValueError,
            ExportError,
        ) as exc:
            # the export file or the state dir, not the target: unreadable, vanished, damaged
            # (a truncated .gz), a disk full under the reject file, a record COPY would refuse
            # (csvio names its line: the binary path reads every record as COPY would)
            who = current.plan if current else todo[0]
            why = str(exc).strip() or type(exc).__name__
            return out + self._fail_all(
                works,
                current,
                f"Loading {who.target} from {who.scan.file.name} failed: {why.rstrip('.')}; "
                "nothing of it was committed.",
            )
        # committed with their records (or, in a dry run, released to the outer transaction)
        results = []
        for work in works:
            result = work.result(m.LOADED)
            if self.journal is not None:
                try:
                    self._journal(work, result)
                except OSError as exc:
                    # the rows and their record are committed: only the mirror is behind
                    note = (
                        f"The run journal {self.journal.path} could not be written "
                        f"({exc.strerror or exc}); nothing is lost: a re-run reads the commit "
                        "records in the target."
                    )
                    if note not in self.journal_notes:
                        self.journal_notes.append(note)
            self.emitter.emit(TableFinished(result))
            results.append(result)
        return out + results

    def _record(self, work: _Work) -> commits.Commit:
        work.record = journal_mod.commit_record(
            run_id=self.run_id,
            tp=work.plan,
            target_identity=self.identity,
            export=self.export,
            sha256=work.sha256 or "",
            size=work.size,
            mtime_ns=work.mtime_ns,
            csv_rows=work.csv_rows,
            inserted=work.inserted,
            rejected=work.rejected,
            reject_file=work.writer.written,
            path=work.path,
            rows_before=work.rows_before,
            duplicates=work.duplicates,
            conflicts=work.conflicts,
            updated=work.updated,
            kept=tuple(rec for rec, _, _ in work.kept_records),
        )
        return work.record

    def _journal(self, work: _Work, result: m.TableResult) -> None:
        assert self.journal is not None and work.record is not None
        self.journal.record(
            journal_mod.mirror(
                work.record,
                conflicts_kept=result.conflicts_kept,
                kept_file=result.kept_file,
                undo_file=result.undo_file,
            )
        )

    def _sink(self, work: _Work, hasher: Hasher | None) -> Sink:
        return Sink(work.writer, self.emitter, self.cancel, hasher)

    def _cancelled(self, works: list[_Work], current: _Work | None) -> list[m.TableResult]:
        self.cancelled = True
        self.stopped = True
        return self._fail_all(
            works,
            current,
            "Cancelled by the operator: this table was rolled back, nothing of it was committed.",
            m.SKIPPED,
        )

    def _fail_all(
        self, works: list[_Work], current: _Work | None, why: str, status: str = m.FAILED
    ) -> list[m.TableResult]:
        out = []
        for work in works:
            for w in work.writers():
                w.discard()
            err = (
                why
                if work is current or current is None
                else (f"Rolled back with its foreign-key cycle group: {why}")
            )
            result = work.result(status, err)
            self.emitter.emit(TableFinished(result))
            out.append(result)
        return out

    # -- resume --------------------------------------------------------------------------------
    def _resume(self, tp: m.TablePlan) -> m.TableResult | None:
        return resume_mod.decide(self.records, tp, lambda: self._holds(tp), self.emitter.log)

    def _holds(self, tp: m.TablePlan) -> int | None:
        try:
            n = _count(self.conn, tp)
        except psycopg.Error:
            n = None
        if not self.dry_run:
            # end the implicit transaction the count opened, or the table's own transaction
            # would become a savepoint inside it and never commit
            self.conn.rollback()
        return n

    # -- one table -----------------------------------------------------------------------------
    def _start(self, tp: m.TablePlan, total: int) -> _Work:
        where = reject_path(self.run_key, tp.target)
        writer = RejectWriter(where, tp.csv_columns)
        sinks = conflicts_mod.Sinks(
            kept=RejectWriter(where.with_name(f"{tp.target}.kept.csv"), tp.csv_columns),
            undo=RejectWriter(where.with_name(f"{tp.target}.undo.csv"), tp.table.column_names),
        )
        work = _Work(plan=tp, writer=writer, started=time.monotonic(), sinks=sinks)
        self.emitter.start_table(
            TableStarted(
                target=tp.target,
                file=tp.scan.file.name,
                rows_total=tp.scan.rows,
                bytes_total=tp.scan.file.bytes,
                index=tp.order,
                count=total,
            )
        )
        return work

    def _load(self, work: _Work, group_members: tuple[str, ...]) -> None:
        conn = self.conn
        tp = work.plan
        path = Path(tp.file)
        try:
            st = path.stat()
        except OSError as exc:
            raise _TableFailed(f"Cannot read {path}: {exc.strerror}.") from None
        work.size, work.mtime_ns = st.st_size, st.st_mtime_ns
        if self.cancel is not None and self.cancel.is_set():
            raise CancelledLoad()
        conn.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(tp.table.ident))
        for statement in tp.ddl:  # decided drift: in this transaction, so a dry run rolls it back
            try:
                conn.execute(statement)
            except (psycopg.errors.DataError, psycopg.errors.ProgrammingError) as exc:
                raise _TableFailed(
                    f"{tp.target}: the decided change `{statement}` failed: {_message(exc)}; "
                    "nothing of the table was changed."
                ) from None
        work.ddl = tp.ddl
        work.notes.extend(tp.decision_notes)
        before = _count(conn, tp)
        work.empty_before = before == 0
        work.rows_before = before
        if before:  # rows no commit record accounts for: matched by a key of the file, or refused
            why = resume_mod.unmatchable(tp, before)
            if why:
                raise _TableFailed(why)
        if self.dry_run:
            self.sequences.guard(conn, tp)
        vectors = bool(tp.vector_columns)
        # a nullable key: records with NULLs in it are found in the text stage, before inserting
        null_keys = bool(before) and resume_mod.keys_may_be_null(tp)
        # a BEFORE INSERT trigger or a rule may store fewer rows than COPY read, and COPY's count
        # would not say so: such a table goes through the stage, whose inserts are counted
        swallowers = conflicts_mod.swallowers(conn, tp.table.oid)
        direct_ok = not swallowers
        # secondary indexes (all of an empty table's; vector ones always) are built after the rows,
        # in this transaction: a crash or cancel rolls their drop back with the rows
        deferred = indexes_mod.take_down(
            conn, tp.table.oid, empty=before == 0, emitter=self.emitter, target=tp.target
        )

        def fresh() -> Hasher | None:  # inline hashing sees the bytes read, which are the file's only uncompressed
            return None if tp.scan.file.compressed else new_hash()

        hasher = fresh()
        done = False
        records = False  # a record COPY would refuse: read the file record by record (csvio)
        if not self.force_staging and not vectors and before == 0 and tp.direct and direct_ok:
            try:
                with conn.transaction():
                    n = copy_into_target(
                        conn,
                        tp.table.ident,
                        [t for _, t in tp.columns],
                        path,
                        self.emitter,
                        self.cancel,
                        hasher,
                    )
                work.csv_rows, work.inserted, work.rejected, work.path = n, n, 0, m.FAST
                done = True
            except _COPY_STOPS as exc:
                records = _structural(exc)
                self.emitter.log(
                    f"{tp.target}: the direct COPY stopped ({_short(exc)}); loading it through "
                    "the staging table to find the bad rows.",
                    "warning",
                )
                hasher = fresh()
        if (
            not done
            and vectors
            and not self.force_staging
            and before == 0
            and direct_ok
            and Encoding.direct_possible(tp)
        ):
            try:
                with conn.transaction():
                    rows, ins, rej = load_direct(conn, tp, self._sink(work, hasher))
                work.csv_rows, work.inserted, work.rejected, work.path = rows, ins, rej, m.BINARY
                done = True
            except _DIRECT_STOPS as exc:
                work.writer.discard()
                self.emitter.log(
                    f"{tp.target}: the direct binary COPY stopped ({_short(exc)}); staging it to "
                    "sort good rows from bad.",
                    "warning",
                )
                hasher = fresh()
        if not done and vectors and not self.force_staging and not null_keys:
            try:
                with conn.transaction():
                    stage = Stage(
                        tp,
                        f"aria_stage_{tp.order}",
                        typed_vectors=True,
                        with_line=bool(tp.self_fks),
                    )
                    stage.create(conn, identity_rec=False)
                    stage.sinks, stage.swallowers = work.sinks, swallowers
                    rows, ins, rej = load_staged(
                        conn,
                        stage,
                        self._sink(work, hasher),
                        group_members,
                        plain_first=work.empty_before,
                    )
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage.ident))
                work.csv_rows, work.inserted, work.path = rows, ins, m.BINARY
                work.take(stage, rej)
                done = True
            except _BINARY_STOPS as exc:
                for w in work.writers():
                    w.discard()
                self.emitter.log(
                    f"{tp.target}: the binary COPY stopped ({_short(exc)}); loading it through "
                    "the text staging table instead.",
                    "warning",
                )
                hasher = fresh()
        if not done:
            hasher = self._staging(work, path, hasher, group_members, swallowers, records)
        if deferred:
            self._rebuild(work, deferred, before == 0)
        work.sha256 = (hasher if hasher is not None else sha256_file(path)).hexdigest()
        if self.cancel is not None and self.cancel.is_set():
            raise CancelledLoad()  # a cancel that reached no running statement: never commit
        if not self.dry_run:
            work.sequences = sequences.reset(conn, tp)
        elif all(self.sequences.may_setval(seq) for _, seq in tp.sequences):
            work.sequences = sequences.reset(conn, tp)  # rolled back with the dry run
        after = _count(conn, tp)
        self._check(work, before, after)

    def _rebuild(
        self, work: _Work, deferred: list[indexes_mod.IndexDef], empty: bool
    ) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise CancelledLoad()
        try:
            progress_conn = self.target.connect(autocommit=True, connect_timeout=3)
        except Exception:
            progress_conn = None  # no second connection free: the phase still shows, without ETA
        try:
            work.indexes = indexes_mod.rebuild(
                self.conn,
                deferred,
                self.emitter,
                empty=empty,
                progress_conn=progress_conn,
                local_server=_local(self.conn),
            )
        finally:
            if progress_conn is not None:
                progress_conn.close()
        work.notes.extend(indexes_mod.notes(work.indexes))

    def _staging(
        self,
        work: _Work,
        path: Path,
        hasher: Hasher | None,
        group_members: tuple[str, ...],
        swallowers: tuple[str, ...] = (),
        records: bool = False,
    ) -> Hasher | None:
        """Returns the file's hasher (a new one when the file had to be read again)."""
        conn = self.conn
        tp = work.plan
        if not records:
            stage = Stage(tp, f"aria_stage_{tp.order}", typed_vectors=False)
            stage.create(conn, identity_rec=True)
            stage.sinks, stage.swallowers = work.sinks, swallowers
            statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(
                stage.ident, stage.copy_columns
            )
            try:
                with conn.transaction():
                    rows = stream_file(conn, statement, path, self.emitter, self.cancel, hasher)
            except _COPY_STOPS as exc:
                # only the file's structure can fail a COPY into text columns: read it record
                # by record, and reject the records COPY refuses one by one
                self.emitter.log(
                    f"{tp.target}: {tp.scan.file.name} holds records COPY refuses "
                    f"({_short(exc)}); reading it record by record to reject them alone.",
                    "warning",
                )
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage.ident))
                records = True
                hasher = None if tp.scan.file.compressed else new_hash()
        if records:
            self._staging_records(work, hasher, group_members, swallowers)
            return hasher
        self._refuse_null_keys(work, stage)
        header = csvio.read_header(path)
        header_lines = header.lines if isinstance(header, csvio.Header) else 1
        # the table's heartbeat keeps ticking through the long INSERT
        self.emitter.progress(phase="insert", force=True)
        inserted, rejected = stage.settle(
            conn,
            work.writer,
            header_lines=header_lines,
            skip_fk_to=group_members,
            on_phase=lambda p: self.emitter.progress(phase=p, force=True),
            plain_first=work.empty_before,
        )
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage.ident))
        work.csv_rows, work.inserted, work.path = rows, inserted, m.STAGING
        work.take(stage, rejected)
        return hasher

    def _refuse_null_keys(self, work: _Work, stage: Stage) -> None:
        """A non-empty table and records whose key is NULL: they cannot be matched (see journal)."""
        tp = work.plan
        if work.rows_before and resume_mod.keys_may_be_null(tp):
            by_target = {c.target.name: c.ident for c in stage.loaded if c.target}
            n = one(self.conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
                    stage.ident, resume_mod.null_key_sql(tp, by_target)
                )
            ))[0]
            if n:
                raise _TableFailed(resume_mod.null_key_refusal(tp, work.rows_before, n))

    def _staging_records(
        self,
        work: _Work,
        hasher: Hasher | None,
        group_members: tuple[str, ...],
        swallowers: tuple[str, ...] = (),
    ) -> None:
        """The text stage filled from csvio's reading of every record (binary COPY of text)."""
        tp = work.plan
        null_keys = bool(work.rows_before) and resume_mod.keys_may_be_null(tp)
        stage = Stage(
            tp,
            f"aria_stage_{tp.order}",
            typed_vectors=False,
            with_line=bool(tp.self_fks) or null_keys,  # staged whole: lines kept per record
        )
        stage.create(self.conn, identity_rec=False)
        stage.sinks, stage.swallowers = work.sinks, swallowers
        rows, ins, rej = load_staged(
            self.conn,
            stage,
            self._sink(work, hasher),
            group_members,
            plain_first=work.empty_before,
            # records whose key may be NULL are judged on the whole file before any insert
            before_settle=(lambda st: self._refuse_null_keys(work, st)) if null_keys else None,
        )
        self.conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage.ident))
        work.csv_rows, work.inserted, work.path = rows, ins, m.STAGING
        work.take(stage, rej)

    def _check(self, work: _Work, before: int, after: int) -> None:
        tp = work.plan
        accounted = work.inserted + work.updated + work.duplicates + work.conflicts + work.rejected
        if after - before != work.inserted or accounted != work.csv_rows:
            raise _TableFailed(
                f"{tp.target}: the counts do not add up (read {work.csv_rows} records, inserted "
                f"{work.inserted}, updated {work.updated}, duplicates {work.duplicates}, "
                f"conflicts {work.conflicts}, rejected {work.rejected}, but the table went from "
                f"{before} to {after} rows); the table was rolled back rather than reported as "
                "loaded."
            )
        if tp.scan.rows != work.csv_rows and not tp.scan.rows_estimated:
            work.notes.append(
                f"The scan counted {tp.scan.rows} records in {tp.scan.file.name} but the load read "
                f"{work.csv_rows}: the file may have changed since the scan."
            )

    # -- sentences -----------------------------------------------------------------------------
    def _lock_sentence(self, tp: m.TablePlan) -> str:
        held_by = ""
        try:
            held_by = locks.holders(self.conn, tp.table.oid)
            if not self.dry_run:  # in a dry run this would end the outer transaction
                self.conn.rollback()
        except psycopg.Error:
            pass
        return locks.gave_up_sentence(tp.target, self.lock_timeout, held_by)

    def _failure(self, tp: m.TablePlan, exc: psycopg.Error) -> str:
        return f"Loading {tp.target} from {tp.scan.file.name} failed: {_message(exc)}."


def _crash_point(members: tuple[str, ...]) -> None:
    """Test hook: ARIA_TUI_KILL_AFTER_COMMIT=schema.table (or '*') makes the loader SIGKILL
    itself right after that table's COMMIT, before any client-side bookkeeping."""
    which = os.environ.get("ARIA_TUI_KILL_AFTER_COMMIT")
    if which and (which == "*" or which in members):
        os.kill(os.getpid(), signal.SIGKILL)


def _structural(exc: BaseException) -> bool:
    """A COPY failed on the file's structure or encoding, not on a value: reading it again as
    raw bytes would fail the same way."""
    return isinstance(
        exc,
        EndMarker
        | psycopg.errors.BadCopyFileFormat
        | psycopg.errors.CharacterNotInRepertoire
        | psycopg.errors.UntranslatableCharacter,
    )


def _local(conn: psycopg.Connection) -> bool:
    """Whether the server runs on this machine (a Unix socket or a loopback address)."""
    host = conn.info.host or ""
    return host.startswith("/") or host in ("", "localhost", "127.0.0.1", "::1")


def _short(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error):
        return _message(exc)
    text = first_line(exc)
    return text[:200]


def _count(conn: psycopg.Connection, tp: m.TablePlan) -> int:
    return one(conn.execute(sql.SQL("SELECT count(*) FROM {}").format(tp.table.ident)))[0]
