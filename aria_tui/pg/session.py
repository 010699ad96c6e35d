"""Session settings a load or a validation pins, so the operator's shell cannot change the data.

A zoneless timestamp ('2026-01-02 03:04:05') read into a `timestamptz` column becomes the instant
of that wall-clock time in the session's TimeZone, which libpq takes from PGTZ when it is set:
the same file would store other instants from another shell. The loader and validate set the
zone themselves (UTC unless the operator chose another), whatever PGTZ says.
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
