"""Indexes a chunked load took down in a transaction of its own, recorded in the target until
they stand again (`aria_tui.pending`, created with the commit records by pg/commits.ensure).

A load whose chunks commit one by one cannot drop and rebuild a table's indexes inside one
transaction, as a whole-file load does (load/indexes.py). So the drop is committed together with
a row here holding every definition, and the transaction that builds them again deletes the row.
Whatever happens in between (a kill -9, a lost connection, a cancel), the row says what to
restore: the next load restores it before it touches the table (load/chunked.recover),
and validation refuses to call the table proven while the row exists.

This module holds the SQL only (the definitions are JSON objects to it): validate reads it too.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

from aria_tui.pg.rows import one


def _exists(conn: psycopg.Connection) -> bool:
    return bool(one(conn.execute("SELECT to_regclass('aria_tui.pending') IS NOT NULL"))[0])


def write(conn: psycopg.Connection, table: str, run_id: str, defs: list[dict[str, Any]]) -> None:
    """Record `defs` (each with its "name") as taken down from `table`, in the caller's
    transaction (the one dropping them): one row each, so that each can be built again in a
    transaction of its own that deletes its row."""
    for d in defs:
        conn.execute(
            "INSERT INTO aria_tui.pending (target_table, name, run_id, definition) "
            "VALUES (%s, %s, %s, %s)",
            (table, d["name"], run_id, json.dumps(d)),
        )


def read(conn: psycopg.Connection, table: str) -> list[dict[str, Any]] | None:
    """What `table` still waits for (None: nothing pending)."""
    if not _exists(conn):
        return None
    rows = conn.execute(
        "SELECT definition FROM aria_tui.pending WHERE target_table = %s ORDER BY name", (table,)
    ).fetchall()
    return [json.loads(r[0]) for r in rows] or None


def tables(conn: psycopg.Connection) -> dict[str, list[str]]:
    """Every table with indexes still down, and the indexes' names; {} when this role may not
    read the records (validation then has nothing to hold against the table)."""
    try:
        with conn.transaction():
            if not _exists(conn):
                return {}
            rows = conn.execute(
                "SELECT target_table, name FROM aria_tui.pending ORDER BY target_table, name"
            ).fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return {}
    out: dict[str, list[str]] = {}
    for table, name in rows:
        out.setdefault(str(table), []).append(str(name))
    return out


def clear(conn: psycopg.Connection, table: str, name: str | None = None) -> None:
    """Forget what `table` waited for (only `name`, when given), in the transaction that built it."""
    if name is None:
        conn.execute("DELETE FROM aria_tui.pending WHERE target_table = %s", (table,))
    else:
        conn.execute(
            "DELETE FROM aria_tui.pending WHERE target_table = %s AND name = %s", (table, name)
        )
