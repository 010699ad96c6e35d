"""One large file over several connections (issue 17): record-aligned chunks, each committed with
its own commit record; the same rows as a serial load; a bad record sends the file back to the
serial path, undone; a kill -9 or a cancel resumes inside the table, every index present.

Chunks are made small here with ARIA_TUI_CHUNK_BYTES, so that a few hundred KB make many."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from loadkit import (
    assert_counts_add_up,
    index_defs,
    kill_9_during,
    load,
    plan_for,
    query,
    sql,
    write,
)

from aria_tui.load import run_plan
from aria_tui.load.events import TableProgress

ROOT = Path(__file__).resolve().parents[2]
CHUNK = 8 * 1024  # bytes: the export below (~120 KB) makes ~15 chunks

DDL = (
    "CREATE TABLE docs (id int PRIMARY KEY, slug text, body text, meta jsonb, n int)",
    "CREATE INDEX docs_n_idx ON docs (n DESC)",
    "CREATE INDEX docs_pos ON docs (n) WHERE n > 0",
    "CREATE INDEX docs_meta_gin ON docs USING gin (meta jsonb_path_ops)",
    "CREATE INDEX docs_body_trgm ON docs USING gin (body gin_trgm_ops)",
    "COMMENT ON INDEX docs_n_idx IS 'newest first'",
    "ALTER TABLE docs CLUSTER ON docs_n_idx",
)
ROWS = 3000


def _indexdefs(db, table: str = "docs") -> dict:
    return index_defs(db, table)


def _csv(
    rows: int, bad_at: int | None = None, dup_of: int | None = None, early: bool = False
) -> str:
    lines = ["id,slug,body,meta,n"]
    for i in range(1, rows + 1):
        # every seventh body spans two lines: chunk edges must fall between records, not in one
        body = f'"body {i},\nsecond line"' if i % 7 == 0 else f'"body {i}, ""quoted"""'
        n = "x" if i == bad_at else str(i % 50)
        lines.append(f'{i},s{i},{body},"{{""k"": {i}}}",{n}')
    if dup_of is not None:  # the same record again at the end: a duplicate of the first
        lines.append(lines[dup_of])
    if early:  # record 1 again after record 40: both in the first chunks
        lines.insert(41, lines[1])
    return "\n".join(lines) + "\n"


@pytest.fixture
def chunked(monkeypatch):
    monkeypatch.setenv("ARIA_TUI_CHUNK_BYTES", str(CHUNK))


def _rows(db, table: str = "docs") -> list[tuple]:
    return query(db, f"SELECT * FROM {table} ORDER BY id")


def _records(db, table: str = "public.docs") -> list[tuple]:
    return query(
        db,
        "SELECT chunk, byte_start, byte_end, first_record, last_record, csv_rows, inserted, "
        "run_id FROM aria_tui.commits WHERE target_table = %s ORDER BY byte_start, finished_at",
        (table,),
    )


def _pending(db) -> list[tuple]:
    if query(db, "SELECT to_regclass('aria_tui.pending')") == [(None,)]:
        return []
    return query(db, "SELECT DISTINCT target_table FROM aria_tui.pending")


def _reference(templates, folder: Path) -> list[tuple]:
    """The rows a serial load of the same export gives."""
    db = templates.fresh(None)
    sql(db, *DDL)
    result = run_plan(db, plan_for(db, folder), jobs=1)
    assert result.tables[0].status == "loaded" and result.tables[0].chunks == 0
    return _rows(db)


def test_a_large_file_loads_in_chunks_each_with_its_commit_record(
    empty_db, templates, tmp_path, chunked
):
    sql(empty_db, *DDL)
    before = _indexdefs(empty_db)
    path = write(tmp_path, "docs.csv", _csv(ROWS))
    events: list = []
    result = run_plan(empty_db, plan_for(empty_db, tmp_path), jobs=2, on_event=events.append)
    t = result.tables[0]
    assert t.status == "loaded", t.error
    assert (t.csv_rows, t.inserted, t.rejected) == (ROWS, ROWS, 0)
    assert t.chunks >= 10 and t.chunk_connections == 2 and result.jobs == 2
    assert any("chunks over 2 connections" in n for n in t.notes)
    # the records cover every byte of the file once, in order, and number every record once
    recs = _records(empty_db)
    assert len(recs) == t.chunks and all(r[0] > 0 for r in recs)
    assert recs[0][1] == 0 and recs[-1][2] == path.stat().st_size
    assert all(a[2] == b[1] for a, b in zip(recs, recs[1:], strict=False))
    assert recs[0][3] == 1 and recs[-1][4] == ROWS
    assert all(a[4] + 1 == b[3] for a, b in zip(recs, recs[1:], strict=False))
    assert sum(r[6] for r in recs) == ROWS
    # the same rows as a serial load, every index back as it was, nothing left pending
    assert _rows(empty_db) == _reference(templates, tmp_path)
    assert _indexdefs(empty_db) == before
    assert _pending(empty_db) == []
    assert {b.name for b in t.indexes} == {f"public.{n}" for n in before if n != "docs_pkey"}
    # progress told the whole file and its chunks
    ticks = [e for e in events if isinstance(e, TableProgress) and e.chunks_total]
    assert ticks and ticks[-1].chunks_total == t.chunks

    again = run_plan(empty_db, plan_for(empty_db, tmp_path), jobs=2)
    assert again.tables[0].status == "resumed" and again.tables[0].inserted == 0
    assert len(_records(empty_db)) == t.chunks


def test_a_bad_record_in_a_late_chunk_is_rejected_alone_with_its_line(
    empty_db, templates, tmp_path, chunked
):
    sql(empty_db, *DDL)
    before = _indexdefs(empty_db)
    write(tmp_path, "docs.csv", _csv(ROWS, bad_at=2900))
    result = load(empty_db, tmp_path)  # jobs: the default (the machine's cores)
    t = result.tables[0]
    assert t.status == "loaded"
    assert (t.inserted, t.rejected, t.chunks) == (ROWS - 1, 1, 0)  # the serial path took it
    assert_counts_add_up(result)
    lines = Path(t.reject_file).read_text().splitlines()
    # record 2900 starts on line 2 + 2899 + the 414 two-line bodies before it
    assert any(line.startswith(f"{2 + 2899 + 2899 // 7},") for line in lines), lines[:3]
    # the chunked attempt left nothing: one whole-file record, every index, nothing pending
    assert [r[0] for r in _records(empty_db)] == [0]
    assert query(empty_db, "SELECT count(*) FROM docs") == [(ROWS - 1,)]
    assert _indexdefs(empty_db) == before
    assert _pending(empty_db) == []


def test_undoing_a_chunked_attempt_leaves_an_inheriting_tables_rows_alone(
    empty_db, templates, tmp_path, chunked
):
    """A bad record sends the file to the serial path, and the chunked attempt is undone by
    emptying the table: its own rows only (TRUNCATE ONLY), never those of a table inheriting
    from it, which a plain TRUNCATE empties too."""
    sql(empty_db, *DDL, "CREATE TABLE docs_archive (archived date) INHERITS (docs)",
        "INSERT INTO docs_archive VALUES (900001, 'a', 'kept', '{}', 1, '2020-01-01'),"
        " (900002, 'b', 'kept', '{}', 2, '2020-01-02')")
    write(tmp_path, "docs.csv", _csv(ROWS, bad_at=2900))
    result = run_plan(empty_db, plan_for(empty_db, tmp_path, ["public.docs"]), jobs=2)
    t = next(t for t in result.tables if t.target == "public.docs")
    assert t.status == "loaded" and (t.inserted, t.rejected) == (ROWS - 1, 1), t
    assert query(empty_db, "SELECT count(*) FROM ONLY docs") == [(ROWS - 1,)]
    assert query(empty_db, "SELECT id FROM docs_archive ORDER BY id") == [(900001,), (900002,)]


def test_a_key_repeated_across_chunks_is_counted_as_a_serial_load_counts_it(
    empty_db, templates, tmp_path, chunked
):
    sql(empty_db, *DDL)
    write(tmp_path, "docs.csv", _csv(ROWS, dup_of=1))
    result = run_plan(empty_db, plan_for(empty_db, tmp_path), jobs=2)
    t = result.tables[0]
    assert t.status == "loaded" and t.csv_rows == ROWS + 1
    assert (t.inserted, t.duplicates) == (ROWS, 1)
    assert_counts_add_up(result)
    assert _rows(empty_db) == _reference(templates, tmp_path)


def test_a_vector_table_loads_in_binary_chunks(empty_db, templates, tmp_path, chunked):
    ddl = (
        "CREATE TABLE emb (id int PRIMARY KEY, doc text, embedding vector(4), meta jsonb)",
        "CREATE INDEX emb_doc ON emb (doc)",
    )
    sql(empty_db, *ddl)
    rows = ["id,doc,embedding,meta"] + [
        f'{i},"d {i}","[{i}.5,-0.25,1e-3,{i % 9}]","{{""i"": {i}}}"' for i in range(1, 4001)
    ]
    write(tmp_path, "emb.csv", "\n".join(rows) + "\n")
    result = run_plan(empty_db, plan_for(empty_db, tmp_path), jobs=2)
    t = result.tables[0]
    assert t.status == "loaded" and t.path == "binary", t.error
    assert t.inserted == 4000 and t.chunks > 2
    ref = templates.fresh(None)
    sql(ref, *ddl)
    assert run_plan(ref, plan_for(ref, tmp_path), jobs=1).tables[0].chunks == 0
    same = "SELECT id, doc, embedding::text, meta FROM emb ORDER BY id"
    assert query(empty_db, same) == query(ref, same)


def test_cancel_between_chunks_keeps_what_committed_and_rebuilds_the_indexes(
    empty_db, tmp_path, chunked
):
    sql(
        empty_db,
        *DDL,
        # a slow check: the load takes seconds, so the cancel lands between chunks
        "CREATE FUNCTION slow(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS "
        "'BEGIN PERFORM pg_sleep(0.0005); RETURN x; END'",
        "ALTER TABLE docs ADD CONSTRAINT docs_slow CHECK (slow(n) >= 0)",
    )
    before = _indexdefs(empty_db)
    write(tmp_path, "docs.csv", _csv(ROWS * 3))
    cancel = threading.Event()

    def on_event(e) -> None:
        if isinstance(e, TableProgress) and e.chunks_done >= 2:
            cancel.set()

    result = run_plan(empty_db, plan_for(empty_db, tmp_path), jobs=2, on_event=on_event, cancel=cancel)
    t = result.tables[0]
    assert result.cancelled and t.status == "skipped"
    assert "chunks committed" in t.error and "re-run finishes" in t.error
    assert "its indexes were built again" in t.error, t.error
    recs = _records(empty_db)
    assert 2 <= len(recs) < 30  # of ~45
    assert query(empty_db, "SELECT count(*) FROM docs") == [(sum(r[6] for r in recs),)]
    # what stayed is said by number too (inserted counts only a table loaded whole)
    assert t.inserted == 0 and t.committed_rows == sum(r[6] for r in recs) > 0
    assert t.to_json()["committed_rows"] == t.committed_rows
    assert _indexdefs(empty_db) == before and _pending(empty_db) == []

    done = run_plan(empty_db, plan_for(empty_db, tmp_path), jobs=2)
    t = done.tables[0]
    assert t.status == "loaded" and t.inserted + t.previously_inserted == ROWS * 3
    assert t.previously_inserted == sum(r[6] for r in recs)
    assert query(empty_db, "SELECT count(*), count(DISTINCT id) FROM docs") == [(ROWS * 3, ROWS * 3)]
    assert _indexdefs(empty_db) == before


# -- kill -9 ---------------------------------------------------------------------------------------


def _argv(db, folder: Path) -> list[str]:
    return [sys.executable, "-m", "aria_tui", "load", str(folder), "--dsn", db.conninfo,
            "--yes", "--json", "--jobs", "2"]  # fmt: skip


def _kill_after_chunk(db, folder: Path, n: int) -> None:
    """A chunked load of `folder` that SIGKILLs itself right after its nth chunk commits."""
    killed = subprocess.run(
        _argv(db, folder),
        env=_env(ARIA_TUI_KILL_AFTER_CHUNK=f"public.docs:{n}"),
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "ARIA_TUI_CHUNK_BYTES": str(CHUNK), **extra}


def test_kill_9_after_a_chunk_resumes_inside_the_table_with_every_index(
    empty_db, templates, tmp_path, cli
):
    sql(empty_db, *DDL)
    before = _indexdefs(empty_db)
    folder = tmp_path / "export"
    write(folder, "docs.csv", _csv(ROWS))
    _kill_after_chunk(empty_db, folder, 3)
    recs = _records(empty_db)
    committed = sum(r[6] for r in recs)
    assert 3 <= len(recs) and 0 < committed < ROWS
    assert query(empty_db, "SELECT count(*) FROM docs") == [(committed,)]
    # the key and indexes are down, and the target says so: validation will not call the
    # table proven
    assert _pending(empty_db) == [("public.docs",)]
    assert set(_indexdefs(empty_db)) == set()
    down = {n for (n,) in query(empty_db, "SELECT name FROM aria_tui.pending")}
    assert down == {f"public.{n}" for n in before}
    code, out, _ = cli("validate", folder, "--dsn", empty_db.conninfo, "--json")
    assert code != 0
    assert "taken down by a load that did not finish" in out

    done = subprocess.run(_argv(empty_db, folder), env=_env(), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    t = json.loads(done.stdout)["tables"][0]
    assert t["status"] == "loaded"
    assert (t["previously_inserted"], t["inserted"]) == (committed, ROWS - committed)
    assert _rows(empty_db) == _reference(templates, folder)
    assert _indexdefs(empty_db) == before and _pending(empty_db) == []
    # every record committed once: the chunks tile the file
    recs = _records(empty_db)
    assert sum(r[6] for r in recs) == ROWS
    assert all(a[2] == b[1] for a, b in zip(recs, recs[1:], strict=False))
    code, out, _ = cli("validate", folder, "--dsn", empty_db.conninfo, "--json")
    assert code == 0, out


def test_kill_9_during_the_index_build_after_the_chunks_converges(empty_db, templates, tmp_path):
    sql(
        empty_db,
        *DDL,
        # a slow index expression: the build takes seconds, so the kill lands inside it
        "CREATE FUNCTION slow(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS "
        "'BEGIN PERFORM pg_sleep(0.002); RETURN x; END'",
        "CREATE INDEX docs_slow ON docs (slow(id))",
    )
    before = _indexdefs(empty_db)
    folder = tmp_path / "export"
    write(folder, "docs.csv", _csv(ROWS))
    kill_9_during(empty_db, _argv(empty_db, folder), _env(), 'CREATE INDEX%')
    # every chunk committed; the build did not: the indexes are down and recorded as such
    assert sum(r[6] for r in _records(empty_db)) == ROWS
    assert _pending(empty_db) == [("public.docs",)]

    done = subprocess.run(_argv(empty_db, folder), env=_env(), capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr
    t = json.loads(done.stdout)["tables"][0]
    assert t["status"] == "resumed" and t["inserted"] == 0
    assert _indexdefs(empty_db) == before and _pending(empty_db) == []
    assert query(empty_db, "SELECT count(*) FROM docs") == [(ROWS,)]
    with psycopg.connect(empty_db.conninfo) as conn:  # the rebuilt slow index is used and right
        conn.execute("SET enable_seqscan = off")
        assert conn.execute("SELECT count(*) FROM docs WHERE slow(id) = 7").fetchone() == (1,)


def test_an_index_the_rows_cannot_have_ends_as_a_serial_load_ends_nothing_left_behind(
    empty_db, templates, tmp_path, chunked
):
    """The indexes are built after the chunks, side by side: one whose expression fails on some
    rows (n = 49: a division by zero) must not leave the chunks' rows in, nor the table without
    its indexes, nor a pending record; the file then goes the serial way, and ends as a serial
    load of it ends (the staging path does not check index expressions: the table fails)."""
    ddl = (*DDL, "CREATE INDEX docs_inverse ON docs ((100 / (n - 49)))")
    sql(empty_db, *ddl)
    before = _indexdefs(empty_db)
    write(tmp_path, "docs.csv", _csv(ROWS))
    events: list = []
    result = run_plan(empty_db, plan_for(empty_db, tmp_path), jobs=2, on_event=events.append)
    t = result.tables[0]
    ref = templates.fresh(None)
    sql(ref, *ddl)
    serial = run_plan(ref, plan_for(ref, tmp_path), jobs=1).tables[0]
    assert (t.status, t.error) == (serial.status, serial.error)
    assert t.chunks == 0 and "division by zero" in (t.error or "")
    assert any("could not take back every key and index" in getattr(e, "message", "") for e in events)
    assert _indexdefs(empty_db) == before and _pending(empty_db) == []
    assert _records(empty_db) == [] and _rows(empty_db) == _rows(ref) == []


def test_kill_9_with_a_key_repeated_in_the_committed_chunks_undoes_them_and_loads_again(
    empty_db, templates, tmp_path
):
    """The primary key waits for the rows too: a key repeated across two chunks that both
    committed before a kill -9 is only found when the next run builds the key again. That run
    must take the chunks' rows and records out and load the file again, counting the repeat as
    a serial load does, never leave the table without its key or with the repeat in it."""
    sql(empty_db, *DDL)
    before = _indexdefs(empty_db)
    folder = tmp_path / "export"
    write(folder, "docs.csv", _csv(ROWS, early=True))
    _kill_after_chunk(empty_db, folder, 4)
    assert query(empty_db, "SELECT count(*) - count(DISTINCT id) FROM docs") == [(1,)]
    done = subprocess.run(_argv(empty_db, folder), env=_env(), capture_output=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    t = json.loads(done.stdout)["tables"][0]
    ref = templates.fresh(None)
    sql(ref, *DDL)
    serial = run_plan(ref, plan_for(ref, folder), jobs=1).tables[0]
    assert (t["status"], t["inserted"], t["duplicates"], t["rejected"]) == (
        serial.status, serial.inserted, serial.duplicates, serial.rejected
    )
    assert t["inserted"] == ROWS and t["duplicates"] + t["rejected"] == 1
    assert b"they were taken out with their commit records" in done.stderr
    assert _rows(empty_db) == _rows(ref)
    assert _indexdefs(empty_db) == before and _pending(empty_db) == []
