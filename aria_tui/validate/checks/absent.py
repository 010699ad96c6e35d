"""Why a record the target lacks is absent: a vector the load cannot take, another unique key
finding a row, a parent in neither the target nor the export, or else missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import psycopg
from psycopg import sql

from aria_tui.validate.checks.queries import NAMES, SAMPLES, checksum_bits, one_row
from aria_tui.validate.checks.staged import Parent, Staged
from aria_tui.validate.checks.wording import key_label
from aria_tui.validate.staging.cast_sql import vector_function, vector_reason
from aria_tui.validate.staging.key_sql import fk_match, key_match, not_null, qualified
from aria_tui.validate.staging.layout import HASH, PARENT_KEYS, REC
from aria_tui.validate.staging.server_copy import stage_parent_keys


def _sql_label(cols: tuple[str, ...], alias: str) -> sql.Composable:
    """key_label() in SQL: `id=42` or `(a, b)=(x, y)` from the columns of `alias`."""
    values = [
        sql.SQL("coalesce({}.{}::text, 'NULL')").format(sql.Identifier(alias), sql.Identifier(c))
        for c in cols
    ]
    if len(cols) == 1:
        return sql.SQL("concat({}, {})").format(sql.Literal(f"{cols[0]}="), values[0])
    return sql.SQL("concat({}, concat_ws(', ', {}), ')')").format(
        sql.Literal(f"({', '.join(cols)})=("), sql.SQL(", ").join(values)
    )


def explain_absent(
    conn: psycopg.Connection,
    s: Staged,
    source: str,
    parents: dict[str, Parent] | None,
    check_cancel: Callable[[], None] | None,
) -> Staged:
    """Sort the records the target lacks ('a' in `_aria_odd`): a vector the load cannot take
    (not loadable), another unique key finding a target row (a difference), a parent in neither
    the target nor the export (an orphan: not loadable), or else missing."""
    lay = s.lay
    table = lay.table
    key = lay.key or ()
    target = table.own_rows
    cols: list[sql.Composable] = [
        sql.SQL("o.rec AS {}").format(sql.Identifier(REC)),
        sql.SQL("o.n AS _n"),
        sql.SQL("s.{} AS _h").format(sql.Identifier(HASH)),
    ]
    cols += [
        sql.SQL("s.{}::text AS {}").format(sql.Identifier(c), sql.Identifier(f"k{i}"))
        for i, c in enumerate(key)
    ]
    other = [
        sql.SQL(
            "(SELECT concat({ul}, ' matches the target row ', {tl}) FROM {t} AS t WHERE {m} LIMIT 1)"
        ).format(
            ul=_sql_label(u, "s"),
            tl=_sql_label(key, "t"),
            t=target,
            m=key_match(u, "t", "s", nulls_equal=u in table.nulls_equal_keys),
        )
        for u in lay.uniques
    ] if key else []
    cols.append(
        sql.SQL("coalesce({}) AS _other").format(sql.SQL(", ").join(other))
        if other
        else sql.SQL("NULL::text AS _other")
    )
    bad_parts = [
        vector_reason(
            sql.SQL("r.{}").format(sql.Identifier(p.stage)),
            sql.SQL("{}(r.{}, {})").format(
                vector_function(conn, p.column), sql.Identifier(p.stage), sql.Literal(p.column.dimension)
            ),
            p.column,
        )
        for p in lay.text_vectors
    ]
    cols.append(
        sql.SQL("NULLIF(concat_ws('; ', {}), '') AS _bad").format(sql.SQL(", ").join(bad_parts))
        if bad_parts
        else sql.SQL("NULL::text AS _bad")
    )
    for i, (_name, fcols, ref, ref_cols) in enumerate(lay.fks):
        cols.append(
            sql.SQL("({nn} AND NOT EXISTS (SELECT 1 FROM {ref} AS p WHERE {m})) AS {f}").format(
                nn=not_null(fcols, "s"),
                ref=qualified(ref),
                m=fk_match(fcols, ref_cols, "s", "p"),
                f=sql.Identifier(f"_fk{i}"),
            )
        )
    join_source = (
        sql.SQL(" JOIN {} AS r ON r.{rec} = s.{rec}").format(sql.Identifier(source), **NAMES)
        if bad_parts
        else sql.SQL("")
    )
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {miss}").format(**NAMES))
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {miss} AS SELECT {cols} FROM {odd} AS o "
            "JOIN {cast} AS s ON s.{rec} = o.rec{join} WHERE o.kind = 'a'"
        ).format(**NAMES, cols=sql.SQL(", ").join(cols), join=join_source)
    )
    # a parent the target lacks excuses nothing unless the export lacks it too
    labels: list[sql.Composable] = []
    for i, (_name, fcols, ref, ref_cols) in enumerate(lay.fks):
        flag = sql.Identifier(f"_fk{i}")
        pending = one_row(
            conn,
            sql.SQL(
                "SELECT count(*) FROM {miss} WHERE {f} AND _other IS NULL AND _bad IS NULL"
            ).format(**NAMES, f=flag),
        )[0]
        where = f"{', '.join(fcols)} -> {ref} ({', '.join(ref_cols)})"
        if not pending:
            continue
        if check_cancel:
            check_cancel()
        found: sql.Composable | None = None  # the export's parent keys: a table with ref_cols
        known = True
        if ref == table.qualified:
            if all(c in lay.kept for c in ref_cols):
                found = sql.SQL("(SELECT {} FROM {cast}) AS p").format(
                    sql.SQL(", ").join(map(sql.Identifier, ref_cols)), **NAMES
                )
            else:
                known = False
            what = f"{s.file} itself"
        else:
            parent = (parents or {}).get(ref, Parent())
            if not parent.files:
                what = f"the export (it has no file for {ref})"
            else:
                name = f"{PARENT_KEYS}{i}"
                what = ", ".join(f.name for f in parent.files)
                for j, pf in enumerate(parent.files):
                    known = known and pf.lay is not None and stage_parent_keys(
                        conn, pf.path, pf.lay, ref_cols, name, append=j > 0, check_cancel=check_cancel
                    )
                if known:
                    found = sql.SQL("{} AS p").format(sql.Identifier(name))
        if not known:
            # the parent's file cannot be read for its keys: nothing proves the parent absent
            conn.execute(sql.SQL("UPDATE {miss} SET {f} = false").format(**NAMES, f=flag))
            continue
        if found is not None:
            conn.execute(
                sql.SQL(
                    "UPDATE {miss} AS m SET {f} = false FROM {cast} AS s WHERE s.{rec} = m.{rec} "
                    "AND m.{f} AND EXISTS (SELECT 1 FROM {found} WHERE {match})"
                ).format(**NAMES, f=flag, found=found, match=fk_match(fcols, ref_cols, "s", "p"))
            )
        labels.append(
            sql.SQL("CASE WHEN {} THEN {} END").format(
                flag, sql.Literal(f"{where}: the parent is in neither the target nor {what}")
            )
        )
    orphan = (
        sql.SQL("NULLIF(concat_ws('; ', {}), '')").format(sql.SQL(", ").join(labels))
        if labels
        else sql.SQL("NULL::text")
    )
    conn.execute(sql.SQL("ALTER TABLE {miss} ADD COLUMN _orphan text").format(**NAMES))
    conn.execute(sql.SQL("UPDATE {miss} SET _orphan = {o}").format(**NAMES, o=orphan))
    bad, bad_sum, other_n, orphans, missing = (
        int(v or 0)
        for v in one_row(
            conn,
            sql.SQL(
                "SELECT sum(_n) FILTER (WHERE _bad IS NOT NULL), "
                "sum({b} * _n) FILTER (WHERE _bad IS NOT NULL), "
                "sum(_n) FILTER (WHERE _bad IS NULL AND _other IS NOT NULL), "
                "sum(_n) FILTER (WHERE _bad IS NULL AND _other IS NULL AND _orphan IS NOT NULL), "
                "sum(_n) FILTER (WHERE _bad IS NULL AND _other IS NULL AND _orphan IS NULL) "
                "FROM {miss}"
            ).format(**NAMES, b=checksum_bits(sql.SQL("_h"))),
        )
    )
    ks = sql.SQL(", ").join(sql.Identifier(f"k{i}") for i in range(len(key))) if key else sql.SQL("NULL")

    def named(row: tuple[Any, ...]) -> str:
        rec = int(row[0])
        return key_label(key, tuple(row[2:])) if key else f"record {rec}"

    def sample(where: str, extra: str) -> list[tuple[Any, ...]]:
        return conn.execute(
            sql.SQL("SELECT {rec}, {e}, {ks} FROM {miss} WHERE {w} ORDER BY {rec} LIMIT {n}").format(
                **NAMES, e=sql.SQL(extra), ks=ks, w=sql.SQL(where)
            )
        ).fetchall()

    changes: dict[str, Any] = {"missing": missing, "orphans": orphans, "other_key": other_n}
    if bad:
        rows = sample("_bad IS NOT NULL", "_bad")
        changes["invalid"] = s.invalid + bad
        changes["invalid_samples"] = tuple(
            sorted(s.invalid_samples + tuple((int(r[0]), str(r[1])) for r in rows))
        )[:SAMPLES]
        changes["export_rows"] = s.export_rows - bad
        changes["export_sum"] = s.export_sum - bad_sum
    if other_n:
        rows = sample("_bad IS NULL AND _other IS NOT NULL", "_other")
        changes["other_key_samples"] = tuple(
            (int(r[0]), f"{named(r)} is not in the target, but {r[1]}") for r in rows
        )
    if orphans:
        rows = sample("_bad IS NULL AND _other IS NULL AND _orphan IS NOT NULL", "_orphan")
        changes["orphan_samples"] = tuple((int(r[0]), f"{named(r)} ({r[1]})") for r in rows)
    if missing:
        rows = sample("_bad IS NULL AND _other IS NULL AND _orphan IS NULL", "NULL")
        changes["missing_samples"] = tuple((int(r[0]), named(r)) for r in rows)
    return replace(s, **changes)
