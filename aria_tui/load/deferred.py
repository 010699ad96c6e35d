"""Everything a load moves after its rows, as one value: secondary indexes (indexes.py), keys and
foreign-key checks (constraints.py).

`take_down()` drops (or, for a foreign key, switches off) what can wait and returns a `Deferred`
saying exactly what; `rebuild()` builds it again over the loaded rows. In the runner both happen
in the table's own transaction, so a crash, a kill -9 or a cancel anywhere rolls the drops back
with the rows. `Deferred.to_json()` / `from_json()` round-trip exactly, for a load whose drop and
rebuild are separate committed transactions (chunked loads): stored in the target beside the
commit records, a re-run rebuilds what a dead run left down before anything else.

Order of the rebuild: keys first (a duplicate fails fast, before minutes of GIN builds), then
the foreign-key checks, then the secondary indexes. `rebuild()` raises `constraints.Refused`
when the rows break a key or a foreign key; nothing else of the table is judged here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from aria_tui.load import constraints, indexes
from aria_tui.load.constraints import ConstraintBuild, ForeignKeyDef, KeyDef, Refused
from aria_tui.load.events import Emitter
from aria_tui.load.indexes import IndexBuild, IndexDef

__all__ = [
    "Deferred",
    "Refused",
    "Rebuilt",
    "take_down",
    "rebuild",
    "notes",
    "to_pending",
    "from_pending",
    "missing",
    "rebuild_missing",
]


@dataclass(frozen=True)
class Deferred:
    """What one table's load took down, to build again after its rows."""

    empty: bool  # the table was empty: 'after-load'; else only vector indexes ('vector')
    indexes: tuple[IndexDef, ...] = ()
    keys: tuple[KeyDef, ...] = ()
    foreign_keys: tuple[ForeignKeyDef, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.indexes or self.keys or self.foreign_keys)

    @property
    def constraints(self) -> bool:
        """Something the rows can refuse (duplicates, orphans) is down."""
        return bool(self.keys or self.foreign_keys)

    def to_json(self) -> dict[str, Any]:
        return {
            "empty": self.empty,
            "indexes": [d.to_json() for d in self.indexes],
            "keys": [k.to_json() for k in self.keys],
            "foreign_keys": [f.to_json() for f in self.foreign_keys],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deferred:
        return cls(
            empty=bool(data["empty"]),
            indexes=tuple(IndexDef.from_json(d) for d in data.get("indexes", ())),
            keys=tuple(KeyDef.from_json(k) for k in data.get("keys", ())),
            foreign_keys=tuple(ForeignKeyDef.from_json(f) for f in data.get("foreign_keys", ())),
        )

    def without_constraints(self) -> Deferred:
        return replace(self, keys=(), foreign_keys=())


@dataclass(frozen=True)
class Rebuilt:
    indexes: tuple[IndexBuild, ...] = ()
    constraints: tuple[ConstraintBuild, ...] = ()


# Below this many records an empty table keeps its indexes and keys during the load: dropping
# them and building them again costs more than maintaining them row by row (measured on the
# full-scale Aria export, each pair as deferred / kept: 53 rows 8 / 2 ms, 227 rows 20 / 13 ms,
# 3,862 rows 75 / 59 ms, 15,500 rows 165 / 164 ms, 12,000 rows 102 / 140 ms). Its vector indexes
# are rebuilt whatever its size (pgvector's advice is about their structure, not their speed).
MIN_ROWS_ENV = "ARIA_TUI_DEFER_MIN_ROWS"  # tests: 0 defers for tables of any size
MIN_ROWS = 10_000


def worth_it(rows: int) -> bool:
    """Whether an empty table of about `rows` records is loaded faster with its indexes and
    keys built after the rows than maintained while they arrive."""
    return rows >= int(os.environ.get(MIN_ROWS_ENV, MIN_ROWS))


def take_down(
    conn: psycopg.Connection,
    table_oid: int,
    *,
    empty: bool,
    emitter: Emitter,
    target: str,
    constraints_too: bool = True,
) -> Deferred:
    """Drop what the load can build after its rows, in the current transaction.

    Secondary indexes: every one of an empty table, vector ones always (indexes.py). Keys and
    foreign-key checks: only of an empty table, and only with `constraints_too` (the runner
    leaves them to a FK cycle, whose tables check each other at the end). Whatever the target
    refuses to drop stays, and the load maintains it row by row."""
    down = Deferred(
        empty=empty,
        indexes=tuple(
            indexes.take_down(conn, table_oid, empty=empty, emitter=emitter, target=target)
        ),
    )
    if not (empty and constraints_too):
        return down
    keys: list[KeyDef] = []
    for k in constraints.keys(conn, table_oid):
        done = _try(conn, constraints.drop_key, k)
        if done is None:
            break  # someone reads the table: the lock timeout is spent once, not once per key
        if done:
            keys.append(k)
    fks: list[ForeignKeyDef] = []
    if _read_committed(conn):  # the check sees what the commit will: the latest parent rows
        fks = [
            f
            for f in constraints.foreign_keys(conn, table_oid)
            if _try(conn, constraints.switch_off, f)
        ]
    return replace(down, keys=tuple(keys), foreign_keys=tuple(fks))


def _try(conn: psycopg.Connection, step: Any, what: KeyDef | ForeignKeyDef) -> bool | None:
    """One drop in a savepoint. Refused (privileges, a dependent view, a parent someone is
    writing to): False, the constraint stays and does its work row by row; None when the lock
    it needs was not granted within the lock timeout."""
    try:
        with conn.transaction():
            step(conn, what)
    except psycopg.errors.LockNotAvailable:
        return None
    except psycopg.Error:
        if conn.broken or conn.closed:
            raise
        return False
    return True


def _read_committed(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT current_setting('transaction_isolation')").fetchone()
    return row is not None and row[0] == "read committed"


def rebuild(
    conn: psycopg.Connection,
    down: Deferred,
    emitter: Emitter,
    *,
    progress_conn: psycopg.Connection | None = None,
    local_server: bool = True,
) -> Rebuilt:
    """Build `down` again over the table's rows, in the current transaction, with the index
    phase's memory and workers; the run screen shows each step. Raises Refused."""
    if not down:
        return Rebuilt()
    steps = list(_steps(down))
    saved = indexes.raise_limits(conn, local_server)
    poller = (
        indexes.Poller(progress_conn, conn.info.backend_pid, emitter) if progress_conn else None
    )
    built_indexes: list[IndexBuild] = []
    built: list[ConstraintBuild] = []
    try:
        for i, step in enumerate(steps):
            emitter.index_started(step.name, i, len(steps))
            if isinstance(step, KeyDef):
                built.append(constraints.build_key(conn, step))
            elif isinstance(step, ForeignKeyDef):
                built.append(constraints.check(conn, step))
            else:
                built_indexes.append(indexes.build(conn, step, empty=down.empty))
    finally:
        if poller is not None:
            poller.close()
        emitter.index_finished()
        indexes.restore_limits(conn, saved)
    return Rebuilt(tuple(built_indexes), tuple(built))


def _steps(down: Deferred) -> Iterator[KeyDef | ForeignKeyDef | IndexDef]:
    yield from down.keys
    yield from down.foreign_keys
    yield from down.indexes


def notes(rebuilt: Rebuilt, where: str = indexes.IN_THE_TABLES) -> list[str]:
    """The sentences a table's result carries about what was built after its rows."""
    out = []
    if rebuilt.constraints:
        out.append(
            f"Built after the data, {where}: "
            + ", ".join(f"{b.name} ({b.kind}) {b.seconds:.1f}s" for b in rebuilt.constraints)
            + "."
        )
    return out + indexes.notes(rebuilt.indexes, where)


# -- a chunked load's drop, recorded in the target (pg/pending.py) ------------------------------


def to_pending(down: Deferred) -> list[dict[str, Any]]:
    """`down` as the rows of aria_tui.pending: one per step, each with its name and kind, so that
    each can be built in a transaction of its own that deletes its row."""
    rows: list[dict[str, Any]] = []
    rows += [{"name": k.name, "kind": "key", "def": k.to_json()} for k in down.keys]
    rows += [{"name": f.name, "kind": "fk", "def": f.to_json()} for f in down.foreign_keys]
    rows += [{"name": d.name, "kind": "index", "def": d.to_json()} for d in down.indexes]
    return rows


def from_pending(rows: list[dict[str, Any]]) -> Deferred:
    """What a chunked load recorded as taken down (the table was empty when it started)."""
    return Deferred(
        empty=True,
        indexes=tuple(IndexDef.from_json(r["def"]) for r in rows if r.get("kind") == "index"),
        keys=tuple(KeyDef.from_json(r["def"]) for r in rows if r.get("kind") == "key"),
        foreign_keys=tuple(
            ForeignKeyDef.from_json(r["def"]) for r in rows if r.get("kind") == "fk"
        ),
    )


def rebuild_missing(
    conn: psycopg.Connection, down: Deferred, emitter: Emitter, *, local_server: bool = True
) -> Rebuilt:
    """`rebuild` of what of `down` is not in place now (`missing`): a chunked load's drop,
    built again after the chunks, after a cancel, an undo or a dead run."""
    return rebuild(conn, missing(conn, down), emitter, local_server=local_server)


def missing(conn: psycopg.Connection, down: Deferred) -> Deferred:
    """What of `down` is not in place now: an index or key whose index does not exist, a foreign
    key whose check trigger is off (built or switched on again since, by us or by hand: left)."""
    present = {
        str(r[0])
        for r in conn.execute(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I')"
        ).fetchall()
    }
    off = {
        (str(r[0]), str(r[1]))
        for r in conn.execute(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), "
            "quote_ident(t.tgname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.tgenabled = 'D'"
        ).fetchall()
    }
    return replace(
        down,
        indexes=tuple(d for d in down.indexes if d.name not in present),
        keys=tuple(k for k in down.keys if k.index not in present),
        foreign_keys=tuple(f for f in down.foreign_keys if (f.table, f.trigger) in off),
    )
