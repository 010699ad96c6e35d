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
