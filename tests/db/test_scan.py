"""scan(): target matching, column diff, sampled type checks and verdicts, on small hand-made
exports against a real PostgreSQL (the embedded one of conftest)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import psycopg
import pytest

from aria_tui.errors import ExportError
from aria_tui.profiles import Profile, TableEntry
from aria_tui.scan import ScanProgress, scan

DDL = """
CREATE SCHEMA app;
CREATE SCHEMA other;
CREATE TABLE app.items (
    id          integer PRIMARY KEY,
    name        text NOT NULL,
    data        jsonb,
    created_at  timestamptz DEFAULT now(),
    emb         vector(3)
);
CREATE TABLE app.people (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    from_entity uuid,
    description text,
    amount      integer,
    kind        text NOT NULL
);
CREATE TABLE app.dup (id integer PRIMARY KEY);
CREATE TABLE other.dup (id integer PRIMARY KEY);
CREATE TABLE app.computed (
    a integer NOT NULL,
    b integer GENERATED ALWAYS AS (a * 2) STORED
);
"""


@pytest.fixture
def db(empty_db):
    with psycopg.connect(empty_db.conninfo) as conn:
        conn.execute(DDL)
    return empty_db


@pytest.fixture
def conn(db):
    with psycopg.connect(db.conninfo) as conn:
        yield conn


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


ITEMS_OK = (
    "id,name,data,created_at,emb\n"
    '1,one,"{""a"": 1}",2024-01-01 00:00:00+00,"[1,2,3]"\n'
    '2,two,,2024-01-02 00:00:00+00,"[4,5,6]"\n'
)


def test_exact_header_is_a_match(tmp_path, conn):
    write(tmp_path, "items.csv", ITEMS_OK)
    inv = scan(tmp_path, conn, "none")
    t = inv.table("items")
    assert t.target == "app.items"
    assert t.rows == 2
    assert t.diff.status == "match", t.diff
    assert t.diff.mapping == tuple((c, c) for c in ("id", "name", "data", "created_at", "emb"))
    assert t.selected  # generic mode: loadable files are ticked
    assert inv.profile is None


def test_type_issue_line_counts_multiline_records(tmp_path, conn):
    write(
        tmp_path,
        "items.csv",
        "id,name,data\n"  # line 1
        '1,one,"{}"\n'  # line 2
        '2,"multi\nline\n""quoted"" text","{}"\n'  # lines 3-5
        "3,three,{bad\n"  # line 6
        "x4,four,{}\n",  # line 7
    )
    t = scan(tmp_path, conn, "none").table("items")
    assert t.rows == 4
    assert t.diff.status == "drift"  # bad sampled values do not block: the loader rejects the rows
    issues = {(i.column, i.line, i.value) for i in t.diff.type_issues}
    assert ("data", 6, "{bad") in issues
    assert ("id", 7, "x4") in issues
    by_col = {i.column: i for i in t.diff.type_issues}
    assert "json" in by_col["data"].reason
    assert "integer" in by_col["id"].reason
    # created_at (default) and emb (nullable) are missing but filled
    assert {(m.name, m.filled_by) for m in t.diff.missing_columns} == {
        ("created_at", "default"),
        ("emb", "null"),
    }


def test_vector_dimension_mismatch_is_a_type_issue_with_line(tmp_path, conn):
    write(
        tmp_path,
        "items.csv",
        "id,name,emb\n" '1,a,"[1,2,3]"\n' '2,b,"[1,2]"\n' '3,c,"[1,2,3]"\n' '4,d,"[1,x,3]"\n',
    )
    t = scan(tmp_path, conn, "none").table("items")
    assert t.diff.status == "drift"
    issues = {i.line: i for i in t.diff.type_issues if i.column == "emb"}
    assert set(issues) == {3, 5}
    assert "3" in issues[3].reason and "2" in issues[3].reason  # expected 3 dimensions, got 2
    assert issues[3].value == "[1,2]"


def test_null_in_not_null_column_is_a_type_issue(tmp_path, conn):
    write(tmp_path, "items.csv", 'id,name\n1,a\n2,\n3,""\n')
    t = scan(tmp_path, conn, "none").table("items")
    issues = [i for i in t.diff.type_issues if i.column == "name"]
    # the unquoted empty field is NULL; the quoted "" is an empty string, which text accepts
    assert [(i.line, i.value) for i in issues] == [(3, "")]
    assert "NOT NULL" in issues[0].reason


def test_long_values_are_truncated(tmp_path, conn):
    write(tmp_path, "items.csv", "id,name\n" + "9" * 300 + ",a\n")
    (issue,) = scan(tmp_path, conn, "none").table("items").diff.type_issues
    assert issue.line == 2
    assert len(issue.value) <= 81 and issue.value.startswith("999")


def test_extra_columns_empty_drift_nonempty_blocked(tmp_path, conn):
    write(
        tmp_path,
        "app.items.csv",
        'id,name,category,metadata\n1,a,,{}\n2,b,"",{}\n',
    )
    t = scan(tmp_path, conn, "none").table("app.items")
    assert t.diff.status == "drift"
    assert {(e.name, e.all_empty) for e in t.diff.extra_columns} == {
        ("category", True),
        ("metadata", True),
    }
    assert dict(t.diff.mapping) == {"id": "id", "name": "name", "category": None, "metadata": None}

    lines = ["id,name,category"] + [f"{i},n{i}," for i in range(1, 5000)] + ["5000,last,work"]
    write(tmp_path, "app.items.csv", "\n".join(lines) + "\n")
    t = scan(tmp_path, conn, "none").table("app.items")
    assert t.diff.status == "blocked"
    (extra,) = t.diff.extra_columns
    assert (extra.name, extra.all_empty, extra.first_value_line, extra.first_value) == (
        "category",
        False,
        5001,
        "work",
    )
    assert "category" in t.diff.reason and "5001" in t.diff.reason
    assert not t.selected


def test_missing_not_null_without_default_blocks(tmp_path, conn):
    write(tmp_path, "people.csv", "id,description\n,x\n")
    t = scan(tmp_path, conn, "none").table("people")
    assert t.diff.status == "blocked"
    assert "app.people.kind is NOT NULL without a default" in t.diff.reason
    missing = {m.name: m.filled_by for m in t.diff.missing_columns}
    assert missing == {"kind": "none", "from_entity": "null", "amount": "null"}


def test_renames_by_name_similarity_only_when_values_fit(tmp_path, conn):
    write(
        tmp_path,
        "people.csv",
        "id,from_entity_id,descripton,amount_id,Kind\n"
        "6f1c1c8e-8f43-4b7a-9d7c-4a1f2b3c4d5e,6f1c1c8e-8f43-4b7a-9d7c-4a1f2b3c4d5e,hello,12,a\n",
    )
    t = scan(tmp_path, conn, "none").table("people")
    # only a case fold is applied by itself; similar names are proposals the operator accepts
    assert {(r.source, r.target) for r in t.diff.renames} == {("Kind", "kind")}
    assert {(r.source, r.target) for r in t.diff.proposals} == {
        ("from_entity_id", "from_entity"),
        ("descripton", "description"),
        ("amount_id", "amount"),
    }
    assert t.diff.status == "blocked"  # their columns hold data that loading would lose
    assert "--decide app.people.descripton=rename:description" in t.diff.reason
    assert [source for source, _ in t.diff.mapping] == ["id", "from_entity_id", "descripton", "amount_id", "Kind"]
    assert dict(t.diff.mapping)["descripton"] is None

    # 'abc' is no integer: amount_id is not a rename of amount, so it is extra data, blocked
    write(tmp_path, "people.csv", "id,amount_id,kind\n,abc,a\n")
    t = scan(tmp_path, conn, "none").table("people")
    assert not t.diff.renames
    assert t.diff.status == "blocked"
    assert "amount_id" in t.diff.reason


def test_profile_renames_win(tmp_path, conn):
    write(tmp_path, "people.csv", "entity_type,id,extra\nperson,,\n")
    profile = Profile(
        name="test",
        title="test",
        schemas=("app",),
        detect=(),
        tables=(
            TableEntry(
                file="people",
                target="app.people",
                category="domain",
                priority="HIGH",
                reason="because",
                renames={"entity_type": "kind"},
            ),
        ),
        patterns=(),
        folder=tmp_path,
    )
    inv = scan(tmp_path, conn, profile)
    t = inv.table("people")
    assert [(r.source, r.target, r.why) for r in t.diff.renames] == [("entity_type", "kind", "profile")]
    assert t.diff.status == "drift"
    # the mapping follows the header, whatever made each pair
    assert t.diff.mapping == (("entity_type", "kind"), ("id", "id"), ("extra", None))
    assert (t.category, t.priority, t.reason, t.selected) == ("domain", "HIGH", "because", True)
    assert inv.profile == "test"


def test_reordered_header_maps_by_name(tmp_path, conn):
    write(tmp_path, "items.csv", "name,id\na,1\n")
    t = scan(tmp_path, conn, "none").table("items")
    assert t.diff.status == "drift"
    assert t.diff.reordered
    assert t.diff.mapping == (("name", "name"), ("id", "id"))


def test_generated_column_is_not_loaded(tmp_path, conn):
    write(tmp_path, "computed.csv", "a,b\n1,2\n")
    t = scan(tmp_path, conn, "none").table("computed")
    assert t.diff.status == "drift"
    assert dict(t.diff.mapping) == {"a": "a", "b": None}
    assert not t.diff.missing_columns


def test_ambiguous_table_and_schema_qualified_file(tmp_path, conn):
    write(tmp_path, "dup.csv", "id\n1\n")
    write(tmp_path, "other.dup.csv", "id\n1\n")
    inv = scan(tmp_path, conn, "none")
    bare = inv.table("dup")
    assert bare.diff.status == "blocked"
    assert "app and other" in bare.diff.reason
    assert bare.target is None and not bare.selected
    qualified = inv.table("other.dup")
    assert qualified.target == "other.dup"
    assert qualified.diff.status == "match"


def test_no_target_and_header_only(tmp_path, conn):
    write(tmp_path, "nowhere.csv", "a,b\n1,2\n")
    write(tmp_path, "items.csv", "id,name,data,created_at,emb\n")
    inv = scan(tmp_path, conn, "none")
    assert inv.table("nowhere").diff.status == "no_target"
    assert "nowhere" in inv.table("nowhere").diff.reason
    empty = inv.table("items")
    assert (empty.rows, empty.diff.status) == (0, "match")


def test_bad_records_are_counted_with_their_line_and_bad_files_blocked(tmp_path, conn):
    """A record COPY would refuse is a note (the load rejects it alone), not a blocked file; a
    file that cannot be read as CSV at all, or is not UTF-8 throughout, is blocked."""
    write(tmp_path, "items.csv", ITEMS_OK)
    write(tmp_path, "app.dup.csv", 'id\n1\n"2\n3\n')  # unterminated quote from line 3
    # ragged: line 3 has 2 fields; line 4 is not UTF-8
    write(tmp_path, "other.dup.csv", b"id\n1\n2,3\n\xff\n5\n6\n7\n8\n9\n10\n11\n12\n")
    write(tmp_path, "people.csv", b"id,kind\n" + b"".join(b"%d,caf\xe9\n" % i for i in range(9)))
    write(tmp_path, "computed.csv", b"")
    inv = scan(tmp_path, conn, "none")
    assert inv.table("items").diff.status == "match"
    for name, line, n in (("app.dup", 3, 1), ("other.dup", 3, 2)):
        t = inv.table(name)
        assert t.diff.status != "blocked" and t.problem is None, (name, t.diff)
        note = " ".join(t.diff.notes)
        assert f"{n} records cannot be read as CSV records" in note and f"{line}" in note, note
    latin = inv.table("people")
    assert latin.diff.status == "blocked" and "not UTF-8" in latin.diff.reason
    assert "Latin-1" in latin.diff.reason
    zero = inv.table("computed")
    assert zero.diff.status == "blocked"
    assert "0 bytes" in zero.diff.reason


def test_progress_events(tmp_path, conn):
    write(tmp_path, "items.csv", ITEMS_OK)
    write(tmp_path, "dup.csv", "id\n1\n")
    events: list[ScanProgress] = []
    scan(tmp_path, conn, "none", progress=events.append)
    assert events[0] == ScanProgress(0, 2, None)
    assert [e.files_done for e in events] == [0, 1, 2]
    assert {e.current_file for e in events[1:]} == {"items.csv", "dup.csv"}


def test_bad_folder_raises(tmp_path, conn):
    with pytest.raises(ExportError):
        scan(tmp_path / "missing", conn, "none")
    with pytest.raises(ExportError):
        scan(tmp_path, conn, "none")  # exists, no CSV


def test_select(tmp_path, conn):
    write(tmp_path, "items.csv", ITEMS_OK)
    write(tmp_path, "nowhere.csv", "a\n1\n")
    inv = scan(tmp_path, conn, "none")
    from aria_tui.errors import AriaError
    from aria_tui.selection import Selection

    # generic mode takes every CSV; the one with no target table is selected and blocked
    default = Selection().resolve(inv)
    assert [t.name for t in default.chosen] == ["items"]
    assert [t.name for t in default.blocked] == ["nowhere"]
    assert [b.kind for b in default.blocked[0].blockers] == ["no_target"]
    named = Selection.of(["app.items"]).resolve(inv)
    assert ([t.name for t in named.chosen], named.blocked) == (["items"], ())
    assert [t.name for t in named.left_out] == ["nowhere"]
    # a named file that cannot be loaded is selected and blocked, never an error
    assert [t.name for t in Selection.of(["nowhere"]).resolve(inv).blocked] == ["nowhere"]
    with pytest.raises(AriaError):
        Selection.of(["absent"]).resolve(inv)


def test_json_shape(tmp_path, conn):
    write(tmp_path, "items.csv", ITEMS_OK)
    data = json.loads(json.dumps(scan(tmp_path, conn, "none").to_json()))
    assert set(data) >= {"export", "profile", "tables", "manifest"}
    (t,) = data["tables"]
    assert set(t) >= {
        "file", "table", "target", "rows", "bytes", "category", "priority", "reason",
        "selected", "diff", "manifest", "problem",
    }
    assert t["manifest"] is None
    assert set(t["diff"]) >= {
        "status", "extra_columns", "missing_columns", "renames", "type_issues", "reason", "mapping",
    }
    assert t["bytes"] == (tmp_path / "items.csv").stat().st_size


def test_counts_equal_python_csv(tmp_path, conn):
    rows = [[str(i), f'line1\r\nline2 "q" {i}', "{}"] for i in range(1, 300)]
    with open(tmp_path / "items.csv", "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "data"])
        w.writerows(rows)
    t = scan(tmp_path, conn, "none").table("items")
    assert t.rows == 299
    assert t.diff.status == "drift"  # missing created_at/emb only
    assert not t.diff.type_issues


TRICKY = {
    "uuid": ["6f1c1c8e-8f43-4b7a-9d7c-4a1f2b3c4d5e", "6F1C1C8E-8F43-4B7A-9D7C-4A1F2B3C4D5E",
             "6f1c1c8e8f434b7a9d7c4a1f2b3c4d5e", "6f1c1c8e-8f43-4b7a-9d7c-4a1f2b3c4d5", " x", ""],
    "integer": ["0", "-7", "+12", "999999999", "2147483647", "2147483648", "1.0", "1e3", " 1", ""],
    "bigint": ["9223372036854775807", "9223372036854775808", "123456789012345678", "-1"],
    "smallint": ["32767", "32768", "9999", "-9999"],
    "double precision": ["1.5", ".5", "5.", "-1e99", "1e309", "NaN", "inf", "1,5", "e5"],
    "double precision ": ["1" * 400, "0." + "0" * 400 + "1", "1" * 15 + "." + "1" * 15 + "e-99"],
    "numeric(5,2)": ["999.99", "999.999", "99.999", "1000", "-12.3", ".5", "5.", "1e2", "abc"],
    "character varying(3)": ["abc", "abcd", "ab  ", "é€漢", ""],
    "timestamp with time zone": [
        "2024-01-01 00:00:00+00", "2024-02-29 23:59:59.123456+05:30", "2023-02-29 00:00:00+00",
        "2024-13-01 00:00:00+00", "2024-01-01T10:00:00Z", "2024-01-01 24:00:00+00",
        "0000-01-01 00:00:00+00", "2024-01-01 00:00:00.1234567+00", "2024-01-01", "yesterday",
    ],
    "timestamp without time zone": ["2024-01-01 00:00:00", "2024-04-31 00:00:00", "2024-01-01 00:00:00+02"],
    "date": ["2024-01-31", "2024-02-30", "2024-1-1", "1999-12-31"],
}


def test_values_skipped_on_the_client_are_ones_the_server_accepts(conn):
    """The client-side shortcut may only skip values the target certainly accepts."""
    import polars as pl

    from aria_tui.pg.catalog import Column
    from aria_tui.scan.canonical import surely_valid

    for typ, values in TRICKY.items():
        typ = typ.strip()  # a trailing space keeps a second list of values for one type
        col = Column("c", typ, typ, 0, False, None, None, False, None, 1)
        expr = surely_valid("c", col)
        assert expr is not None, typ
        surely = pl.DataFrame({"c": values}).select(expr).to_series().to_list()
        for value, sure in zip(values, surely, strict=True):
            valid = conn.execute("SELECT pg_input_is_valid(%s, %s)", (value, typ)).fetchone()[0]
            assert valid or not sure, (typ, value)
        assert any(surely), typ  # the shortcut does skip the canonical forms


def test_manifest_verdicts_reach_the_inventory(tmp_path, conn):
    """The hook for issue 10: without manifest.json every `manifest` is None (tested above);
    with one, a changed or unlisted file is blocked and a missing one is a note."""
    from aria_tui.manifest import format as mf
    from aria_tui.manifest.check import sha256_file

    write(tmp_path, "items.csv", ITEMS_OK)
    write(tmp_path, "app.dup.csv", "id\n1\n")  # will change after the manifest is written
    write(tmp_path, "gone.csv", "id\n1\n")

    def entry(name: str, table: str) -> mf.ManifestTable:
        digest, size = sha256_file(tmp_path / name)
        cols = (mf.ManifestColumn("id", "integer", True),)
        return mf.ManifestTable(name, "app", table, 1 if name != "items.csv" else 2, size, digest, cols)

    manifest = mf.Manifest(
        tool_version="test", database="src", server_version="16", server_version_num=160000,
        snapshot_time="2026-01-01T00:00:00Z",
        tables=(entry("items.csv", "items"), entry("app.dup.csv", "dup"), entry("gone.csv", "gone")),
    )
    mf.write_manifest(tmp_path, manifest)
    (tmp_path / "gone.csv").unlink()
    write(tmp_path, "app.dup.csv", "id\n1\n2\n")
    write(tmp_path, "other.dup.csv", "id\n1\n")

    inv = scan(tmp_path, conn, "none")
    assert inv.manifest and inv.manifest.endswith("manifest.json")
    items, dup, extra = inv.table("items"), inv.table("app.dup"), inv.table("other.dup")
    assert items.manifest == "ok" and items.diff.status == "match"
    assert items.diff.source_types == {"id": "integer"}
    assert dup.manifest == "changed" and dup.diff.status == "blocked" and not dup.selected
    assert dup.diff.reason.startswith("app.dup.csv changed since it was exported")
    assert "2 records" in dup.diff.reason
    assert extra.manifest == "unlisted" and extra.diff.status == "blocked"
    assert any("gone.csv" in note for note in inv.notes)


def test_gzip_file_scans_like_plain(tmp_path, conn):
    import gzip

    (tmp_path / "app.items.csv.gz").write_bytes(gzip.compress(ITEMS_OK.encode()))
    t = scan(tmp_path, conn, "none").table("app.items")
    assert (t.file.name, t.rows, t.diff.status) == ("app.items.csv.gz", 2, "match")


def test_input_function_that_raises_spares_the_other_columns(tmp_path, db, conn):
    # an array of vectors is no vector for the client check; its input raises on the server
    with psycopg.connect(db.conninfo) as c:
        c.execute("CREATE TABLE app.dom (id integer, v vector(3)[])")
    write(tmp_path, "dom.csv", 'id,v\n1,"{""[1,2,3]""}"\nx,"{""[1,2]""}"\n')
    t = scan(tmp_path, conn, "none").table("dom")
    assert [(i.column, i.line, i.value) for i in t.diff.type_issues] == [("id", 3, "x")]
    assert any("values of column v were not type-checked" in n for n in t.diff.notes)
    assert conn.execute("SELECT 1").fetchone() == (1,)  # the caller's connection still works


def test_a_domain_over_vector_is_checked_as_its_vector(tmp_path, db, conn):
    with psycopg.connect(db.conninfo) as c:
        c.execute("CREATE DOMAIN app.vec3 AS vector(3); CREATE TABLE app.domv (id integer, v app.vec3)")
    write(tmp_path, "domv.csv", 'id,v\n1,"[1,2,3]"\n2,"[1,2]"\n')
    t = scan(tmp_path, conn, "none").table("domv")
    assert [(i.column, i.line) for i in t.diff.type_issues] == [("v", 3)]
    assert "3" in t.diff.type_issues[0].reason


def test_progress_callback_can_cancel(tmp_path, conn):
    from aria_tui.errors import Cancelled

    write(tmp_path, "items.csv", ITEMS_OK)
    write(tmp_path, "dup.csv", "id\n1\n")

    def cancel(event: ScanProgress) -> None:
        if event.files_done == 1:
            raise Cancelled("cancelled")

    with pytest.raises(Cancelled):
        scan(tmp_path, conn, "none", progress=cancel)


def test_two_files_for_one_table_are_noted(tmp_path, conn):
    write(tmp_path, "items.csv", ITEMS_OK)
    write(tmp_path, "app.items.csv", ITEMS_OK)
    inv = scan(tmp_path, conn, "none")
    assert inv.table("items").target == inv.table("app.items").target == "app.items"
    assert "app.items also receives app.items.csv" in inv.table("items").diff.notes
    assert inv.table("memories") is None

