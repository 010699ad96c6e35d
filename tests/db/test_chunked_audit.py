"""An adversarial pass over chunked loading (load/chunked.py): every file here is loaded twice,
in chunks (--jobs 2, chunks of 8 KB) and serially (--jobs 1) into a fresh database, and the two
must agree: the same rows, the same counts, the same rejects with the same line numbers, every
index present and nothing left pending. Bad records are put in a LATE chunk, after earlier chunks
committed."""

from __future__ import annotations

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
