"""Session settings of the loader's and the validator's connections: what they pin, so the
operator's shell cannot change the data, and what staging files in temporary tables needs.

A zoneless timestamp ('2026-01-02 03:04:05') read into a `timestamptz` column becomes the instant
of that wall-clock time in the session's TimeZone, which libpq takes from PGTZ when it is set:
the same file would store other instants from another shell. The loader and validate set the
zone themselves (UTC unless the operator chose another), whatever PGTZ says.

How the server prints dates, intervals and floats is pinned for every connection when it opens
(pg/connect.py, `pin_output`).
"""

from __future__ import annotations

import psycopg

from aria_tui.errors import AriaError
from aria_tui.pg.rows import one

DEFAULT_TIME_ZONE = "UTC"


def pin_time_zone(conn: psycopg.Connection, zone: str = DEFAULT_TIME_ZONE) -> None:
    """SET TimeZone for the session (outside any transaction: it must outlive them)."""
    try:
        conn.execute("SELECT set_config('TimeZone', %s, false)", (zone,))
    except psycopg.errors.InvalidParameterValue:
        conn.rollback()
        raise AriaError(
            f"The time zone {zone!r} is not one PostgreSQL knows (e.g. 'UTC', 'Europe/Paris', "
            "'+02:00')."
        ) from None
    conn.commit()


def prepare_session(
    conn: psycopg.Connection,
    lock_timeout: str,
    temp_buffers: str,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> None:
    """Set, for the whole session, and commit:

    - `temp_buffers`: staged files live in temporary tables, let them stay in memory (the server
      takes it only before the session's first temporary table, and only once committed);
    - the time zone (`pin_time_zone`);
    - `lock_timeout` (a PostgreSQL duration): never wait forever for a table another session
      holds. One that is no duration raises AriaError, said once before any table.
    """
    conn.execute("SELECT set_config('temp_buffers', %s, false)", (temp_buffers,))
    pin_time_zone(conn, time_zone)
    try:
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (lock_timeout,))
    except psycopg.Error:
        conn.rollback()
        raise AriaError(
            f"The lock timeout {lock_timeout!r} is not a PostgreSQL duration (e.g. '10s', "
            "'500ms', '2min')."
        ) from None
    conn.commit()


def pin_replication_role(conn: psycopg.Connection) -> None:
    """The loader's rows go through the target's foreign-key checks and triggers, as its decisions
    say (--triggers-off is one): `session_replication_role = replica`, set on the role or the
    database, would switch them all off in silence and commit orphans. Set back to `origin` for
    the session; a role that may not (only a superuser may set it) is one sentence, before any
    table."""
    if one(conn.execute("SELECT current_setting('session_replication_role')"))[0] == "origin":
        conn.commit()
        return
    try:
        conn.execute("SELECT set_config('session_replication_role', 'origin', false)")
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
        role, now = one(
            conn.execute("SELECT current_user, current_setting('session_replication_role')")
        )
        conn.rollback()
        raise AriaError(
            f"The role {role} runs with session_replication_role = {now} (set on the role or the "
            "database), which switches off the target's foreign-key checks and triggers for every "
            f"row loaded, and may not set it back: run ALTER ROLE {role} RESET "
            "session_replication_role (or ALTER DATABASE ... RESET) as a superuser, then load "
            "again."
        ) from None
    conn.commit()
