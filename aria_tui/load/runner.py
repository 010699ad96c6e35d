"""`Runner`: loads units of a plan (one table, or the tables of one FK cycle) on one connection,
one transaction per unit, and proves each table's counts before it commits.

Per table: `LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE` (nobody writes to the table while its
emptiness decides the path and its counts are taken; a table locked by someone else ends in a
sentence naming the session holding it, after the lock timeout, instead of a hang); the decided
DDL; the rows the table already holds (refused when no key of the file can match them); the
load paths (chain.py) walked in order; the deferred indexes rebuilt; the sequences moved; the
invariant csv_rows == inserted + updated + duplicates + conflicts + rejected, with inserted
against a count(*) before and after. Then the commit record, in the same transaction.

A table's failure is one sentence (TableFailed, a psycopg error, an unreadable file): its
transaction rolls back and the run goes on; a lost connection stops this runner.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import psycopg
from psycopg import sql

from aria_tui.csvio.files import sha256_file
from aria_tui.errors import ExportError
from aria_tui.lazy import lazy
from aria_tui.load import chain, chunked, sequences
from aria_tui.load import conflicts as conflicts_mod
from aria_tui.load import deferred as deferred_mod
from aria_tui.load import journal as journal_mod
from aria_tui.load import model as m
from aria_tui.load import plan as plan_mod
from aria_tui.load import resume as resume_mod
from aria_tui.load import triggers as triggers_mod
from aria_tui.load.events import Emitter, TableFinished, TableStarted
from aria_tui.load.fastpath import CancelledLoad
from aria_tui.load.rejects import RejectWriter, reject_path
from aria_tui.load.staging import _message
from aria_tui.load.work import TableFailed, Work
from aria_tui.pg import access, commits, locks
from aria_tui.pg.catalog import exact_row_count, read_catalog
from aria_tui.pg.connect import Target

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy

if TYPE_CHECKING:
    from aria_tui.scan.model import TableScan


class Runner:
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
        # --jobs: a large file is cut into chunks loaded over this many connections (chunked.py),
        # the first of them this runner's own, the others made by `extra_connection`
        self.jobs = 1
        self.extra_connection: Callable[[], tuple[psycopg.Connection, Callable[[], None]] | None] | None = None
        self.pending: dict[str, list[str]] = {}  # tables whose indexes a chunked load left down

    # -- a unit: one table, or the tables of one deferrable FK cycle ---------------------------
    def unit(self, unit: list[m.TablePlan], total: int) -> list[m.TableResult]:
        out: list[m.TableResult] = []
        todo: list[m.TablePlan] = []
        for tp in unit:
            if tp.target in self.pending and not self.dry_run:
                try:
                    tp = self._restore(tp)
                except chunked.Unaccounted as exc:
                    # rows no commit record accounts for: nothing is loaded, nothing deleted
                    refused = replace(resume_mod.blocked(tp, str(exc)), status=m.FAILED)
                    self.emitter.emit(TableFinished(refused))
                    out.append(refused)
                    continue
            resumed = self._resume(tp)
            if resumed is not None and resumed.status == m.RESUMED and not self.dry_run:
                resumed = self._chunked_sequences(tp, resumed)
            if resumed is not None:
                self.emitter.emit(TableFinished(resumed))
                out.append(resumed)
            else:
                todo.append(tp)
        if not todo:
            return out
        if len(todo) == 1 and not self.dry_run and not self.force_staging:
            size = chunked.chunk_size(todo[0], self.jobs)
            whole = todo[0].triggers_off or bool(todo[0].ddl_after)
            if whole and self._chunks_begun(todo[0]):
                # a decision that loads the table in one transaction (its triggers off, a
                # fill's default) cannot finish chunks an earlier run committed without it
                tp = todo[0]
                refused = replace(
                    resume_mod.blocked(
                        tp,
                        f"{tp.target}: an earlier run committed part of {tp.scan.file.name} in "
                        "chunks, without "
                        + ("--triggers-off" if tp.triggers_off else "the fill decision")
                        + ", and this decision loads a table in one transaction, which cannot "
                        "finish those chunks: finish the load as it was begun (without the "
                        "decision), or empty the table and load it again with it.",
                    ),
                    status=m.FAILED,
                )
                self.emitter.emit(TableFinished(refused))
                return out + [refused]
            if size is None and self._chunks_begun(todo[0]):
                # --jobs 1 after an interrupted chunked load: its chunks finish it, over one
                # connection (the serial path cannot tell the committed chunks' rows from
                # strangers' and would refuse a table without a key)
                size = chunked.chunk_size(todo[0], 2)
            if size is not None:
                done = self._chunked(todo[0], total, size)
                if done is not None:
                    return out + [done]
        works: list[Work] = []
        current: Work | None = None
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
                switched_off = any(w.switched for w in works)
                if len(todo) > 1 or switched_off:
                    # the cycle's FKs, now; and the rows' deferred checks before triggers go
                    # back on (ALTER TABLE refuses a table with pending trigger events)
                    self.conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
                if switched_off:
                    for switched in works:
                        triggers_mod.switch_on(self.conn, switched.plan, switched.switched)
                current = None
                for work in works:  # the rejects on disk, then the records with the rows
                    for w in work.writers():
                        w.close()
                    commits.write(self.conn, self._record(work))
            _crash_point(members)  # tests: a kill -9 right after the COMMIT
        except TableFailed as exc:
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

    # -- a large file in chunks over several connections (chunked.py) ---------------------------
    def _chunked(self, tp: m.TablePlan, total: int, size: int) -> m.TableResult | None:
        """The chunked load of `tp`, or None when it is not one for chunks after all (or a bad
        record sent it back, undone): the serial path then loads the whole file."""
        try:
            table = chunked.ChunkedTable(self, tp, size, self.jobs)
            if not table.prepare():
                return None
        except (psycopg.Error, OSError, ExportError):
            if not (self.conn.broken or self.conn.closed):
                self.conn.rollback()
                return None  # the serial path meets the same trouble and says it in its words
            raise
        work = self._start(tp, total)
        try:
            with self.emitter.heartbeat():
                result = table.load(work)
        except TableFailed as exc:
            result = work.result(m.FAILED, str(exc))
        except (psycopg.Error, OSError, ExportError) as exc:
            why = _message(exc) if isinstance(exc, psycopg.Error) else str(exc)
            if self.conn.broken or self.conn.closed:
                self.stopped, self.stopped_at = True, tp.target
                self.stop_reason = (
                    f"Lost the connection to the target while loading {tp.target} ({why}); the "
                    "chunks committed so far stay, and a re-run restores its indexes and loads "
                    "the rest."
                )
            result = work.result(m.FAILED, self.stop_reason or f"Loading {tp.target} failed: {why}.")
        if result is None:
            return None
        if result.status == m.LOADED and self.journal is not None and work.record is not None:
            try:
                self._journal(work, result)
            except OSError:
                pass  # the records in the target are the truth; the mirror is behind
        self.emitter.emit(TableFinished(result))
        return result

    def set_lock_timeout(self, conn: psycopg.Connection | None = None) -> None:
        """This run's lock timeout, for the current transaction of `conn` (default: the runner's)."""
        (conn or self.conn).execute(
            sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(self.lock_timeout))
        )

    def is_local(self) -> bool:
        """Whether the target runs on this machine (how much memory an index build may take)."""
        return _local(self.conn)

    def _progress_conn(self) -> _LazyConnection:
        """A second connection polling pg_stat_progress_create_index while indexes build."""
        return _LazyConnection(lambda: self.target.connect(autocommit=True, connect_timeout=3))

    def _restore(self, tp: m.TablePlan) -> m.TablePlan:
        """What an interrupted chunked load left down, built again before anything else; the
        table's plan read again from the catalog, which the scan read with its keys down (the
        keys decide duplicates from conflicts)."""
        try:
            chunked.recover(self, tp)  # raises chunked.Unaccounted: the table is refused
            schema = tp.target.split(".", 1)[0]
            table = read_catalog(self.conn, [schema]).get(tp.target)
            self.conn.rollback()
            if table is not None:
                tp = plan_mod.refreshed(tp, table)
        except psycopg.Error as exc:
            if self.conn.broken or self.conn.closed:
                raise
            self.conn.rollback()
            self.emitter.log(
                f"{tp.target}: the indexes an interrupted load took down could not be built "
                f"again ({_message(exc)}); validation will say so.",
                "error",
            )
        self.pending.pop(tp.target, None)
        return tp

    def _record(self, work: Work) -> commits.Commit:
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
            kept_on=tuple(work.kept_on.get(rec, "") for rec, _, _ in work.kept_records),
            triggers_off=work.triggers_off,
        )
        return work.record

    def _journal(self, work: Work, result: m.TableResult) -> None:
        assert self.journal is not None and work.record is not None
        self.journal.record(
            journal_mod.mirror(
                work.record,
                conflicts_kept=result.conflicts_kept,
                kept_file=result.kept_file,
                undo_file=result.undo_file,
            )
        )

    def _cancelled(self, works: list[Work], current: Work | None) -> list[m.TableResult]:
        self.cancelled = True
        self.stopped = True
        return self._fail_all(
            works,
            current,
            "Cancelled by the operator: this table was rolled back, nothing of it was committed.",
            m.SKIPPED,
        )

    def _fail_all(
        self, works: list[Work], current: Work | None, why: str, status: str = m.FAILED
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

    def _chunks_begun(self, tp: m.TablePlan) -> bool:
        """Whether the table's latest records are chunks that do not cover its file yet
        (ChunkedTable.prepare checks the file's checksum against them)."""
        latest = commits.current(self.records, tp.target)
        return (
            latest is not None
            and not latest.complete
            and any(r.chunk > 0 for r in latest.records)
        )

    def _chunked_sequences(self, tp: m.TablePlan, resumed: m.TableResult) -> m.TableResult:
        """A chunked load moves the sequences after its last chunk, in the transaction that
        builds its indexes again: a kill -9 between the two leaves every chunk committed (the
        table is done) and the sequences behind. Moved here, never backwards, so a re-run
        converges instead of calling the table done with ids the next insert would reuse."""
        latest = commits.current(self.records, tp.target)
        if latest is None or all(r.chunk == 0 for r in latest.records) or not tp.sequences:
            return resumed
        try:
            with self.conn.transaction():
                self.set_lock_timeout()
                moved = sequences.reset(self.conn, tp)
        except psycopg.Error as exc:
            if self.conn.broken or self.conn.closed:
                raise
            self.emitter.log(
                f"{tp.target}: its sequences could not be moved past the loaded rows "
                f"({_message(exc)}); validation will say so.",
                "error",
            )
            return resumed
        if not moved:
            return resumed
        note = (
            "The run that loaded its chunks stopped before moving its sequences: moved now ("
            + ", ".join(moved)
            + ")."
        )
        return replace(resumed, notes=(*resumed.notes, note))

    def _holds(self, tp: m.TablePlan) -> int | None:
        try:
            n = exact_row_count(self.conn, tp.table)
        except psycopg.Error:
            n = None
        if not self.dry_run:
            # end the implicit transaction the count opened, or the table's own transaction
            # would become a savepoint inside it and never commit
            self.conn.rollback()
        return n

    # -- one table -----------------------------------------------------------------------------
    def _start(self, tp: m.TablePlan, total: int) -> Work:
        where = reject_path(self.run_key, tp.target)
        writer = RejectWriter(where, tp.csv_columns)
        sinks = conflicts_mod.Sinks(
            kept=RejectWriter(where.with_name(f"{tp.target}.kept.csv"), tp.csv_columns),
            undo=RejectWriter(where.with_name(f"{tp.target}.undo.csv"), tp.table.column_names),
        )
        work = Work(plan=tp, writer=writer, started=time.monotonic(), sinks=sinks)
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

    def _load(self, work: Work, group_members: tuple[str, ...]) -> None:
        conn = self.conn
        tp = work.plan
        path = Path(tp.file)
        try:
            st = path.stat()
        except OSError as exc:
            raise TableFailed(f"Cannot read {path}: {exc.strerror}.") from None
        work.size, work.mtime_ns = st.st_size, st.st_mtime_ns
        if self.cancel is not None and self.cancel.is_set():
            raise CancelledLoad()
        lock_out_writers(conn, tp)
        role = access.row_security_applies(conn, tp.table.oid)
        if role is not None:
            raise TableFailed(
                access.rls_sentence(role, tp.target, "load") + " Nothing of the table was loaded."
            )
        why = sequences.refused(conn, tp)
        if why:
            raise TableFailed(why)
        for statement in tp.ddl:  # decided drift: in this transaction, so a dry run rolls it back
            try:
                conn.execute(statement)
            except (psycopg.errors.DataError, psycopg.errors.ProgrammingError) as exc:
                raise TableFailed(
                    f"{tp.target}: the decided change `{statement}` failed: {_message(exc)}; "
                    "nothing of the table was changed."
                ) from None
        work.ddl = tp.ddl + tp.ddl_after
        work.notes.extend(tp.decision_notes)
        if tp.ddl_after and self._would_chunk(replace(tp, ddl=(), ddl_after=())):
            work.notes.append(
                f"{tp.target} was loaded in one transaction, not in chunks over {self.jobs} "
                "connections: chunks commit one by one, and a fill's default must never be "
                "committed into the schema between them."
            )
        # decided: the table's user triggers off for its rows (the take-export UPDATE too), in
        # this transaction, so no crash or cancel can leave them off; on again before the commit
        switched = triggers_mod.switch_off(conn, tp) if tp.triggers_off else ()
        before = exact_row_count(conn, tp.table)
        work.empty_before = before == 0
        work.rows_before = before
        if before:  # rows no commit record accounts for: matched by a key of the file, or refused
            why = resume_mod.unmatchable(tp, before)
            if why:
                raise TableFailed(why)
        if self.dry_run:
            self.sequences.guard(conn, tp)
        # a BEFORE INSERT trigger or a rule may store fewer rows than COPY read, and COPY's count
        # would not say so: such a table goes through the stage, whose inserts are counted
        swallowers = conflicts_mod.swallowers(conn, tp.table.oid)
        # secondary indexes (all of an empty table's; vector ones always), an empty table's keys
        # and foreign-key checks are built after the rows, in this transaction (a crash or cancel
        # rolls their drop back with the rows); rows a key or foreign key refuses: back to before
        # the drops, and again with them in place, so that the paths reject them one by one
        try:
            with conn.transaction():
                attempt = self._paths(work, swallowers, group_members)
        except deferred_mod.Refused as exc:
            self.emitter.log(
                f"{tp.target}: {exc}; loading it again with its keys in place, to reject the "
                "records that break them one by one.",
                "warning",
            )
            work.restart()
            attempt = self._paths(work, swallowers, group_members, refused=True)
        for statement in tp.ddl_after:  # a fill's default back as it was, before the commit
            conn.execute(statement)
        hasher = attempt.hasher
        work.sha256 = (hasher if hasher is not None else sha256_file(path)).hexdigest()
        if self.cancel is not None and self.cancel.is_set():
            raise CancelledLoad()  # a cancel that reached no running statement: never commit
        if not self.dry_run:
            work.sequences = sequences.reset(conn, tp)
        elif all(self.sequences.may_setval(seq) for _, seq in tp.sequences):
            work.sequences = sequences.reset(conn, tp)  # rolled back with the dry run
        after = exact_row_count(conn, tp.table)
        self._check(work, before, after)
        if tp.triggers_off:
            work.switched = switched  # on again at the end of the unit (Runner.unit)
            work.triggers_off = tuple(t.describe() for t in switched)
            # the file would have loaded in chunks over several connections but for the decision
            whole = self._would_chunk(replace(tp, triggers_off=False)) and not any(
                t.swallows_rows for t in switched  # alone keeps a table whole (chunked.prepare)
            )
            work.notes.append(triggers_mod.note(tp, switched, whole))

    def _would_chunk(self, tp: m.TablePlan) -> bool:
        """Whether `tp` would load in chunks over several connections: a decision that keeps a
        table whole (its triggers off, a fill) says so in its notes only then."""
        return (
            not self.dry_run
            and not self.force_staging
            and chunked.chunk_size(tp, self.jobs) is not None
        )

    def _paths(
        self,
        work: Work,
        swallowers: tuple[str, ...],
        group_members: tuple[str, ...],
        *,
        refused: bool = False,
    ) -> chain.Attempt:
        """Take down what waits for the rows, walk the load paths, build it again. `refused`:
        a first pass's rows broke a key built after them; this one keeps the keys in place."""
        tp = work.plan
        deferred = deferred_mod.take_down(
            self.conn,
            tp.table.oid,
            # a small table keeps them: building them again would cost more (deferred.py)
            empty=work.empty_before and deferred_mod.worth_it(tp.scan.rows),
            emitter=self.emitter,
            target=tp.target,
            # a FK cycle's tables check each other at its end: their keys stay
            constraints_too=not refused and not group_members,
        )
        attempt = chain.Attempt(
            self.conn, work, self.emitter, self.cancel, swallowers, group_members
        )
        paths = chain.STAGED if refused else chain.CHAIN
        chain.load(chain.STAGING_ONLY if self.force_staging else paths, attempt)
        if deferred:
            self._rebuild(work, deferred)
        return attempt

    def _rebuild(self, work: Work, deferred: deferred_mod.Deferred) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise CancelledLoad()
        progress_conn = self._progress_conn()
        try:
            rebuilt = deferred_mod.rebuild(
                self.conn,
                deferred,
                self.emitter,
                progress_conn=cast(psycopg.Connection, progress_conn),
                local_server=_local(self.conn),
            )
        finally:
            progress_conn.close()
        work.indexes, work.constraints = rebuilt.indexes, rebuilt.constraints
        work.notes.extend(deferred_mod.notes(rebuilt))

    def _check(self, work: Work, before: int, after: int) -> None:
        tp = work.plan
        accounted = work.inserted + work.updated + work.duplicates + work.conflicts + work.rejected
        if after - before != work.inserted or accounted != work.csv_rows:
            raise TableFailed(
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
        held_by, parent = "", None
        try:
            parent, held_by = locks.holders_around(self.conn, tp.table.oid)
            if not self.dry_run:  # in a dry run this would end the outer transaction
                self.conn.rollback()
        except psycopg.Error:
            pass
        return locks.gave_up_sentence(tp.target, self.lock_timeout, held_by, parent)

    def _failure(self, tp: m.TablePlan, exc: psycopg.Error) -> str:
        return f"Loading {tp.target} from {tp.scan.file.name} failed: {_message(exc)}."


def lock_out_writers(conn: psycopg.Connection, tp: m.TablePlan) -> None:
    """LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE, in the caller's transaction: nobody else writes
    to the table while its emptiness decides the path and its counts are taken. A role with only
    INSERT and SELECT on the table may not take that lock: one sentence saying what to grant."""
    try:
        with conn.transaction():
            conn.execute(
                sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(tp.table.ident)
            )
    except psycopg.errors.InsufficientPrivilege:
        role = conn.execute("SELECT current_user").fetchone()
        who = role[0] if role else "this role"
        raise TableFailed(
            f"The role {who} may not lock {tp.target} against other writers during its load "
            "(LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE needs UPDATE, DELETE or TRUNCATE on the "
            f"table, not only INSERT): GRANT UPDATE ON {tp.target} TO {who} (or load as the "
            "table's owner), then load again; nothing of the table was loaded."
        ) from None


class _LazyConnection:
    """The index-progress poller's connection, opened when it first asks: the poller waits
    indexes.POLL_S before its first look, so the indexes of a small table, built sooner, cost
    no connection (a backend started and ended per table) at all. A connection that cannot be
    had raises psycopg.OperationalError, on which the poller stops quietly: the phase still
    shows, without its ETA."""

    def __init__(self, connect: Callable[[], psycopg.Connection]) -> None:
        self._connect = connect
        self._conn: psycopg.Connection | None = None
        self._closed = False
        self._lock = threading.Lock()

    def execute(self, query: str, params: tuple[object, ...]) -> psycopg.Cursor[Any]:
        with self._lock:
            if self._closed:
                raise psycopg.OperationalError("the index build is over")
            if self._conn is None:
                try:
                    self._conn = self._connect()
                except Exception as exc:  # no connection free, or the target went away
                    self._closed = True
                    raise psycopg.OperationalError(str(exc)) from None
            conn = self._conn
        return conn.execute(query, params)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass


def _crash_point(members: tuple[str, ...]) -> None:
    """Test hook: ARIA_TUI_KILL_AFTER_COMMIT=schema.table (or '*') makes the loader SIGKILL
    itself right after that table's COMMIT, before any client-side bookkeeping."""
    which = os.environ.get("ARIA_TUI_KILL_AFTER_COMMIT")
    if which and (which == "*" or which in members):
        os.kill(os.getpid(), signal.SIGKILL)


def _local(conn: psycopg.Connection) -> bool:
    """Whether the server runs on this machine (a Unix socket or a loopback address)."""
    host = conn.info.host or ""
    return host.startswith("/") or host in ("", "localhost", "127.0.0.1", "::1")


def not_loaded(scan: TableScan, why: str, status: str, target: str | None = None) -> m.TableResult:
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
