"""Row-level rejects for structural problems (issue 16, item 1): a record COPY would refuse is
rejected alone, with its physical line(s), the reason and its raw bytes; the rest loads. A file
is refused whole only when its structure cannot be recovered."""

from __future__ import annotations

import csv

import pytest
from loadkit import assert_counts_add_up, load, plan_for, query, sql

from aria_tui import csvio
from aria_tui.csvio import cutter, native


def _rejects(path: str) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _write(folder, name: str, data: bytes):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def _fifty_thousand(extra: bytes = b"") -> tuple[bytes, dict[int, str]]:
    """50,000 records (header excluded) of which 4 are structurally bad, with a multi-line
    quoted field before them so physical lines and records differ. `extra` ends every good
    record (a vector column)."""
    lines = [b"id,name,note" + (b",emb" if extra else b"")]
    bad: dict[int, str] = {}
    line = 1
    for i in range(1, 50_001):
        line += 1
        if i == 7:
            lines.append(b'7,seven,"two\nlines"' + extra)
            line += 1
        elif i == 12_345:
            lines.append(b"12345,ragged,x,extra,more")
            bad[line] = "row has 5 fields, header has"
        elif i == 23_456:
            lines.append(b"")
            bad[line] = "empty line"
        elif i == 34_567:
            lines.append(b"34567,n\x00ul,x" + extra)
            bad[line] = "NUL byte"
        elif i == 45_678:
            lines.append(b"\\.")
            bad[line] = "\\."
        else:
            lines.append(f"{i},name {i},".encode() + extra)
    return b"\n".join(lines) + b"\n", bad


@pytest.mark.parametrize("force_staging", [False, True])
@pytest.mark.parametrize("vectors", [False, True])
def test_fifty_thousand_records_four_structural_rejects(empty_db, tmp_path, force_staging, vectors):
    emb = ", emb vector(2)" if vectors else ""
    sql(empty_db, f"CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, note text{emb})")
    data, bad = _fifty_thousand(b',"[1,2]"' if vectors else b"")
    folder = tmp_path / "export"
    _write(folder, "public.t.csv", data)
    result = load(empty_db, folder, force_staging=force_staging)
    t = result.tables[0]
    assert t.status == "loaded", t
    assert_counts_add_up(result)
    assert (t.csv_rows, t.inserted, t.rejected) == (50_000, 49_996, 4), t
    rows = _rejects(t.reject_file)
    got = {int(r[0]): r for r in rows[1:]}
    assert sorted(got) == sorted(bad), (sorted(got), sorted(bad))
    for line, why in bad.items():
        assert why in got[line][1], got[line]
    # the raw bytes are in the reject file
    assert any(r[2] == "12345,ragged,x,extra,more" for r in rows[1:])
    assert any(r[2].startswith("34567,n\\x00ul,x") for r in rows[1:])
    assert query(empty_db, "SELECT count(*) FROM t") == [(49_996,)]
    assert query(empty_db, "SELECT note FROM t WHERE id = 7") == [("two\nlines",)]
    assert query(empty_db, "SELECT max(id) FROM t") == [(50_000,)]


def test_scan_counts_bad_records_instead_of_blocking(empty_db, tmp_path):
    sql(empty_db, "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, note text)")
    data, _ = _fifty_thousand()
    folder = tmp_path / "export"
    _write(folder, "public.t.csv", data)
    plan = plan_for(empty_db, folder)
    assert [tp.target for tp in plan.tables] == ["public.t"]
    scan = plan.tables[0].scan
    assert scan.rows == 50_000
    assert scan.problem is None
    assert any("4 records" in n for n in scan.diff.notes), scan.diff.notes


@pytest.mark.parametrize("force_staging", [False, True])
def test_single_column_end_marker_is_a_reject_not_the_end(empty_db, tmp_path, force_staging):
    """PostgreSQL 16's COPY stops at a line holding only \\. and says nothing: the raw-bytes
    paths must never send it, and the record is rejected alone."""
    sql(empty_db, "CREATE TABLE one (v text)")
    folder = tmp_path / "export"
    _write(folder, "public.one.csv", b'v\na\n"\\."\n\\.\nb\nc\n')
    result = load(empty_db, folder, force_staging=force_staging)
    t = result.tables[0]
    assert (t.csv_rows, t.inserted, t.rejected) == (5, 4, 1), t
    assert sorted(r[0] for r in query(empty_db, "SELECT v FROM one")) == ["\\.", "a", "b", "c"]
    rows = _rejects(t.reject_file)
    assert [r[0] for r in rows[1:]] == ["4"] and "\\." in rows[1][1]


@pytest.mark.parametrize("force_staging", [False, True])
def test_open_quote_to_eof_rejects_the_partial_record_only(empty_db, tmp_path, force_staging):
    sql(empty_db, "CREATE TABLE q (id int, note text)")
    folder = tmp_path / "export"
    _write(folder, "public.q.csv", b'id,note\n1,a\n2,"b\n3,c\n4,d\n')
    result = load(empty_db, folder, force_staging=force_staging)
    t = result.tables[0]
    assert (t.csv_rows, t.inserted, t.rejected) == (2, 1, 1), t
    rows = _rejects(t.reject_file)
    assert rows[1][0] == "3" and "unterminated" in rows[1][1] and "lines 3-5" in rows[1][1]
    assert query(empty_db, "SELECT id, note FROM q") == [(1, "a")]


@pytest.mark.parametrize("force_staging", [False, True])
def test_invalid_utf8_in_one_record_rejects_that_record(empty_db, tmp_path, force_staging):
    sql(empty_db, "CREATE TABLE u (id int, note text)")
    folder = tmp_path / "export"
    body = b"".join(f"{i},ok {i}\n".encode() for i in range(1, 200))
    _write(folder, "public.u.csv", b"id,note\n" + body + b"200,caf\xe9\n201,\xc3\xa9t\xc3\xa9\n")
    result = load(empty_db, folder, force_staging=force_staging)
    t = result.tables[0]
    assert (t.csv_rows, t.inserted, t.rejected) == (201, 200, 1), t
    rows = _rejects(t.reject_file)
    assert rows[1][0] == "201" and "0xe9" in rows[1][1] and rows[1][2] == "200,caf\\xe9"
    assert query(empty_db, "SELECT note FROM u WHERE id = 201") == [("été",)]


@pytest.mark.parametrize("force_staging", [False, True])
def test_wrong_encoding_throughout_is_refused_naming_it(empty_db, tmp_path, force_staging):
    sql(empty_db, "CREATE TABLE w (id int, note text)")
    folder = tmp_path / "export"
    body = "".join(f"{i},Café n°{i}\n" for i in range(1, 50)).encode("cp1252")
    _write(folder, "public.w.csv", b"id,note\n" + body)
    result = load(empty_db, folder, force_staging=force_staging)
    t = result.tables[0]
    assert t.status == "blocked", t  # the scan saw it: refused before anything is read
    assert "not UTF-8" in t.error and "Latin-1" in t.error, t.error
    assert query(empty_db, "SELECT count(*) FROM w") == [(0,)]


@pytest.mark.parametrize("force_staging", [False, True])
def test_wrong_encoding_the_scan_missed_fails_the_table_at_load(
    empty_db, tmp_path, force_staging
):
    """A file that turned Latin-1 after the scan: the load refuses it whole, naming it."""
    sql(empty_db, "CREATE TABLE w (id int, note text)")
    folder = tmp_path / "export"
    _write(folder, "public.w.csv", b"id,note\n1,ok\n")
    plan = plan_for(empty_db, folder)
    body = "".join(f"{i},Café n°{i} 5€\n" for i in range(1, 50)).encode("cp1252")
    _write(folder, "public.w.csv", b"id,note\n" + body)
    from aria_tui.load import run_plan

    t = run_plan(empty_db, plan, force_staging=force_staging).tables[0]
    assert t.status == "failed", t
    assert "not UTF-8" in t.error and "Windows-1252" in t.error, t.error
    assert query(empty_db, "SELECT count(*) FROM w") == [(0,)]


def test_no_header_is_refused_whole(empty_db, tmp_path):
    sql(empty_db, "CREATE TABLE e (id int)")
    folder = tmp_path / "export"
    _write(folder, "public.e.csv", b"")
    result = load(empty_db, folder)
    assert not any(t.inserted for t in result.tables)


CASES = {
    "ragged": (b"a,b\n1,2\n3,4,5\n6,7\n", [3]),
    "short": (b"a,b\n1,2\n3\n6,7\n", [3]),
    "blank": (b"a,b\n1,2\n\n6,7\n", [3]),
    "nul": (b"a,b\n1,2\n3,\x00\n6,7\n", [3]),
    "utf8": (b"a,b\n1,2\n3,\xff\n6,7\n", [3]),
    "marker": (b"a,b\n1,2\n\\.\n6,7\n", [3]),
    "stray cr": (b"a,b\n1,2\n3,x\ry\n6,7\n", [3]),
    "open quote": (b'a,b\n1,2\n3,"x\n6,7\n', [3]),
    "multi-line then ragged": (b'a,b\n1,"x\ny"\n3,4,5\n6,7\n', [4]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_readers_agree_on_bad_records(case):
    """The C reader and polars decline a block with a bad record; the exact reader lists it."""
    data, lines = CASES[case]
    header = csvio.Header(columns=("a", "b"), eol="\n", lines=1, bytes=4) if False else None
    import pathlib
    import tempfile

    from aria_tui.csvio.header import scan_header

    with tempfile.TemporaryDirectory() as d:
        p = pathlib.Path(d) / "x.csv"
        p.write_bytes(data)
        header, _ = scan_header(p)
    body = data[header.bytes :]
    block = cutter.Block(body, body.count(b'"'), True, None)
    assert cutter.fast_frame(block, 2, b"\n") is None
    got = native.read_records(block.data, header, (native.ColumnKind.STR, native.ColumnKind.STR), True)
    assert got is None
    read = csvio.read_block(block, header, lines=True)
    assert [b.line + 2 for b in read.bad.values()] == lines


def _validate_json(cli, db, folder, tmp_path, *extra):
    import json

    code, out, err = cli("validate", folder, "--dsn", db.conninfo, "--profile", "none", "--json",
                         "--report-dir", tmp_path / "reports", *extra)
    assert out.strip(), err
    return code, json.loads(out)


def test_validate_proves_the_rest_of_a_file_with_structural_rejects(empty_db, tmp_path, cli):
    """Issue 14: the server's COPY refuses the file whole, yet the loader loaded all but 4 of its
    records. Validation must prove those 49,996 and count the 4 as not in the target, never
    'could not check' the whole file."""
    sql(empty_db, "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, note text)")
    data, bad = _fifty_thousand()
    folder = tmp_path / "export"
    _write(folder, "public.t.csv", data)
    result = load(empty_db, folder)
    assert result.tables[0].rejected == 4
    code, v = _validate_json(cli, empty_db, folder, tmp_path)
    (t,) = v["tables"]
    assert code == 1 and t["status"] == "incomplete", t
    assert (t["rejected"], t["not_in_target"], t["differing"]) == (4, 4, 0)
    assert v["headline"].startswith("4 records of the export are not in the target")
    checks = {c["name"]: c for c in t["checks"]}
    # the journal's 4 rejects are the 4 validation finds: nothing unverified
    assert checks["reconciliation"]["ok"], checks["reconciliation"]
    assert "cannot read its structure" in checks["reconciliation"]["detail"]
    assert checks["content"]["ok"] and "49,996 records" in checks["content"]["detail"]
    presence = checks["presence"]["detail"]
    assert "4 records of public.t.csv cannot be loaded" in presence
    assert "record 12345: row has 5 fields" in presence  # the reader's own reason, by record
    # the certificate still hashes the file itself
    import hashlib

    assert t["file_sha256"] == hashlib.sha256(data).hexdigest()

    # accepted on purpose: green, the 4 listed as decided away
    code, v = _validate_json(cli, empty_db, folder, tmp_path, "--accept-rejects", "public.t")
    assert code == 0 and v["tables"][0]["accepted_rejects"] == 4

    # what would pass while wrong: a loaded record altered, another deleted; both are seen
    sql(empty_db, "UPDATE t SET note = 'changed' WHERE id = 7", "DELETE FROM t WHERE id = 40000")
    code, v = _validate_json(cli, empty_db, folder, tmp_path, "--accept-rejects", "public.t")
    (t,) = v["tables"]
    assert code == 1 and t["status"] == "failed"
    text = " | ".join(c["detail"] for c in t["checks"] if not c["ok"])
    assert "id=7" in text and "id=40000" in text


@pytest.mark.parametrize(
    ("ddl", "name", "data", "rejected"),
    [
        ("CREATE TABLE one (v text)", "public.one.csv", b'v\na\n"\\."\n\\.\nb\nc\n', 1),
        ("CREATE TABLE q (id int, note text)", "public.q.csv", b'id,note\n1,a\n2,"b\n3,c\n4,d\n', 1),
        (
            "CREATE TABLE u (id int, note text)",
            "public.u.csv",
            b"id,note\n1,ok\n200,caf\xe9\n201,\xc3\xa9t\xc3\xa9\n",
            1,
        ),
        ("CREATE TABLE b (id int, note text)", "public.b.csv", b"id,note\n1,a\n\n2,b\n3,c,d\n", 2),
    ],
    ids=["end-marker", "open-quote", "invalid-utf8", "blank-and-ragged"],
)
def test_validate_counts_each_kind_of_structural_reject_as_the_load_did(
    empty_db, tmp_path, cli, ddl, name, data, rejected
):
    sql(empty_db, ddl)
    folder = tmp_path / "export"
    _write(folder, name, data)
    assert load(empty_db, folder).tables[0].rejected == rejected
    code, v = _validate_json(cli, empty_db, folder, tmp_path)
    (t,) = v["tables"]
    assert code == 1 and t["status"] == "incomplete", t
    assert t["rejected"] == rejected and t["differing"] == 0
    assert all(c["ok"] for c in t["checks"] if c["name"] != "presence"), t["checks"]
