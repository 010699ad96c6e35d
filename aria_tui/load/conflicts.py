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

Everything here works on the Stage's temp tables: `<stage>_cls` (rec, kind, source, tctid,
reason, action) classifies records; `<stage>_rej` (staging.py) holds the rejects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from aria_tui.load.model import CONFLICT_DETAILS, ConflictRecord
from aria_tui.pg.rows import one

if TYPE_CHECKING:
    from aria_tui.load.rejects import RejectWriter
    from aria_tui.load.staging import Stage, StageColumn

REJECT = "reject"
KEEP_TARGET = "keep-target"
TAKE_EXPORT = "take-export"
POLICIES = (REJECT, KEEP_TARGET, TAKE_EXPORT)

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
            "tctid tid, reason text, action text) ON COMMIT DROP"
        ).format(stage.cls)
    )


def _name(c: StageColumn) -> str:
    assert c.target is not None
    return c.target.name


def usable_keys(stage: Stage) -> list[tuple[str, tuple[StageColumn, ...]]]:
    """(constraint name, stage columns) for each unique key whose every column the file fills."""
    by_target = {c.target.name: c for c in stage.loaded if c.target}
    out = []
    for key in stage.plan.table.unique_keys:
        if all(k in by_target for k in key.columns):
            out.append((key.name, tuple(by_target[k] for k in key.columns)))
    return out


def _export_text(stage: Stage, c: StageColumn, alias: str) -> sql.Composable:
    """The staged value as the target would print it (for comparison)."""
    from aria_tui.load.staging import STRING_TYPES

    col = c.target
    assert col is not None
    ref = sql.Identifier(alias, c.ident)
    if col.base_type == "bpchar":
        return sql.SQL("rtrim({})").format(ref)
    if col.base_type in STRING_TYPES and not c.typed_vector:
        return ref
    return sql.SQL("({})::text").format(stage.value(c, alias))


def _target_text(c: StageColumn, alias: str) -> sql.Composable:
    assert c.target is not None
    return sql.SQL("{}::text").format(sql.Identifier(alias, c.target.name))


def _equal(stage: Stage, c: StageColumn, other: str, other_is_stage: bool) -> sql.Composable:
    assert c.target is not None
    if c.target.base_type == "vector":  # pgvector's equality is safe here; its output is costly
        right = stage.value(c, other) if other_is_stage else sql.Identifier(other, c.target.name)
        return sql.SQL("({} IS NOT DISTINCT FROM {})").format(stage.value(c, "s"), right)
    right = _export_text(stage, c, other) if other_is_stage else _target_text(c, other)
    return sql.SQL("({} IS NOT DISTINCT FROM {})").format(_export_text(stage, c, "s"), right)


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
        shown = _export_text(stage, c, other) if other_is_stage else _target_text(c, other)
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
        sql.SQL(", ").join(_export_text(stage, c, "s") for c in cols)
    )


def _not_settled(stage: Stage) -> sql.Composable:
    return sql.SQL(
        "NOT EXISTS (SELECT 1 FROM {rej} r WHERE r.rec = s.rec) "
        "AND NOT EXISTS (SELECT 1 FROM {cls} c WHERE c.rec = s.rec)"
    ).format(rej=stage.rej, cls=stage.cls)


def classify_target(conn: psycopg.Connection, stage: Stage) -> None:
    """Records whose key the target already holds: a duplicate when equal, else a conflict.

    Casts only what the keys and the matched rows need, so it may raise a DataError on a bad
    key value; the caller then finds the bad rows first and runs it again."""
    table = stage.plan.table
    for cname, cols in usable_keys(stage):
        match = sql.SQL(" AND ").join(
            sql.SQL("t.{} = {}").format(sql.Identifier(_name(c)), stage.value(c)) for c in cols
        )
        diff, shown = _diff_parts(stage, "t", other_is_stage=False)
        key_cols = ", ".join(_name(c) for c in cols)
        conn.execute(
            sql.SQL(
                "INSERT INTO {cls} (rec, kind, source, tctid, reason) "
                "SELECT rec, CASE WHEN cardinality(diff) = 0 THEN 'dup' ELSE 'conflict' END, "
                "CASE WHEN mine THEN 'file' ELSE 'target' END, tctid, "
                "CASE WHEN cardinality(diff) = 0 THEN NULL WHEN mine THEN "
                "{pre} || keytext || '): an earlier record of this file has this key with different ' "
                "|| array_to_string(diff, ', ') || ' (' || shown || ')' "
                "ELSE {pre} || keytext || '): the target already holds this key with different ' "
                "|| array_to_string(diff, ', ') || '; target values: ' || shown END "
                "FROM (SELECT s.rec, t.ctid AS tctid, {mine} AS mine, {diff} AS diff, "
                "{shown} AS shown, {keytext} AS keytext "
                "FROM {stage} s JOIN {table} t ON {match} WHERE {unsettled}) x "
                "ON CONFLICT (rec) DO NOTHING"
            ).format(
                cls=stage.cls,
                pre=sql.Literal(f"conflict on {cname} ({key_cols})=("),
                mine=sql.SQL(_MINE.format(a="t")),
                diff=diff,
                shown=shown,
                keytext=_key_text(stage, cols),
                stage=stage.ident,
                table=table.ident,
                match=match,
                unsettled=_not_settled(stage),
            )
        )


def classify_file(conn: psycopg.Connection, stage: Stage) -> int:
    """Records repeating the key of an earlier staged record: a duplicate when equal, else a
    conflict. Returns how many records it classified."""
    n = 0
    for cname, cols in usable_keys(stage):
        keys = sql.SQL(", ").join(stage.value(c) for c in cols)
        not_null = sql.SQL(" AND ").join(
            sql.SQL("{} IS NOT NULL").format(sql.Identifier("s", c.ident)) for c in cols
        )
        diff, shown = _diff_parts(stage, "f", other_is_stage=True)
        key_cols = ", ".join(_name(c) for c in cols)
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


def decide(
    conn: psycopg.Connection,
    stage: Stage,
    policy: str,
    sinks: Sinks,
    lines: Callable[[list[int]], dict[int, int]],
) -> None:
    """Apply the policy to the classified conflicts: rejects, kept records, replaced rows."""
    tally = stage.tally
    # both sides' values, read before take-export replaces the target's rows
    seen = _values(conn, stage, CONFLICT_DETAILS - len(tally.details))
    # the export contradicting itself, and every conflict under `reject`
    where = "kind = 'conflict' AND action IS NULL" + (
        "" if policy == REJECT else " AND source = 'file'"
    )
    conn.execute(
        sql.SQL(
            "WITH d AS (UPDATE {cls} SET action = 'rejected' WHERE {w} RETURNING rec, reason) "
            "INSERT INTO {rej} (rec, reason) SELECT rec, reason FROM d ON CONFLICT (rec) DO NOTHING"
        ).format(cls=stage.cls, rej=stage.rej, w=sql.SQL(where))
    )
    if policy == KEEP_TARGET:
        kept = conn.execute(
            sql.SQL(
                "UPDATE {cls} c SET action = 'kept' WHERE kind = 'conflict' AND action IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM {rej} r WHERE r.rec = c.rec) RETURNING rec, reason"
            ).format(cls=stage.cls, rej=stage.rej)
        ).fetchall()
        if kept:
            _record_kept(conn, stage, sorted(kept), sinks, lines)
    elif policy == TAKE_EXPORT:
        _take_export(conn, stage, sinks, lines)
    if seen:
        _record_details(conn, stage, seen, lines)
    tally.duplicates += one(
        conn.execute(
            sql.SQL(
                "SELECT count(*) FROM {cls} c WHERE kind = 'dup' "
                "AND NOT EXISTS (SELECT 1 FROM {rej} r WHERE r.rec = c.rec)"
            ).format(cls=stage.cls, rej=stage.rej)
        )
    )[0]


_CLIP = 200  # characters of a value kept for the side-by-side view (a vector is thousands)


def _values(
    conn: psycopg.Connection, stage: Stage, room: int
) -> dict[int, tuple[tuple[str, str | None, str | None], ...]]:
    """rec -> (column, export value, target value) of the first `room` undecided conflicts."""
    loaded = [c for c in stage.loaded if c.target is not None]
    if room <= 0 or not loaded:
        return {}
    clip = sql.SQL("left({}, {})")
    mine = sql.SQL(", ").join(clip.format(_export_text(stage, c, "s"), _CLIP) for c in loaded)
    theirs = sql.SQL(", ").join(clip.format(_target_text(c, "t"), _CLIP) for c in loaded)
    query = sql.SQL(
        "SELECT c.rec, ARRAY[{mine}]::text[], CASE WHEN t.ctid IS NULL THEN NULL "
        "ELSE ARRAY[{theirs}]::text[] END "
        "FROM {cls} c JOIN {stage} s ON s.rec = c.rec LEFT JOIN {table} t ON t.ctid = c.tctid "
        "WHERE c.kind = 'conflict' AND c.action IS NULL ORDER BY c.rec LIMIT {room}"
    ).format(
        mine=mine,
        theirs=theirs,
        cls=stage.cls,
        stage=stage.ident,
        table=stage.plan.table.ident,
        room=room,
    )
    try:
        with conn.transaction():  # a view, never a reason to fail the table
            rows = conn.execute(query).fetchall()
    except psycopg.Error:
        return {}
    names = [_name(c) for c in loaded]
    out = {}
    for rec, export, target in rows:
        other = target if target is not None else [None] * len(names)
        out[rec] = tuple(zip(names, export, other, strict=True))
    return out


def _record_details(
    conn: psycopg.Connection,
    stage: Stage,
    seen: dict[int, tuple[tuple[str, str | None, str | None], ...]],
    lines: Callable[[list[int]], dict[int, int]],
) -> None:
    recs = sorted(seen)
    where = lines(recs)
    rows = conn.execute(
        sql.SQL(
            "SELECT rec, source, coalesce(action, 'rejected'), coalesce(reason, '') FROM {cls} "
            "WHERE rec = ANY(%s) ORDER BY rec"
        ).format(cls=stage.cls),
        (recs,),
    ).fetchall()
    for rec, source, action, reason in rows:
        stage.tally.details.append(
            ConflictRecord(where.get(rec, 0), reason, source, action, seen[rec])
        )


def _fields(stage: Stage, alias: str = "s") -> sql.Composable:
    return sql.SQL(", ").join(
        sql.SQL("{}::text").format(sql.Identifier(alias, c.ident)) for c in stage.columns
    )


def _record_kept(
    conn: psycopg.Connection,
    stage: Stage,
    kept: list[tuple[int, str]],
    sinks: Sinks,
    lines: Callable[[list[int]], dict[int, int]],
) -> None:
    recs = [r for r, _ in kept]
    where = lines(recs)
    reasons = dict(kept)
    for rec, _ in kept:
        stage.tally.kept_records.append(
            (rec, where.get(rec, 0), f"kept by decision (keep-target): {reasons[rec]}")
        )
    stage.tally.kept += len(kept)
    if sinks.kept is not None:
        rows = conn.execute(
            sql.SQL("SELECT s.rec, {f} FROM {stage} s WHERE s.rec = ANY(%s) ORDER BY s.rec").format(
                f=_fields(stage), stage=stage.ident
            ),
            (recs,),
        ).fetchall()
        sinks.kept.write(
            (where.get(r[0], 0), f"kept by decision (keep-target): {reasons[r[0]]}", r[1:])
            for r in rows
        )


def _take_export(
    conn: psycopg.Connection,
    stage: Stage,
    sinks: Sinks,
    lines: Callable[[list[int]], dict[int, int]],
) -> None:
    table = stage.plan.table
    refuse = sql.SQL(
        "WITH d AS (UPDATE {cls} c SET action = 'rejected', reason = c.reason || {why} "
        "WHERE c.kind = 'conflict' AND c.action IS NULL AND {cond} RETURNING c.rec, c.reason) "
        "INSERT INTO {rej} (rec, reason) SELECT rec, reason FROM d ON CONFLICT (rec) DO NOTHING"
    )
    # two records claiming one target row (by two keys): only the first may take it
    conn.execute(
        refuse.format(
            cls=stage.cls,
            rej=stage.rej,
            why=sql.Literal("; take-export refused: an earlier record of this file takes that row"),
            cond=sql.SQL(
                "EXISTS (SELECT 1 FROM {cls} o WHERE o.tctid = c.tctid AND o.rec < c.rec "
                "AND o.kind = 'conflict')"
            ).format(cls=stage.cls),
        )
    )
    # another table's foreign key holds the old key and does not follow it (no ON UPDATE CASCADE)
    by_target = {c.target.name: c for c in stage.loaded if c.target}
    for name, child, cols, ref_cols in _referencing(conn, table.oid):
        if not all(r in by_target for r in ref_cols):
            continue
        changed = sql.SQL(" OR ").join(
            sql.SQL("t.{} IS DISTINCT FROM {}").format(sql.Identifier(r), stage.value(by_target[r]))
            for r in ref_cols
        )
        held = sql.SQL(" AND ").join(
            sql.SQL("k.{} = t.{}").format(sql.Identifier(c), sql.Identifier(r))
            for c, r in zip(cols, ref_cols, strict=True)
        )
        schema, _, rel = child.partition(".")
        conn.execute(
            refuse.format(
                cls=stage.cls,
                rej=stage.rej,
                why=sql.Literal(
                    f"; take-export refused: {child} ({name}) still references the target row's "
                    f"old {', '.join(ref_cols)} and does not cascade"
                ),
                cond=sql.SQL(
                    "EXISTS (SELECT 1 FROM {stage} s JOIN {table} t ON t.ctid = c.tctid "
                    "WHERE s.rec = c.rec AND ({changed}) "
                    "AND EXISTS (SELECT 1 FROM {child} k WHERE {held}))"
                ).format(
                    stage=stage.ident,
                    table=table.ident,
                    changed=changed,
                    child=sql.Identifier(schema, rel),
                    held=held,
                ),
            )
        )
    todo = conn.execute(
        sql.SQL(
            "SELECT rec FROM {cls} c WHERE kind = 'conflict' AND action IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM {rej} r WHERE r.rec = c.rec) ORDER BY rec"
        ).format(cls=stage.cls, rej=stage.rej)
    ).fetchall()
    if not todo:
        return
    recs = [r[0] for r in todo]
    where = lines(recs)
    old = conn.execute(
        sql.SQL(
            "SELECT c.rec, {cols} FROM {cls} c JOIN {table} t ON t.ctid = c.tctid "
            "WHERE c.rec = ANY(%s) ORDER BY c.rec"
        ).format(
            cols=sql.SQL(", ").join(
                sql.SQL("t.{}::text").format(sql.Identifier(col.name)) for col in table.columns
            ),
            cls=stage.cls,
            table=table.ident,
        ),
        (recs,),
    ).fetchall()
    sets = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(c.target.name), stage.value(c))
        for c in stage.loaded
        if c.target
    )
    update = sql.SQL(
        "UPDATE {table} t SET {sets} FROM {stage} s, {cls} c "
        "WHERE c.rec = s.rec AND t.ctid = c.tctid AND c.rec = ANY(%s)"
    ).format(table=table.ident, sets=sets, stage=stage.ident, cls=stage.cls)
    done: list[int] = []
    try:
        with conn.transaction():
            if conn.execute(update, (recs,)).rowcount == len(recs):
                done = recs
            else:
                raise _Retry()
    except (psycopg.errors.DataError, psycopg.errors.IntegrityError, _Retry):
        from aria_tui.load.staging import _message

        for rec in recs:  # one by one: each refusal with the server's own reason
            try:
                with conn.transaction():
                    if conn.execute(update, ([rec],)).rowcount != 1:
                        raise _Retry()
                done.append(rec)
            except (psycopg.errors.DataError, psycopg.errors.IntegrityError, _Retry) as exc:
                why = "the row changed" if isinstance(exc, _Retry) else _message(exc)
                conn.execute(
                    sql.SQL(
                        "UPDATE {cls} SET action = 'rejected', reason = reason || %s WHERE rec = %s"
                    ).format(cls=stage.cls),
                    (f"; take-export refused: {why}", rec),
                )
                conn.execute(
                    sql.SQL(
                        "INSERT INTO {rej} (rec, reason) SELECT rec, reason FROM {cls} "
                        "WHERE rec = %s ON CONFLICT (rec) DO NOTHING"
                    ).format(rej=stage.rej, cls=stage.cls),
                    (rec,),
                )
    if not done:
        return
    conn.execute(
        sql.SQL("UPDATE {cls} SET action = 'updated' WHERE rec = ANY(%s)").format(cls=stage.cls),
        (done,),
    )
    stage.tally.updated += len(done)
    if sinks.undo is not None:
        ok = set(done)
        sinks.undo.write(
            (
                where.get(r[0], 0),
                "the target's values before take-export replaced them with this line's record",
                r[1:],
            )
            for r in old
            if r[0] in ok
        )


class _Retry(Exception):
    pass


def _referencing(conn: psycopg.Connection, oid: int) -> list[tuple[str, str, list[str], list[str]]]:
    """Foreign keys of any table that reference `oid` and do not cascade on update."""
    rows = conn.execute(
        """
        SELECT con.conname, n.nspname || '.' || c.relname,
               ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
                     ORDER BY k.o)::text[],
               ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n
                     ORDER BY k.o)::text[]
        FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE con.contype = 'f' AND con.confrelid = %s AND con.confupdtype <> 'c'
        ORDER BY con.conname
        """,
        (oid,),
    ).fetchall()
    return [(r[0], r[1], list(r[2]), list(r[3])) for r in rows]


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
