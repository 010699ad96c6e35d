"""What the checks' queries share: the staged tables' names for `SQL.format(**NAMES)`, the
order-independent checksum, one row of a statement.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from aria_tui.pg.rows import one
from aria_tui.validate.staging.layout import CAST, HASH, MISSING, ODD, REASON, REC

NOTHING = sql.SQL("")
SAMPLES = 5  # keys named in a failing detail
# what the queries below name over and over, for `SQL.format(**NAMES, ...)`: the staged tables
# and their internal columns (staging/layout.py), and how many samples a failing detail names
NAMES = {
    "rec": sql.Identifier(REC),
    "r": sql.Identifier(REASON),
    "h": sql.Identifier(HASH),
    "cast": sql.Identifier(CAST),
    "miss": sql.Identifier(MISSING),
    "odd": sql.Identifier(ODD),
    "n": sql.Literal(SAMPLES),
}


def checksum_bits(expr: sql.Composable) -> sql.Composable:
    # the first 60 bits of an md5 as a bigint: a sum of them is an order-independent checksum
    return sql.SQL("('x' || left({}, 15))::bit(60)::bigint").format(expr)


def one_row(conn: psycopg.Connection, query: sql.Composed) -> tuple[Any, ...]:
    return tuple(one(conn.execute(query)))
