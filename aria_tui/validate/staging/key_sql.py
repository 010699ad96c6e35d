"""SQL fragments over key columns: matching two rows by key or foreign key, NOT NULL tests,
the key as text for naming a row, a qualified table name.
"""

from __future__ import annotations

from psycopg import sql

from aria_tui.pg.catalog import key_column_equal


def key_match(
    cols: tuple[str, ...], left: str, right: str, nulls_equal: bool = False
) -> sql.Composable:
    """`left.k1 = right.k1 AND ...`; with `nulls_equal` (a UNIQUE NULLS NOT DISTINCT key, whose
    NULL is a value one row may hold) a NULL matches a NULL too."""
    return sql.SQL(" AND ").join(
        key_column_equal(sql.Identifier(left, c), sql.Identifier(right, c), nulls_equal)
        for c in cols
    )


def fk_match(
    cols: tuple[str, ...], ref_cols: tuple[str, ...], left: str, right: str
) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(right), sql.Identifier(rc), sql.Identifier(left), sql.Identifier(c)
        )
        for c, rc in zip(cols, ref_cols, strict=True)
    )


def not_null(cols: tuple[str, ...], alias: str) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} IS NOT NULL").format(sql.Identifier(alias), sql.Identifier(c)) for c in cols
    )


def key_text(cols: tuple[str, ...], alias: str) -> sql.Composable:
    """The key's values as text columns, for naming a row in a detail."""
    return sql.SQL(", ").join(
        sql.SQL("{}.{}::text").format(sql.Identifier(alias), sql.Identifier(c)) for c in cols
    )


def qualified(name: str) -> sql.Composable:
    schema, _, table = name.partition(".")
    return sql.Identifier(schema, table) if table else sql.Identifier(schema)
