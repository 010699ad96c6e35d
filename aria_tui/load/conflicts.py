"""Duplicates versus conflicts: what a staged record is when its key is already taken.

A *duplicate* is a record equal, after casting through the target's types, to the row that has
its key (the target's, or an earlier record of the same file): skipped and counted positively.
A *conflict* is a record whose key (the primary key, any unique key, or an earlier record of the
same file) is taken by a row with different content. A conflict is never a duplicate; the
table's policy decides it:

- `reject` (default): the record goes to the reject file, its reason naming the constraint, the
  key, the differing columns and the target's current values;
- `keep-target`: the target row stays, on purpose; the record is listed as kept;
- `take-export`: the target row becomes the export's record (every loaded column, its primary key
  too); the values it had go to an undo file (CSV, 0600). Refused, per record and with the reason,
  where another table's foreign key holds the old key and does not cascade.

A conflict with an earlier record of the same file is rejected whatever the policy: the export
contradicts itself, and there is no target row to keep or to replace.

Here: the classification (`classify_target`, `classify_file`) and the SQL that compares both
sides; conflict_policy.py applies the policy to what is classified.

Everything here works on the Stage's temp tables: `<stage>_cls` (rec, kind, source, toid, tctid,
reason, action) classifies records (a target row is named by its tableoid and ctid: a
partitioned table's partitions each have a ctid (0,1)); `<stage>_rej` (staging.py) holds the rejects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from aria_tui.load.model import ConflictRecord
from aria_tui.pg.catalog import key_column_equal
from aria_tui.status import CONFLICT_POLICIES

if TYPE_CHECKING:
    from aria_tui.load.rejects import RejectWriter
    from aria_tui.load.staging import Stage, StageColumn

POLICIES = CONFLICT_POLICIES

DUP = "dup"
CONFLICT = "conflict"
FROM_TARGET = "target"
FROM_FILE = "file"

# A row written by this transaction (or one of its savepoints): with the table locked SHARE ROW
# EXCLUSIVE nobody else can have an insert in progress on it, so such a row came from this load,
# i.e. from an earlier record of the same file (a stage settled in chunks).
_MINE = (
    "CASE WHEN age({a}.xmin) < 1000000000 THEN coalesce(pg_xact_status("
    "(pg_current_xact_id()::text::bigint - age({a}.xmin))::text::xid8) = 'in progress', false) "
    "ELSE false END"
)


@dataclass
class Tally:
    """What a stage's settling decided, summed over its settles (one table)."""

    duplicates: int = 0
    conflicts_rejected: int = 0
    kept: int = 0
    updated: int = 0
    # (record number, line, reason) of every record kept by decision, in file order
    kept_records: list[tuple[int, int, str]] = field(default_factory=list)
    # the unique key (constraint or index name) each record was kept on
    kept_on: dict[int, str] = field(default_factory=dict)
    details: list[ConflictRecord] = field(default_factory=list)  # the first CONFLICT_DETAILS


@dataclass
class Sinks:
    """Where a table's decided conflicts are written (set by the runner on each Stage)."""

    kept: RejectWriter | None = None
    undo: RejectWriter | None = None


def create(conn: psycopg.Connection, stage: Stage) -> None:
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {} (rec bigint PRIMARY KEY, kind text NOT NULL, source text NOT NULL, "
            "toid oid, tctid tid, reason text, action text, key text) ON COMMIT DROP"
        ).format(stage.cls)
    )


def column_name(c: StageColumn) -> str:
    assert c.target is not None
    return c.target.name


def key_value(stage: Stage, c: StageColumn, alias: str = "s") -> sql.Composable:
    """A staged key value as the key's index compares it. The staged text of a string column
    is compared as text, except for char(n), whose trailing spaces are padding: 'ab' and 'ab '
    are one key there (an explicit cast to bpchar without its length neither pads nor cuts)."""
    value = stage.value(c, alias)
    if c.target is not None and c.target.base_type == "bpchar":
        return sql.SQL("({})::bpchar").format(value)
    return value


def usable_keys(stage: Stage) -> list[tuple[str, tuple[StageColumn, ...]]]:
    """(constraint name, stage columns) for each unique key whose every column the file fills."""
    return [(name, cols) for name, cols, _ in _usable(stage)]


def _usable(stage: Stage) -> list[tuple[str, tuple[StageColumn, ...], bool]]:
    """usable_keys() with each key's NULLS NOT DISTINCT."""
    by_target = {c.target.name: c for c in stage.loaded if c.target}
    out = []
    for key in stage.plan.table.unique_keys:
        if all(k in by_target for k in key.columns):
            out.append((key.name, tuple(by_target[k] for k in key.columns), key.nulls_not_distinct))
    return out


def _target_match(stage: Stage, cols: tuple[StageColumn, ...], nulls_equal: bool) -> sql.Composable:
    """The target row `t` holding the staged record's key."""
    return sql.SQL(" AND ").join(
        key_column_equal(sql.Identifier("t", column_name(c)), key_value(stage, c), nulls_equal)
        for c in cols
    )


def export_text(stage: Stage, c: StageColumn, alias: str) -> sql.Composable:
    """The staged value as the target would print it (for comparison)."""
    from aria_tui.load.staging import STRING_TYPES

    col = c.target
    assert col is not None
    ref = sql.Identifier(alias, c.ident)
    if col.base_type == "bpchar":
        return sql.SQL("rtrim({})").format(ref)
    if col.base_type in STRING_TYPES and not c.typed_vector:
        return ref
    if col.base_type == "numeric" and "(" in col.base_format:
        # printed at the column's scale, as the stored value is: 1.0 is the seed's 1.00 (an
        # explicit cast to numeric(p,s) rounds as the column's input does)
        return sql.SQL("(({})::{})::text").format(stage.value(c, alias), sql.SQL(col.type))
    return sql.SQL("({})::text").format(stage.value(c, alias))


def target_text(c: StageColumn, alias: str) -> sql.Composable:
    assert c.target is not None
    return sql.SQL("{}::text").format(sql.Identifier(alias, c.target.name))


def _equal(stage: Stage, c: StageColumn, other: str, other_is_stage: bool) -> sql.Composable:
    assert c.target is not None
    if c.target.base_type == "vector":
        # pgvector's equality first (its output is costly), then the text of the equal ones:
        # `=` holds -0 and 0 equal, where the stored vectors differ (and COPY keeps the sign)
        left = stage.value(c, "s")
        right = stage.value(c, other) if other_is_stage else sql.Identifier(other, c.target.name)
        return sql.SQL(
            "(CASE WHEN {0} IS NOT DISTINCT FROM {1} THEN {0}::text IS NOT DISTINCT FROM {1}::text "
            "ELSE false END)"
        ).format(left, right)
    right = export_text(stage, c, other) if other_is_stage else target_text(c, other)
    return sql.SQL("({} IS NOT DISTINCT FROM {})").format(export_text(stage, c, "s"), right)


def _diff_parts(
    stage: Stage, other: str, other_is_stage: bool
) -> tuple[sql.Composable, sql.Composable]:
    """(text[] of differing target column names, text 'col = value, ...' of the other side)."""
    names = []
    values = []
    for c in stage.loaded:
        assert c.target is not None
        eq = _equal(stage, c, other, other_is_stage)
        names.append(sql.SQL("CASE WHEN NOT {} THEN {} END").format(eq, sql.Literal(c.target.name)))
        shown = export_text(stage, c, other) if other_is_stage else target_text(c, other)
        values.append(
            sql.SQL(
                "CASE WHEN NOT {eq} THEN {name} || ' = ' || coalesce(quote_literal({v}), 'NULL') END"
            ).format(eq=eq, name=sql.Literal(c.target.name), v=shown)
        )
    if not names:
        return sql.SQL("'{}'::text[]"), sql.SQL("''")
    return (
        sql.SQL("array_remove(ARRAY[{}]::text[], NULL)").format(sql.SQL(", ").join(names)),
        sql.SQL("concat_ws(', ', {})").format(sql.SQL(", ").join(values)),
    )


def _key_text(stage: Stage, cols: tuple[StageColumn, ...]) -> sql.Composable:
    return sql.SQL("concat_ws(', ', {})").format(
        sql.SQL(", ").join(export_text(stage, c, "s") for c in cols)
    )


def _not_settled(stage: Stage) -> sql.Composable:
    return sql.SQL(
        "NOT EXISTS (SELECT 1 FROM {rej} r WHERE r.rec = s.rec) "
        "AND NOT EXISTS (SELECT 1 FROM {cls} c WHERE c.rec = s.rec)"
    ).format(rej=stage.rej, cls=stage.cls)


def classify_target(conn: psycopg.Connection, stage: Stage) -> None:
    """Records whose key the target already holds: a duplicate when equal, else a conflict.

    Casts only what the keys and the matched rows need, so it may raise a DataError on a bad
    key value; the caller then finds the bad rows first and runs it again. The records already
    settled (rejected among them) are left out before the join (OFFSET 0 keeps the planner
    from joining first and filtering after): else the key cast meets the rejected value again
    whenever the planner puts the anti-joins last, and the table fails instead of rejecting it."""
    table = stage.plan.table
    for cname, cols, nulls_equal in _usable(stage):
        match = _target_match(stage, cols, nulls_equal)
        diff, shown = _diff_parts(stage, "t", other_is_stage=False)
        key_cols = ", ".join(column_name(c) for c in cols)
        conn.execute(
            sql.SQL(
                "INSERT INTO {cls} (rec, kind, source, toid, tctid, reason, key) "
                "SELECT rec, CASE WHEN cardinality(diff) = 0 THEN 'dup' ELSE 'conflict' END, "
                "CASE WHEN mine THEN 'file' ELSE 'target' END, toid, tctid, "
                "CASE WHEN cardinality(diff) = 0 THEN NULL WHEN mine THEN "
                "{pre} || keytext || '): an earlier record of this file has this key with different ' "
                "|| array_to_string(diff, ', ') || ' (' || shown || ')' "
                "ELSE {pre} || keytext || '): the target already holds this key with different ' "
                "|| array_to_string(diff, ', ') || '; target values: ' || shown END, {cname} "
                "FROM (SELECT s.rec, t.tableoid AS toid, t.ctid AS tctid, {mine} AS mine, {diff} AS diff, "
                "{shown} AS shown, {keytext} AS keytext "
                "FROM (SELECT * FROM {stage} s WHERE {unsettled} OFFSET 0) s "
                "JOIN {table} t ON {match}) x "
                "ON CONFLICT (rec) DO NOTHING"
            ).format(
                cls=stage.cls,
                cname=sql.Literal(cname),
                pre=sql.Literal(f"conflict on {cname} ({key_cols})=("),
                mine=sql.SQL(_MINE.format(a="t")),
                diff=diff,
                shown=shown,
                keytext=_key_text(stage, cols),
                stage=stage.ident,
                table=table.own_rows,
                match=match,
                unsettled=_not_settled(stage),
            )
        )


def classify_file(conn: psycopg.Connection, stage: Stage) -> int:
    """Records repeating the key of an earlier staged record: a duplicate when equal, else a
    conflict. Returns how many records it classified."""
    n = 0
    for cname, cols, nulls_equal in _usable(stage):
        keys = sql.SQL(", ").join(key_value(stage, c) for c in cols)
        # a NULL holds no key, unless the key is NULLS NOT DISTINCT (PARTITION BY groups NULLs)
        not_null = (
            sql.SQL("true")
            if nulls_equal
            else sql.SQL(" AND ").join(
                sql.SQL("{} IS NOT NULL").format(sql.Identifier("s", c.ident)) for c in cols
            )
        )
        diff, shown = _diff_parts(stage, "f", other_is_stage=True)
        key_cols = ", ".join(column_name(c) for c in cols)
        n += conn.execute(
            sql.SQL(
                "INSERT INTO {cls} (rec, kind, source, reason) "
                "SELECT rec, CASE WHEN cardinality(diff) = 0 THEN 'dup' ELSE 'conflict' END, 'file', "
                "CASE WHEN cardinality(diff) = 0 THEN NULL ELSE "
                "{pre} || keytext || '): the record ' || first || ' of this file has this key "
                "with different ' || array_to_string(diff, ', ') || ' (' || shown || ')' END "
                "FROM (SELECT s.rec, x.first, {diff} AS diff, {shown} AS shown, {keytext} AS keytext "
                "FROM (SELECT s.rec, min(s.rec) OVER (PARTITION BY {keys}) AS first "
                "FROM {stage} s WHERE {not_null} AND {unsettled}) x "
                "JOIN {stage} s ON s.rec = x.rec JOIN {stage} f ON f.rec = x.first "
                "WHERE x.rec <> x.first) y "
                "ON CONFLICT (rec) DO NOTHING"
            ).format(
                cls=stage.cls,
                pre=sql.Literal(f"conflict on {cname} ({key_cols})=("),
                diff=diff,
                shown=shown,
                keytext=_key_text(stage, cols),
                keys=keys,
                stage=stage.ident,
                not_null=not_null,
                unsettled=_not_settled(stage),
            )
        ).rowcount
    return n


def swallowers(conn: psycopg.Connection, oid: int) -> tuple[str, ...]:
    """The user triggers and rules on a table that can make an INSERT store fewer rows than it
    was given (a BEFORE trigger returning NULL, a DO INSTEAD rule)."""
    rows = conn.execute(
        """
        SELECT 'trigger ' || tgname FROM pg_trigger
        WHERE tgrelid = %(oid)s AND NOT tgisinternal AND tgenabled <> 'D'
          AND (tgtype & 7) = 7  -- ROW | BEFORE | INSERT
        UNION ALL
        SELECT 'rule ' || rulename FROM pg_rewrite
        WHERE ev_class = %(oid)s AND rulename <> '_RETURN' AND ev_type = '3'
        ORDER BY 1
        """,
        {"oid": oid},
    ).fetchall()
    return tuple(r[0] for r in rows)
