"""Indexes a chunked load took down in a transaction of its own, recorded in the target until
they stand again (`aria_tui.pending`, created with the commit records by pg/commits.ensure).

A load whose chunks commit one by one cannot drop and rebuild a table's indexes inside one
transaction, as a whole-file load does (load/indexes.py). So the drop is committed together with
a row here holding every definition, and the transaction that builds them again deletes the row.
Whatever happens in between (a kill -9, a lost connection, a cancel), the row says what to
restore: the next load restores it before it touches the table (load/indexes.restore_pending),
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
    """Record `defs` as taken down from `table`, in the caller's transaction (the one dropping
    them)."""
    conn.execute(
        "INSERT INTO aria_tui.pending (target_table, run_id, structures) VALUES (%s, %s, %s)",
        (table, run_id, json.dumps(defs)),
    )


def read(conn: psycopg.Connection, table: str) -> list[dict[str, Any]] | None:
    """What `table` still waits for (None: nothing pending)."""
    if not _exists(conn):
        return None
    row = conn.execute(
        "SELECT structures FROM aria_tui.pending WHERE target_table = %s", (table,)
    ).fetchone()
    return None if row is None else list(json.loads(row[0]))


def tables(conn: psycopg.Connection) -> dict[str, list[str]]:
    """Every table with indexes still down, and the indexes' names; {} when this role may not
    read the records (validation then has nothing to hold against the table)."""
    try:
        with conn.transaction():
            if not _exists(conn):
                return {}
            rows = conn.execute("SELECT target_table, structures FROM aria_tui.pending").fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return {}
    return {str(t): [str(d["name"]) for d in json.loads(s)] for t, s in rows}


def clear(conn: psycopg.Connection, table: str) -> None:
    conn.execute("DELETE FROM aria_tui.pending WHERE target_table = %s", (table,))
