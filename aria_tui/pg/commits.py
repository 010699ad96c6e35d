"""Commit records: what aria-tui committed into a target, written IN the target.

Every table (or, with a chunked load, every record-aligned chunk of a file) that a load commits
writes one row of `aria_tui.commits` in the same transaction as its data, so the record and the
rows exist together or not at all: no crash between the data's COMMIT and any client-side
bookkeeping can make a re-run insert them again. A re-run (the loader's resume) and `validate`
read these records; a client-side journal is only a mirror of them.

    aria_tui.commits
      run_id            text    the run that committed (time, host, pid)
      target_table      text    'schema.table'
      chunk             int     0 for a whole file; 1..n for the chunks of a chunked load
      byte_start        bigint  [byte_start, byte_end): the bytes of the file this record covers;
      byte_end          bigint    a whole file is [0, file_bytes), header included
      first_record      bigint  1-based records of the file this record covers (inclusive;
      last_record       bigint    first_record = last_record + 1 for none)
      file_name, file_sha256, file_bytes, file_mtime_ns    the file as the load read it
      csv_rows, inserted, duplicates, rejected             this record's counts
      reject_file, load_path, plan_fingerprint, target_identity, export, client
      rows_before       bigint  rows the table held when this record's load began
      finished_at       timestamptz
      PRIMARY KEY (target_table, file_sha256, byte_start, run_id)

No sequence (a dry run writes its records in its rolled-back transaction and must change
nothing). The schema is created on demand by `ensure()`; a target without it has no records.

One load at a time per database: `RunLock` holds a session advisory lock on its own connection,
whose application_name names the holder (host, pid); a second load is refused with a sentence
naming the first and when it connected.

This module imports psycopg and nothing of aria-tui's loader: `validate` reads records through it.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from aria_tui.errors import EXIT_FAILED, AriaError
from aria_tui.pg.rows import one

SCHEMA = "aria_tui"
TABLE = "commits"

# the indexes and constraints a chunked load took down in a committed transaction of its own,
# until the transaction that builds them again deletes the row (aria_tui/pg/pending.py)
PENDING_DDL = """CREATE TABLE IF NOT EXISTS aria_tui.pending (
    target_table text NOT NULL,
    name text NOT NULL,
    run_id text NOT NULL,
    definition text NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (target_table, name)
)"""

_DDL = (
    "CREATE SCHEMA IF NOT EXISTS aria_tui",
    """CREATE TABLE IF NOT EXISTS aria_tui.commits (
    run_id text NOT NULL,
    target_table text NOT NULL,
    chunk integer NOT NULL DEFAULT 0,
    byte_start bigint NOT NULL,
    byte_end bigint NOT NULL,
    first_record bigint NOT NULL,
    last_record bigint NOT NULL,
    file_name text NOT NULL,
    file_sha256 text NOT NULL,
    file_bytes bigint NOT NULL,
    file_mtime_ns bigint,
    csv_rows bigint NOT NULL,
    inserted bigint NOT NULL,
    duplicates bigint NOT NULL,
    rejected bigint NOT NULL,
    reject_file text,
    load_path text,
    plan_fingerprint text NOT NULL,
    target_identity text NOT NULL,
    export text NOT NULL,
    client text NOT NULL,
    rows_before bigint,
    decided text,
    finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (target_table, file_sha256, byte_start, run_id)
)""",
    PENDING_DDL,
    "COMMENT ON TABLE aria_tui.commits IS 'aria-tui: one row per table (or chunk of a file) a "
    "load committed, written in the same transaction as its rows. Delete the rows of a table "
    "(or drop this schema) only together with the loaded rows themselves.'",
)


_HAS_DECIDED = (
    "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'aria_tui.commits'::regclass "
    "AND attname = 'decided' AND NOT attisdropped)"
)


@dataclass(frozen=True)
class Commit:
    run_id: str
    target_table: str
    chunk: int
    byte_start: int
    byte_end: int
    first_record: int
    last_record: int
    file_name: str
    file_sha256: str
    file_bytes: int
    file_mtime_ns: int | None
    csv_rows: int
    inserted: int
    duplicates: int
    rejected: int
    reject_file: str | None
    load_path: str | None
    plan_fingerprint: str
    target_identity: str
    export: str
    client: str
    rows_before: int | None = None  # rows the table held when this record's load began
    # the conflicts' decisions (JSON: on_conflict, conflicts, updated, kept record numbers)
    decided: str | None = None
    finished_at: datetime | None = None  # set by the server


_COLUMNS = tuple(f.name for f in fields(Commit))


_RUNS: dict[str, int] = {}


def new_run_id() -> str:
    """Unique and readable: UTC time, host, pid (and a counter for a second run in the same
    second of one process, which a re-run under another decision can be)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    base = f"{stamp}-{socket.gethostname()}-{os.getpid()}"
    n = _RUNS.get(base, 0)
    _RUNS[base] = n + 1
    return base if n == 0 else f"{base}-{n}"


def client() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


def exists(conn: psycopg.Connection) -> bool:
    return one(conn.execute("SELECT to_regclass('aria_tui.commits') IS NOT NULL"))[0] is True


_UNREADABLE = (
    "SELECT current_user, n.nspowner::regrole::text FROM pg_namespace n "
    "WHERE n.nspname = 'aria_tui' AND (NOT has_schema_privilege(n.oid, 'USAGE') "
    "OR EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = n.oid "
    "AND c.relname IN ('commits', 'pending') AND c.relkind = 'r' "
    "AND NOT has_table_privilege(c.oid, 'SELECT')))"
)


def unreadable(conn: psycopg.Connection) -> str | None:
    """One sentence when commit records exist that this role may not read, else None.

    A proof without them would take a load aria-tui recorded for one done by other means: no
    reconciliation against what committed, no rows the target held before, no conflicts kept
    by decision, and no word of a chunked load whose indexes are still down."""
    row = conn.execute(_UNREADABLE).fetchone()
    if row is None:
        return None
    role, owner = row
    return (
        f"Role {role} may not read aria-tui's commit records (schema {SCHEMA}, owned by "
        f"{owner}), without which no load can be proven: validate as the role that loaded, or "
        f"run GRANT USAGE ON SCHEMA {SCHEMA} TO {role}; GRANT SELECT ON ALL TABLES IN SCHEMA "
        f"{SCHEMA} TO {role} as {owner}."
    )


def ensure(conn: psycopg.Connection) -> None:
    """Create the schema and table when missing, in the caller's transaction. Raises AriaError
    when the role may not create them (the loader cannot promise exactly-once without them)."""
    try:
        with conn.transaction():
            if exists(conn):
                # a table made before `decided` existed gains it (ALTER TABLE wants the owner even
                # when the column is there: only when it is missing)
                if not one(conn.execute(_HAS_DECIDED))[0]:
                    conn.execute("ALTER TABLE aria_tui.commits ADD COLUMN decided text")
                if one(conn.execute("SELECT to_regclass('aria_tui.pending') IS NULL"))[0]:
                    conn.execute(PENDING_DDL)  # a schema made before chunked loads existed
                return
            # CREATE SCHEMA IF NOT EXISTS wants CREATE on the database even when the schema is
            # there: a schema the operator made for this role (as the sentence below asks) is
            # used as it is
            schema = one(conn.execute("SELECT to_regnamespace('aria_tui') IS NOT NULL"))[0]
            for statement in _DDL[1 if schema else 0 :]:
                conn.execute(statement)
    except psycopg.errors.ReadOnlySqlTransaction:
        db = one(conn.execute("SELECT current_database()"))[0]
        raise AriaError(
            f"The target database {db} accepts no writes (a standby server in recovery, or a "
            "read-only transaction forced on this session): load into the primary server."
        ) from None
    except psycopg.errors.InsufficientPrivilege:
        role, db, owner = one(
            conn.execute(
                "SELECT current_user, current_database(), "
                "(SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'aria_tui')"
            )
        )
        why = (
            f"role {role} may not create that schema in database {db}: run CREATE SCHEMA "
            f"{SCHEMA} AUTHORIZATION {role} as its owner (or grant CREATE on the database)"
            if owner is None
            else f"role {role} may not use or create tables in that schema (owned by {owner}): "
            f"run ALTER SCHEMA {SCHEMA} OWNER TO {role} as {owner} (or drop the schema if it "
            "holds no records)"
        )
        raise AriaError(
            f"aria-tui records each committed table in the target (schema {SCHEMA}, table "
            f"{TABLE}) so that no re-run can insert it twice, but {why}, then load again."
        ) from None


def write(conn: psycopg.Connection, commit: Commit) -> None:
    """Insert `commit` in the caller's transaction: the one holding the data it speaks of."""
    names = [c for c in _COLUMNS if c != "finished_at"]
    conn.execute(
        sql.SQL("INSERT INTO aria_tui.commits ({}) VALUES ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(sql.Placeholder() * len(names)),
        ),
        [getattr(commit, c) for c in names],
    )


def read(conn: psycopg.Connection, table: str | None = None) -> list[Commit]:
    """Every record (of `table`, 'schema.table', when given), oldest first; [] when the target
    has none or this role may not read them. Safe inside a transaction (a savepoint)."""
    query = sql.SQL("SELECT {} FROM aria_tui.commits {} ORDER BY finished_at, chunk").format(
        sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)),
        sql.SQL("WHERE target_table = %s" if table else ""),
    )
    try:
        with conn.transaction():  # to_regclass() too: a schema without USAGE raises
            if not exists(conn):
                return []
            rows = conn.execute(query, (table,) if table else ()).fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return []
    except psycopg.errors.UndefinedColumn:  # records written before `decided` existed
        old = [c for c in _COLUMNS if c != "decided"]
        query = sql.SQL("SELECT {} FROM aria_tui.commits {} ORDER BY finished_at, chunk").format(
            sql.SQL(", ").join(map(sql.Identifier, old)),
            sql.SQL("WHERE target_table = %s" if table else ""),
        )
        with conn.transaction():
            got = conn.execute(query, (table,) if table else ()).fetchall()
        return [Commit(**dict(zip(old, row, strict=True))) for row in got]
    return [Commit(*row) for row in rows]


@dataclass(frozen=True)
class FileCommits:
    """The current records of one table for one version (sha256) of its file."""

    target_table: str
    file_sha256: str
    file_bytes: int
    records: tuple[Commit, ...]  # the current ones, by byte_start; superseded ones left out

    @property
    def covered(self) -> tuple[tuple[int, int], ...]:
        """The byte ranges committed, merged."""
        out: list[list[int]] = []
        for r in self.records:
            if out and r.byte_start <= out[-1][1]:
                out[-1][1] = max(out[-1][1], r.byte_end)
            else:
                out.append([r.byte_start, r.byte_end])
        return tuple((a, b) for a, b in out)

    @property
    def missing(self) -> tuple[tuple[int, int], ...]:
        """The byte ranges of the file no record covers (what a resume still has to load)."""
        gaps, at = [], 0
        for a, b in self.covered:
            if a > at:
                gaps.append((at, a))
            at = max(at, b)
        if at < self.file_bytes:
            gaps.append((at, self.file_bytes))
        return tuple(gaps)

    @property
    def complete(self) -> bool:
        return not self.missing

    def total(self, name: str) -> int:
        """Sum of one count ('csv_rows', 'inserted', 'duplicates', 'rejected') over the records."""
        return sum(getattr(r, name) for r in self.records)

    @property
    def latest(self) -> Commit:
        return max(self.records, key=lambda r: (r.finished_at or datetime.min, r.chunk))

    @property
    def earliest(self) -> Commit:
        """The record written first (chunks commit in any order: not the first by byte order)."""
        return min(self.records, key=lambda r: (r.finished_at or datetime.min, r.chunk))

    @property
    def rows_before(self) -> int | None:
        """Rows the table held before this version of the file began to load, none of them a row
        of these records: the count of the record written first (None: not recorded).

        Every record counts the table when its load begins (a chunked run once, in its prepare,
        under the table's lock, before any chunk of it starts), and writes itself later, in the
        transaction of its rows (finished_at: clock_timestamp() then). A count that includes a
        row of another of these records was taken after that record committed, so after it was
        written: the record written first counted no row of any of them, however the chunks of
        one run or of several overlapped. Any later record's count may include rows of records
        written before it (a re-run's chunk 1, after the chunks a killed run committed), and
        `rows_before + inserted` would then count those rows twice, a bound too high to see a
        row added since. Nor is the smallest count the right one: counts only grow between the
        runs of one file unless rows are deleted, and a count lowered by deletes may still hold
        rows of the records written before it."""
        return self.earliest.rows_before


def current(records: list[Commit], table: str, sha256: str | None = None) -> FileCommits | None:
    """The records of `table` for file version `sha256` (default: the version committed last)
    that still count: a byte range committed again later (the table was emptied and reloaded)
    supersedes the earlier record of it. None when there is none."""
    mine = [r for r in records if r.target_table == table]
    if sha256 is None:
        if not mine:
            return None
        sha256 = max(mine, key=lambda r: r.finished_at or datetime.min).file_sha256
    mine = [r for r in mine if r.file_sha256 == sha256]
    if not mine:
        return None
    taken: list[Commit] = []
    for r in sorted(mine, key=lambda r: r.finished_at or datetime.min, reverse=True):
        if all(r.byte_end <= t.byte_start or r.byte_start >= t.byte_end for t in taken):
            taken.append(r)
    taken.sort(key=lambda r: r.byte_start)
    return FileCommits(table, sha256, taken[0].file_bytes, tuple(taken))


# -- the target's identity ---------------------------------------------------------------------


@dataclass(frozen=True)
class TargetIdentity:
    """Who the target is, whatever the DSN's spelling: the cluster's system identifier, the
    database, and where the server listens (its host as connected, its port setting)."""

    system_identifier: str
    database: str
    host: str
    port: str

    @property
    def key(self) -> str:
        return f"{self.system_identifier}/{self.database}@{self.host}:{self.port}"


def identify(conn: psycopg.Connection) -> TargetIdentity:
    try:
        with conn.transaction():
            sysid = str(one(conn.execute("SELECT system_identifier FROM pg_control_system()"))[0])
    except psycopg.Error:  # a role or a server that hides it: the rest still identifies it
        sysid = "unknown"
    database, port = one(conn.execute("SELECT current_database(), current_setting('port')"))
    host = conn.info.hostaddr or conn.info.host or "local"
    if host.startswith("/"):
        host = "local"  # a Unix socket: the server of this host, whatever directory names it
    elif host in ("::1", "127.0.0.1", "localhost"):
        host = "local"
    return TargetIdentity(sysid, database, host, str(port))


# -- one load at a time ------------------------------------------------------------------------

_LOCK_CLASS = 0x41524941  # 'ARIA'
_LOCK_LOAD = 1

_HOLDER = """
SELECT a.pid, a.application_name, a.client_addr::text, a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = %s AND l.objid = %s AND l.objsubid = 2
"""


class LoadRunning(AriaError):
    """Another aria-tui load holds this database."""

    exit_code = EXIT_FAILED


class RunLock:
    """Session advisory lock 'one aria-tui load per database', on a connection of its own whose
    application_name says who holds it. Released when closed, or when the process dies."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect  # an autocommit connection to the target
        self.conn: psycopg.Connection | None = None

    def acquire(self) -> RunLock:
        conn = self._connect()
        try:
            name = f"aria-tui load {client()}"
            conn.execute("SELECT set_config('application_name', %s, false)", (name[:63],))
            got = one(
                conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (_LOCK_CLASS, _LOCK_LOAD))
            )[0]
            if not got:
                raise LoadRunning(self._refusal(conn))
        except BaseException:
            conn.close()
            raise
        self.conn = conn
        return self

    @staticmethod
    def _refusal(conn: psycopg.Connection) -> str:
        row = conn.execute(_HOLDER, (_LOCK_CLASS, _LOCK_LOAD)).fetchone()  # None: just gone
        database = one(conn.execute("SELECT current_database()"))[0]
        who = "another aria-tui load"
        if row is not None:
            pid, app, addr, started = row
            app = app or "a session without an application name"
            since = started.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if started else "?"
            where = f" from {addr}" if addr else ""
            who = f"{app}{where} (server pid {pid}, connected since {since})"
        return (
            f"Another load into database {database} is running: {who}; aria-tui loads one run "
            "at a time into a database, so wait for it to finish (or end it) and run again."
        )

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()  # ends the session: the lock goes with it
            finally:
                self.conn = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
