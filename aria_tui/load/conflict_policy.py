"""The table's conflict policy applied to the records conflicts.py classified as conflicts.

- `reject`: every conflict goes to the reject file (conflicts.py wrote its reason);
- `keep-target`: the target row stays; the record is listed as kept (and written to the kept
  file);
- `take-export`: the target row becomes the export's record; its old values go to the undo file;
  refused, per record and with the reason, where another table's foreign key holds the old key
  and does not cascade.

A conflict with an earlier record of the same file is rejected whatever the policy. The first
CONFLICT_DETAILS conflicts keep both sides' values for a side-by-side view (the wizard's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from aria_tui.load.conflicts import (
    Sinks,
    column_name,
    export_text,
    target_text,
)
from aria_tui.load.model import CONFLICT_DETAILS, ConflictRecord
from aria_tui.pg.rows import one
from aria_tui.status import KEEP_TARGET, REJECT, TAKE_EXPORT

if TYPE_CHECKING:
    from aria_tui.load.staging import Stage


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
                "AND NOT EXISTS (SELECT 1 FROM {rej} r WHERE r.rec = c.rec) RETURNING rec, reason, key"
            ).format(cls=stage.cls, rej=stage.rej)
        ).fetchall()
        if kept:
            stage.tally.kept_on.update({int(r[0]): str(r[2] or "") for r in kept})
            _record_kept(conn, stage, sorted((r[0], r[1]) for r in kept), sinks, lines)
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
    mine = sql.SQL(", ").join(clip.format(export_text(stage, c, "s"), _CLIP) for c in loaded)
    theirs = sql.SQL(", ").join(clip.format(target_text(c, "t"), _CLIP) for c in loaded)
    query = sql.SQL(
        "SELECT c.rec, ARRAY[{mine}]::text[], CASE WHEN t.ctid IS NULL THEN NULL "
        "ELSE ARRAY[{theirs}]::text[] END "
        "FROM {cls} c JOIN {stage} s ON s.rec = c.rec "
        "LEFT JOIN {table} t ON t.tableoid = c.toid AND t.ctid = c.tctid "
        "WHERE c.kind = 'conflict' AND c.action IS NULL ORDER BY c.rec LIMIT {room}"
    ).format(
        mine=mine,
        theirs=theirs,
        cls=stage.cls,
        stage=stage.ident,
        table=stage.plan.table.own_rows,
        room=room,
    )
    try:
        with conn.transaction():  # a view, never a reason to fail the table
            rows = conn.execute(query).fetchall()
    except psycopg.Error:
        return {}
    names = [column_name(c) for c in loaded]
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
                "EXISTS (SELECT 1 FROM {cls} o WHERE o.toid = c.toid AND o.tctid = c.tctid "
                "AND o.rec < c.rec "
                "AND o.kind = 'conflict')"
            ).format(cls=stage.cls),
        )
    )

    def refuse_differing(
        why: str, changed: sql.Composable, also: sql.Composable | None = None
    ) -> None:
        """Refuse each record whose target row differs from it where `changed` says (and `also`
        holds of that row): the row stays as it is, the record goes to the reject file."""
        cond = sql.SQL(
            "EXISTS (SELECT 1 FROM {stage} s JOIN {table} t "
            "ON t.tableoid = c.toid AND t.ctid = c.tctid "
            "WHERE s.rec = c.rec AND ({changed}){also})"
        ).format(
            stage=stage.ident,
            table=table.own_rows,
            changed=changed,
            also=sql.SQL("") if also is None else sql.SQL(" AND ") + also,
        )
        conn.execute(refuse.format(cls=stage.cls, rej=stage.rej, why=sql.Literal(why), cond=cond))

    def differs(columns: list[str], values: list[sql.Composable]) -> sql.Composable:
        return sql.SQL(" OR ").join(
            sql.SQL("t.{} IS DISTINCT FROM {}").format(sql.Identifier(c), v)
            for c, v in zip(columns, values, strict=True)
        )

    # another table's foreign key holds the old key and does not follow it (no ON UPDATE CASCADE)
    by_target = {c.target.name: c for c in stage.loaded if c.target}
    for name, child, cols, ref_cols in _referencing(conn, table.oid):
        if not all(r in by_target for r in ref_cols):
            continue
        held = sql.SQL(" AND ").join(
            sql.SQL("k.{} = t.{}").format(sql.Identifier(c), sql.Identifier(r))
            for c, r in zip(cols, ref_cols, strict=True)
        )
        schema, _, rel = child.partition(".")
        refuse_differing(
            f"; take-export refused: {child} ({name}) still references the target row's "
            f"old {', '.join(ref_cols)} and does not cascade",
            differs(list(ref_cols), [stage.value(by_target[r]) for r in ref_cols]),
            sql.SQL("EXISTS (SELECT 1 FROM {child} k WHERE {held})").format(
                child=sql.Identifier(schema, rel), held=held
            ),
        )
    # an identity column GENERATED ALWAYS takes no value from an UPDATE (the server refuses the
    # statement, whatever the value): it is left out of the SET, and a record whose value there
    # differs from the target row's is refused, the row kept as it is
    always = [c for c in stage.loaded if c.target is not None and c.target.identity == "always"]
    if always:
        names = ", ".join(column_name(c) for c in always)
        refuse_differing(
            f"; take-export refused: the target row's {names} differs, and {names} is an "
            "identity column GENERATED ALWAYS, which an UPDATE cannot change",
            differs([column_name(c) for c in always], [stage.value(c) for c in always]),
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
            "SELECT c.rec, {cols} FROM {cls} c "
            "JOIN {table} t ON t.tableoid = c.toid AND t.ctid = c.tctid "
            "WHERE c.rec = ANY(%s) ORDER BY c.rec"
        ).format(
            cols=sql.SQL(", ").join(
                sql.SQL("t.{}::text").format(sql.Identifier(col.name)) for col in table.columns
            ),
            cls=stage.cls,
            table=table.own_rows,
        ),
        (recs,),
    ).fetchall()
    settable = [c for c in stage.loaded if c.target is not None and c not in always]
    if not settable:  # only identity columns, each equal to the row's: a duplicate, not a conflict
        return
    sets = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column_name(c)), stage.value(c)) for c in settable
    )
    update = sql.SQL(
        "UPDATE {table} t SET {sets} FROM {stage} s, {cls} c "
        "WHERE c.rec = s.rec AND t.tableoid = c.toid AND t.ctid = c.tctid AND c.rec = ANY(%s)"
    ).format(table=table.own_rows, sets=sets, stage=stage.ident, cls=stage.cls)
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
