"""Nothing skipped in silence (issue 14, items 3 and 4): one Selection, blockers as data, one
Session, the same rule for `scan`, `load`, `validate` and the wizard. Against a real target."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from loadkit import connect_with, manifest_entry, manifest_of

from aria_tui.manifest import format as m
from aria_tui.selection import Selection
from aria_tui.session import Session
from aria_tui.status import BlockerKind, CheckStatus, LoadStatus, ScanStatus

DDL = """
CREATE SCHEMA app;
CREATE SCHEMA other;
CREATE TABLE app.items (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE app.notes (id integer PRIMARY KEY, body text);
CREATE TABLE app.twice (id integer PRIMARY KEY);
CREATE TABLE other.twice (id integer PRIMARY KEY);
"""

ITEMS = "id,name\n1,a\n2,b\n"
NOTES = "id,body\n1,x\n"


@pytest.fixture
def db(empty_db):
    with connect_with(empty_db, DDL):
        pass
    return empty_db


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    """An export whose manifest lists app.items and app.notes; app.notes.csv was lost."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "app.items.csv").write_text(ITEMS, encoding="utf-8")
    m.write_manifest(
        folder, manifest_of(manifest_entry("app.items.csv", ITEMS), manifest_entry("app.notes.csv", NOTES))
    )
    return folder


@pytest.fixture
def generic(tmp_path: Path) -> Path:
    folder = tmp_path / "generic"
    folder.mkdir()
    (folder / "items.csv").write_text(ITEMS, encoding="utf-8")
    (folder / "nowhere.csv").write_text("a\n1\n", encoding="utf-8")  # no table of that name
    (folder / "twice.csv").write_text("id\n1\n", encoding="utf-8")  # app.twice and other.twice
    return folder


def _json(cli, *argv) -> tuple[int, dict, str]:
    code, out, err = cli(*argv, "--json")
    assert out.strip(), err
    return code, json.loads(out), err


# -- a file the manifest lists and the folder lacks ------------------------------------------------


def test_scan_lists_a_file_the_manifest_lists_and_the_folder_lacks(exported, db, cli):
    code, data, _ = _json(cli, "scan", exported, "--dsn", db.conninfo, "--profile", "none")
    assert code == 0
    tables = {t["file"]: t for t in data["tables"]}
    notes = tables["app.notes.csv"]
    assert (notes["diff"]["status"], notes["rows"], notes["manifest"]) == ("missing", 0, "missing")
    # what the manifest says the lost file held, so the proof can count what never arrived
    assert notes["expected_rows"] == 1 and tables["app.items.csv"]["expected_rows"] is None
    assert notes["target"] == "app.notes" and not notes["selected"]
    assert [b["kind"] for b in notes["diff"]["blockers"]] == ["missing_file"]
    assert "is not in the folder" in notes["diff"]["reason"]
    assert data["totals"]["missing"] == 1
    # the human output names it too
    code, out, _ = cli("scan", exported, "--dsn", db.conninfo, "--profile", "none")
    assert code == 0 and "app.notes" in out and "missing" in out


def test_load_fails_naming_the_missing_file_and_validate_fails_it(exported, db, cli, tmp_path):
    dsn = ("--dsn", db.conninfo, "--profile", "none")
    code, data, _ = _json(cli, "load", exported, *dsn, "--yes")
    assert code == 1 and not data["ok"]
    res = {t["file"]: t for t in data["tables"]}
    assert res["app.items.csv"]["status"] == "loaded"
    missing = res["app.notes.csv"]
    assert missing["status"] == "blocked" and "app.notes.csv" in missing["error"]
    assert [b["kind"] for b in missing["blockers"]] == ["missing_file"]

    code, out, _ = cli("load", exported, *dsn, "--yes")
    assert code == 1 and "app.notes.csv" in out

    code, data, _ = _json(cli, "validate", exported, *dsn, "--report-dir", tmp_path / "r")
    assert code == 1 and not data["ok"]
    val = {t["file"]: t for t in data["tables"]}
    assert val["app.items.csv"]["status"] == "passed"
    assert val["app.notes.csv"]["status"] == "missing"
    assert "not in the folder" in val["app.notes.csv"]["checks"][0]["detail"]
    # the lost file's record (the manifest's count) is export data the target lacks
    assert val["app.notes.csv"]["not_in_target"] == 1 and data["summary"]["not_in_target"] == 1
    assert data["headline"].startswith(
        "1 record of the export is not in the target; 1 file of the export is missing from the folder"
    )

    # deselecting it on purpose (naming the others) is the operator's choice, and it is listed
    code, data, _ = _json(
        cli, "validate", exported, *dsn, "--tables", "app.items", "--report-dir", tmp_path / "r"
    )
    assert code == 0 and data["not_selected"] == ["app.notes.csv"]


# -- a file the profile rates HIGH or MEDIUM ------------------------------------------------------


def test_a_profile_file_rated_high_and_absent_is_missing(aria_db, tmp_path, cli):
    import shutil

    from loadkit import SAMPLE_EXPORT

    folder = tmp_path / "export"
    shutil.copytree(SAMPLE_EXPORT, folder)
    (folder / "memories.csv").unlink()
    session = Session(folder, aria_db, "aria_v4")
    inv = session.scan()
    mem = inv.table("memories")
    assert mem is not None and mem.status == ScanStatus.MISSING and mem.rows == 0
    assert mem.priority == "HIGH" and mem.target == "aria_data.memories"
    assert "is rated HIGH by the aria_v4 profile" in mem.diff.reason
    resolved = Selection().resolve(inv)
    assert mem in resolved.blocked
    plan = session.plan(Selection(), inv)
    (skipped,) = [s for s in plan.skipped if s.scan.name == "memories"]
    assert skipped.status == LoadStatus.BLOCKED
    # a partial load that names its tables is fine
    assert not session.plan(Selection.of(["thoughts"]), inv).skipped


# -- generic mode: every CSV is selected ----------------------------------------------------------


def test_generic_load_reports_no_target_and_ambiguous_files(generic, db, cli, tmp_path):
    dsn = ("--dsn", db.conninfo, "--profile", "none")
    code, data, _ = _json(cli, "scan", generic, *dsn)
    scans = {t["file"]: t for t in data["tables"]}
    assert [b["kind"] for b in scans["nowhere.csv"]["diff"]["blockers"]] == ["no_target"]
    assert [b["kind"] for b in scans["twice.csv"]["diff"]["blockers"]] == ["ambiguous"]
    assert scans["twice.csv"]["diff"]["status"] == "blocked"

    code, data, _ = _json(cli, "load", generic, *dsn, "--yes")
    assert code == 1 and not data["ok"]
    res = {t["file"]: t for t in data["tables"]}
    assert res["items.csv"]["status"] == "loaded"
    assert res["nowhere.csv"]["status"] == "no_target"
    assert "no table named nowhere" in res["nowhere.csv"]["error"]
    assert res["twice.csv"]["status"] == "blocked"
    assert "exists in schemas app and other" in res["twice.csv"]["error"]

    code, data, _ = _json(cli, "validate", generic, *dsn, "--report-dir", tmp_path / "r")
    assert code == 1
    val = {t["file"]: t for t in data["tables"]}
    assert val["items.csv"]["status"] == "passed"
    assert val["nowhere.csv"]["status"] == "no_target"
    assert val["twice.csv"]["status"] == "blocked"

    # the operator names what they mean: the others are left out, and listed
    code, data, _ = _json(
        cli, "validate", generic, *dsn, "--tables", "items", "--report-dir", tmp_path / "r"
    )
    assert code == 0 and sorted(data["not_selected"]) == ["nowhere.csv", "twice.csv"]
    code, data, _ = _json(cli, "load", generic, *dsn, "--yes", "--tables", "items")
    assert code == 0 and sorted(data["not_selected"]) == ["nowhere.csv", "twice.csv"]


def test_a_named_file_that_cannot_load_is_reported_everywhere_alike(generic, db, cli, tmp_path):
    """One rule: named and unloadable = selected and blocked (exit 1), never an exception."""
    dsn = ("--dsn", db.conninfo, "--profile", "none", "--tables", "items,twice")
    code, load, _ = _json(cli, "load", generic, *dsn, "--yes")
    code2, val, _ = _json(cli, "validate", generic, *dsn, "--report-dir", tmp_path / "r")
    assert code == code2 == 1
    assert {t["file"]: t["status"] for t in load["tables"]} == {
        "items.csv": "loaded",
        "twice.csv": "blocked",
    }
    assert {t["file"]: t["status"] for t in val["tables"]} == {
        "items.csv": "passed",
        "twice.csv": "blocked",
    }
    code, _, err = cli(
        "load", generic, "--dsn", db.conninfo, "--profile", "none", "--tables", "absent", "--yes"
    )
    assert code == 2 and "absent" in err


def test_deselected_files_are_left_out_and_listed(generic, db):
    session = Session(generic, db, "none")
    inv = session.scan()
    resolved = Selection(deselected=("nowhere", "twice")).resolve(inv)
    assert [t.name for t in resolved.chosen] == ["items"] and resolved.blocked == ()
    assert sorted(t.name for t in resolved.left_out) == ["nowhere", "twice"]
    plan = session.plan(Selection(deselected=("nowhere", "twice")), inv)
    assert [tp.target for tp in plan.tables] == ["app.items"] and plan.skipped == ()
    result = session.load(plan)
    assert result.ok and sorted(result.not_selected) == ["nowhere.csv", "twice.csv"]
    validation = session.validate(Selection.of(["items"]), report_dir=generic.parent / "r")
    assert validation.ok and [t.status for t in validation.tables] == [CheckStatus.PASSED]


# -- the values themselves ------------------------------------------------------------------------


def test_blockers_are_data_and_the_manifest_alone_is_a_comparison(exported, db):
    (exported / "app.items.csv").write_text("id,name\n1,a\n", encoding="utf-8")  # changed
    inv = Session(exported, db, "none").scan()
    items = inv.table("app.items")
    assert items.status == ScanStatus.BLOCKED and items.diff.verdict == ScanStatus.MATCH
    assert [b.kind for b in items.blockers] == [BlockerKind.MANIFEST]
    assert items.diff.blocked_only_by(BlockerKind.MANIFEST)
    assert items.diff.without(BlockerKind.MANIFEST).status == ScanStatus.MATCH
    resolved = Selection.of(["app.items"], accept_changed=["app.items"]).resolve(inv)
    assert [t.name for t in resolved.chosen] == ["app.items"]
    assert [t.name for t in resolved.accepted] == ["app.items"]


def test_statuses_are_plain_strings_in_json():
    assert json.dumps([ScanStatus.MISSING, LoadStatus.NO_TARGET]) == '["missing", "no_target"]'
    assert ScanStatus.BLOCKED == "blocked" == LoadStatus.BLOCKED == CheckStatus.BLOCKED


def test_status_and_selection_import_nothing_heavy():
    code = (
        "import sys, aria_tui.status, aria_tui.selection, aria_tui.session; "
        "heavy = [m for m in ('polars', 'psycopg', 'textual') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_no_sentence_is_parsed_back():
    root = Path(__file__).resolve().parents[2] / "aria_tui"
    words = ("is_file_reason", "verdict_before_manifest", "_schema_blocks", "_accept_overrides")
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not [w for w in words if w in text], path
