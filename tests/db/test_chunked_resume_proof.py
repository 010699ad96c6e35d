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
from datetime import datetime, timedelta
from pathlib import Path

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
