"""Secondary indexes built after the data, inside the table's own transaction.

For a table that is empty when its load starts, every secondary index (not the primary key, not
an index behind a constraint, not a unique index: those decide duplicates and conflicts during the
load) is remembered with its exact definition (`pg_get_indexdef`, plus its tablespace, CLUSTER
mark and comment), dropped, and created again once the rows are in, with a raised
`maintenance_work_mem` and parallel maintenance workers. Building an index once over the loaded
rows costs a fraction of maintaining it row by row.

An ivfflat or HNSW index is always rebuilt after a bulk load, empty table or not: an ivfflat index
created on an empty table (as real init scripts do) computed its lists from no rows, and pgvector
advises loading first and indexing after. The table's result says so in its notes.

Everything happens inside the table's transaction (DROP INDEX and CREATE INDEX are transactional
in PostgreSQL): a crash, a kill -9 or a cancel anywhere rolls the drops back with the rows, so no
table is ever left without its indexes, and a re-run starts from the same indexes.

While an index builds, the loading connection is busy: a second connection polls
`pg_stat_progress_create_index` for the loading backend, and the table's progress ticks carry
phase 'index' with the index's name, its done/total units and an ETA.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg import sql

from aria_tui.load.events import Emitter

VECTOR_METHODS = ("ivfflat", "hnsw")
MWM_CAP_KB = 1024 * 1024  # 1 GB: more buys a btree or GIN build little
MWM_REMOTE_KB = 256 * 1024  # a server on another machine: its free memory is unknown here
POLL_S = 0.25


@dataclass(frozen=True)
class IndexDef:
    """One secondary index as it was before the load: enough to create it again exactly."""

    name: str  # schema-qualified, quoted as SQL
    table: str  # the table's schema-qualified name, quoted as SQL
    method: str  # 'btree', 'gin', 'gist', 'ivfflat', 'hnsw', ...
    definition: str  # pg_get_indexdef(): CREATE [UNIQUE] INDEX ... USING ... (...) WITH (...)
    tablespace: str | None  # quoted name, when not the database's default
    clustered: bool
    comment: str | None
    short: str  # the index's own name, quoted, without its schema (for CLUSTER ON)

    @property
    def vector(self) -> bool:
        return self.method in VECTOR_METHODS

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexDef:
        return cls(**data)


@dataclass(frozen=True)
class IndexBuild:
    """One index this load dropped and built again after its rows."""

    name: str
    method: str
    seconds: float
    reason: str  # 'after-load' (empty table) | 'vector' (always rebuilt after a bulk load)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "method": self.method,
            "seconds": round(self.seconds, 3),
            "reason": self.reason,
        }


_QUERY = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       i.indrelid::regclass::text,
       am.amname,
       pg_get_indexdef(i.indexrelid),
       CASE WHEN c.reltablespace <> 0 THEN
            (SELECT quote_ident(spcname) FROM pg_tablespace WHERE oid = c.reltablespace) END,
       i.indisclustered,
       obj_description(i.indexrelid, 'pg_class'),
       quote_ident(c.relname)
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_am am ON am.oid = c.relam
  JOIN pg_class t ON t.oid = i.indrelid
 WHERE i.indrelid = %s
   AND t.relkind = 'r'
   AND NOT i.indisprimary
   AND NOT i.indisunique
   AND NOT i.indisexclusion
   AND i.indisvalid AND i.indisready AND i.indislive
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                      AND d.deptype = 'e')
 ORDER BY c.relname
"""


def deferrable(conn: psycopg.Connection, table_oid: int, *, empty: bool) -> list[IndexDef]:
    """The indexes of the table that a load builds after its rows: every secondary index of an
    empty table; only ivfflat/HNSW indexes of a table that already holds rows."""
    rows = conn.execute(_QUERY, (table_oid,)).fetchall()
    defs = [IndexDef(*row) for row in rows]
    return defs if empty else [d for d in defs if d.vector]


def take_down(
    conn: psycopg.Connection, table_oid: int, *, empty: bool, emitter: Emitter, target: str
) -> list[IndexDef]:
    """Drop the table's deferrable indexes inside the current transaction; returns what to build
    again. A target that refuses (not the table's owner) keeps its indexes: the load goes on
    maintaining them row by row, and the log says why."""
    defs = deferrable(conn, table_oid, empty=empty)
    if not defs:
        return []
    try:
        with conn.transaction():
            for d in defs:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(d.name)))
    except psycopg.errors.InsufficientPrivilege as exc:
        emitter.log(
            f"{target}: its indexes stay in place during the load (slower): the target refused to "
            f"drop them ({str(exc).strip().splitlines()[0]}).",
            "warning",
        )
        return []
    return defs


def rebuild(
    conn: psycopg.Connection,
    defs: list[IndexDef],
    emitter: Emitter,
    *,
    empty: bool,
    progress_conn: psycopg.Connection | None = None,
    local_server: bool = True,
    number: tuple[int, int] | None = None,
) -> tuple[IndexBuild, ...]:
    """Create `defs` again, in the current transaction, with more memory and parallel workers.
    `number`: (done, count) of a larger set built side by side, for the progress line."""
    if not defs:
        return ()
    saved = raise_limits(conn, local_server)
    built = []
    poller = Poller(progress_conn, conn.info.backend_pid, emitter) if progress_conn else None
    try:
        for i, d in enumerate(defs):
            if number is None:
                emitter.index_started(d.name, i, len(defs))
            else:
                emitter.index_started(d.name, number[0] + i, number[1])
            built.append(build(conn, d, empty=empty))
    finally:
        if poller is not None:
            poller.close()
        emitter.index_finished()
        restore_limits(conn, saved)
    return tuple(built)


def build(conn: psycopg.Connection, d: IndexDef, *, empty: bool) -> IndexBuild:
    """Create one index again, exactly as it was, in the current transaction."""
    started = time.monotonic()
    statement = d.definition + (f" TABLESPACE {d.tablespace}" if d.tablespace else "")
    conn.execute(statement)  # the catalog's own SQL
    if d.clustered:
        conn.execute(f"ALTER TABLE {d.table} CLUSTER ON {d.short}")
    if d.comment is not None:
        conn.execute(
            sql.SQL("COMMENT ON INDEX {} IS {}").format(sql.SQL(d.name), sql.Literal(d.comment))
        )
    return IndexBuild(
        name=d.name,
        method=d.method,
        seconds=time.monotonic() - started,
        reason="after-load" if empty else "vector",
    )


# where the builds ran: a whole-file load's one transaction, or a chunked load's own ones
IN_THE_TABLES = "in the table's transaction"
EACH_ITS_OWN = "each in a transaction of its own, recorded in aria_tui.pending until built"


def notes(builds: tuple[IndexBuild, ...], where: str = IN_THE_TABLES) -> list[str]:
    """The sentences a table's result carries about its indexes."""
    out = []
    vector = [b for b in builds if b.method in VECTOR_METHODS]
    other = [b for b in builds if b.method not in VECTOR_METHODS]
    if other:
        out.append(
            f"{len(other)} secondary index{'es' if len(other) != 1 else ''} built after the data "
            f"({', '.join(f'{b.name} {b.method} {b.seconds:.1f}s' for b in other)}), {where}."
        )
    for b in vector:
        out.append(
            f"{b.name} ({b.method}) rebuilt after the bulk load ({b.seconds:.1f}s), as pgvector "
            "advises: its structure now reflects the loaded rows."
        )
    return out


# -- memory and workers --------------------------------------------------------------------------


def _mem_available_kb() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def wanted_mwm_kb(local_server: bool) -> int:
    """maintenance_work_mem for the rebuild: a quarter of the free memory of this machine when the
    server runs here, at most 1 GB; 256 MB at most for a server elsewhere."""
    free = _mem_available_kb() if local_server else None
    if free is None:
        return MWM_REMOTE_KB
    return max(64 * 1024, min(MWM_CAP_KB, free // 4))


def raise_limits(conn: psycopg.Connection, local_server: bool) -> dict[str, str]:
    """Raise maintenance_work_mem and max_parallel_maintenance_workers for this transaction,
    never lowering what the operator configured; returns the values to put back."""
    rows = conn.execute(
        "SELECT name, setting FROM pg_settings WHERE name IN "
        "('maintenance_work_mem', 'max_parallel_maintenance_workers', 'max_parallel_workers')"
    ).fetchall()
    current: dict[str, str] = {str(k): str(v) for k, v in rows}
    saved: dict[str, str] = {}
    try:
        mwm = int(current.get("maintenance_work_mem", "65536"))
        want = wanted_mwm_kb(local_server)
        if want > mwm:
            saved["maintenance_work_mem"] = f"{mwm}kB"
            conn.execute("SELECT set_config('maintenance_work_mem', %s, true)", (f"{want}kB",))
        workers = int(current.get("max_parallel_maintenance_workers", "2"))
        cap = int(current.get("max_parallel_workers", "8"))
        want_w = min(cap, max((os.cpu_count() or 2) - 1, 1), 8)
        if want_w > workers:
            saved["max_parallel_maintenance_workers"] = str(workers)
            conn.execute(
                "SELECT set_config('max_parallel_maintenance_workers', %s, true)", (str(want_w),)
            )
    except (psycopg.Error, ValueError):
        pass  # a server that refuses: the defaults build the same indexes, slower
    return saved


def restore_limits(conn: psycopg.Connection, saved: dict[str, str]) -> None:
    if conn.broken or conn.closed:
        return
    for name, value in saved.items():
        try:
            conn.execute("SELECT set_config(%s, %s, true)", (name, value))
        except psycopg.Error:
            return


# -- progress ------------------------------------------------------------------------------------

_PROGRESS = """
SELECT phase,
       CASE WHEN tuples_total > 0 THEN tuples_done ELSE blocks_done END,
       CASE WHEN tuples_total > 0 THEN tuples_total ELSE blocks_total END
  FROM pg_stat_progress_create_index WHERE pid = %s
"""


class Poller:
    """Reads pg_stat_progress_create_index for the loading backend from a second connection."""

    def __init__(self, conn: psycopg.Connection, pid: int, emitter: Emitter) -> None:
        self._conn = conn
        self._pid = pid
        self._emitter = emitter
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="aria-index-progress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                row = self._conn.execute(_PROGRESS, (self._pid,)).fetchone()
            except psycopg.Error:
                return  # progress is a nicety: never let it disturb the load
            if row is not None:
                phase, done, total = row
                self._emitter.index_progress(str(phase or ""), int(done or 0), int(total or 0))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
