"""What the connected role may see of a table: row-level security.

A policy that applies to the role (RLS enabled and the role neither the owner of a table without
FORCE ROW LEVEL SECURITY, nor a superuser, nor BYPASSRLS) decides which rows it sees and may write.
The loader could not find the rows a table already holds (duplicates, conflicts, the count the
load is proven by), and validation could not see rows that are there, nor rows that should not be
(a proof both ways would call a table exact with rows hidden from it): both refuse such a table
with this one sentence instead. This module imports psycopg only: load and validate both use it.
"""

from __future__ import annotations

import psycopg

from aria_tui.pg.rows import one


def row_security_applies(conn: psycopg.Connection, table_oid: int) -> str | None:
    """The role's name when row-level security applies to it on the table, else None."""
    active, role = one(
        conn.execute("SELECT row_security_active(%s::oid::regclass), current_user", (table_oid,))
    )
    return str(role) if active else None


def rls_sentence(role: str, table: str, doing: str) -> str:
    """`doing`: 'load' or 'validate'."""
    return (
        f"Row-level security applies to the role {role} on {table}: its policies decide which "
        f"rows this role may see and write, so aria-tui cannot {doing} the table through it; "
        f"{doing} as the table's owner (when the table does not FORCE ROW LEVEL SECURITY) or as a "
        "role with BYPASSRLS."
    )
