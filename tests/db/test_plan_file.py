"""The cutover plan file (issue 15): `aria-tui plan` writes every decision, `load --plan` and
`validate --plan` follow it, and a plan that no longer fits is refused with one sentence."""

from __future__ import annotations

import json
import os
import stat
import tomllib

from driftkit import CSV, DECIDE, DRIFT_DDL, events_table
from loadkit import query, sql, write


def _plan(cli, db, folder, out, *extra):
    code, stdout, err = cli("plan", folder, "--dsn", db.conninfo, "--out", out, *extra)
    assert code == 0, (stdout, err)
    return tomllib.loads(out.read_text(encoding="utf-8"))


def test_a_plan_cuts_a_drifted_target_over_and_validates_green(empty_db, cli, tmp_path):
    sql(empty_db, *DRIFT_DDL)
    export = tmp_path / "export"
    write(export, "app.events.csv", CSV)
    out = tmp_path / "cutover.toml"
    plan = _plan(cli, empty_db, export, out, *DECIDE)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    text = out.read_text(encoding="utf-8")
    assert "password" not in text.lower() or "no password" in text.lower()
    (table,) = plan["table"]
    assert table["target"] == "app.events" and table["on_conflict"] == "reject"
    assert {(d["column"], d["action"]) for d in table["decision"]} == {
        ("source", "add"),
        ("ts_ms", "widen"),
        ("duration_ms", "rename"),
    }
    assert any("ADD COLUMN" in d.get("ddl", "") for d in table["decision"])
    assert ["duration_ms", "duration_s"] in table["columns"]

    code, out_json, err = cli(
        "load", export, "--dsn", empty_db.conninfo, "--plan", out, "--yes", "--json"
    )
    assert code == 0, (out_json, err)
    t = events_table(out_json)
    assert (t["inserted"], t["rejected"], len(t["ddl"])) == (3, 0, 2), t
    assert query(empty_db, "SELECT count(*) FROM app.events") == [(3,)]
    code, vout, err = cli("validate", export, "--dsn", empty_db.conninfo, "--plan", out, "--json")
    assert code == 0, (vout, err)


def test_a_plan_that_no_longer_fits_is_refused(empty_db, cli, tmp_path):
    sql(empty_db, *DRIFT_DDL)
    export = tmp_path / "export"
    write(export, "app.events.csv", CSV)
    out = tmp_path / "cutover.toml"
    _plan(cli, empty_db, export, out, *DECIDE)
    # a table holding rows the plan did not expect
    sql(empty_db, "INSERT INTO app.events (id) VALUES (99)")
    code, _, err = cli("load", export, "--dsn", empty_db.conninfo, "--plan", out, "--yes")
    assert code == 2 and "app.events holds 1 rows, the plan expected 0" in err, err
    sql(empty_db, "DELETE FROM app.events")
    # a file changed since
    write(export, "app.events.csv", CSV + "4,1733000000003,1,fourth,web\n")
    code, _, err = cli("load", export, "--dsn", empty_db.conninfo, "--plan", out, "--yes")
    assert code == 2 and "app.events.csv has changed since it was planned" in err, err
    assert query(empty_db, "SELECT count(*) FROM app.events") == [(0,)]


def test_load_plan_loads_the_plans_tables_and_no_other(empty_db, cli, tmp_path):
    """The plan's tables are the load's selection: a table the plan left out is not loaded (nor
    reported blocked) when the plan is replayed without --tables."""
    sql(empty_db, *DRIFT_DDL, "CREATE TABLE app.notes (id int PRIMARY KEY, body text)")
    export = tmp_path / "export"
    write(export, "app.events.csv", CSV)
    write(export, "app.notes.csv", "id,body\n1,hello\n")
    out = tmp_path / "cutover.toml"
    plan = _plan(cli, empty_db, export, out, "--tables", "app.notes")
    assert [t["target"] for t in plan["table"]] == ["app.notes"]
    code, out_json, err = cli("load", export, "--dsn", empty_db.conninfo, "--plan", out, "--yes", "--json")
    assert code == 0, (out_json, err)
    assert [t["target"] for t in json.loads(out_json)["tables"]] == ["app.notes"]


def test_the_plan_files_jobs_are_the_loads_unless_the_command_line_says_otherwise(
    empty_db, cli, tmp_path
):
    sql(empty_db, "CREATE SCHEMA app", "CREATE TABLE app.a (id int PRIMARY KEY)",
        "CREATE TABLE app.b (id int PRIMARY KEY)")
    export = tmp_path / "export"
    write(export, "app.a.csv", "id\n1\n2\n")
    write(export, "app.b.csv", "id\n1\n")
    out = tmp_path / "cutover.toml"
    assert _plan(cli, empty_db, export, out, "--jobs", "1")["jobs"] == 1
    dsn = ("--dsn", empty_db.conninfo, "--plan", out, "--yes", "--json")
    code, got, err = cli("load", export, *dsn, "--jobs", "2")
    assert code == 0 and json.loads(got)["jobs"] == 2, err
    # the re-run (nothing left to insert) takes the plan's one connection for two tables
    code, got, err = cli("load", export, *dsn)
    assert code == 0, err
    assert json.loads(got)["jobs"] == 1 and query(empty_db, "SELECT count(*) FROM app.a") == [(2,)]


def test_a_plan_keeps_the_files_its_selection_could_not_load_as_failures(empty_db, cli, tmp_path):
    """Audit: a manifest-listed file that is missing made `plan` exit 1, but the plan it wrote
    named only the loadable table, so `load --plan` and `validate --plan` said OK and PASS."""
    from loadkit import manifest_entry, manifest_of

    from aria_tui.manifest import format as m

    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY)", "CREATE TABLE public.u (id int PRIMARY KEY)")
    export = tmp_path / "export"
    write(export, "public.t.csv", "id\n1\n2\n")
    m.write_manifest(
        export,
        manifest_of(manifest_entry("public.t.csv", "id\n1\n2\n"), manifest_entry("public.u.csv", "id\n1\n2\n3\n")),
    )
    out = tmp_path / "cutover.toml"
    code, stdout, err = cli("plan", export, "--dsn", empty_db.conninfo, "--profile", "none", "--out", out)
    assert code == 1, (stdout, err)
    assert tomllib.loads(out.read_text(encoding="utf-8"))["unloadable"] == ["public.u.csv"]
    dsn = ("--dsn", empty_db.conninfo, "--profile", "none", "--plan", out)
    code, got, err = cli("load", export, *dsn, "--yes", "--json")
    assert code == 1 and any(t["file"] == "public.u.csv" for t in json.loads(got)["tables"]), err
    code, got, err = cli("validate", export, *dsn, "--json", "--report-dir", tmp_path / "r")
    result = json.loads(got)
    assert code == 1 and result["headline"].startswith("3 records of the export are not in the target")
