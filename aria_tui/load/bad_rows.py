"""A stage's bad rows, found in SQL before the insert, each with the reason its reject says.

The rules a staged record must meet to be inserted (aria_tui/pg/row_rules.py, the ones validate
asks too), checked per column over the whole stage in one statement: a NOT NULL column is
filled; a value is loadable (for types whose input has soft errors: an extension's that has none
is left to the insert and its bisection, staging.py); a vector is one pgvector's input takes, of
the column's dimension. Then each foreign key by anti-join: to the parent table, and to the
staged rows themselves for a self-reference, repeated until nothing changes, so a reply before
its parent in the file loads and a reply to a rejected parent is rejected too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from aria_tui.pg import row_rules
from aria_tui.pg.catalog import ForeignKey

if TYPE_CHECKING:
    from aria_tui.load.staging import Stage, StageColumn


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
                sql.SQL("WHEN {missing} THEN {msg}").format(
                    missing=row_rules.missing(ref),
                    msg=sql.Literal(
                        f'column "{c.csv_name}" is empty (NULL) but {stage.plan.target}.'
                        f"{col.name} is NOT NULL"
                    ),
                )
            )
        if c.typed_vector:
            continue
        if col.is_vector:
            # pgvector's own input decides; a vector of another dimension says which it has
            fn = row_rules.vector_try_cast(conn, col)
            cases.append(
                sql.SQL(
                    "WHEN {ref} IS NOT NULL AND {fn}({ref}, {dim}) IS NULL THEN {label} || "
                    "CASE WHEN {fn}({ref}, NULL) IS NOT NULL THEN {expected} || "
                    "vector_dims({fn}({ref}, NULL)) ELSE 'not a vector literal' END"
                ).format(
                    ref=ref,
                    fn=fn,
                    dim=sql.Literal(col.dimension),
                    label=label,
                    expected=sql.Literal(f"expected {col.dimension} dimensions, not "),
                )
            )
            continue
        if col.type == "text" or not row_rules.soft_input(conn, col.type):
            continue  # no soft errors (an extension's input): bisection finds its bad rows
        cases.append(
            sql.SQL("WHEN {ref} IS NOT NULL AND NOT {ok} THEN {label} || {why}").format(
                ref=ref,
                ok=row_rules.loadable(ref, col.type),
                label=label,
                why=row_rules.input_error(ref, col.type),
            )
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
