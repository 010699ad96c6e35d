"""Schema drift as decisions (issue 15): add / drop / widen / accept a rename, with the DDL shown
and run inside the table's transaction; a similarity guess is never loaded through by itself."""

from __future__ import annotations

import json

from driftkit import CSV, DECIDE, DRIFT_DDL, events_table
from loadkit import query, sql, write


def test_without_decisions_a_drifted_table_blocks_and_nothing_loads(empty_db, cli, tmp_path):
    sql(empty_db, *DRIFT_DDL)
    write(tmp_path, "app.events.csv", CSV)
    code, out, err = cli("scan", tmp_path, "--dsn", empty_db.conninfo, "--json")
    diff = json.loads(out)["tables"][0]["diff"]
    assert diff["status"] == "blocked"
    assert {"from": "duration_ms", "to": "duration_s", "why": "similar name"} in diff[
        "proposed_renames"
    ]
    assert not any(r["from"] == "duration_ms" for r in diff["renames"])  # a guess, not applied
    assert "rename:duration_s" in diff["reason"]
    code, out, err = cli(
        "load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--json", "--tables", "app.events"
    )
    assert code == 1
    t = events_table(out)
    assert t["status"] == "blocked" and t["inserted"] == 0, t
    assert query(empty_db, "SELECT count(*) FROM app.events") == [(0,)]


def test_a_narrow_column_without_widen_rejects_every_record(empty_db, cli, tmp_path):
    sql(*(empty_db,), *DRIFT_DDL)
    write(tmp_path, "app.events.csv", CSV)
    code, out, err = cli(
        "load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--json",
        "--decide", "app.events.source=drop", "--decide", "app.events.duration_ms=rename:duration_s",
    )  # fmt: skip
    assert code == 1
    t = events_table(out)
    assert (t["inserted"], t["rejected"]) == (0, 3), t
    assert any("source dropped by decision: 3 non-empty values" in n for n in t["notes"]), t


def test_decisions_cut_the_drifted_table_over_completely(empty_db, cli, tmp_path):
    sql(empty_db, *DRIFT_DDL)
    write(tmp_path, "app.events.csv", CSV)
    base = ("load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--json", *DECIDE)
    # the dry run shows the DDL and rolls it back
    code, out, err = cli(*base, "--dry-run")
    assert code == 0, (out, err)
    t = events_table(out)
    assert t["ddl"] == [
        'ALTER TABLE "app"."events" ADD COLUMN "source" text',
        'ALTER TABLE "app"."events" ALTER COLUMN "ts_ms" TYPE bigint',
    ], t
    assert t["inserted"] == 3
    assert query(
        empty_db,
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'events' "
        "AND column_name = 'source'",
    ) == [(0,)]
    code, out, err = cli(*base)
    assert code == 0, (out, err)
    t = events_table(out)
    assert (t["inserted"], t["rejected"], t["status"]) == (3, 0, "loaded"), t
    assert query(empty_db, "SELECT id, ts_ms, duration_s, source FROM app.events ORDER BY id") == [
        (1, 1733000000000, 120, "web"),
        (2, 1733000000001, 30, "cli"),
        (3, 1733000000002, 5, "web"),
    ]


def test_a_bad_decision_is_one_sentence(empty_db, cli, tmp_path):
    sql(empty_db, *DRIFT_DDL)
    write(tmp_path, "app.events.csv", CSV)
    code, out, err = cli(
        "load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--decide", "app.events.nope=drop"
    )
    assert code == 2 and "nope" in err and "Traceback" not in err
    code, out, err = cli(
        "load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--decide", "app.events.source=zap"
    )
    assert code == 2 and "SCHEMA.TABLE.COLUMN" in err


def test_validate_takes_the_decisions_the_load_took(empty_db, cli, tmp_path):
    """A load with --decide (no plan file) is proven by validate with the same --decide (before:
    validate said "accept with --decide" and refused the flag, exit 2); without them it is red."""
    sql(empty_db, *DRIFT_DDL)
    write(tmp_path, "app.events.csv", CSV)
    code, out, err = cli("load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--json", *DECIDE)
    assert code == 0, (out, err)
    base = ("validate", tmp_path, "--dsn", empty_db.conninfo, "--json", "--tables", "app.events")
    code, out, err = cli(*base, "--report-dir", tmp_path / "r1")
    assert code == 1, (out, err)
    code, out, err = cli(*base, "--report-dir", tmp_path / "r2", *DECIDE)
    assert code == 0, (out, err)
    assert json.loads(out)["tables"][0]["ok"]
