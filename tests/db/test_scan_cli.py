"""`aria-tui scan`: the CLI end to end, and issue 4's "Done when" on sample_export."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

import pytest

SAMPLE_EXPORT = Path(__file__).resolve().parents[2] / "sample_export"

needs_sample = pytest.mark.skipif(
    not (SAMPLE_EXPORT.is_dir() and any(SAMPLE_EXPORT.glob("*.csv"))),
    reason="sample_export/ not generated yet",
)


def python_csv_records(path) -> int:
    """An independent count: Python's csv module, which reads quoted newlines as PostgreSQL does."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return max(sum(1 for _ in csv.reader(fh)) - 1, 0)


def test_bad_folder_exits_2_with_one_sentence(tmp_path, cli, empty_db):
    for folder in (tmp_path / "nope", tmp_path):
        code, out, err = cli("scan", folder, "--dsn", empty_db.conninfo, "--json")
        assert code == 2
        assert out == ""
        assert err.startswith("aria-tui: ") and err.count("\n") == 1, err
        assert "Traceback" not in err
    a_file = tmp_path / "x.csv"
    a_file.write_text("a\n1\n")
    code, _, err = cli("scan", a_file, "--dsn", empty_db.conninfo)
    assert code == 2 and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_unreadable_folder_exits_2(tmp_path, cli, empty_db):
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "a.csv").write_text("a\n1\n")
    folder.chmod(0)
    try:
        code, _, err = cli("scan", folder, "--dsn", empty_db.conninfo)
    finally:
        folder.chmod(stat.S_IRWXU)
    assert code == 2 and "Traceback" not in err


def test_human_output_and_blocked_file_exit_0(tmp_path, cli, empty_db):
    (tmp_path / "good.csv").write_text("a,b\n1,2\n")
    (tmp_path / "bad.csv").write_text('a\n"open\n')
    code, out, err = cli("scan", tmp_path, "--dsn", empty_db.conninfo)
    assert code == 0, err
    assert "good" in out and "bad" in out
    assert "2 files" in out and "0 selected" in out


@needs_sample
def test_sample_export_against_aria_target(cli, aria_db):
    code, out, err = cli("scan", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["profile"] == "aria_v4"
    tables = {t["table"]: t for t in data["tables"]}
    assert len(tables) == 88
    for name, t in tables.items():
        assert t["rows"] == python_csv_records(SAMPLE_EXPORT / t["file"]), name
        assert t["bytes"] == (SAMPLE_EXPORT / t["file"]).stat().st_size
        assert t["manifest"] is None

    mem = tables["memories"]
    assert (mem["priority"], mem["selected"], mem["target"]) == ("HIGH", True, "aria_data.memories")
    assert mem["diff"]["status"] in ("match", "drift")
    act = tables["activity_log"]
    assert (act["priority"], act["selected"]) == ("LOW", False)
    litellm = [t for n, t in tables.items() if n.startswith("litellm_")]
    assert litellm and all(t["priority"] == "SKIP" and not t["selected"] for t in litellm)
    assert all(t["diff"]["status"] == "no_target" for t in litellm)

    goals = tables["goals"]["diff"]
    assert goals["status"] == "drift"
    extra = {e["name"]: e["all_empty"] for e in goals["extra_columns"]}
    assert extra == {"category": True, "metadata": True}
    mapping = {m["from"]: m["to"] for m in goals["mapping"]}
    assert mapping["category"] is None and mapping["metadata"] is None

    # nothing in the sample export is broken: every file with a target can be loaded
    blocked = {n: t["diff"]["reason"] for n, t in tables.items() if t["diff"]["status"] == "blocked"}
    assert not blocked
    selected = {n for n, t in tables.items() if t["selected"]}
    assert {"memories", "thoughts", "goals", "semantic_memories", "scheduled_jobs"} <= selected


@needs_sample
def test_sample_export_against_empty_target_is_no_target(cli, empty_db):
    code, out, err = cli("scan", SAMPLE_EXPORT, "--dsn", empty_db.conninfo, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert len(data["tables"]) == 88
    assert {t["diff"]["status"] for t in data["tables"]} == {"no_target"}
    assert not any(t["selected"] for t in data["tables"])
    assert next(t for t in data["tables"] if t["table"] == "memories")["priority"] == "HIGH"


@needs_sample
def test_sample_export_generic_mode(cli, aria_db):
    code, out, err = cli("scan", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--profile", "none", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["profile"] is None
    t = {t["table"]: t for t in data["tables"]}
    assert t["memories"]["priority"] is None and t["memories"]["selected"]
    assert t["goals"]["diff"]["status"] == "drift"
    assert t["litellm_LiteLLM_DataTable"]["diff"]["status"] == "no_target"
