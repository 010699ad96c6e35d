"""One large file loaded over several connections: record-aligned chunks, each committed with its
own commit record, so that a crash resumes inside the table instead of from its first record.

When (`chunk_size`, then `ChunkedTable.prepare`): `--jobs` of 2 or more, a plain (not gzip) file
of at least two chunks, a table the direct paths load (raw CSV, or binary with the vectors parsed
on the client: chain.FastCopy / BinaryDirect), no FK cycle or self-reference, no decided DDL, no
trigger or rule that may store fewer rows than it is given, and a table holding no row but those
this file's own chunk records account for (an earlier, interrupted chunked load of it).

How:
1. prepare (the runner's connection, one transaction): the table locked, its rows counted, its
   secondary indexes dropped and recorded in `aria_tui.pending` (pg/pending.py), committed;
2. one thread cuts the file into chunks (chunks.cut_chunks: quote parity and record counts at
   C speed, the file's sha256 on the way) and hands each to the next free connection; each
   chunk is one transaction: COPY of its byte range, the server's count checked against the
   cutting pass's, the chunk's commit record (which names the file by its sha256, so it waits
   for the cutting pass to have hashed the whole file), COMMIT;
3. finish (one transaction): the table locked, its rows counted against what the records say
   was inserted, the indexes built again and their pending record deleted, the sequences moved.

A chunk that meets a bad record (a value the table refuses, a duplicate key, a record COPY
cannot read) stops the others; the chunked attempt is then undone in one transaction (its rows,
its records and its pending record deleted, the indexes built again) and the file goes through
the serial chain (chain.py), which finds and rejects the bad records one by one with their
lines. An undo never deletes a row no chunk record accounts for: when the table holds rows
someone else wrote since the load began, the table is refused instead, nothing deleted (`undo`). (Rows that other tables' foreign keys may reference stay: deleting them would change or
fail on those tables; the serial chain counts them as already there.) A cancel or a lost connection keeps what committed, with its records: the indexes are
built again at once when the connection still works, else by the next run (`recover`),
which then loads only the byte ranges no record covers.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from aria_tui import csvio
from aria_tui.csvio import cutter
from aria_tui.errors import AriaError, ExportError
from aria_tui.load import chain, sequences
from aria_tui.load import conflicts as conflicts_mod
from aria_tui.load import deferred as deferred_mod
from aria_tui.load import indexes as indexes_mod
from aria_tui.load import journal as journal_mod
from aria_tui.load import model as m
from aria_tui.load.binary import COPY_HEADER, COPY_TRAILER, direct_copy
from aria_tui.load.chunks import Chunk, chunk_blocks, cut_chunks, new_hash
from aria_tui.load.encoding import Encoding, encoded
from aria_tui.load.fastpath import CancelledLoad, EndMarker, csv_copy, marker_guard
from aria_tui.load.staging import _message
from aria_tui.load.work import TableFailed, Work
from aria_tui.pg import access, commits, pending
from aria_tui.pg.catalog import exact_row_count
from aria_tui.pg.rows import one
from aria_tui.timing import mark

if TYPE_CHECKING:
    from aria_tui.load.runner import Runner

CHUNK_MIN = 16 << 20  # below this a chunk's transaction costs more than its stream saves
CHUNK_MAX = 256 << 20  # a crash loses at most this much work; more chunks, finer resume
CHUNK_ENV = "ARIA_TUI_CHUNK_BYTES"  # tests: chunk small files (any size >= 1 byte)
ENCODE_AHEAD = 3  # binary chunks: blocks encoded ahead of the one being sent, per connection
# blocks read and not yet sent, all connections together: memory stays flat at any --jobs
# (a block is at most cutter.BLOCK_BYTES of CSV, and its encoded payload)
IN_FLIGHT = 8
VECTOR_STREAMS = 4  # at most, for one vector file: memory stays under 200 MB at any --jobs


def streams(tp: m.TablePlan, jobs: int) -> int:
    """Connections a chunked load of `tp` uses at `jobs`: all of them for a plain table (the
    server's parsing and index upkeep are the bound); half for a vector table, whose client
    parses every vector (a core per stream on each side, or the streams only fight for them).
    Below two streams a vector file loads whole: chunked over one connection, for its commits
    alone, the 4 GB crawled-pages file took 52 s against 26 s whole on 2 cores (the first chunk's
    commit waits for the file's hash, and one stream parses less in parallel)."""
    if os.environ.get(CHUNK_ENV):
        return jobs  # tests: as many as asked
    # each vector stream holds a block being parsed and a payload being sent beyond the shared
    # IN_FLIGHT bound: eight of them took the 4 GB file to 210 MB peak RSS, four to 158 MB
    return min(jobs // 2, VECTOR_STREAMS) if tp.vector_columns else jobs


def chunk_size(tp: m.TablePlan, jobs: int) -> int | None:
    """The chunk size for `tp`'s file at `jobs` connections, or None: loaded in one transaction."""
    n_streams = streams(tp, jobs)
    # decided DDL (a fill's default among it) runs in one transaction with every row
    if n_streams < 2 or tp.group is not None or tp.self_fks or tp.ddl:
        return None
    if tp.triggers_off:
        # its triggers are off only inside one transaction (load/triggers.py): chunks commit
        # one by one, so the table loads whole, in one
        return None
    f = tp.scan.file
    if f.compressed:
        return None
    if tp.vector_columns:
        if not Encoding.direct_possible(tp):
            return None
    elif not tp.direct:
        return None
    size = f.bytes
    forced = os.environ.get(CHUNK_ENV)
    if forced:
        n = max(1, int(forced))
    else:
        n = min(CHUNK_MAX, max(CHUNK_MIN, size // (2 * n_streams)))
    return n if size >= 2 * n else None


# what the rows of the chunks may meet when their keys, checks and indexes are built again
REFUSALS: tuple[type[Exception], ...] = (*chain.COPY_STOPS, deferred_mod.Refused)


class ChunkRefused(Exception):
    """A chunk the server or the client would not take whole (a bad record in it)."""


@dataclass
class _Failure:
    kind: str  # 'data' | 'cancel' | 'lost' | 'error'
    chunk: int
    why: str


@dataclass
class _Shared:
    """What the chunk threads share, behind `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    hashed: threading.Event = field(default_factory=threading.Event)
    sha256: str | None = None
    failures: list[_Failure] = field(default_factory=list)
    committed: list[commits.Commit] = field(default_factory=list)
    bytes_done: int = 0
    rows_done: int = 0
    chunks_total: int | None = None  # known once the cutting pass is done
    connections: int = 0

    def fail(self, kind: str, chunk: int, why: str) -> None:
        with self.lock:
            self.failures.append(_Failure(kind, chunk, why))
        self.stop.set()


class ChunkedTable:
    """The chunked load of one table of the plan, driven by its runner (runner.py)."""

    def __init__(self, runner: Runner, tp: m.TablePlan, size: int, jobs: int) -> None:
        self.r = runner
        self.tp = tp
        self.chunk_bytes = size
        self.jobs = streams(tp, jobs)
        # the first chunks are smaller, so that every connection starts within milliseconds
        # instead of after the cutting pass has read a whole chunk (256 MB of a 4 GB file)
        self.first_bytes = size if os.environ.get(CHUNK_ENV) else max(size // 8, 4 << 20)
        self.path = Path(tp.file)
        header = csvio.read_header(self.path)
        if isinstance(header, csvio.CsvProblem):
            raise ExportError(header.sentence())
        self.header = header
        # the header line as the file spells it: each chunk's COPY starts with it (HEADER true
        # skips it) so that the server takes the end of line from it as a COPY of the whole
        # file does; a chunk's own first line would let CRLF records in a file whose header
        # ends with LF (or the reverse) load, where the whole file's COPY refuses every one
        with open(self.path, "rb") as fh:
            self.head = fh.read(header.bytes)
        self.earlier: commits.FileCommits | None = None  # chunks an earlier run committed
        self.down = deferred_mod.Deferred(empty=True)  # taken down, recorded as pending
        self.shared = _Shared()
        self.in_flight = threading.BoundedSemaphore(IN_FLIGHT)

    @property
    def path_kind(self) -> str:
        """The load path its chunks take, as a whole-file load would name it (chain.py)."""
        return m.BINARY if self.tp.vector_columns else m.FAST

    # -- 1. prepare ----------------------------------------------------------------------------
    def prepare(self) -> bool:
        """Lock, check and take the indexes down in a committed transaction; False: this table
        is not one for chunks after all (the serial path loads it, nothing was changed)."""
        conn, tp = self.r.conn, self.tp
        latest = commits.current(self.r.records, tp.target)
        if latest is not None and latest.complete:
            # no chunks left to finish, whatever the file's checksum: the serial path decides
            # (it hashes the file only when it must), not a second pass over it here
            return False
        if latest is not None:
            from aria_tui.load import resume as resume_mod

            state = resume_mod.resume(self.r.records, tp)
            if state.partial is None:
                return False  # another version, or done: the serial path decides and says so
            self.earlier = state.partial
        expected = self.earlier.total("inserted") if self.earlier else 0
        with conn.transaction():
            self.r.set_lock_timeout()
            conn.execute(
                sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(tp.table.ident)
            )
            rows = exact_row_count(conn, tp.table)
            if rows != expected or conflicts_mod.swallowers(conn, tp.table.oid):
                return False  # rows no chunk record accounts for, or a trigger: serial path
            if sequences.refused(conn, tp) or access.row_security_applies(conn, tp.table.oid):
                return False  # the serial path says it, before any row

            self.rows_before = rows
            # keys, foreign-key checks and secondary indexes wait for the rows, as in a
            # whole-file load, but across committed transactions: recorded in the target with
            # the drop, so that a dead run's next run builds them before anything else
            self.down = deferred_mod.take_down(
                conn, tp.table.oid, empty=True, emitter=self.r.emitter, target=tp.target
            )
            if self.down:
                pending.write(conn, tp.target, self.r.run_id, deferred_mod.to_pending(self.down))
        return True

    # -- 2. the chunks -------------------------------------------------------------------------
    def load(self, work: Work) -> m.TableResult | None:
        """Load the chunks; the table's result, or None when a bad record sent the file to the
        serial path (the chunked attempt undone first)."""
        started = time.monotonic()
        sh = self.shared
        todo: queue.Queue[Chunk | None] = queue.Queue()
        hasher = new_hash()
        covered = self.earlier.covered if self.earlier else ()
        cuts = tuple(x for a, b in covered for x in (a, b))

        def is_done(c: Chunk) -> bool:
            return any(a <= c.start and c.end <= b for a, b in covered)

        def cutting() -> None:
            n = 0
            try:
                for c in cut_chunks(
                    self.path,
                    self.header,
                    self.chunk_bytes,
                    hasher,
                    sh.stop.is_set,
                    cuts,
                    first_bytes=self.first_bytes,
                ):
                    n += 1
                    if is_done(c):
                        with sh.lock:
                            sh.bytes_done += c.end - c.start
                            sh.rows_done += c.records
                        continue
                    todo.put(c)
                if not sh.stop.is_set():
                    sh.sha256 = hasher.hexdigest()
                    sh.chunks_total = n
            except BaseException as exc:  # an unreadable file: every chunk thread stops
                sh.fail("error", 0, str(exc).strip() or type(exc).__name__)
            finally:
                sh.hashed.set()
                for _ in range(self.jobs):
                    todo.put(None)

        cutter_thread = threading.Thread(target=cutting, name="aria-chunks-cut", daemon=True)
        cutter_thread.start()
        conns = [self.r.conn]
        closers: list[Callable[[], None]] = []
        lock = threading.Lock()

        def another() -> None:
            """One more stream: its connection is opened here, while the first one loads."""
            made = self.r.extra_connection() if self.r.extra_connection else None
            if made is None or sh.stop.is_set():
                if made is not None:
                    made[1]()
                return  # no more connections for us: fewer streams, same result
            with lock:
                conns.append(made[0])
                closers.append(made[1])
            self._work(made[0], todo)

        threads = [threading.Thread(target=self._work, args=(self.r.conn, todo), daemon=True)]
        threads += [threading.Thread(target=another, daemon=True) for _ in range(1, self.jobs)]
        try:
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                threads[0].join(0.1)
                self._progress()
            cutter_thread.join()
            sh.connections = len(conns)
            self._progress(force=True)  # the last word: every chunk counted
            sh.stop.set()
            return self._settle(work, started, conns)
        finally:
            sh.stop.set()
            for close in closers:
                close()

    def _work(self, conn: psycopg.Connection, todo: queue.Queue[Chunk | None]) -> None:
        sh = self.shared
        # what means a bad record in the chunk (the paths' own lists: chain.py)
        stops: tuple[type[Exception], ...] = (
            (*chain.direct_stops(), EndMarker, ChunkRefused)
            if self.tp.vector_columns
            else (*chain.COPY_STOPS, ChunkRefused)
        )
        while not sh.stop.is_set():
            c = todo.get()
            if c is None:
                return
            try:
                self._chunk(conn, c)
            except _Abandoned:
                return  # another chunk failed first: its failure is the one to report
            except CancelledLoad:
                sh.fail("cancel", c.number, "cancelled by the operator")
            except stops as exc:
                sh.fail("data", c.number, _short(exc))
            except psycopg.Error as exc:
                if self.r.cancel is not None and self.r.cancel.is_set():
                    sh.fail("cancel", c.number, "cancelled by the operator")
                elif conn.broken or conn.closed:
                    sh.fail("lost", c.number, _short(exc))
                else:
                    sh.fail("data", c.number, _short(exc))
            except Exception as exc:
                sh.fail("error", c.number, str(exc).strip() or type(exc).__name__)

    def _chunk(self, conn: psycopg.Connection, c: Chunk) -> None:
        sh, tp = self.shared, self.tp
        with conn.transaction():
            self.r.set_lock_timeout(conn)
            if tp.vector_columns:
                sent = self._binary(conn, c)
            else:
                sent = self._raw(conn, c)
            if sent != c.records:
                raise ChunkRefused(
                    f"the server stored {sent} rows of the {c.records} records of chunk "
                    f"{c.number}"
                )
            while not sh.hashed.wait(0.1):
                self._check_cancel()
            if sh.stop.is_set() or sh.sha256 is None:
                raise _Abandoned()
            if self.earlier is not None and sh.sha256 != self.earlier.file_sha256:
                raise TableFailedInChunk(
                    f"{self.path.name} has changed since an earlier run committed part of it"
                )
            # the chunk's transaction id, as its rows' xmin holds it: what tells its rows from
            # rows others wrote, should the chunks ever have to be undone (`_unaccounted`)
            xid = int(one(conn.execute("SELECT txid_current() % 4294967296"))[0])
            record = self._record(c, sh.sha256, xid)
            commits.write(conn, record)
        with sh.lock:
            sh.committed.append(record)
        _crash_point(tp.target)

    def _check_cancel(self) -> None:
        if self.r.cancel is not None and self.r.cancel.is_set():
            raise CancelledLoad()

    def _sent(self, nbytes: int, rows: int) -> None:
        with self.shared.lock:
            self.shared.bytes_done += nbytes
            self.shared.rows_done += rows

    def _raw(self, conn: psycopg.Connection, c: Chunk) -> int:
        """The chunk's CSV bytes straight into the table (chain.FastCopy), after the header line."""
        tp = self.tp
        statement = csv_copy(tp.table.ident, [t for _, t in tp.columns])
        guard = marker_guard()
        slots = _Slots(self.in_flight, self.shared.stop)
        # progress in records, from the cutting pass's count of the chunk (exact at its end)
        body, sent_bytes, sent_rows = max(c.end - c.body, 1), 0, 0
        try:
            with conn.cursor() as cur:
                with cur.copy(statement) as copy:
                    copy.write(self.head)
                    for block in chunk_blocks(self.path, c, slots.take):
                        self._check_cancel()
                        guard(block.data)
                        mark("first COPY byte", once=True)
                        copy.write(block.data)
                        slots.give()
                        sent_bytes += len(block.data)
                        rows = c.records * sent_bytes // body
                        self._sent(len(block.data), rows - sent_rows)
                        sent_rows = rows
                return cur.rowcount
        finally:
            slots.give_all()

    def _binary(self, conn: psycopg.Connection, c: Chunk) -> int:
        """The chunk's records parsed here, vectors checked, one binary COPY (binary.load_direct's
        form); a record the client refuses stops the chunk (the serial path rejects it)."""
        encoding, statement = direct_copy(self.tp, self.header)
        slots = _Slots(self.in_flight, self.shared.stop)

        def produce() -> Iterator[Future]:
            return encoded(encoding, chunk_blocks(self.path, c, slots.take), workers=1)

        sent = 0
        try:
            with cutter.run_ahead(produce, "aria-chunk-read", depth=ENCODE_AHEAD) as futures:
                try:
                    sent = self._send_batches(conn, statement, futures, slots, c)
                except BaseException:
                    slots.leave()  # now, before run_ahead waits for the reading thread
                    raise
        finally:
            slots.give_all()
        return sent

    def _send_batches(
        self,
        conn: psycopg.Connection,
        statement: sql.Composed,
        futures: Iterator[Future],
        slots: _Slots,
        c: Chunk,
    ) -> int:
        sent = 0
        with conn.cursor() as cur:
            with cur.copy(statement) as copy:
                copy.write(COPY_HEADER)
                for future in futures:
                    self._check_cancel()
                    batch = future.result()
                    if batch.bad or batch.structural:
                        why = next(iter(batch.bad.values()), "a record COPY would refuse")
                        raise ChunkRefused(f"chunk {c.number}: {why}")
                    mark("first COPY byte", once=True)
                    copy.write(batch.payload())
                    slots.give()
                    sent += batch.sent
                    self._sent(batch.bytes_in, batch.rows)
                copy.write(COPY_TRAILER)
            if cur.rowcount != sent:
                raise ChunkRefused(f"the server stored {cur.rowcount} rows of the {sent} sent")
        return sent

    def _record(self, c: Chunk, sha256: str, xid: int | None = None) -> commits.Commit:
        st = self.path.stat()
        return journal_mod.commit_record(
            run_id=self.r.run_id,
            tp=self.tp,
            target_identity=self.r.identity,
            export=self.r.export,
            sha256=sha256,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            csv_rows=c.records,
            inserted=c.records,
            duplicates=0,
            rejected=0,
            reject_file=None,
            path=self.path_kind,
            chunk=c.number,
            byte_range=(c.start, c.end),
            first_record=c.first_record,
            rows_before=self.rows_before,
            xid=xid,
        )

    def _progress(self, force: bool = False) -> None:
        sh = self.shared
        with sh.lock:
            done, rows = sh.bytes_done, sh.rows_done
            chunks = (len(sh.committed), sh.chunks_total)
        self.r.emitter.progress(bytes_done=done, rows_done=rows, chunks=chunks, force=force)

    # -- 3. settle -----------------------------------------------------------------------------
    def _settle(
        self, work: Work, started: float, conns: list[psycopg.Connection]
    ) -> m.TableResult | None:
        sh, tp, conn = self.shared, self.tp, self.r.conn
        kinds = {f.kind for f in sh.failures}
        if conn.broken or conn.closed:
            kinds.add("lost")
        if "data" in kinds and not kinds & {"cancel", "lost", "error"}:
            first = min((f for f in sh.failures if f.kind == "data"), key=lambda f: f.chunk)
            self._undo(f"chunk {first.chunk} of {tp.scan.file.name} stopped ({first.why})")
            self.r.emitter.log(
                f"{tp.target}: chunk {first.chunk} of {tp.scan.file.name} stopped ({first.why}); "
                "the chunked load was undone and the file goes through the staging table to find "
                "the bad records.",
                "warning",
            )
            return None
        if kinds:
            return self._interrupted(work, kinds)
        return self._finish(work, started, conns)

    def _finish(
        self, work: Work, started: float, conns: list[psycopg.Connection]
    ) -> m.TableResult | None:
        tp, conn, sh = self.tp, self.r.conn, self.shared
        assert sh.sha256 is not None
        try:
            # the keys and foreign-key checks first, with the count: a duplicate or an orphan
            # fails here, before any index is built
            with conn.transaction():
                self.r.set_lock_timeout()
                conn.execute(
                    sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(tp.table.ident)
                )
                rows = exact_row_count(conn, tp.table)
                fc = commits.current(commits.read(conn, tp.target), tp.target, sh.sha256)
                work.sequences = sequences.reset(conn, tp)
                keys = replace(self.down, indexes=())
                if keys:
                    work.constraints = self._rebuild_now(keys).constraints
            work.indexes = self._build(conns)
        except REFUSALS as exc:
            # rows a key, a foreign key or an index refuses: back to the serial path, which
            # rejects them one by one with their lines
            self._undo(f"the chunks' rows could not take back every key and index ({_short(exc)})")
            self.r.emitter.log(
                f"{tp.target}: the chunks' rows could not take back every key and index "
                f"({_short(exc)}); the chunked load was undone and the file goes through the "
                "staging table.",
                "warning",
            )
            return None
        if fc is None or not fc.complete:
            raise TableFailed(
                f"{tp.target}: the chunks of {tp.scan.file.name} do not cover the whole file "
                "after the load; its indexes were built again, and a re-run finishes it."
            )
        inserted = fc.total("inserted")
        if rows != inserted:
            raise TableFailed(
                f"{tp.target}: the table holds {rows} rows but the commit records of its "
                f"{len(fc.records)} chunks say {inserted} were inserted (did someone else write "
                "to it during the load?); its indexes were built again."
            )
        mine = [r for r in fc.records if r.run_id == self.r.run_id]
        earlier = [r for r in fc.records if r.run_id != self.r.run_id]
        work.csv_rows = sum(r.csv_rows for r in mine)
        work.inserted = sum(r.inserted for r in mine)
        work.path = self.path_kind
        work.size = fc.file_bytes
        work.sha256 = sh.sha256
        work.notes.extend(
            deferred_mod.notes(
                deferred_mod.Rebuilt(work.indexes, work.constraints), indexes_mod.EACH_ITS_OWN
            )
        )
        work.notes.append(
            f"Loaded in {len(mine)} chunks over {sh.connections} connections, each committed "
            "with its own commit record."
            + (f" {len(earlier)} chunks committed by an earlier run were kept." if earlier else "")
        )
        work.record = _summary(fc, self.r.run_id)
        result = work.result(m.LOADED)
        return replace(
            result,
            csv_rows=fc.total("csv_rows"),
            previously_inserted=sum(r.inserted for r in earlier),
            seconds=time.monotonic() - started,
            chunks=len(mine),
            chunk_connections=sh.connections,
        )

    def _rebuild_now(self, down: deferred_mod.Deferred) -> deferred_mod.Rebuilt:
        """What of `down` is not in place, built in the runner's current transaction, with the
        pending rows of everything in `down` (keys and checks first: raises Refused)."""
        built = deferred_mod.rebuild_missing(
            self.r.conn, down, self.r.emitter, local_server=self.r.is_local()
        )
        for name in _names(down):
            pending.clear(self.r.conn, self.tp.target, name)
        return built

    def _build(self, conns: list[psycopg.Connection]) -> tuple[indexes_mod.IndexBuild, ...]:
        """The indexes after the chunks, side by side over the load's connections: each in a
        transaction of its own that also deletes its pending row (CREATE INDEX takes a SHARE
        lock, which another CREATE INDEX of the same table does not wait for). A failure leaves
        the rows of the indexes not built, for the next run, and is raised."""
        defs = list(self.down.indexes)
        if not defs:
            return ()
        if len(defs) == 1 or len(conns) == 1:
            with self.r.conn.transaction():
                self.r.set_lock_timeout()
                return self._rebuild_now(replace(self.down, keys=(), foreign_keys=())).indexes
        # the slowest kinds first (GIN, GiST, vector indexes), so that none starts last alone
        todo: queue.SimpleQueue[tuple[int, indexes_mod.IndexDef]] = queue.SimpleQueue()
        for i, d in sorted(enumerate(defs), key=lambda p: p[1].method == "btree"):
            todo.put((i, d))
        built: dict[int, indexes_mod.IndexBuild] = {}
        errors: list[BaseException] = []
        lock = threading.Lock()
        local = self.r.is_local()

        def work(conn: psycopg.Connection) -> None:
            while not errors:
                try:
                    i, d = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    with conn.transaction():
                        self.r.set_lock_timeout(conn)
                        (b,) = indexes_mod.rebuild(
                            conn, [d], self.r.emitter, empty=True, local_server=local,
                            number=(len(built), len(defs)),
                        )
                        pending.clear(conn, self.tp.target, d.name)
                    with lock:
                        built[i] = b
                except BaseException as exc:
                    with lock:
                        errors.append(exc)
                    return

        threads = [
            threading.Thread(target=work, args=(c,), name="aria-index", daemon=True)
            for c in conns[: len(defs)]
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return tuple(built[i] for i in sorted(built))

    def _undo(self, why: str) -> None:
        """Back to the table as it was before any chunk of this file: rows, records, indexes;
        Unaccounted when it holds rows the chunks' records do not account for (`why`: what
        asked for the undo)."""
        undo(self.r, self.tp, self.down, why)

    def _interrupted(self, work: Work, kinds: set[str]) -> m.TableResult:
        """A cancel, a lost connection or an unreadable file: what committed stays, with its
        records; the indexes are built again now if the runner's connection still works."""
        sh, tp = self.shared, self.tp
        restored = False
        try:
            # a connection of its own: the operator's cancel must not cancel this build too
            with self.r.target.connect() as conn:
                with conn.transaction():
                    self.r.set_lock_timeout(conn)
                    built = deferred_mod.rebuild_missing(
                        conn, self.down, self.r.emitter, local_server=self.r.is_local()
                    )
                    pending.clear(conn, tp.target)
            work.indexes, work.constraints = built.indexes, built.constraints
            restored = True
        except (psycopg.Error, AriaError, deferred_mod.Refused):
            restored = False  # the next run builds them, or undoes the chunks (recover)
        done = sorted(sh.committed, key=lambda r: r.chunk)
        if done:
            what = (
                f"{len(done)} chunk{'s' if len(done) != 1 else ''} committed (records "
                + ", ".join(f"{r.first_record}-{r.last_record}" for r in done)
                + ")"
            )
        else:
            what = "no chunk committed"
        later = (
            "its indexes were built again"
            if restored or not self.down
            else "its indexes are restored by the next run"
        )
        if "cancel" in kinds and not kinds & {"lost", "error"}:
            self.r.cancelled = True
            self.r.stopped = True
            why = f"Cancelled by the operator: {what}; {later}; a re-run finishes the file."
            status = m.SKIPPED
        else:
            first = min(
                (f for f in sh.failures if f.kind != "data"),
                key=lambda f: f.chunk,
                default=None,
            )
            cause = first.why if first else "the connection to the target was lost"
            why = (
                f"Loading {tp.target} from {tp.scan.file.name} stopped ({cause}): {what}; "
                f"{later}; a re-run loads the rest."
            )
            status = m.FAILED
            if "lost" in kinds:
                self.r.stopped = True
                self.r.stopped_at = tp.target
                self.r.stop_reason = why
        result = work.result(status, why)
        return replace(
            result,
            chunks=len(done),
            chunk_connections=sh.connections,
            committed_rows=sum(r.inserted for r in done),
        )


class Unaccounted(TableFailed):
    """The chunked load must be undone, but the table holds rows its chunk commit records do not
    account for: nothing was deleted."""


def undo(r: Runner, tp: m.TablePlan, down: deferred_mod.Deferred, why: str) -> None:
    """Back to `tp`'s table as it was before any chunk of its file, in one transaction: its rows
    (the table was empty when the chunks began), its chunk records, what was taken down.

    Only when every row the table holds is one its chunks inserted, by count: the chunks begin
    on an empty table, so undoing them deletes every row it holds, and a row someone else wrote
    meanwhile (while the chunks loaded, or after a dead run left the table without its key) is
    no row of aria-tui's to delete. Otherwise nothing is deleted: what was taken down is built
    again where the rows allow it, and Unaccounted says why, with `why` (what asked for the
    undo). Rows cannot be told apart instead: by ctid is no identity, and by key only where the
    key holds, which is what broke here."""
    conn = r.conn
    kept = False
    with conn.transaction():
        r.set_lock_timeout()
        # nobody writes to the table between the count and the delete (which TRUNCATE's lock
        # would otherwise take only after the count)
        conn.execute(
            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(tp.table.own_rows)
        )
        strangers = _unaccounted(conn, tp)
        if strangers is None:
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("TRUNCATE {}").format(tp.table.own_rows))
            except psycopg.errors.FeatureNotSupported:  # referenced by a foreign key
                # deleting the rows would change another table's (ON DELETE CASCADE / SET NULL
                # / SET DEFAULT) or fail (rows there reference them): they stay, and the serial
                # path, matching the file's records by key, counts them as already there
                kept = _acts_elsewhere(conn, tp.table.oid)
                if not kept:
                    try:
                        with conn.transaction():
                            conn.execute(sql.SQL("DELETE FROM {}").format(tp.table.own_rows))
                    except psycopg.errors.ForeignKeyViolation:
                        kept = True
            conn.execute(
                "DELETE FROM aria_tui.commits WHERE target_table = %s AND chunk > 0", (tp.target,)
            )
            if down:
                deferred_mod.rebuild_missing(conn, down, r.emitter, local_server=r.is_local())
            pending.clear(conn, tp.target)
    if strangers is not None:
        left = _restore_each(r, tp, down)
        if left:
            one_ = len(left) == 1
            state = (
                f"{', '.join(left)} cannot be built again over these rows and "
                f"{'stays' if one_ else 'stay'} down (recorded in aria_tui.pending: validation "
                f"does not call the table proven until a load builds {'it' if one_ else 'them'})"
            )
        elif down:
            state = "its keys and indexes were built again"
        else:
            state = "nothing of it had been taken down"
        raise Unaccounted(
            f"{strangers}. Its chunked load had to be undone ({why}), but aria-tui never deletes "
            "rows it did not insert: the table is left as it is, with its chunks' rows and "
            f"commit records, and {state}. Take out the rows others wrote since the load began "
            "(or empty the table), then run the load again."
        )
    if kept:
        r.emitter.log(
            f"{tp.target}: rows of other tables reference it, so the rows its chunks "
            "committed stay; the staging table counts them as already there.",
            "warning",
        )
    # the serial path must not take the deleted records for the file's state
    r.records = [x for x in r.records if not (x.target_table == tp.target and x.chunk > 0)]


def _unaccounted(conn: psycopg.Connection, tp: m.TablePlan) -> str | None:
    """None when every row `tp`'s table holds is one its chunks inserted, the table empty before
    them; else why not, as a sentence (the table locked by the caller). By the rows' xmin against
    the transaction ids the chunk records hold (a row another transaction wrote, or rewrote, is
    none of ours, however many of ours were deleted meanwhile); by count for records without."""
    rows = exact_row_count(conn, tp.table)
    fc = commits.current(commits.read(conn, tp.target), tp.target)
    chunks = [x for x in fc.records if x.chunk > 0] if fc else []
    ours = sum(x.inserted for x in chunks)
    before = (fc.rows_before or 0) if fc else 0
    xids = [journal_mod.decided(x).get("xid") for x in chunks]
    if chunks and all(isinstance(x, int) for x in xids):
        strangers = int(
            one(
                conn.execute(
                    sql.SQL("SELECT count(*) FROM {} WHERE xmin::text::bigint <> ALL(%s)").format(
                        tp.table.own_rows
                    ),
                    (xids,),
                )
            )[0]
        )
        if not strangers and not before:
            return None
        if strangers:
            return (
                f"{tp.target} holds {strangers:,} row{'s' if strangers != 1 else ''} that no "
                f"commit record accounts for: {rows:,} rows, of which the chunks of "
                f"{tp.scan.file.name} inserted {ours:,}"
            )
    elif rows == ours and not before:
        return None
    if rows > ours:
        n = rows - ours
        return (
            f"{tp.target} holds {n:,} row{'s' if n != 1 else ''} that no commit record accounts "
            f"for: {rows:,} rows, of which the chunks of {tp.scan.file.name} inserted {ours:,}"
        )
    return (
        f"{tp.target} holds {rows:,} rows where the chunks of {tp.scan.file.name} inserted "
        f"{ours:,}" + (f" after {before:,} already there" if before else "") + ": someone else "
        "deleted (or wrote) rows since the load began, and aria-tui cannot tell its rows from "
        "theirs"
    )


def _restore_each(r: Runner, tp: m.TablePlan, down: deferred_mod.Deferred) -> list[str]:
    """What of `down` is not in place, built step by step, each in a transaction of its own that
    deletes its pending row; the names of those the rows refuse (still down, still pending)."""
    conn = r.conn
    with conn.transaction():
        todo = deferred_mod.missing(conn, down)
        for name in set(_names(down)) - set(_names(todo)):
            pending.clear(conn, tp.target, name)  # in place already (built by hand, say)
    steps = (
        [replace(todo, indexes=(), keys=(k,), foreign_keys=()) for k in todo.keys]
        + [replace(todo, indexes=(), keys=(), foreign_keys=(f,)) for f in todo.foreign_keys]
        + [replace(todo, indexes=(d,), keys=(), foreign_keys=()) for d in todo.indexes]
    )
    left: list[str] = []
    for step in steps:
        (name,) = _names(step)
        try:
            with conn.transaction():
                r.set_lock_timeout()
                deferred_mod.rebuild(conn, step, r.emitter, local_server=r.is_local())
                pending.clear(conn, tp.target, name)
        except (deferred_mod.Refused, psycopg.Error):
            if conn.broken or conn.closed:
                raise
            left.append(name)
    return left


def recover(r: Runner, tp: m.TablePlan) -> None:
    """What a dead chunked load of `tp` left down (aria_tui.pending), built again before anything
    else touches the table; when the rows its chunks committed break a key or a foreign key
    (duplicates, orphans the per-row checks would have refused), the chunks are undone instead
    and the file loads again, unless the table holds rows their records do not account for
    (Unaccounted, a TableFailed: nothing deleted). `r.conn` must be idle."""
    conn = r.conn
    try:
        with conn.transaction():
            rows = pending.read(conn, tp.target)
            if rows is None:
                return
            down = deferred_mod.from_pending(rows)
            built = deferred_mod.rebuild_missing(conn, down, r.emitter, local_server=r.is_local())
            pending.clear(conn, tp.target)
    except deferred_mod.Refused as exc:
        undo(r, tp, down, f"after an interrupted run, {exc}")
        r.emitter.log(
            f"{tp.target}: the rows an interrupted chunked load committed break a key ({exc}); "
            "they were taken out with their commit records, and the file loads again.",
            "warning",
        )
        return
    names = [b.name for b in built.constraints] + [b.name for b in built.indexes]
    r.emitter.log(
        f"{tp.target}: built again what an interrupted load had taken down ("
        + (", ".join(names) or "nothing was missing")
        + ").",
        "warning",
    )


class _Slots:
    """One connection's share of the table's blocks in memory (`ChunkedTable.in_flight`): taken
    before a block is read, given back once it is sent; what is still held when the chunk ends
    (an error, an abandon) goes back too. Waiting for a slot gives way to `stop`."""

    def __init__(self, sem: threading.BoundedSemaphore, stop: threading.Event) -> None:
        self._sem = sem
        self._stop = stop
        self._done = threading.Event()  # this chunk's sender left: its reader must not wait
        self._held = 0
        self._lock = threading.Lock()

    def take(self) -> None:
        while not self._sem.acquire(timeout=0.1):
            if self._stop.is_set() or self._done.is_set():
                raise _Abandoned()
        with self._lock:
            self._held += 1
        if self._stop.is_set() or self._done.is_set():
            raise _Abandoned()

    def leave(self) -> None:
        self._done.set()

    def give(self) -> None:
        with self._lock:
            if self._held:
                self._held -= 1
                self._sem.release()

    def give_all(self) -> None:
        with self._lock:
            while self._held:
                self._held -= 1
                self._sem.release()


class _Abandoned(Exception):
    """Another chunk failed: this one rolls back quietly (the failure is the other's)."""


class TableFailedInChunk(ChunkRefused):
    """The file is not the one an earlier run committed part of."""


def _summary(fc: commits.FileCommits, run_id: str) -> commits.Commit:
    """One whole-file record of the chunks, for the client-side journal (a mirror only)."""
    last = fc.latest
    return replace(
        last,
        run_id=run_id,
        chunk=0,
        byte_start=0,
        byte_end=fc.file_bytes,
        first_record=1,
        last_record=fc.total("csv_rows"),
        csv_rows=fc.total("csv_rows"),
        inserted=fc.total("inserted"),
        duplicates=fc.total("duplicates"),
        rejected=fc.total("rejected"),
        rows_before=fc.rows_before,
    )


def _acts_elsewhere(conn: psycopg.Connection, oid: int) -> bool:
    """Whether deleting rows of table `oid` may change rows of another table (a foreign key to
    it with ON DELETE CASCADE, SET NULL or SET DEFAULT)."""
    return bool(
        one(
            conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' "
                "AND confrelid = %s AND conrelid <> %s AND confdeltype IN ('c', 'n', 'd'))",
                (oid, oid),
            )
        )[0]
    )


def _names(down: deferred_mod.Deferred) -> list[str]:
    return (
        [k.name for k in down.keys]
        + [f.name for f in down.foreign_keys]
        + [d.name for d in down.indexes]
    )


def _short(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error):
        return _message(exc)
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _crash_point(target: str) -> None:
    """Test hook: ARIA_TUI_KILL_AFTER_CHUNK=schema.table:N SIGKILLs the loader right after the
    commit of its Nth chunk (in commit order)."""
    which = os.environ.get("ARIA_TUI_KILL_AFTER_CHUNK")
    if not which:
        return
    name, _, n = which.rpartition(":")
    if name != target:
        return
    with _KILL_LOCK:
        _KILLS[target] = _KILLS.get(target, 0) + 1
        if _KILLS[target] >= int(n):
            import signal

            os.kill(os.getpid(), signal.SIGKILL)


_KILL_LOCK = threading.Lock()
_KILLS: dict[str, int] = {}
