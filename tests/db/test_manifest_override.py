"""The manifest override (issue 10): a file scan blocks because it differs from manifest.json can
be loaded with `make_plan(..., accept_changed=...)`, but only when the manifest is the ONLY thing
that blocks it. Scan carries its blockers as data (kind + sentence) and the columns' own verdict;
these tests prove that lifting the manifest blocker gives the verdict of the scan of the same
folder without its manifest.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from loadkit import connect_with, manifest_entry, manifest_of

from aria_tui.errors import AriaError
from aria_tui.load import make_plan
from aria_tui.load.plan import manifest_overrides
from aria_tui.manifest import format as m
from aria_tui.scan import scan
from aria_tui.selection import accept_manifest, manifest_block, manifest_override
from aria_tui.status import BlockerKind

DDL = """
CREATE SCHEMA app;
CREATE TABLE app.items (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE app.notes (id integer PRIMARY KEY, body text);
CREATE TABLE app.wide (id integer PRIMARY KEY);
CREATE TABLE app.strict (id integer PRIMARY KEY, kind text NOT NULL);
CREATE TABLE app.computed (a integer PRIMARY KEY, b integer GENERATED ALWAYS AS (a * 2) STORED);
CREATE TABLE app.ordered (id integer PRIMARY KEY, name text);
CREATE TABLE app.broken (id integer PRIMARY KEY, name text);
CREATE TABLE app.same (id integer PRIMARY KEY, name text);
CREATE TABLE app.tags (id integer PRIMARY KEY, tag text);
"""

# file -> (content the export wrote, content now in the folder, verdict without a manifest)
FILES = {
    # a record deleted, nothing else wrong: blocked by the manifest alone
    "app.items.csv": ("id,name\n1,a\n2,b\n3,c\n", "id,name\n1,a\n2,b\n", "match"),
    "app.notes.csv": ("id,body,extra\n1,x,\n2,y,\n3,z,\n", "id,body,extra\n1,x,\n2,y,\n", "drift"),
    "app.computed.csv": ("a,b\n1,2\n2,4\n3,6\n", "a,b\n1,2\n2,4\n", "drift"),
    "app.ordered.csv": ("name,id\na,1\nb,2\nc,3\n", "name,id\na,1\nb,2\n", "drift"),
    # changed AND blocked by the schema or the CSV itself: no override can load them
    "app.wide.csv": ("id,label\n1,a\n2,b\n3,c\n", "id,label\n1,a\n2,b\n", "blocked"),
    "app.strict.csv": ("id\n1\n2\n3\n", "id\n1\n2\n", "blocked"),
    # a header no table can take (a record COPY refuses would only be a reject, issue 16)
    "app.broken.csv": ("id,name\n1,a\n2,b\n3,c\n", "id,id\n1,a\n2,b\n", "blocked"),
    # untouched
    "app.same.csv": ("id,name\n1,a\n", "id,name\n1,a\n", "match"),
}
UNLISTED = ("app.tags.csv", "id,tag\n1,t\n", "match")  # not written by the export at all


@pytest.fixture
def conn(empty_db):
    with connect_with(empty_db, DDL) as c:
        yield c


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    entries = []
    for name, (written, now, _) in FILES.items():
        (tmp_path / name).write_text(written, encoding="utf-8")
        entries.append(manifest_entry(name, written))
        (tmp_path / name).write_text(now, encoding="utf-8")
    (tmp_path / UNLISTED[0]).write_text(UNLISTED[1], encoding="utf-8")
    m.write_manifest(tmp_path, manifest_of(*entries))
    return tmp_path


def test_lifting_the_manifest_blocker_gives_the_scan_without_manifest(folder, conn):
    with_manifest = scan(folder, conn, "none")
    (folder / m.MANIFEST_NAME).rename(folder / "manifest.json.away")
    without = scan(folder, conn, "none")
    expected = {name: verdict for name, (_, _, verdict) in FILES.items()} | {
        UNLISTED[0]: UNLISTED[2]
    }
    for t in with_manifest.tables:
        bare = without.table(t.name)
        assert bare.diff.status == expected[t.file.name], (t.file.name, bare.diff.reason)
        lifted = t.diff.without(BlockerKind.MANIFEST)
        assert lifted.status == bare.diff.status, t.file.name
        assert [b.kind for b in lifted.blockers] == [b.kind for b in bare.diff.blockers]
        if t.manifest in ("changed", "unlisted"):
            assert t.diff.blockers[0].kind == BlockerKind.MANIFEST
    states = {t.file.name: t.manifest for t in with_manifest.tables}
    assert states == {name: "changed" for name in FILES} | {
        "app.same.csv": "ok",
        "app.tags.csv": "unlisted",
    }


def test_only_a_file_blocked_by_the_manifest_alone_can_be_overridden(folder, conn):
    inv = scan(folder, conn, "none")
    overridable = {t.file.name for t in inv.tables if manifest_block(t) is not None}
    assert overridable == {
        "app.items.csv",
        "app.notes.csv",
        "app.computed.csv",
        "app.ordered.csv",
        "app.tags.csv",
    }
    items = inv.table("app.items")
    assert items.diff.status == "blocked" and not items.selected
    why = manifest_block(items)
    assert why == items.diff.reason
    assert why.startswith("app.items.csv changed since it was exported from app.items: ")
    assert "it holds 2 records, the export wrote 3" in why
    assert manifest_block(inv.table("app.tags")).startswith("app.tags.csv is not listed in")

    accepted = accept_manifest(items)
    assert accepted.diff.status == "match" and accepted.diff.loadable
    assert accepted.diff.reason == why and accepted.manifest == "changed"
    assert manifest_override(accepted) and not manifest_override(items)

    # a column holding data the target lacks: the manifest's sentence is followed by the diff's
    wide = inv.table("app.wide")
    assert wide.diff.reason.startswith("app.wide.csv changed since") and "; " in wide.diff.reason
    with pytest.raises(AriaError, match="something besides the manifest blocks it"):
        accept_manifest(wide)
    with pytest.raises(AriaError, match="not changed or unlisted"):
        accept_manifest(inv.table("app.same"))


def test_make_plan_loads_an_accepted_file_and_says_so(folder, conn):
    inv = scan(folder, conn, "none")
    names = ["app.items", "app.notes", "app.same"]

    plan = make_plan(inv, names)
    assert [tp.target for tp in plan.tables] == ["app.same"]
    assert {s.file.name: why for s, why in plan.skipped}["app.items.csv"].startswith(
        "app.items.csv changed since it was exported"
    )
    assert manifest_overrides(plan) == ()

    # by file name, by stem, by schema.table; a file that matches its manifest is a no-op
    for accept in (["app.items.csv"], ["app.items"], ["app.items", "app.same.csv"]):
        plan = make_plan(inv, names, accept_changed=accept)
        assert {tp.target: manifest_override(tp) for tp in plan.tables} == {
            "app.items": True,
            "app.same": False,
        }, accept
        assert [s.file.name for s, _ in plan.skipped] == ["app.notes.csv"]
        (tp,) = manifest_overrides(plan)
        assert tp.columns == (("id", "id"), ("name", "name"))
        assert "the export wrote 3" in tp.scan.diff.reason

    # `all`: every file blocked by the manifest alone, never one blocked by something else
    plan = make_plan(inv, [*names, "app.wide", "app.tags"], accept_changed=["all"])
    assert {tp.target for tp in manifest_overrides(plan)} == {"app.items", "app.notes", "app.tags"}
    assert [s.file.name for s, _ in plan.skipped] == ["app.wide.csv"]

    # the default selection (generic mode: every file with a target) takes an accepted file too
    plan = make_plan(inv, accept_changed=["app.computed.csv"])
    assert "app.computed" in {tp.target for tp in manifest_overrides(plan)}
    skipped = {s.file.name for s, _ in plan.skipped}
    assert "app.computed.csv" not in skipped and "app.items.csv" in skipped
    computed = next(tp for tp in plan.tables if tp.target == "app.computed")
    assert computed.columns == (("a", "a"),)  # the generated column is still the target's

    with pytest.raises(AriaError, match="something besides the manifest blocks it"):
        make_plan(inv, names, accept_changed=["app.broken.csv"])
    with pytest.raises(AriaError, match="the export has no such file"):
        make_plan(inv, names, accept_changed=["app.itemz.csv"])


def test_no_manifest_no_override_needed(folder, conn):
    (folder / m.MANIFEST_NAME).unlink()
    inv = scan(folder, conn, "none")
    assert all(manifest_block(t) is None for t in inv.tables)
    plan = make_plan(inv, ["app.items"], accept_changed=["app.items", "all"])
    assert [tp.target for tp in plan.tables] == ["app.items"]
    assert manifest_overrides(plan) == ()


def test_validate_follows_the_load_override_and_its_own_flag(folder, empty_db, conn, cli):
    """A file loaded with --accept-changed validates (the journal shows these very bytes were
    loaded under the override); touched since, it needs validate's own --accept-changed."""
    import json
    import os

    args = ("--dsn", empty_db.conninfo, "--profile", "none", "--tables", "app.items,app.same")
    code, _, err = cli("validate", folder, *args, "--json")
    assert code == 1  # app.items is blocked: it differs from the manifest
    code, out, err = cli("load", folder, *args, "--accept-changed", "app.items", "--yes", "--json")
    assert code == 0, err
    code, out, err = cli("validate", folder, *args, "--json")
    report = json.loads(out)
    assert code == 0, out
    assert {t["target"]: t["status"] for t in report["tables"]} == {
        "app.items": "passed",
        "app.same": "passed",
    }
    assert any("app.items.csv differs from the export's manifest" in n for n in report["notes"])

    # the same bytes, a new modification time: no longer provably the file that was loaded
    path = folder / "app.items.csv"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert cli("validate", folder, *args, "--json")[0] == 1
    code, out, err = cli("validate", folder, *args, "--accept-changed", "app.items.csv", "--json")
    assert code == 0, out
    code, _, err = cli("validate", folder, *args, "--accept-changed", "app.broken.csv")
    assert code == 2 and "something besides the manifest blocks it" in err
