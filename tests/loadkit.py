"""Helpers shared by the load tests (a module of helpers, not tests): small hand-made exports,
scans and runs on a real target."""

from __future__ import annotations

import csv
import hashlib
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql as pgsql

from aria_tui.load import RunResult, make_plan, run_plan
from aria_tui.manifest import format as m
from aria_tui.pg.connect import Target
from aria_tui.scan import scan

SAMPLE_EXPORT = Path(__file__).resolve().parent.parent / "sample_export"


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
            done += t.previously_conflicts + t.previously_updated
            assert t.csv_rows == done, t


def manifest_of(*tables: m.ManifestTable, compression: str | None = None) -> m.Manifest:
    """A manifest listing `tables`, as an export of database `src` on PostgreSQL 18.3 wrote it."""
    return m.Manifest(
        tool_version="0.1.0",
        database="src",
        server_version="18.3",
        server_version_num=180003,
        snapshot_time="2026-01-10T22:38:29+00:00",
        tables=tables,
        compression=compression,
    )


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


def selected_files(db: Target, folder: Path) -> list[tuple[str, str]]:
    """(file, schema.table) of the default selection, as `scan` says."""
    with psycopg.connect(db.conninfo) as conn:
        inventory = scan(folder, conn)
    return [(t.file.name, t.target) for t in inventory.selected]


def load_with_copy(db: Target, folder: Path = SAMPLE_EXPORT) -> set[str]:
    """Table by table, the way an operator would with `psql \\copy table (header) FROM file CSV
    HEADER` (seed 000 §6), with triggers off so FK order does not matter (seed 000 §7.5).
    Returns the tables that loaded; a file that does not load as-is is left out."""
    loaded = set()
    with psycopg.connect(db.conninfo) as conn:
        for file, target in selected_files(db, folder):
            path = folder / file
            with open(path, encoding="utf-8-sig", newline="") as fh:
                header = next(csv.reader(fh))
            schema, name = target.split(".")
            try:
                conn.execute("SET session_replication_role = replica")
                with conn.cursor().copy(
                    pgsql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(
                        pgsql.Identifier(schema, name), pgsql.SQL(", ").join(map(pgsql.Identifier, header))
                    )
                ) as copy:
                    copy.write(path.read_bytes())
                conn.commit()
                loaded.add(target)
            except psycopg.Error:
                conn.rollback()
    return loaded


def connect_with(db: Target, ddl: str) -> psycopg.Connection:
    """A connection to `db` once `ddl` ran there, committed (a scan reads the catalog)."""
    conn = psycopg.connect(db.conninfo)
    conn.execute(ddl)
    conn.commit()
    return conn


def _statement_running(db: Target, like: str) -> int | None:
    """The server pid of the backend running a statement LIKE `like` (ILIKE), if any."""
    rows = query(
        db,
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND query ILIKE %s AND state = 'active'",
        (like,),
    )
    return rows[0][0] if rows else None


def kill_9_during(db: Target, argv: list[str], env: dict[str, str], like: str) -> None:
    """Run the loader (`argv`), SIGKILL it while its backend runs a statement LIKE `like` (an
    index build), then end that backend as a crash of the client would (the server has not
    noticed yet: the backend is inside the statement) and wait until it is gone."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        pid = None
        while pid is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
            pid = _statement_running(db, like)
        assert pid is not None, f"the load never ran a statement like {like!r}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    query(db, f"SELECT pg_terminate_backend({pid})")
    deadline = time.monotonic() + 30
    while _statement_running(db, like) is not None and time.monotonic() < deadline:
        time.sleep(0.1)


def index_defs(db: Target, table: str) -> dict[str, tuple]:
    """Every index of `table` as the catalog has it: name -> (definition, valid, clustered,
    comment); what "every index back exactly as it was" compares."""
    rows = query(
        db,
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid, i.indisclustered, "
        "obj_description(i.indexrelid, 'pg_class') FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
        (table,),
    )
    return {name: (d, valid, clustered, comment) for name, d, valid, clustered, comment in rows}
