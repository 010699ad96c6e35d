"""Records decided away (issue 14 rule 1, issue 15 item 3): rejects the operator accepted on
purpose are listed, not counted as missing, and validate is green only for exactly those.

The decision must be explicit (the load's `--accept-rejects` recorded in its commit records, or
validate's own `--accept-rejects` / plan file); it excuses only records validation itself finds
unloadable, never a loadable record that is absent, and never more records than the load
rejected.
"""

from __future__ import annotations

import json
from pathlib import Path

from loadkit import sql as run_sql

ROWS = "id,n\n1,1\n2,x\n3,3\n4,y\n"  # records 2 and 4 cannot be an integer


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "t.csv").write_text(ROWS, encoding="utf-8")
    return folder


def _run(cli, verb: str, db, folder: Path, tmp_path: Path, *extra: str) -> tuple[int, dict]:
    more = ("--yes",) if verb == "load" else ("--report-dir", str(tmp_path / "reports"))
    code, out, err = cli(verb, folder, "--dsn", db.conninfo, "--profile", "none", "--json", *more, *extra)
    assert out.strip(), err
    return code, json.loads(out)


def _t(result: dict) -> dict:
    return next(t for t in result["tables"] if t["target"] == "public.t")


def test_rejects_accepted_at_load_validate_green_listed_as_decided(empty_db, cli, tmp_path):
    folder = _folder(tmp_path)
    run_sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, loaded = _run(cli, "load", empty_db, folder, tmp_path, "--accept-rejects", "public.t")
    assert code == 0 and _t(loaded)["rejected"] == 2
    # the load's decision is recorded, but the proof accepts only what its caller accepts: a
    # row of aria_tui.commits is as easy to edit as the data (the audit forged one)
    code, result = _run(cli, "validate", empty_db, folder, tmp_path)
    assert code == 1 and _t(result)["status"] == "incomplete"
    assert "validate with --accept-rejects public.t" in next(
        c["detail"] for c in _t(result)["checks"] if c["name"] == "presence"
    )
    code, result = _run(cli, "validate", empty_db, folder, tmp_path, "--accept-rejects", "public.t")
    t = _t(result)
    assert code == 0 and result["ok"] is True and t["status"] == "passed"
    assert t["accepted_rejects"] == 2 and t["rejected"] == 2 and t["not_in_target"] == 2
    assert any("2 rejected records accepted by decision" in d for d in t["decisions"])
    assert result["summary"]["decided_away"] == 2
    assert "decided away by the operator" in result["headline"]
    presence = next(c for c in t["checks"] if c["name"] == "presence")
    assert presence["ok"] and "accepted by decision" in presence["detail"]
    report = Path(result["report"]).read_text(encoding="utf-8")
    assert "## Decided by the operator" in report and t["reject_file"] in report


def test_accepted_rejects_never_excuse_a_loadable_record_that_is_gone(empty_db, cli, tmp_path):
    folder = _folder(tmp_path)
    run_sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    _run(cli, "load", empty_db, folder, tmp_path, "--accept-rejects", "public.t")
    run_sql(empty_db, "DELETE FROM public.t WHERE id = 3")
    code, result = _run(cli, "validate", empty_db, folder, tmp_path, "--accept-rejects", "public.t")
    t = _t(result)
    assert code == 1 and t["status"] == "failed"
    assert "id=3" in next(c for c in t["checks"] if c["name"] == "presence")["detail"]
    # the one record missing against the decision is still counted in the headline
    assert result["headline"].startswith("1 record of the export is not in the target")


def test_without_the_decision_the_same_load_is_incomplete(empty_db, cli, tmp_path):
    folder = _folder(tmp_path)
    run_sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, _ = _run(cli, "load", empty_db, folder, tmp_path)
    assert code == 1
    code, result = _run(cli, "validate", empty_db, folder, tmp_path)
    assert code == 1 and _t(result)["status"] == "incomplete" and _t(result)["accepted_rejects"] == 0
    assert result["summary"]["decided_away"] == 0
    # the operator decides at validate time: the same records, now listed as decided away
    code, result = _run(cli, "validate", empty_db, folder, tmp_path, "--accept-rejects", "public.t")
    assert code == 0 and _t(result)["accepted_rejects"] == 2


def test_accepting_more_than_the_load_rejected_is_unverified(empty_db, cli, tmp_path):
    # the load took record 2 because the column was text then; the column narrowed after the
    # load, so validation now finds 2 unloadable records where the load rejected 1 (record 4)
    folder = _folder(tmp_path)
    run_sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n text CHECK (n <> 'y'))")
    _run(cli, "load", empty_db, folder, tmp_path, "--accept-rejects", "public.t")
    run_sql(empty_db, "DELETE FROM public.t WHERE id = 2", "ALTER TABLE public.t DROP CONSTRAINT t_n_check",
            "ALTER TABLE public.t ALTER COLUMN n TYPE int USING n::int")
    code, result = _run(cli, "validate", empty_db, folder, tmp_path, "--accept-rejects", "public.t")
    t = _t(result)
    assert code == 1 and not t["status"] == "passed"
    assert "unverified" in next(c for c in t["checks"] if c["name"] == "reconciliation")["detail"]


def test_accept_rejects_naming_no_validated_table_is_refused(empty_db, cli, tmp_path):
    folder = _folder(tmp_path)
    run_sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, out, err = cli("validate", folder, "--dsn", empty_db.conninfo, "--profile", "none",
                         "--accept-rejects", "public.tt", "--report-dir", tmp_path / "r")
    assert code == 2 and "public.tt" in err and "Traceback" not in err


def test_a_plan_files_accepted_rejects_are_honoured_by_validate_plan(empty_db, cli, tmp_path):
    folder = _folder(tmp_path)
    run_sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, _ = _run(cli, "load", empty_db, folder, tmp_path)
    assert code == 1  # loaded without the decision: the commit records do not carry it
    out = tmp_path / "cutover.toml"
    code, text, err = cli("plan", folder, "--dsn", empty_db.conninfo, "--profile", "none",
                          "--accept-rejects", "public.t", "--out", out)
    assert code == 0, err
    code, result = _run(cli, "validate", empty_db, folder, tmp_path)
    assert code == 1 and _t(result)["status"] == "incomplete"
    code, result = _run(cli, "validate", empty_db, folder, tmp_path, "--plan", str(out))
    assert code == 0 and _t(result)["accepted_rejects"] == 2, result["headline"]
