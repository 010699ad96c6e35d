"""The sequence check: each serial/identity sequence hands out a value past the column's extreme."""

from __future__ import annotations

import psycopg
from psycopg import sql

from aria_tui.pg.catalog import Table
from aria_tui.pg.rows import one
from aria_tui.validate.checks.wording import join_details, number
from aria_tui.validate.model import SEQUENCES, Check


def sequences(conn: psycopg.Connection, table: Table) -> Check | None:
    """Each serial/identity sequence hands out a value past the column's current extreme."""
    cols = [c for c in table.columns if c.sequence]
    if not cols:
        return None
    problems, fine = [], []
    for col in cols:
        seq = col.sequence
        assert seq
        increment, last_value, is_called = one(conn.execute(
            sql.SQL(
                "SELECT (SELECT seqincrement FROM pg_sequence WHERE seqrelid = {lit}::regclass), "
                "last_value, is_called FROM {seq}"
            ).format(lit=sql.Literal(seq), seq=sql.SQL(seq))
        ))
        extreme_fn = "max" if increment > 0 else "min"
        extreme = one(conn.execute(
            sql.SQL("SELECT {f}({c}) FROM {t}").format(
                f=sql.SQL(extreme_fn), c=sql.Identifier(col.name), t=table.ident
            )
        ))[0]
        # nextval returns last_value itself until the sequence has been called once
        next_value = last_value + increment if is_called else last_value
        if extreme is None:
            fine.append(f"{seq}: next value {number(next_value)} (table empty)")
            continue
        ok = next_value > extreme if increment > 0 else next_value < extreme
        text = f"{seq}: next value {number(next_value)}, {extreme_fn}({col.name}) = {number(extreme)}"
        if ok:
            fine.append(text)
        else:
            problems.append(
                f"{text}: the next insert would reuse an existing {col.name}; reset it with "
                f"SELECT setval('{seq}', {extreme})"
            )
    if problems:
        return Check(SEQUENCES, False, join_details(problems + fine))
    return Check(SEQUENCES, True, join_details(fine))
