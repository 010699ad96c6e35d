"""A stage's bad rows, found in SQL before the insert, each with the reason its reject says.

The rules a staged record must meet to be inserted, checked per column over the whole stage in
one statement: a NOT NULL column is filled; a value is loadable (`pg_input_is_valid()`, PG16+,
for types whose input has soft errors: an extension's that has none is left to the insert and
its bisection, staging.py); a vector literal has the vector's shape and the column's dimension
(pgvector's input has no soft errors: by regex and comma count). Then each foreign key by
anti-join: to the parent table, and to the staged rows themselves for a self-reference, repeated
until nothing changes, so a reply before its parent in the file loads and a reply to a rejected
parent is rejected too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from aria_tui.pg.catalog import ForeignKey

if TYPE_CHECKING:
    from aria_tui.load.staging import Stage, StageColumn

_NUM = r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?"
VECTOR_RE = rf"^\s*\[\s*{_NUM}(\s*,\s*{_NUM})*\s*\]\s*$"


def find(conn: psycopg.Connection, stage: Stage, skip_fk_to: set[str]) -> None:
    """Write a reason into the stage's reject table for every staged record that breaks a rule."""
    cases = []
    for c in stage.loaded:
        col = c.target
        assert col is not None
        ref = sql.Identifier("s", c.ident)
        label = sql.Literal(f'column "{c.csv_name}": ')
        if col.not_null:
            cases.append(
                sql.SQL("WHEN {ref} IS NULL THEN {msg}").format(
                    ref=ref,
                    msg=sql.Literal(
                        f'column "{c.csv_name}" is empty (NULL) but {stage.plan.target}.'
                        f"{col.name} is NOT NULL"
                    ),
                )
            )
        if c.typed_vector:
            continue
        if col.is_vector:
            dim = col.dimension
            cases.append(
                sql.SQL("WHEN {ref} !~ {re} THEN {label} || 'not a vector literal'").format(
                    ref=ref, re=sql.Literal(VECTOR_RE), label=label
                )
            )
            if dim:
                count = sql.SQL("(length({ref}) - length(replace({ref}, ',', '')) + 1)").format(
                    ref=ref
                )
                cases.append(
                    sql.SQL(
                        "WHEN {count} <> {dim} THEN {label} || 'expected {d} dimensions, not ' || {count}"
                    ).format(
                        count=count, dim=sql.Literal(dim), label=label, d=sql.SQL(str(dim))
                    )
                )
            continue
        if col.base_type == "text" or not _soft(conn, col.type):
            continue  # no soft errors (an extension's input): bisection finds its bad rows
        typ = sql.Literal(col.type)
        cases.append(
            sql.SQL(
                "WHEN {ref} IS NOT NULL AND NOT pg_input_is_valid({ref}, {typ}) "
                "THEN {label} || (pg_input_error_info({ref}, {typ})).message"
            ).format(ref=ref, typ=typ, label=label)
        )
    if cases:
        conn.execute(
            sql.SQL(
                "INSERT INTO {rej} (rec, reason) SELECT rec, reason FROM "
                "(SELECT s.rec, CASE {cases} END AS reason FROM {stage} s) x "
                "WHERE reason IS NOT NULL ON CONFLICT (rec) DO NOTHING"
            ).format(rej=stage.rej, cases=sql.SQL(" ").join(cases), stage=stage.ident)
        )
    for fk in stage.plan.table.foreign_keys:
        if fk.ref_table in skip_fk_to and not fk.self_reference:
            continue
        _check_fk(conn, stage, fk)


def _soft(conn: psycopg.Connection, type_name: str) -> bool:
    """Whether pg_input_is_valid can judge values of this type: an input function without
    soft-error support (pgvector's sparsevec, many extensions') raises instead of answering,
    which would fail the table for one bad value."""
    try:
        with conn.transaction():
            conn.execute("SELECT pg_input_is_valid(%s, %s)", ("\x01{[<(?", type_name))
        return True
    except psycopg.Error:
        return False


def _check_fk(conn: psycopg.Connection, stage: Stage, fk: ForeignKey) -> None:
    by_target = {c.target.name: c for c in stage.loaded if c.target}
    if not all(k in by_target for k in fk.columns):
        return  # columns filled by defaults: the insert itself (and bisection) will judge
    keys = [by_target[k] for k in fk.columns]
    schema, _, name = fk.ref_table.partition(".")
    parent = sql.Identifier(schema, name)
    select: list[sql.Composable] = [sql.SQL("s.rec")]
    select += [
        sql.SQL("{} AS {}").format(stage.value(k), sql.Identifier(f"k{i}"))
        for i, k in enumerate(keys)
    ]
    refs: list[StageColumn] = []
    if fk.self_reference:
        if not all(r in by_target for r in fk.ref_columns):
            return
        refs = [by_target[r] for r in fk.ref_columns]
        select += [
            sql.SQL("{} AS {}").format(stage.value(r), sql.Identifier(f"r{i}"))
            for i, r in enumerate(refs)
        ]
    not_null = sql.SQL(" AND ").join(
        sql.SQL("g.{} IS NOT NULL").format(sql.Identifier(f"k{i}")) for i in range(len(keys))
    )
    in_parent = sql.SQL(" AND ").join(
        sql.SQL("p.{} = g.{}").format(sql.Identifier(rc), sql.Identifier(f"k{i}"))
        for i, rc in enumerate(fk.ref_columns)
    )
    shown = " || ', ' || ".join(f"coalesce(g.k{i}::text, '')" for i in range(len(keys)))
    reason = sql.SQL("{} || {}").format(
        sql.Literal(
            f"{', '.join(k.csv_name for k in keys)}: no row in {fk.ref_table} "
            f"({', '.join(fk.ref_columns)}) = "
        ),
        sql.SQL(shown),
    )
    in_stage: sql.Composable = sql.SQL("")
    if fk.self_reference:
        in_stage = sql.SQL(" AND NOT EXISTS (SELECT 1 FROM good h WHERE {})").format(
            sql.SQL(" AND ").join(
                sql.SQL("h.{} = g.{}").format(sql.Identifier(f"r{i}"), sql.Identifier(f"k{i}"))
                for i in range(len(keys))
            )
        )
    query = sql.SQL(
        "WITH good AS MATERIALIZED (SELECT {select} FROM {stage} s "
        "WHERE NOT EXISTS (SELECT 1 FROM {rej} r WHERE r.rec = s.rec)) "
        "INSERT INTO {rej} (rec, reason) SELECT g.rec, {reason} FROM good g "
        "WHERE {not_null} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {in_parent}){in_stage} "
        "ON CONFLICT (rec) DO NOTHING"
    ).format(
        select=sql.SQL(", ").join(select),
        stage=stage.ident,
        rej=stage.rej,
        reason=reason,
        not_null=not_null,
        parent=parent,
        in_parent=in_parent,
        in_stage=in_stage,
    )
    # a reply whose parent was just rejected loses its parent too: repeat until stable
    while conn.execute(query).rowcount and fk.self_reference:
        pass
