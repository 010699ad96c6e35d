"""Resuming a chunked load (load/chunked.py), killed with kill -9 or met by someone else's writes,
must keep what validation proves and must never delete a row aria-tui did not insert:

- validation's exact check and its bound "rows before + inserted" take the rows the table held
  before the file's load from the commit record written FIRST, whichever chunk (by byte order)
  a re-run commits (pg/commits.FileCommits.rows_before);
- undoing a chunked attempt (a key its rows break after a dead run, a bad record in a chunk, a
  key refused after the chunks) empties the table only when every row it holds is one the chunk
  commit records say they inserted; otherwise the table is refused, nothing deleted.

Chunks are made small with ARIA_TUI_CHUNK_BYTES and a run is killed right after its Nth chunk
commit with ARIA_TUI_KILL_AFTER_CHUNK (the hooks tests/db/test_chunked_audit.py uses). Each test
here failed on the code before its fix (an audit found them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from loadkit import query, sql

from aria_tui.pg import commits

ROOT = Path(__file__).resolve().parents[2]
CHUNK = 8 * 1024  # ~97 KB file below: ~7-12 chunks
ROWS = 3000
DOCS = (
    "CREATE TABLE docs (id int PRIMARY KEY, slug text, body text, n int)",
    "CREATE INDEX docs_n ON docs (n)",
)
# chunk 1 (records 1-30 at least) takes 3 s: it commits after the others, or is still loading
SLOW_FIRST = (
    "CREATE FUNCTION slow_ok(i int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN "
    "IF i <= 30 THEN PERFORM pg_sleep(0.1); END IF; RETURN true; END $$",
    "CREATE TABLE docs (id int PRIMARY KEY, slug text, body text, n int CHECK (slow_ok(id)))",
    "CREATE INDEX docs_n ON docs (n)",
)


def _file(bad_at: int | None = None) -> bytes:
    lines = ["id,slug,body,n"]
    for i in range(1, ROWS + 1):
        body = f'"body {i},\nsecond line"' if i % 7 == 0 else f'"body {i}, ""q"""'
        lines.append(f"{i},s{i},{body},{'x' if i == bad_at else i % 50}")
    return ("\n".join(lines) + "\n").encode()


def _folder(tmp_path: Path, data: bytes | None = None) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "docs.csv").write_bytes(_file() if data is None else data)
    return folder


def _argv(db, folder: Path, jobs: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "aria_tui", "load", str(folder), "--dsn", db.conninfo,
            "--profile", "none", "--yes", "--json", "--jobs", str(jobs), *extra]  # fmt: skip


def _env(kill_after: int | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARIA_TUI_CHUNK_BYTES": str(CHUNK)}
    if kill_after is not None:
        env["ARIA_TUI_KILL_AFTER_CHUNK"] = f"public.docs:{kill_after}"
    return env


def _load(db, folder: Path, jobs: int = 2, kill_after: int | None = None, *extra: str):
    done = subprocess.run(
        _argv(db, folder, jobs, *extra), env=_env(kill_after), capture_output=True, timeout=180
    )
    if kill_after is not None:
        assert done.returncode == -signal.SIGKILL, done.stderr
    return done


def _table(done) -> dict:
    return json.loads(done.stdout)["tables"][0]


def _validate(cli, db, folder: Path, tmp_path: Path) -> tuple[int, dict]:
    code, out, err = cli("validate", folder, "--dsn", db.conninfo, "--profile", "none", "--json",
                         "--report-dir", tmp_path / "reports")  # fmt: skip
    assert out.strip(), err
    return code, json.loads(out)


def _check(result: dict, name: str) -> dict:
    return next(c for c in result["tables"][0]["checks"] if c["name"] == name)


def _chunks(db) -> list[tuple]:
    return query(
        db,
        "SELECT chunk, byte_start, inserted, rows_before, run_id FROM aria_tui.commits "
        "WHERE target_table = 'public.docs' ORDER BY byte_start",
    )


def _indexes(db) -> list[str]:
    return sorted(
        r[0]
        for r in query(db, "SELECT indexrelid::regclass::text FROM pg_index "
                           "WHERE indrelid = 'docs'::regclass")  # fmt: skip
    )


def _pending(db) -> list[str]:
    if query(db, "SELECT to_regclass('aria_tui.pending')") == [(None,)]:
        return []
    return [r[0] for r in query(db, "SELECT name FROM aria_tui.pending ORDER BY name")]


# -- the rows a table held before its file's load ------------------------------------------------


def _record(chunk: int, start: int, rows_before: int, at: int, run: str) -> commits.Commit:
    return commits.Commit(
        run_id=run, target_table="public.docs", chunk=chunk, byte_start=start,
        byte_end=start + 10, first_record=chunk, last_record=chunk, file_name="docs.csv",
        file_sha256="f", file_bytes=40, file_mtime_ns=None, csv_rows=1, inserted=1,
        duplicates=0, rejected=0, reject_file=None, load_path="fast", plan_fingerprint="p",
        target_identity="t", export="e", client="c", rows_before=rows_before,
        finished_at=datetime(2024, 1, 1) + timedelta(seconds=at),
    )  # fmt: skip


def test_the_rows_before_a_load_are_those_the_record_written_first_counted():
    """A re-run's chunk 1 counts the rows a killed run's chunks committed: taking the first
    record by byte order (or any later one) counts them twice in "rows before + inserted". Nor is
    the smallest count right: rows deleted between two runs lower a later count that still
    holds rows of the earlier run's chunks."""
    killed = [_record(2, 10, 0, 1, "run1"), _record(3, 20, 0, 2, "run1")]
    rerun = [_record(1, 0, 2, 10, "run2"), _record(4, 30, 2, 11, "run2")]
    fc = commits.current(killed + rerun, "public.docs")
    assert fc is not None and fc.records[0].run_id == "run2"
    assert fc.rows_before == 0
    # 5 rows there before run 1, 4 of them deleted before run 2: run 2 counts 1 + 2 of run 1
    killed = [_record(2, 10, 5, 1, "run1"), _record(3, 20, 5, 2, "run1")]
    rerun = [_record(1, 0, 3, 10, "run2"), _record(4, 30, 3, 11, "run2")]
    fc = commits.current(killed + rerun, "public.docs")
    assert fc is not None and fc.rows_before == 5


def test_a_chunked_load_whose_first_chunk_a_rerun_commits_keeps_the_exact_proof(
    templates, tmp_path, cli
):
    """Chunks commit in any order over --jobs connections. Run 1 is killed after three chunk
    commits while chunk 1 (slowed by a CHECK) is still loading; run 2 loads chunk 1 with
    rows_before = the rows run 1 committed. The table was empty before the file's load (run 1's
    records say rows_before 0), so validation must compare both ways and refuse a row no record
    of the file has, as it does after a serial load. It took rows_before from the first record
    by byte order (run 2's chunk 1): "not judged: the table may have held them before the load",
    and a bound (rows before + inserted) too high to see the row: Proven."""
    folder = _folder(tmp_path)
    db = templates.fresh(None)
    sql(db, *SLOW_FIRST)
    _load(db, folder, kill_after=3)
    first_run = _chunks(db)
    assert first_run and first_run[0][1] > 0, first_run  # chunk 1 did not commit before the kill
    assert all(r[3] == 0 for r in first_run)  # the table was empty when the file's load began
    done = _load(db, folder)
    assert done.returncode == 0, done.stderr
    assert _chunks(db)[0][3] > 0  # the re-run's chunk 1 counted run 1's rows
    assert query(db, "SELECT count(*) FROM docs") == [(ROWS,)]
    code, result = _validate(cli, db, folder, tmp_path)
    assert code == 0 and result["tables"][0]["exact"] is True, result["headline"]
    # someone else writes a row that is no record of the export
    sql(db, "INSERT INTO docs VALUES (99999, 'stranger', 'not in the export', 1)")
    code, result = _validate(cli, db, folder, tmp_path)
    assert result["tables"][0]["exact"] is True, result["tables"][0]
    assert code != 0 and not result["ok"], result["headline"]
    assert "1 more than the load left (0 before it + 3,000 inserted)" in _check(
        result, "reconciliation"
    )["detail"]


# -- never delete a row no commit record accounts for --------------------------------------------


def test_a_rerun_after_a_kill_never_deletes_a_row_no_commit_record_accounts_for(
    templates, tmp_path, cli
):
    """A chunked load commits the drop of the table's primary key (aria_tui.pending) and is
    killed after three chunks: the table stays without its key until the next load. The
    application writes a row of its own meanwhile (id 5, which a committed chunk also holds).
    The re-run cannot build the key again; it used to "undo" the chunks with TRUNCATE, deleting
    the application's row too, reload the file, exit 0, and validation called the table proven.
    Now the re-run refuses the table, deletes nothing, says how many rows no commit record
    accounts for, builds what the rows allow (docs_n) and leaves the key recorded as down, which
    validation reports; once the operator takes the row out, a re-run finishes the load."""
    folder = _folder(tmp_path)
    db = templates.fresh(None)
    sql(db, *DOCS)
    _load(db, folder, kill_after=3)
    committed = sum(r[2] for r in _chunks(db))
    assert 0 < committed < ROWS
    sql(db, "INSERT INTO docs VALUES (5, 'app', 'written by the application', 1)")
    done = _load(db, folder)
    t = _table(done)
    assert done.returncode != 0 and t["status"] == "failed", t
    assert t["error"].startswith(
        f"public.docs holds 1 row that no commit record accounts for: {committed + 1:,} rows, "
        f"of which the chunks of docs.csv inserted {committed:,}."
    ), t["error"]
    assert "Key (id)=(5) is duplicated" in t["error"]
    assert "public.docs_pkey cannot be built again over these rows and stays down" in t["error"]
    assert query(db, "SELECT count(*) FROM docs WHERE slug = 'app'") == [(1,)]
    assert query(db, "SELECT count(*) FROM docs") == [(committed + 1,)]
    assert sum(r[2] for r in _chunks(db)) == committed  # the records stay with their rows
    assert _indexes(db) == ["docs_n"] and _pending(db) == ["public.docs_pkey"]
    code, result = _validate(cli, db, folder, tmp_path)
    assert code != 0 and not result["ok"], result["headline"]
    assert "public.docs_pkey) was taken down by a load that did not finish" in _check(
        result, "status"
    )["detail"]

    again = _load(db, folder)  # the same refusal, nothing deleted
    assert again.returncode != 0 and _table(again)["error"] == t["error"]
    assert query(db, "SELECT count(*) FROM docs") == [(committed + 1,)]

    sql(db, "DELETE FROM docs WHERE slug = 'app'")  # what the refusal asks for
    done = _load(db, folder)
    assert done.returncode == 0, done.stdout
    t = _table(done)
    assert (t["status"], t["previously_inserted"], t["inserted"]) == (
        "loaded", committed, ROWS - committed
    ), t
    assert _indexes(db) == ["docs_n", "docs_pkey"] and _pending(db) == []
    code, result = _validate(cli, db, folder, tmp_path)
    assert code == 0 and result["ok"] and result["tables"][0]["exact"], result["headline"]


@pytest.mark.parametrize(
    "case",
    [
        # all chunks commit, and the key refuses the stranger's repeat of id 5 after them
        "key-refused-after-the-chunks",
        # record 2900 is no integer: its chunk stops, the attempt is undone for the serial path
        "bad-record-in-a-late-chunk",
    ],
)
def test_undoing_a_chunked_attempt_never_deletes_a_row_written_while_it_loaded(
    case, templates, tmp_path
):
    """Someone writes a row while the chunks load (the table is not locked between them, and
    its key is down). The attempt must then be undone: it used to TRUNCATE the table, the
    stranger's row with it, and load the file serially as if nothing had been there. Now it
    refuses the table and deletes nothing; its keys and indexes stand again where the rows
    allow it."""
    bad = case.startswith("bad-record")
    folder = _folder(tmp_path, _file(bad_at=2900 if bad else None))
    db = templates.fresh(None)
    sql(db, *SLOW_FIRST)
    stranger = 99999 if bad else 5
    with subprocess.Popen(
        _argv(db, folder, 2), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as loading:
        deadline = time.monotonic() + 60
        while not _pending(db):  # the keys are down: the chunks are loading (chunk 1 for 3 s)
            assert loading.poll() is None and time.monotonic() < deadline, loading.stderr
            time.sleep(0.02)
        sql(db, f"INSERT INTO docs VALUES ({stranger}, 'app', 'written meanwhile', 1)")
        out, err = loading.communicate(timeout=120)
    assert loading.returncode == 1, err
    t = json.loads(out)["tables"][0]
    committed = sum(r[2] for r in _chunks(db))
    assert t["status"] == "failed", t
    assert t["error"].startswith(
        f"public.docs holds 1 row that no commit record accounts for: {committed + 1:,} rows, "
        f"of which the chunks of docs.csv inserted {committed:,}."
    ), t["error"]
    assert query(db, "SELECT count(*) FROM docs WHERE slug = 'app'") == [(1,)]
    assert query(db, "SELECT count(*) FROM docs") == [(committed + 1,)]
    if bad:
        assert committed < ROWS and "its keys and indexes were built again" in t["error"]
        assert _indexes(db) == ["docs_n", "docs_pkey"] and _pending(db) == []
    else:
        assert committed == ROWS and "Key (id)=(5) is duplicated" in t["error"]
        assert _indexes(db) == ["docs_n"] and _pending(db) == ["public.docs_pkey"]


# -- another conflict policy on a finished table without a key ----------------------------------


def test_another_conflict_policy_leaves_a_finished_keyless_table_resumed(templates, tmp_path):
    """A re-run under --on-conflict keep-target processed a finished table again because its
    records say it was loaded under reject; a table without any key then fails ("loading would
    duplicate rows. Empty the table"), though no record can conflict with its rows: the policy
    changes nothing there. It stays resumed, with a note saying so."""
    folder = _folder(tmp_path)
    db = templates.fresh(None)
    sql(db, "CREATE TABLE docs (id int, slug text, body text, n int)")
    assert _load(db, folder, 1).returncode == 0
    done = _load(db, folder, 1, None, "--on-conflict", "keep-target")
    assert done.returncode == 0, done.stdout
    t = _table(done)
    assert (t["status"], t["inserted"], t["previously_inserted"]) == ("resumed", 0, ROWS), t
    assert any("the policy changes nothing" in n for n in t["notes"]), t["notes"]
    assert not any("plan that differs" in n for n in t["notes"]), t["notes"]  # said once
    assert query(db, "SELECT count(*) FROM docs") == [(ROWS,)]
