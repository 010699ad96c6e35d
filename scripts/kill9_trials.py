#!/usr/bin/env python
"""kill -9 trials of `aria-tui load` on a bigger export, for manual use (issue 8).

Each trial: a fresh target database; `python -m aria_tui load EXPORT --yes --json` started cold,
killed with SIGKILL at a random moment of its load (seeded); every table must then hold 0 rows
or all of them (one transaction per table); a re-run is let finish; the target must then hold
exactly the rows of an uninterrupted run (per-table count and an md5 over the rows in key order,
compared with a reference database loaded once without interruption).

Then one trial per table where the loader kills itself right after that table's COMMIT, before
any client-side bookkeeping (ARIA_TUI_KILL_AFTER_COMMIT, see aria_tui/load/run.py): the re-run
must take the table from the target's commit record and insert nothing twice. The export has
three tables: parent (raw COPY path), child (vectors, binary path) and events, whose bigserial
key the file does not supply (compared without its ids: a killed run's nextval is never given
back).

    python scripts/kill9_trials.py                      # 10 + 3 trials, 3 tables x 200,000 rows
    python scripts/kill9_trials.py --trials 20 --rows 500000 --seed 7
    python scripts/kill9_trials.py --dsn postgresql://user@host/postgres   # a real server

Without --dsn an embedded PostgreSQL (pgserver) is started in a temporary directory. With
--dsn the role needs CREATEDB: the script creates and drops databases named aria_kill9_*.
Exit 0 when every trial converged, 1 otherwise. Tests run the same check on a smaller file
(tests/db/test_faults.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile import ALL_DDL, EVENTS_FINGERPRINT, FINGERPRINT, write_export  # noqa: E402

LOAD_QUERY = re.compile(r"^\s*(COPY|INSERT|LOCK TABLE|SET LOCAL|SELECT count|CREATE TEMP)", re.I)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--rows", type=int, default=200_000, help="rows per table (3 tables)")
    parser.add_argument(
        "--no-after-commit", action="store_true", help="skip the kill-right-after-COMMIT trials"
    )
    parser.add_argument("--seed", type=int, default=20260110)
    parser.add_argument("--dsn", default=None, help="admin DSN of a server (default: embedded)")
    parser.add_argument(
        "--work", default=None, help="folder for the export and state (default: temp)"
    )
    args = parser.parse_args()

    work = Path(args.work or tempfile.mkdtemp(prefix="aria-kill9-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["ARIA_TUI_STATE_DIR"] = str(work / "state")  # journals and rejects of the trials
    os.environ["ARIA_TUI_DATA_DIR"] = str(work / "data")
    admin = args.dsn or _embedded(work / "pg")
    export = work / "export"
    print(f"writing {args.rows:,} rows x 3 tables to {export} ...", flush=True)
    expected = write_export(export, args.rows)

    ref = _fresh(admin, "aria_kill9_ref")
    started = time.monotonic()
    done = _load(export, ref)
    whole = time.monotonic() - started
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    loading = json.loads(done.stdout)["seconds"]
    order = [t["target"] for t in json.loads(done.stdout)["tables"]]
    reference = _fingerprints(ref, expected)
    print(f"reference: {whole:.1f} s ({loading:.1f} s loading) {reference}", flush=True)

    rng = random.Random(args.seed)
    failures = 0
    for trial in range(1, args.trials + 1):
        db = _fresh(admin, f"aria_kill9_{trial}")
        delay = rng.uniform(0.0, loading * 1.05)
        proc = subprocess.Popen(
            [sys.executable, "-m", "aria_tui", "load", str(export), "--dsn", db, "--yes", "--json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        phase = _wait_loading(db, proc)
        end = time.monotonic() + delay
        while proc.poll() is None and time.monotonic() < end:
            phase = _phase(db) or phase
            time.sleep(0.01)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        after_kill = {t: _count(db, t) for t in expected}
        half = [t for t, n in after_kill.items() if n not in (0, expected[t])]
        rerun = _load(export, db)
        final = _fingerprints(db, expected)
        ok = not half and rerun.returncode == 0 and final == reference
        failures += not ok
        print(
            f"trial {trial:2}: {'killed' if killed else 'finished'} at {delay:5.2f} s into the load "
            f"({phase or 'between statements'}), rows after kill {after_kill}, re-run exit "
            f"{rerun.returncode}: {'EXACT' if ok else 'DIFFERENT'}",
            flush=True,
        )
        if not ok:
            print(
                f"  half-loaded: {half}; final {final}; stderr: {rerun.stderr[-400:]}", flush=True
            )
        _drop(admin, f"aria_kill9_{trial}")
    trials = args.trials
    for table in [] if args.no_after_commit else order:
        trials += 1
        name = f"aria_kill9_c{trials}"
        db = _fresh(admin, name)
        killed = _load(export, db, {"ARIA_TUI_KILL_AFTER_COMMIT": table})
        after_kill = {t: _count(db, t) for t in expected}
        committed = [t for t in order if after_kill[t]]
        half = [t for t, n in after_kill.items() if n not in (0, expected[t])]
        rerun = _load(export, db)
        final = _fingerprints(db, expected)
        again = {t["target"]: t for t in json.loads(rerun.stdout)["tables"]} if rerun.stdout else {}
        twice = [t for t in committed if again.get(t, {}).get("inserted") != 0]
        ok = (
            killed.returncode == -signal.SIGKILL
            and committed == order[: order.index(table) + 1]
            and not half
            and not twice
            and rerun.returncode == 0
            and final == reference
        )
        failures += not ok
        print(
            f"trial {trials:2}: killed itself right after the COMMIT of {table} (exit "
            f"{killed.returncode}), committed {committed}, re-run exit {rerun.returncode}, "
            f"inserted again {[(t, again.get(t, {}).get('inserted')) for t in committed]}: "
            f"{'EXACT' if ok else 'DIFFERENT'}",
            flush=True,
        )
        if not ok:
            print(f"  half {half}; final {final}; stderr: {rerun.stderr[-400:]}", flush=True)
        _drop(admin, name)
    _drop(admin, "aria_kill9_ref")
    print(f"{trials - failures} of {trials} trials converged to the uninterrupted load")
    return 0 if failures == 0 else 1


def _embedded(data: Path) -> str:
    from aria_tui.pg import embedded

    return embedded.start(data).get_uri("postgres")


def _with_db(admin: str, name: str) -> str:
    parts = conninfo_to_dict(admin)
    parts["dbname"] = name
    return make_conninfo(**parts)


def _fresh(admin: str, name: str) -> str:
    _drop(admin, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = _with_db(admin, name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        for statement in ALL_DDL:
            conn.execute(statement)
    return dsn


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _load(export: Path, dsn: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aria_tui", "load", str(export), "--dsn", dsn, "--yes", "--json"],
        capture_output=True,
        text=True,
        timeout=3600,
        env={**os.environ, **(env or {})},
    )


def _phase(dsn: str) -> str | None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT query FROM pg_stat_activity WHERE application_name = 'aria-tui' "
            "AND datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"
        ).fetchall()
    for (q,) in rows:
        if LOAD_QUERY.match(q or ""):
            return " ".join(q.split()[:2])
    return None


def _wait_loading(dsn: str, proc: subprocess.Popen) -> str | None:
    """Until the loader is inside its first table (the cold start and scan are not the test)."""
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        phase = _phase(dsn)
        if phase:
            return phase
        time.sleep(0.01)
    return None


def _count(dsn: str, table: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(table))).fetchone()[0]


def _fingerprints(dsn: str, expected: dict[str, int]) -> dict[str, tuple]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {
            t: tuple(
                conn.execute(
                    (EVENTS_FINGERPRINT if t == "public.events" else FINGERPRINT).format(t)
                ).fetchone()
            )
            for t in expected
        }


if __name__ == "__main__":
    sys.exit(main())
