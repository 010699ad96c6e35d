"""An adversarial pass over chunked loading (load/chunked.py): every file here is loaded twice,
in chunks (--jobs 2, chunks of 8 KB) and serially (--jobs 1) into a fresh database, and the two
must agree: the same rows, the same counts, the same rejects with the same line numbers, every
index present and nothing left pending. Bad records are put in a LATE chunk, after earlier chunks
committed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from loadkit import assert_counts_add_up, plan_for, query, sql

from aria_tui.load import run_plan

CHUNK = 8 * 1024
ROWS = 3000
LATE = 2900  # a record in one of the last chunks of ~15
DOCS = (
    "CREATE TABLE docs (id int PRIMARY KEY, slug text, body text, n int)",
    "CREATE INDEX docs_n ON docs (n)",
)


def _records(rows: int = ROWS, eol: str = "\n") -> list[str]:
    out = []
    for i in range(1, rows + 1):
        body = f'"body {i},{eol}second line"' if i % 7 == 0 else f'"body {i}, ""q"""'
        out.append(f"{i},s{i},{body},{i % 50}")
    return out


def _file(records: list[str], eol: str = "\n", header: str = "id,slug,body,n") -> bytes:
    return (eol.join([header, *records]) + eol).encode()


def _snapshot(db, table: str, result) -> dict:
    t = result.tables[0]
    rejects = Path(t.reject_file).read_text() if t.reject_file else ""
    return {
        "status": t.status,
        "counts": (t.csv_rows, t.inserted, t.updated, t.duplicates, t.conflicts, t.rejected),
        "rows": query(db, f"SELECT t::text FROM {table} t ORDER BY 1"),
        "rejects": rejects,
    }


def _indexes(db, table: str) -> list[str]:
    return sorted(
        r[0]
        for r in query(
            db, "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass",
            (table,),
        )
    )


def _pending(db) -> list[tuple]:
    if query(db, "SELECT to_regclass('aria_tui.pending')") == [(None,)]:
        return []
    return query(db, "SELECT target_table FROM aria_tui.pending")


def both(templates, folder: Path, ddl: tuple[str, ...], table: str, monkeypatch):
    """(serial snapshot, chunked snapshot, chunked result, chunked db)."""
    ref = templates.fresh(None)
    sql(ref, *ddl)
    serial = run_plan(ref, plan_for(ref, folder), jobs=1)
    assert serial.tables[0].chunks == 0
    want = _snapshot(ref, table, serial)
    db = templates.fresh(None)
    sql(db, *ddl)
    monkeypatch.setenv("ARIA_TUI_CHUNK_BYTES", str(CHUNK))
    result = run_plan(db, plan_for(db, folder), jobs=2)
    monkeypatch.delenv("ARIA_TUI_CHUNK_BYTES")
    got = _snapshot(db, table, result)
    assert_counts_add_up(result)
    assert _indexes(db, table) == _indexes(ref, table)
    assert _pending(db) == []
    return want, got, result, db


def _late(records: list[str], what: str, at: int = LATE) -> list[str]:
    out = list(records)
    out[at - 1] = what
    return out


def _docs(records: list[str], eol: str = "\n", header: str = "id,slug,body,n") -> bytes:
    return _file(records, eol, header)


CASES: dict[str, bytes] = {
    # structure
    "crlf": _docs(_records(eol="\r\n"), "\r\n"),
    "bom-crlf": b"\xef\xbb\xbf" + _docs(_records(eol="\r\n"), "\r\n"),
    "no-final-newline": _docs(_records()).rstrip(b"\n"),
    "huge-multiline-field": _docs(
        _late(_records(), '2900,big,"' + "x,\n\"\"y\n" * 4000 + '",1')
    ),
    "crlf-header-lf-data": _docs(_records(), "\n", "id,slug,body,n\r"),
    "lf-header-crlf-data": _docs([r + "\r" for r in _records()]),
    "open-quote-at-end": _docs(_records()[:-1] + ['3000,s,"never closed,1']),
    # bad records in a late chunk
    "blank-line-late": _docs(_late(_records(), "")),
    "marker-late": _docs(_late(_records(), "\\.")),
    "marker-in-quotes-late": _docs(_late(_records(), '2900,m,"a\n\\.\nb",1')),
    "nul-late": _docs(_late(_records(), "2900,s\x00,b,1")),
    "bad-utf8-late": _docs(_late(_records(), "2900,s,b,1")).replace(b"2900,s,b", b"2900,s\xff,b"),
    "too-many-late": _docs(_late(_records(), "2900,s,b,1,extra")),
    "too-few-late": _docs(_late(_records(), "2900,s,b")),
    "bad-value-late": _docs(_late(_records(), "2900,s,b,x")),
    "lone-cr-late": _docs(_late(_records(), "2900,s\rx,b,1")),
    "conflict-across-chunks": _docs(_late(_records(), "5,other,body,1")),
    "duplicate-across-chunks": _docs(_late(_records(), '9,s9,"body 9, ""q""",9')),
}


CLEAN = {"crlf", "bom", "bom-crlf", "no-final-newline", "huge-multiline-field"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_chunked_equals_serial(case, templates, tmp_path, monkeypatch):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "docs.csv").write_bytes(CASES[case])
    want, got, result, _ = both(templates, folder, DOCS, "docs", monkeypatch)
    assert got == want, (result.tables[0].error, result.tables[0].notes)
    # a clean file really went in chunks (else the comparison proves nothing about them)
    assert (result.tables[0].chunks > 2) == (case in CLEAN), result.tables[0].notes


EMB = (
    "CREATE TABLE emb (id int PRIMARY KEY, doc text, embedding vector(4))",
    "CREATE INDEX emb_doc ON emb (doc)",
)


def _vrecords(rows: int = ROWS) -> list[str]:
    return [
        f'{i},"d {i}' + (',\nline 2"' if i % 5 == 0 else '"') + f',"[{i}.5,-0.25,1e-3,{i % 9}]"'
        for i in range(1, rows + 1)
    ]


def _emb(records: list[str], eol: str = "\n", header: str = "id,doc,embedding") -> bytes:
    return _file(records, eol, header)


VCASES: dict[str, bytes] = {
    "crlf": _emb([r.replace("\n", "\r\n") for r in _vrecords()], "\r\n"),
    "bom": b"\xef\xbb\xbf" + _emb(_vrecords()),
    "no-final-newline": _emb(_vrecords()).rstrip(b"\n"),
    "crlf-header-lf-data": _emb(_vrecords(), "\n", "id,doc,embedding\r"),
    "lf-header-crlf-data": _emb([r + "\r" for r in _vrecords()]),
    "wrong-dimension-late": _emb(_late(_vrecords(), '2900,d,"[1,2,3]"')),
    "nan-late": _emb(_late(_vrecords(), '2900,d,"[1,2,3,NaN]"')),
    "blank-line-late": _emb(_late(_vrecords(), "")),
    "marker-late": _emb(_late(_vrecords(), "\\.")),
    "nul-late": _emb(_late(_vrecords(), '2900,d\x00,"[1,2,3,4]"')),
    "bad-utf8-late": _emb(_late(_vrecords(), '2900,dX,"[1,2,3,4]"')).replace(b"dX", b"d\xff"),
    "too-many-late": _emb(_late(_vrecords(), '2900,d,"[1,2,3,4]",x')),
    "too-few-late": _emb(_late(_vrecords(), "2900,d")),
    "conflict-across-chunks": _emb(_late(_vrecords(), '5,other,"[1,2,3,4]"')),
    "null-key-late": _emb(_late(_vrecords(), ',d,"[1,2,3,4]"')),
}


@pytest.mark.parametrize("case", sorted(VCASES))
def test_binary_chunked_equals_serial(case, templates, tmp_path, monkeypatch):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "emb.csv").write_bytes(VCASES[case])
    want, got, result, _ = both(templates, folder, EMB, "emb", monkeypatch)
    assert got == want, (result.tables[0].error, result.tables[0].notes)
    assert (result.tables[0].chunks > 2) == (case in CLEAN), result.tables[0].notes
    assert result.tables[0].path == "binary"


# -- kill -9 mid-chunks, then another run ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _cli(db, folder: Path, jobs: int = 2, kill_after: int | None = None, *extra: str):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARIA_TUI_CHUNK_BYTES": str(CHUNK)}
    if kill_after is not None:
        env["ARIA_TUI_KILL_AFTER_CHUNK"] = f"public.docs:{kill_after}"
    argv = [sys.executable, "-m", "aria_tui", "load", str(folder), "--dsn", db.conninfo,
            "--yes", "--json", "--jobs", str(jobs), *extra]  # fmt: skip
    done = subprocess.run(argv, env=env, capture_output=True, timeout=180)
    if kill_after is not None:
        assert done.returncode == -signal.SIGKILL, done.stderr
        return None
    return done


def _chunk_records(db) -> list[tuple]:
    return query(
        db,
        "SELECT chunk, byte_start, byte_end, inserted FROM aria_tui.commits "
        "WHERE target_table = 'public.docs' ORDER BY byte_start",
    )


def _docs_folder(tmp_path: Path, data: bytes | None = None) -> Path:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    (folder / "docs.csv").write_bytes(data if data is not None else _docs(_records()))
    return folder


SEQ_DOCS = (
    "CREATE TABLE docs (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, slug text, "
    "body text, n int)",
    "CREATE INDEX docs_n ON docs (n)",
)


@pytest.mark.parametrize("ddl", [SEQ_DOCS, SEQ_DOCS[:1]], ids=["with-index", "pk-only"])
def test_kill_after_the_last_chunk_still_moves_the_sequence(ddl, templates, tmp_path, cli):
    """Every chunk committed, then a kill -9 before the transaction that moves the identity
    sequence: the next run must not call the table done with a sequence that hands out ids the
    table holds."""
    folder = _docs_folder(tmp_path)
    probe = templates.fresh(None)
    sql(probe, *ddl)
    assert _cli(probe, folder).returncode == 0
    last = len(_chunk_records(probe))
    assert last > 2
    db = templates.fresh(None)
    sql(db, *ddl)
    _cli(db, folder, kill_after=last)
    assert sum(r[3] for r in _chunk_records(db)) == ROWS  # every chunk committed
    done = _cli(db, folder)
    assert done.returncode == 0, done.stderr
    t = json.loads(done.stdout)["tables"][0]
    assert t["status"] in ("loaded", "resumed")
    assert query(db, "SELECT nextval(pg_get_serial_sequence('docs', 'id'))")[0][0] > ROWS
    code, out, _ = cli("validate", folder, "--dsn", db.conninfo, "--json")
    assert code == 0, out


NOPK = ("CREATE TABLE docs (id int, slug text, body text, n int)", "CREATE INDEX docs_n ON docs (n)")


@pytest.mark.parametrize("jobs", [1, 3])
@pytest.mark.parametrize("ddl", [DOCS, NOPK], ids=["pk", "no-key"])
def test_kill_then_a_run_with_other_jobs_converges(jobs, ddl, templates, tmp_path, cli):
    folder = _docs_folder(tmp_path)
    ref = templates.fresh(None)
    sql(ref, *ddl)
    assert _cli(ref, folder, jobs=1).returncode == 0
    db = templates.fresh(None)
    sql(db, *ddl)
    _cli(db, folder, kill_after=3)
    committed = sum(r[3] for r in _chunk_records(db))
    assert 0 < committed < ROWS
    done = _cli(db, folder, jobs=jobs)
    assert done.returncode == 0, (done.stdout, done.stderr)
    t = json.loads(done.stdout)["tables"][0]
    assert t["status"] == "loaded", t
    assert t["csv_rows"] == ROWS
    # the chunks committed before the kill count as such, not as duplicates of strangers
    assert (t["previously_inserted"], t["inserted"], t["duplicates"]) == (
        committed, ROWS - committed, 0
    ), t
    every = "SELECT t::text FROM docs t ORDER BY 1"
    assert query(db, every) == query(ref, every)
    assert _indexes(db, "docs") == _indexes(ref, "docs") and _pending(db) == []
    code, out, _ = cli("validate", folder, "--dsn", db.conninfo, "--json")
    assert code == 0, out


@pytest.mark.parametrize("change", ["append", "rewrite-same-size-and-mtime"])
def test_kill_then_the_file_changes(change, templates, tmp_path, cli):
    folder = _docs_folder(tmp_path)
    path = folder / "docs.csv"
    db = templates.fresh(None)
    sql(db, *DOCS)
    _cli(db, folder, kill_after=3)
    committed = sum(r[3] for r in _chunk_records(db))
    st = path.stat()
    data = path.read_bytes()
    if change == "append":
        path.write_bytes(data + b"3001,s,b,1\n")
        new = _docs(_records()) + b"3001,s,b,1\n"
    else:  # one early record altered, same size, same mtime
        new = data.replace(b"1,s1,", b"1,S1,", 1)
        assert len(new) == len(data)
        path.write_bytes(new)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    done = _cli(db, folder)
    out = json.loads(done.stdout)["tables"][0]
    code, report, _ = cli("validate", folder, "--dsn", db.conninfo, "--json")
    if out["status"] == "loaded":  # then the table must be the new file exactly
        ref = templates.fresh(None)
        sql(ref, *DOCS)
        (tmp_path / "ref").mkdir()
        (tmp_path / "ref" / "docs.csv").write_bytes(new)
        assert _cli(ref, tmp_path / "ref", jobs=1).returncode == 0
        every = "SELECT t::text FROM docs t ORDER BY 1"
        assert query(db, every) == query(ref, every)
        assert code == 0, report
    else:  # refused: said so, and validation does not pass
        assert done.returncode != 0 and out["status"] in ("blocked", "failed"), out
        assert code != 0
    assert committed < ROWS


# -- foreign keys: the chunked table as child, and as parent -------------------------------------

REFS = "CREATE TABLE refs (id int PRIMARY KEY, doc int REFERENCES docs (id) {action})"


def _refs_csv(n: int = 10) -> bytes:
    return ("id,doc\n" + "".join(f"{i},{i}\n" for i in range(1, n + 1))).encode()


def test_a_child_with_a_late_orphan_in_the_same_run_equals_serial(templates, tmp_path, monkeypatch):
    """parent (small, serial) and child (chunked) in one run: the child's late orphan is rejected
    as a serial load rejects it."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "parent.csv").write_bytes(b"id\n" + b"".join(b"%d\n" % i for i in range(1, 50)))
    (folder / "docs.csv").write_bytes(_docs(_late(_records(), "2900,s,b,77")))
    ddl = (
        "CREATE TABLE parent (id int PRIMARY KEY)",
        "CREATE TABLE docs (id int PRIMARY KEY, slug text, body text, "
        "n int REFERENCES parent (id))",
        "CREATE INDEX docs_n ON docs (n)",
    )
    rows = []
    for jobs in (1, 2):
        db = templates.fresh(None)
        sql(db, *ddl)
        if jobs == 2:
            monkeypatch.setenv("ARIA_TUI_CHUNK_BYTES", str(CHUNK))
        result = run_plan(db, plan_for(db, folder), jobs=jobs)
        assert_counts_add_up(result)
        t = next(t for t in result.tables if t.target == "public.docs")
        assert t.status == "loaded" and t.rejected == 3000 // 50, t  # n=0 (the orphan is one)
        rows.append((query(db, "SELECT t::text FROM docs t ORDER BY 1"), Path(t.reject_file).read_text()))
    assert rows[0] == rows[1]


@pytest.mark.parametrize("action", ["", "ON DELETE CASCADE", "ON DELETE SET NULL"])
def test_undoing_a_chunked_attempt_never_touches_another_table(action, templates, tmp_path, cli):
    """docs is killed after 3 chunks; refs is loaded alone against what committed; then docs is
    run again and a late chunk holds a bad record, so the chunked attempt is undone. The undo
    must neither delete refs' rows (CASCADE), change them (SET NULL), nor fail on them and
    leave docs stuck: docs ends as a serial load of its file, refs as it was."""
    data = _docs(_late(_records(), "2900,s,b,x"))
    folder = _docs_folder(tmp_path, data)
    db = templates.fresh(None)
    sql(db, *DOCS, REFS.format(action=action))
    _cli(db, folder, 2, 3, "--tables", "public.docs")
    assert 0 < sum(r[3] for r in _chunk_records(db)) < ROWS
    ids = [r[0] for r in query(db, "SELECT id FROM docs ORDER BY id LIMIT 10")]
    (folder / "refs.csv").write_bytes(
        ("id,doc\n" + "".join(f"{i},{d}\n" for i, d in enumerate(ids, 1))).encode()
    )
    child = _cli(db, folder, 1, None, "--tables", "public.refs")
    assert child.returncode == 0, child.stdout
    refs = query(db, "SELECT * FROM refs ORDER BY id")
    assert len(refs) == 10

    again = _cli(db, folder, 2, None, "--tables", "public.docs")
    t = json.loads(again.stdout)["tables"][0]
    assert t["status"] == "loaded", t
    assert t["csv_rows"] == t["inserted"] + t["duplicates"] + t["rejected"] + t[
        "previously_inserted"
    ]
    assert query(db, "SELECT * FROM refs ORDER BY id") == refs
    ref = templates.fresh(None)
    sql(ref, *DOCS)
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "docs.csv").write_bytes(data)
    assert _cli(ref, tmp_path / "ref", jobs=1).returncode == 1  # the bad record: rejected
    every = "SELECT t::text FROM docs t ORDER BY 1"
    assert query(db, every) == query(ref, every)
    assert _indexes(db, "docs") == ["docs_n", "docs_pkey"] and _pending(db) == []


def _state(db) -> tuple:
    commits_ = query(db, "SELECT to_regclass('aria_tui.commits')")[0][0] and query(
        db, "SELECT chunk, byte_start, byte_end, run_id FROM aria_tui.commits ORDER BY 1, 2"
    )
    return (
        query(db, "SELECT t::text FROM docs t ORDER BY 1"),
        commits_,
        _pending(db),
        _indexes(db, "docs"),
    )


@pytest.mark.parametrize("after_kill", [False, True], ids=["fresh", "after-kill"])
def test_a_dry_run_never_chunks_and_changes_nothing(after_kill, templates, tmp_path, cli):
    folder = _docs_folder(tmp_path)
    db = templates.fresh(None)
    sql(db, *DOCS)
    if after_kill:
        _cli(db, folder, kill_after=3)
        assert _pending(db) and 0 < sum(r[3] for r in _chunk_records(db)) < ROWS
    before = _state(db)
    dry = _cli(db, folder, 2, None, "--dry-run")
    t = json.loads(dry.stdout)["tables"][0]
    assert t["chunks"] == 0, t
    assert _state(db) == before
    if not after_kill:
        assert t["status"] == "loaded" and t["inserted"] == ROWS, t


def test_two_files_for_one_table_are_not_chunked_apart(templates, tmp_path, monkeypatch):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "docs.csv").write_bytes(_docs(_records()))
    (folder / "public.docs.csv").write_bytes(_docs(_records()[:100]))
    db = templates.fresh(None)
    sql(db, *DOCS)
    monkeypatch.setenv("ARIA_TUI_CHUNK_BYTES", str(CHUNK))
    result = run_plan(db, plan_for(db, folder), jobs=2)
    by_file = {t.file: t for t in result.tables}
    assert by_file["public.docs.csv"].status == "blocked"  # one file per table, said by name
    assert "already loads" in by_file["public.docs.csv"].error
    t = by_file["docs.csv"]
    assert t.status == "loaded" and t.chunks > 2 and t.inserted == ROWS
    assert query(db, "SELECT count(*), count(DISTINCT id) FROM docs") == [(ROWS, ROWS)]
