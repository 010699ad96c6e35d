"""The foreign-key check: no loaded row points at a parent the target lacks."""

from __future__ import annotations

import psycopg
from psycopg import sql

from aria_tui.pg.catalog import Table
from aria_tui.pg.rows import one
from aria_tui.validate.checks.queries import NAMES
from aria_tui.validate.checks.wording import join_details, key_label, number
from aria_tui.validate.model import FOREIGN_KEYS, Check
from aria_tui.validate.staging.key_sql import fk_match, key_match, key_text, not_null, qualified
from aria_tui.validate.staging.layout import Layout


def foreign_keys(conn: psycopg.Connection, table: Table, lay: Layout | None) -> Check | None:
    """No loaded row points at a parent the target does not have (self-references included)."""
    if not table.foreign_keys:
        return None
    loaded: sql.Composable = sql.SQL("")
    scope = "rows"
    if lay is not None and lay.key:
        scope = "loaded rows"
        loaded = sql.SQL(" AND EXISTS (SELECT 1 FROM {cast} AS s WHERE {m})").format(
            **NAMES, m=key_match(lay.key, "s", "t")
        )
    problems, fine = [], []
    name_cols = lay.key if lay is not None and lay.key else None
    for fk in table.foreign_keys:
        cols, ref_cols = tuple(fk.columns), tuple(fk.ref_columns)
        where = sql.SQL("{nn} AND NOT EXISTS (SELECT 1 FROM {ref} AS p WHERE {m}){loaded}").format(
            nn=not_null(cols, "t"),
            ref=qualified(fk.ref_table),
            m=fk_match(cols, ref_cols, "t", "p"),
            loaded=loaded,
        )
        what = f"{', '.join(cols)} -> {fk.ref_table} ({', '.join(ref_cols)})"
        n = one(conn.execute(
            sql.SQL("SELECT count(*) FROM {t} AS t WHERE {w}").format(t=table.own_rows, w=where)
        ))[0]
        if not n:
            fine.append(what)
            continue
        shown = name_cols or cols
        rows = conn.execute(
            sql.SQL("SELECT {k}, {v} FROM {t} AS t WHERE {w} ORDER BY 1 LIMIT {n}").format(
                k=key_text(shown, "t"),
                v=key_text(cols, "t"),
                t=table.own_rows,
                w=where,
                **NAMES,
            )
        ).fetchall()
        named = ", ".join(
            f"{key_label(shown, tuple(r[: len(shown)]))} -> {', '.join(str(v) for v in r[len(shown):])}"
            for r in rows
        )
        problems.append(f"{number(n)} orphan{'s' if n != 1 else ''} of {what}: {named}")
    if problems:
        return Check(FOREIGN_KEYS, False, join_details(problems))
    return Check(FOREIGN_KEYS, True, f"no orphans among the {scope}: {'; '.join(fine)}")
