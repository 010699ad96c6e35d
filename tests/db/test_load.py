"""`aria-tui load`: issue 5's "Done when" on the sample export, the JSON contract, kill -9."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from loadkit import query, sql

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_EXPORT = ROOT / "sample_export"
needs_sample = pytest.mark.skipif(
    not (SAMPLE_EXPORT.is_dir() and any(SAMPLE_EXPORT.glob("*.csv"))),
    reason="sample_export/ is not generated yet",
)

TABLE_KEYS = {
    "target",
    "file",
    "csv_rows",
    "inserted",
    "duplicates",
    "rejected",
    "status",
    "error",
    "reject_file",
    "seconds",
}


def _counts(db, targets) -> dict[str, int]:
    with psycopg.connect(db.conninfo) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - catalog names
            for t in targets
        }


@needs_sample
def test_sample_export_loads_exactly_and_a_rerun_changes_nothing(aria_db, cli):
    before = _counts(aria_db, ["aria_data.memories", "aria_data.thoughts"])
    code, out, err = cli("load", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--yes", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (
        set(data) >= {"dry_run", "ok", "tables"} and data["ok"] is True and data["dry_run"] is False
    )
    tables = data["tables"]
    assert tables and all(TABLE_KEYS <= set(t) for t in tables)
    for t in tables:
        assert t["status"] == "loaded", t
        assert t["inserted"] + t["duplicates"] + t["rejected"] == t["csv_rows"], t
    counts = _counts(aria_db, [t["target"] for t in tables])
    for t in tables:
        seeded = before.get(t["target"], 0)
        assert counts[t["target"]] == seeded + t["inserted"], t
        # every CSV row is in the target: new or one the target already had
        assert counts[t["target"]] >= t["csv_rows"] - t["rejected"], t
    memories = next(t for t in tables if t["target"] == "aria_data.memories")
    assert memories["duplicates"] >= 1  # aria_identity is a duplicate, not an error
    assert query(
        aria_db, "SELECT count(*) FROM aria_data.memories WHERE key = 'aria_identity'"
    ) == [(1,)]

    code, out, err = cli("load", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--yes", "--json")
    assert code == 0, err
    again = json.loads(out)
    assert all(t["status"] == "resumed" for t in again["tables"])
    assert _counts(aria_db, list(counts)) == counts


@needs_sample
def test_sample_rerun_without_journal_inserts_nothing(aria_db, cli, tmp_path, monkeypatch):
    code, out, _ = cli("load", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--yes", "--json")
    assert code == 0
    counts = _counts(aria_db, [t["target"] for t in json.loads(out)["tables"]])
    monkeypatch.setenv("ARIA_TUI_STATE_DIR", str(tmp_path / "other-state"))  # journal gone
    code, out, _ = cli("load", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--yes", "--json")
    assert code == 0
    tables = json.loads(out)["tables"]
    # the target's commit records, not the lost journal, say every table is loaded
    assert all(t["status"] == "resumed" and t["inserted"] == 0 for t in tables), tables
    assert all(
        t["previously_inserted"] + t["previously_duplicates"] + t["previously_rejected"]
        == t["csv_rows"]
        for t in tables
    ), tables
    assert _counts(aria_db, list(counts)) == counts


@needs_sample
def test_sample_dry_run_matches_real_run_and_leaves_target_unchanged(aria_db, templates, cli):
    fresh = templates.fresh("aria_v4")
    targets = None
    code, out, err = cli(
        "load", SAMPLE_EXPORT, "--dsn", fresh.conninfo, "--yes", "--json", "--dry-run"
    )
    assert code == 0, err
    dry = json.loads(out)
    assert dry["dry_run"] is True
    targets = [t["target"] for t in dry["tables"]]
    assert _counts(fresh, targets) == _counts(aria_db, targets)  # untouched: same as a fresh one
    code, out, _ = cli("load", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--yes", "--json")
    real = json.loads(out)

    def key(d):
        return [
            (t["target"], t["csv_rows"], t["inserted"], t["duplicates"], t["rejected"])
            for t in d["tables"]
        ]

    assert key(dry) == key(real)


def test_no_tty_without_yes_refuses_with_exit_2(empty_db, cli, tmp_path, monkeypatch):
    sql(empty_db, "CREATE TABLE q (id int PRIMARY KEY)")
    (tmp_path / "public.q.csv").write_text("id\n1\n")
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115
    code, out, err = cli("load", tmp_path, "--dsn", empty_db.conninfo, "--profile", "none")
    assert code == 2 and "--yes" in err and "Traceback" not in err
    assert query(empty_db, "SELECT count(*) FROM q") == [(0,)]


def test_rejects_exit_1_and_unknown_table_exit_2(empty_db, cli, tmp_path):
    sql(empty_db, "CREATE TABLE q (id int PRIMARY KEY)")
    (tmp_path / "public.q.csv").write_text("id\n1\nx\n")
    code, out, err = cli(
        "load", tmp_path, "--dsn", empty_db.conninfo, "--profile", "none", "--yes", "--json"
    )
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert data["tables"][0]["rejected"] == 1 and data["tables"][0]["reject_file"]
    code, out, err = cli(
        "load",
        tmp_path,
        "--dsn",
        empty_db.conninfo,
        "--profile",
        "none",
        "--yes",
        "--tables",
        "nope",
    )
    assert code == 2 and "nope" in err


# -- kill -9 in the middle of a table, then a re-run -------------------------------------------

ROWS = 200_000


def _kill_file(path: Path) -> None:
    lines = ["id,name,body"]
    for i in range(1, ROWS + 1):
        lines.append(
            f'{i},n{i},"body {i}\nwith ""quotes"", and commas"' if i % 97 == 0 else f"{i},n{i},b{i}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _wait_copying(db, proc, deadline: float) -> bool:
    """Wait until the loader's COPY into the table (or its stage) is under way."""
    while time.monotonic() < deadline and proc.poll() is None:
        rows = query(
            db,
            "SELECT count(*) FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid) "
            "WHERE a.application_name = 'aria-tui' AND p.tuples_processed > 0",
        )
        if rows[0][0]:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("staging", [False, True])
def test_kill_9_mid_table_then_rerun_gives_exactly_the_rows(empty_db, tmp_path, staging):
    sql(
        empty_db,
        "CREATE TABLE small (id int PRIMARY KEY)",
        "CREATE TABLE big (id int PRIMARY KEY, name text NOT NULL, body text)",
    )
    (tmp_path / "public.small.csv").write_text("id\n1\n2\n3\n")
    _kill_file(tmp_path / "public.big.csv")
    env = dict(os.environ)
    args = [
        sys.executable,
        "-m",
        "aria_tui",
        "load",
        str(tmp_path),
        "--dsn",
        empty_db.conninfo,
        "--profile",
        "none",
        "--yes",
        "--json",
    ]
    if staging:
        args.append("--force-staging")
    rng = random.Random(5)
    killed = 0
    for _trial in range(3):
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if _wait_copying(empty_db, proc, time.monotonic() + 60):
            # within the table's transaction: its COPY of 200,000 rows into a table whose key is
            # built after them takes a few tenths of a second, the key and the commit less
            time.sleep(rng.uniform(0.0, 0.05))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
        proc.communicate(timeout=120)
    assert killed, "the loader finished before it could be killed: make the file bigger"
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    big = next(t for t in result["tables"] if t["target"] == "public.big")
    assert big["csv_rows"] == ROWS
    assert query(empty_db, "SELECT count(*), count(DISTINCT id), sum(id) FROM big") == [
        (ROWS, ROWS, ROWS * (ROWS + 1) // 2)
    ]
    assert query(empty_db, "SELECT body FROM big WHERE id = 97") == [
        ('body 97\nwith "quotes", and commas',)
    ]
    assert query(empty_db, "SELECT count(*) FROM small") == [(3,)]


def test_bad_lock_timeout_is_one_sentence_exit_2(empty_db, cli, tmp_path):
    sql(empty_db, "CREATE TABLE q (id int PRIMARY KEY)")
    (tmp_path / "public.q.csv").write_text("id\n1\n")
    code, out, err = cli(
        "load",
        tmp_path,
        "--dsn",
        empty_db.conninfo,
        "--profile",
        "none",
        "--yes",
        "--lock-timeout",
        "soon",
    )
    assert code == 2 and "soon" in err and "Traceback" not in err
    assert query(empty_db, "SELECT count(*) FROM q") == [(0,)]


def test_a_load_of_some_tables_reads_only_the_files_it_may_take(aria_db, tmp_path):
    """`load --tables x` of a large export reads x, not the other 87 files: a file the plan
    cannot select is not read beyond its header (here, one that would not even parse)."""
    import shutil

    from aria_tui.load import make_plan
    from aria_tui.scan import scan
    from aria_tui.selection import Selection

    folder = tmp_path / "export"
    shutil.copytree(SAMPLE_EXPORT, folder)
    (folder / "heartbeat_log.csv").write_bytes(
        (SAMPLE_EXPORT / "heartbeat_log.csv").read_bytes() + b'"unterminated\n'
    )
    with psycopg.connect(aria_db.conninfo) as conn:
        full = scan(folder, conn, "aria_v4")
        some = scan(folder, conn, "aria_v4", needed=Selection.of(["memories"]).needs(False))
        default = scan(folder, conn, "aria_v4", needed=Selection().needs(False))
    broken = full.table("heartbeat_log")  # read, and its broken last record found (a reject)
    assert any("1 records cannot be read as CSV records" in n for n in broken.diff.notes)
    assert some.table("heartbeat_log").problem is None  # not read at all
    assert "not read" in some.table("heartbeat_log").diff.reason
    others = [t for t in some.tables if t.name != "memories"]
    assert len(others) == 87 and all(t.rows == 0 and not t.selected for t in others)
    assert all(t.status == "no_target" or "not read" in t.diff.reason for t in others)
    mem_full, mem_some = full.table("memories"), some.table("memories")
    assert (mem_some.rows, mem_some.status, mem_some.diff) == (
        mem_full.rows,
        mem_full.status,
        mem_full.diff,
    )
    # the default selection: the same plan as from the full scan, and no file of it left unread
    assert [tp.target for tp in make_plan(default).tables] == [
        tp.target for tp in make_plan(full).tables
    ]
    assert [s.file.name for s, _ in make_plan(default).skipped] == [
        s.file.name for s, _ in make_plan(full).skipped
    ]
