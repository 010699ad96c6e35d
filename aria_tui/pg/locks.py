"""Who holds a lock on a table, and the sentence `load` and `validate` give when they stop
waiting for it (one wording, so an operator reads the same thing from both)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # every subcommand's arguments read DEFAULT_LOCK_TIMEOUT: --help need not import psycopg
    import psycopg

# How long the tool waits for a table another session holds before it gives up with
# gave_up_sentence(): a PostgreSQL duration, the default of load and validate (--lock-timeout)
DEFAULT_LOCK_TIMEOUT = "10s"
# The export reads a live source under its application's traffic, where a longer wait beats a
# failed dump; its --lock-timeout is in seconds
EXPORT_LOCK_TIMEOUT_SECONDS = 30.0

_HOLDERS = (
    "SELECT a.pid, l.mode, coalesce(nullif(a.application_name, ''), 'no application name'), "
    "coalesce(a.state, 'state not visible to this role') FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.relation = %s::oid AND l.granted AND a.pid <> pg_backend_pid() ORDER BY a.pid"
)


def holders(conn: psycopg.Connection, table_oid: int) -> str:
    """' (held by pid N, MODE, application, state; ...)', or '' when nobody is seen holding it.
    Raises psycopg.Error like any query (the caller knows what its transaction can afford)."""
    rows = conn.execute(_HOLDERS, (table_oid,)).fetchall()
    if not rows:
        return ""
    return (
        " (held by "
        + "; ".join(f"pid {pid}, {mode}, {app}, {state}" for pid, mode, app, state in rows)
        + ")"
    )


# the tables the table's foreign keys reference, named as the sentence names a table (the names
# are read from the server by oid: a name joined as 'schema.table' cannot be read back safely)
_PARENTS = (
    "SELECT DISTINCT c.confrelid, n.nspname || '.' || r.relname FROM pg_constraint c "
    "JOIN pg_class r ON r.oid = c.confrelid JOIN pg_namespace n ON n.oid = r.relnamespace "
    "WHERE c.conrelid = %s::oid AND c.contype = 'f' AND c.confrelid <> c.conrelid ORDER BY 2"
)


def holders_around(conn: psycopg.Connection, table_oid: int) -> tuple[str | None, str]:
    """Who holds the table, or else (the wait was on a row or the whole of a table its foreign
    keys reference: each row loaded locks its parent row FOR KEY SHARE) who holds one of its
    parents: (the parent's name or None for the table itself, ' (held by ...)' or '')."""
    held_by = holders(conn, table_oid)
    if held_by:
        return None, held_by
    for parent_oid, parent in conn.execute(_PARENTS, (table_oid,)).fetchall():
        held_by = holders(conn, int(parent_oid))
        if held_by:
            return str(parent), held_by
    return None, ""


def gave_up_sentence(
    target: str, lock_timeout: str, held_by: str, parent: str | None = None
) -> str:
    if parent is not None:
        return (
            f"Gave up on {target} after waiting {lock_timeout} for a lock on {parent}, which its "
            f"foreign key references (each row loaded locks its parent row): another session "
            f"holds a conflicting lock on {parent}{held_by}; end that session or run again later."
        )
    return (
        f"Gave up on {target} after waiting {lock_timeout} for a lock on it: another session "
        f"holds a conflicting lock{held_by}; end that session or run again later."
    )
