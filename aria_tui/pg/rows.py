"""Reading the one row of a query that always returns one (count(*), current_setting(), ...)."""

from __future__ import annotations

from typing import Any

import psycopg


def one(cur: psycopg.Cursor[Any]) -> Any:
    """The single row `cur` returned; a query that returned none is a bug, not an input error."""
    row = cur.fetchone()
    if row is None:
        raise RuntimeError("a query that always returns a row returned none")
    return row
