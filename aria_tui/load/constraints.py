"""Keys and foreign-key checks of an empty table, moved after its rows (issue 17).

Keys: a PRIMARY KEY, a UNIQUE constraint or a plain unique index that nothing else depends on (a
key referenced by another table's foreign key stays: it cannot be dropped without that foreign
key) is remembered exactly (`pg_get_indexdef`, the constraint's name, DEFERRABLE / INITIALLY
DEFERRED, tablespace, CLUSTER mark, comments), dropped, and built again over the loaded rows: one
sort instead of one index probe per row. The unique index is created first, under the raised
`maintenance_work_mem` of the index phase, then `ADD CONSTRAINT name ... USING INDEX` turns it
into the constraint, so every name is the one it had.

Foreign keys: the per-row check (the RI trigger `RI_FKey_check_ins` on the child, one query and
one row lock on the parent per inserted row) is switched off for the load and replaced by one
anti-join over the loaded rows, built from the constraint's own catalog entry (its column pairs,
its PK = FK operators, MATCH SIMPLE or FULL). The constraint itself is never dropped: dropping a
foreign key takes an ACCESS EXCLUSIVE lock on the PARENT table until the child commits, which
would stall every sibling table loading beside it (`--jobs`) on its own foreign-key checks.
Switching the trigger off locks only the child; the parent is held in SHARE mode (writers wait,
readers and other children's checks do not) so that no parent row can vanish between the check
and the commit. Switching off a system trigger needs a superuser: elsewhere the check stays per
row. Only foreign keys whose check can be written exactly are taken: both sides of each column
pair of the operator's own types, deterministic collations, MATCH SIMPLE or FULL, validated and
enforced, the parent a plain table other than the child.

A key the rows break (duplicates), a foreign key they break (orphans) raise `Refused`: the caller
rolls back to before the drops and loads again with everything in place, so that the load paths
reject the offending records one by one, with their lines, exactly as without this module.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from aria_tui.errors import first_line

KINDS = {"p": "primary key", "u": "unique", None: "unique index"}


class Refused(Exception):
    """The loaded rows break a key or a foreign key that was moved after them."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what} refused the loaded rows ({why})")
        self.what = what


@dataclass(frozen=True)
class KeyDef:
    """A primary key, unique constraint or plain unique index as it was before the load."""

    table: str  # the table, schema-qualified, quoted
    index: str  # the index, schema-qualified, quoted
    index_short: str  # the index's own name, quoted (USING INDEX, CLUSTER ON)
    index_definition: str  # pg_get_indexdef(): CREATE UNIQUE INDEX ...
    tablespace: str | None  # quoted, when not the database's default
    clustered: bool
    index_comment: str | None
    constraint: str | None  # the constraint's name, quoted; None: a plain unique index
    contype: str | None  # 'p' | 'u' | None
    definition: str  # pg_get_constraintdef() (or the index's definition): for the report
    deferrable: bool
    deferred: bool
    comment: str | None  # the constraint's comment

    @property
    def kind(self) -> str:
        return KINDS[self.contype]

    @property
    def name(self) -> str:
        return self.index  # the constraint and its index share their name

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyDef:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})


@dataclass(frozen=True)
class ForeignKeyDef:
    """A foreign key whose per-row check is off during the load; `check` finds an orphan."""

    table: str  # the child, schema-qualified, quoted
    parent: str  # the parent, schema-qualified, quoted
    constraint: str  # quoted
    definition: str  # pg_get_constraintdef(): for the report
    trigger: str  # the RI insert-check trigger switched off, quoted
    check: str  # SELECT 1 ... LIMIT 1: a row of the child no parent row matches

    @property
    def name(self) -> str:
        return self.constraint

    kind = "foreign key"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ForeignKeyDef:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})


@dataclass(frozen=True)
class ConstraintBuild:
    """One key built, or one foreign key checked, after the rows."""

    name: str
    kind: str  # 'primary key' | 'unique' | 'unique index' | 'foreign key'
    seconds: float
    reason: str  # 'after-load'

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "seconds": round(self.seconds, 3),
            "reason": self.reason,
        }


# -- keys -----------------------------------------------------------------------------------------

# names come out schema-qualified whatever the search_path of whoever runs the SQL later
# (regnamespace's text is already quoted where the name needs it: quote_ident would quote it
# twice, and a schema such as "Sales" would have no key or foreign key deferred)
_KEYS = """
SELECT t.relnamespace::regnamespace::text || '.' || quote_ident(t.relname),
       quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       quote_ident(c.relname),
       pg_get_indexdef(i.indexrelid),
       CASE WHEN c.reltablespace <> 0 THEN
            (SELECT quote_ident(spcname) FROM pg_tablespace WHERE oid = c.reltablespace) END,
       i.indisclustered,
       obj_description(i.indexrelid, 'pg_class'),
       quote_ident(k.conname),
       k.contype::text,
       coalesce(pg_get_constraintdef(k.oid), pg_get_indexdef(i.indexrelid)),
       coalesce(k.condeferrable, false),
       coalesce(k.condeferred, false),
       obj_description(k.oid, 'pg_constraint')
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class t ON t.oid = i.indrelid
  LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                           AND k.contype IN ('p', 'u')
 WHERE i.indrelid = %s
   AND t.relkind = 'r'
   AND i.indisunique AND NOT i.indisexclusion AND NOT i.indisreplident
   AND i.indisvalid AND i.indisready AND i.indislive
   -- a key or a plain unique index; not an index behind any other kind of constraint
   AND (k.oid IS NOT NULL
        OR NOT EXISTS (SELECT 1 FROM pg_constraint x
                        WHERE x.conindid = i.indexrelid AND x.conrelid = i.indrelid))
   AND (k.oid IS NULL OR (k.conparentid = 0 AND k.coninhcount = 0))
   -- a foreign key (of another table, or of this one) references it: it stays
   AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                    WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                      AND d.deptype = 'e')
 ORDER BY k.contype = 'p' DESC NULLS LAST, c.relname
"""


def keys(conn: psycopg.Connection, table_oid: int) -> list[KeyDef]:
    return [KeyDef(*row) for row in conn.execute(_KEYS, (table_oid,)).fetchall()]


def drop_key(conn: psycopg.Connection, k: KeyDef) -> None:
    if k.constraint is not None:
        conn.execute(f"ALTER TABLE {k.table} DROP CONSTRAINT {k.constraint}")
    else:
        conn.execute(f"DROP INDEX {k.index}")


def build_key(conn: psycopg.Connection, k: KeyDef) -> ConstraintBuild:
    """Build the unique index over the rows, then make it the constraint it was: same names,
    same options. Raises Refused when the rows repeat a key."""
    started = time.monotonic()
    try:
        conn.execute(k.index_definition + (f" TABLESPACE {k.tablespace}" if k.tablespace else ""))
    except (psycopg.errors.UniqueViolation, psycopg.errors.DataError) as exc:
        # the detail names the repeated key (Key (id)=(5) is duplicated.): where to look
        detail = exc.diag.message_detail
        why = first_line(exc) + (f": {detail.rstrip('.')}" if detail else "")
        raise Refused(f"{k.kind} {k.constraint or k.index}", why) from exc
    if k.constraint is not None:
        kind = "PRIMARY KEY" if k.contype == "p" else "UNIQUE"
        timing = ""
        if k.deferrable:
            timing = " DEFERRABLE INITIALLY " + ("DEFERRED" if k.deferred else "IMMEDIATE")
        conn.execute(
            f"ALTER TABLE {k.table} ADD CONSTRAINT {k.constraint} {kind} "
            f"USING INDEX {k.index_short}{timing}"
        )
        if k.comment is not None:
            conn.execute(
                sql.SQL("COMMENT ON CONSTRAINT {} ON {} IS {}").format(
                    sql.SQL(k.constraint), sql.SQL(k.table), sql.Literal(k.comment)
                )
            )
    if k.clustered:
        conn.execute(f"ALTER TABLE {k.table} CLUSTER ON {k.index_short}")
    if k.index_comment is not None:
        conn.execute(
            sql.SQL("COMMENT ON INDEX {} IS {}").format(
                sql.SQL(k.index), sql.Literal(k.index_comment)
            )
        )
    return ConstraintBuild(
        name=k.index, kind=k.kind, seconds=time.monotonic() - started, reason="after-load"
    )


# -- foreign keys ---------------------------------------------------------------------------------

_FOREIGN_KEYS = """
SELECT t.relnamespace::regnamespace::text || '.' || quote_ident(t.relname),
       p.relnamespace::regnamespace::text || '.' || quote_ident(p.relname),
       quote_ident(k.conname),
       pg_get_constraintdef(k.oid),
       quote_ident(g.tgname),
       k.oid
  FROM pg_constraint k
  JOIN pg_class t ON t.oid = k.conrelid
  JOIN pg_class p ON p.oid = k.confrelid
  JOIN pg_trigger g ON g.tgconstraint = k.oid AND g.tgrelid = k.conrelid
                   AND g.tgfoid = 'pg_catalog."RI_FKey_check_ins"'::regproc
 WHERE k.conrelid = %s AND k.contype = 'f' AND k.confrelid <> k.conrelid
   AND t.relkind = 'r' AND p.relkind = 'r'
   AND k.convalidated AND coalesce((to_jsonb(k) ->> 'conenforced')::bool, true)
   AND k.conparentid = 0 AND k.confmatchtype IN ('s', 'f')
   AND g.tgenabled <> 'D'
 ORDER BY k.conname
"""

# one row per column pair; `exact`: the check below is the one the server's RI code would run
_PAIRS = """
SELECT quote_ident(fa.attname), quote_ident(pa.attname),
       'OPERATOR(' || o.oprnamespace::regnamespace::text || '.' || o.oprname || ')',
       o.oprleft = pa.atttypid AND o.oprright = fa.atttypid
         AND coalesce((SELECT collisdeterministic FROM pg_collation WHERE oid = pa.attcollation), true)
         AND coalesce((SELECT collisdeterministic FROM pg_collation WHERE oid = fa.attcollation), true),
       k.confmatchtype::text
  FROM pg_constraint k,
       unnest(k.conkey, k.confkey, k.conpfeqop) AS u(fk, pk, op)
  JOIN pg_operator o ON o.oid = u.op
  JOIN pg_attribute fa ON fa.attnum = u.fk
  JOIN pg_attribute pa ON pa.attnum = u.pk
 WHERE k.oid = %s AND fa.attrelid = k.conrelid AND pa.attrelid = k.confrelid
"""


def foreign_keys(conn: psycopg.Connection, table_oid: int) -> list[ForeignKeyDef]:
    """The table's foreign keys whose per-row check can become one exact query."""
    out = []
    for table, parent, name, definition, trigger, oid in conn.execute(
        _FOREIGN_KEYS, (table_oid,)
    ).fetchall():
        pairs = conn.execute(_PAIRS, (oid,)).fetchall()
        if not pairs or not all(exact for _, _, _, exact, _ in pairs):
            continue
        out.append(
            ForeignKeyDef(
                table=table,
                parent=parent,
                constraint=name,
                definition=definition,
                trigger=trigger,
                check=_orphan_query(table, parent, pairs, full=pairs[0][4] == "f"),
            )
        )
    return out


def _orphan_query(
    table: str, parent: str, pairs: list[tuple[str, str, str, bool, str]], *, full: bool
) -> str:
    """What RI_Initial_Check asks: a child row that must reference a parent row and has none.
    MATCH SIMPLE: a row with a NULL in its key references nothing. MATCH FULL: all NULL or none."""
    match = " AND ".join(f"pk.{p} {op} fk.{f}" for f, p, op, _, _ in pairs)
    missing = f"NOT EXISTS (SELECT 1 FROM ONLY {parent} pk WHERE {match})"
    some = " OR ".join(f"fk.{f} IS NOT NULL" for f, *_ in pairs)
    every = " AND ".join(f"fk.{f} IS NOT NULL" for f, *_ in pairs)
    if full and len(pairs) > 1:
        where = f"({some}) AND (NOT ({every}) OR {missing})"
    else:
        where = f"{every} AND {missing}"
    return f"SELECT 1 FROM ONLY {table} fk WHERE {where} LIMIT 1"


def switch_off(conn: psycopg.Connection, fk: ForeignKeyDef) -> None:
    """Lock the parent against writers (never waiting: a parent someone writes to keeps its
    per-row check), then switch the child's check trigger off. Raises psycopg errors: the caller
    holds a savepoint."""
    conn.execute(f"LOCK TABLE {fk.parent} IN SHARE MODE NOWAIT")
    conn.execute(f"ALTER TABLE {fk.table} DISABLE TRIGGER {fk.trigger}")


def check(conn: psycopg.Connection, fk: ForeignKeyDef) -> ConstraintBuild:
    """Switch the check trigger back on and look for an orphan among the rows, in one query.
    Raises Refused when one exists."""
    started = time.monotonic()
    # a transaction other than the one that switched it off (chunked loads): lock the parent
    # again, so no parent row can go between this check and the commit
    conn.execute(f"LOCK TABLE {fk.parent} IN SHARE MODE")
    conn.execute(f"ALTER TABLE {fk.table} ENABLE TRIGGER {fk.trigger}")
    if conn.execute(fk.check).fetchone() is not None:
        raise Refused(f"foreign key {fk.constraint}", "a row references no row of " + fk.parent)
    return ConstraintBuild(
        name=fk.constraint, kind=fk.kind, seconds=time.monotonic() - started, reason="after-load"
    )
