"""The one transaction an export reads in: the output settings pg_dump pins and no timeouts,
every chosen table locked ACCESS SHARE, the catalog read, and a server error said as one sentence
naming the table."""

from __future__ import annotations

from datetime import UTC

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql

from aria_tui.errors import ExportError, first_line
from aria_tui.pg.catalog import Catalog, read_catalog
from aria_tui.pg.rows import one


def begin_snapshot(conn: psycopg.Connection, lock_timeout: float) -> str:
    """Session settings for a long read, then the snapshot's time (now() is fixed per transaction)."""
    # SET LOCAL: they end with the transaction, whoever owns the connection afterwards.
    # First, the output settings pg_dump pins, whatever the database or role says (ALTER
    # DATABASE ... SET): floats in full (extra_float_digits 0 would round 1.2345678 to 1.23457),
    # dates and intervals in the forms every input function reads back the same (DateStyle
    # 'SQL, DMY' writes 02/01/2026; IntervalStyle sql_standard writes -1 2:00:00 for
    # '-1 days -2 hours', which postgres-style input reads as -1 day +2 hours), instants in UTC
    conn.execute("SET LOCAL extra_float_digits = 3")
    conn.execute("SET LOCAL DateStyle = ISO")
    conn.execute("SET LOCAL IntervalStyle = postgres")
    conn.execute("SET LOCAL TimeZone = 'UTC'")
    conn.execute("SET LOCAL statement_timeout = 0")
    conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
    conn.execute(
        sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{int(lock_timeout * 1000)}ms"))
    )
    # COPY converts to the client encoding: UTF-8 files, whatever the session default
    conn.execute("SET LOCAL client_encoding = 'UTF8'")
    # with row-level security on (Supabase enables it everywhere) a role without BYPASSRLS would
    # silently read a subset of a table; off, the query fails instead, as pg_dump makes it do
    conn.execute("SET LOCAL row_security = off")
    now = one(conn.execute("SELECT now()"))[0]
    return now.astimezone(UTC).isoformat()


def lock_table(conn: psycopg.Connection, name: tuple[str, str], lock_timeout: float) -> None:
    qualified = ".".join(name)
    try:
        conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(sql.Identifier(*name)))
    except pgerrors.LockNotAvailable:
        raise ExportError(_locked(qualified, lock_timeout)) from None
    except psycopg.Error as exc:
        raise ExportError(sentence(exc, qualified, conn)) from None


def read_catalog_locked(conn: psycopg.Connection, schemas: list[str], lock_timeout: float) -> Catalog:
    """read_catalog, naming the table when another session's exclusive lock stops it (reading a
    column default opens its table, so even a table we do not export can be in the way)."""
    try:
        with conn.transaction():  # a savepoint: after a lock timeout we can still ask who it was
            return read_catalog(conn, schemas)
    except pgerrors.LockNotAvailable:
        row = conn.execute(_EXCLUSIVE_LOCKS_SQL, {"schemas": schemas}).fetchone()
        raise ExportError(
            _locked(row[0] if row else f"in {', '.join(schemas)}", lock_timeout)
        ) from None
    except psycopg.Error as exc:
        raise ExportError(sentence(exc, None, conn)) from None


_EXCLUSIVE_LOCKS_SQL = """
SELECT n.nspname || '.' || c.relname
FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.locktype = 'relation' AND l.granted AND l.mode = 'AccessExclusiveLock'
  AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND n.nspname = ANY(%(schemas)s)
ORDER BY 1
LIMIT 1
"""


def _locked(name: str, lock_timeout: float) -> str:
    return (
        f"Table {name} is locked by another session (waited {lock_timeout:g} s); "
        "retry when it is free, or raise --lock-timeout."
    )


def sentence(exc: psycopg.Error, table: str | None, conn: psycopg.Connection) -> str:
    """One sentence from a server or connection error; libpq's text can run to several lines."""
    reason = first_line(exc).rstrip(".")
    if isinstance(exc, pgerrors.UndefinedTable) and table:
        return f"Table {table} disappeared from the source during the export ({reason})."
    # psycopg files lock and timeout errors under OperationalError too: ask the connection
    if conn.broken or conn.closed:
        where = f" while exporting {table}" if table else ""
        return f"The connection to the source was lost{where}: {reason}."
    if isinstance(exc, pgerrors.InsufficientPrivilege):
        hint = (
            "export as the table's owner or a role with BYPASSRLS, so no row is left out"
            if "row-level security" in reason
            else "export as a role that can read every table"
        )
        return f"Cannot read {table or 'the source'}: {reason}; {hint}."
    if table:
        return f"Exporting {table} failed: {reason}."
    return f"The export failed: {reason}."
