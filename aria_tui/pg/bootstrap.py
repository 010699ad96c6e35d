"""Create a profile's schema on a target. Idempotent: a second run changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from aria_tui.errors import AriaError
from aria_tui.pg.catalog import read_catalog
from aria_tui.pg.rows import one
from aria_tui.profiles import Profile


@dataclass(frozen=True)
class BootstrapResult:
    profile: str
    created: tuple[str, ...]  # tables that did not exist before
    existing: tuple[str, ...]  # tables that were already there


def needs_bootstrap(conn: psycopg.Connection, profile: Profile) -> bool:
    """True when any of the profile's schemas or catalog tables is missing from the target.

    Schemas alone are not enough: a profile living in `public` (archon) always finds its schema.
    """
    rows = conn.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", (list(profile.schemas),)
    ).fetchall()
    if len(rows) < len(profile.schemas):
        return True
    targets = sorted({t.target for t in profile.tables if t.target})
    if not targets:
        return False
    present = one(conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname || '.' || c.relname = ANY(%s)",
        (targets,),
    ))[0]
    return present < len(targets)


def bootstrap(conn: psycopg.Connection, profile: Profile) -> BootstrapResult:
    """Run the profile's schema.sql in one transaction."""
    before = set(read_catalog(conn, list(profile.schemas)).tables)
    conn.commit()
    try:
        with conn.transaction():
            # a concurrent bootstrap of the same target must not interleave with ours
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('aria-tui bootstrap'))")
            conn.execute(profile.schema_sql)
    except psycopg.Error as exc:
        detail = (exc.diag.message_primary or str(exc)).strip().rstrip(".")
        raise AriaError(f"Bootstrapping the {profile.name} schema failed: {detail}.") from None
    after = set(read_catalog(conn, list(profile.schemas)).tables)
    conn.commit()
    return BootstrapResult(
        profile=profile.name,
        created=tuple(sorted(after - before)),
        existing=tuple(sorted(after & before)),
    )
