"""Helpers shared by the load tests (a module of helpers, not tests): small hand-made exports,
scans and runs on a real target."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import psycopg

from aria_tui.load import RunResult, make_plan, run_plan
from aria_tui.manifest import format as m
from aria_tui.pg.connect import Target
from aria_tui.scan import scan


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


def sql(db: Target, *statements: str) -> None:
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        for s in statements:
            conn.execute(s)


def query(db: Target, statement: str, params=None) -> list[tuple]:
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        return conn.execute(statement, params).fetchall()


def plan_for(db: Target, folder: Path, tables: list[str] | None = None):
    with db.connect() as conn:
        inventory = scan(folder, conn, "none", target_display=db.display)
        conn.rollback()
    return make_plan(inventory, tables)


def load(
    db: Target,
    folder: Path,
    tables: list[str] | None = None,
    *,
    dry_run: bool = False,
    force_staging: bool = False,
    on_event=None,
    cancel: threading.Event | None = None,
    lock_timeout: str = "10s",
    on_conflict: str | None = None,
) -> RunResult:
    from aria_tui.load.plan import with_policy

    plan = with_policy(plan_for(db, folder, tables), on_conflict)
    return run_plan(
        db,
        plan,
        dry_run=dry_run,
        force_staging=force_staging,
        on_event=on_event,
        cancel=cancel,
        lock_timeout=lock_timeout,
    )


def assert_counts_add_up(result: RunResult) -> None:
    for t in result.tables:
        if t.status == "loaded":
            assert (
                t.csv_rows == t.inserted + t.updated + t.duplicates + t.conflicts + t.rejected
            ), t
        elif t.status == "resumed":  # this run inserted nothing; the earlier run's numbers
            assert t.inserted == t.duplicates == t.rejected == 0, t
            done = t.previously_inserted + t.previously_duplicates + t.previously_rejected
            assert t.csv_rows == done, t


def manifest_entry(name: str, text: str) -> m.ManifestTable:
    """The manifest's entry for a file `name` holding `text` (one header line, one record a line,
    every column of source type text), as `aria-tui export` would write it."""
    data = text.encode()
    schema, table = m.stem_of(name).split(".", 1)
    header = text.splitlines()[0].split(",")
    return m.ManifestTable(
        file=name,
        schema=schema,
        table=table,
        records=text.count("\n") - 1,
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        columns=tuple(m.ManifestColumn(c, "text", False) for c in header),
    )
