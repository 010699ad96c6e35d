"""The vector check: every vector of the target table has the column's dimension."""

from __future__ import annotations

import psycopg
from psycopg import sql

from aria_tui.pg.catalog import Table
from aria_tui.validate.checks.queries import NAMES
from aria_tui.validate.checks.wording import join_details, key_label, number
from aria_tui.validate.model import VECTORS, Check
from aria_tui.validate.staging.key_sql import key_text


def vectors(conn: psycopg.Connection, table: Table) -> Check | None:
    """Every non-null vector has the column's dimension (the most common one when undeclared)."""
    cols = table.vector_columns
    if not cols:
        return None
    key = table.key
    problems, fine = [], []
    for col in cols:
        c = sql.Identifier(col.name)
        dims = conn.execute(
            sql.SQL(
                "SELECT vector_dims({c}), count(*) FROM {t} WHERE {c} IS NOT NULL "
                "GROUP BY 1 ORDER BY 2 DESC, 1"
            ).format(c=c, t=table.own_rows)
        ).fetchall()
        total = sum(n for _, n in dims)
        expected = col.dimension or (dims[0][0] if dims else None)
        wrong = [(d, n) for d, n in dims if d != expected]
        if not wrong:
            how = "declared" if col.dimension else "undeclared, all equal"
            fine.append(f"{col.name}: {number(total)} vectors of {expected} dimensions ({how})" if total else f"{col.name}: no vectors")
            continue
        bad = sum(n for _, n in wrong)
        named = ""
        if key:
            rows = conn.execute(
                sql.SQL(
                    "SELECT {k}, vector_dims({c}) FROM {t} AS t WHERE {c} IS NOT NULL "
                    "AND vector_dims({c}) <> {d} ORDER BY 1 LIMIT {n}"
                ).format(
                    k=key_text(key, "t"), c=c, t=table.own_rows, d=sql.Literal(expected),
                    **NAMES,
                )
            ).fetchall()
            named = ": " + ", ".join(
                f"{key_label(key, tuple(r[:-1]))} has {r[-1]}" for r in rows
            )
        problems.append(
            f"{col.name}: {number(bad)} of {number(total)} vectors are not {expected}-dimensional{named}"
        )
    if problems:
        return Check(VECTORS, False, join_details(problems + fine))
    return Check(VECTORS, True, join_details(fine))
