"""Issue 15: a `timestamp` (without time zone) target column silently drops the time zone of an
export value ('2024-01-01 10:00:00+02' is stored as 10:00, another instant), so casting through
the target's types would even make validation agree. The scan blocks such a file until the
operator widens the column to timestamptz (a recorded decision) or leaves the file out; values in
UTC lose nothing and load as they are."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from loadkit import manifest_entry, query
from loadkit import sql as run_sql

from aria_tui.manifest import format as m

ZONED = "id,at\n1,2024-01-01 10:00:00+02\n2,2024-06-01 12:30:00+00\n"
UTC = "id,at\n1,2024-01-01 10:00:00+00\n2,2024-06-01 12:30:00Z\n3,2024-06-02 00:00:00\n"


def _export(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    (folder / "public.ev.csv").write_text(text, encoding="utf-8")
    return folder


def _json(cli, *argv) -> tuple[int, dict]:
    code, out, err = cli(*argv, "--json")
    assert out.strip(), err
    return code, json.loads(out)


def test_a_zone_the_target_would_drop_blocks_until_widened(empty_db, cli, tmp_path):
    run_sql(empty_db, "CREATE TABLE public.ev (id int PRIMARY KEY, at timestamp)")
    folder = _export(tmp_path, ZONED)
    dsn = ("--dsn", empty_db.conninfo, "--profile", "none")
    code, scan = _json(cli, "scan", folder, *dsn)
    (t,) = scan["tables"]
    assert t["diff"]["status"] == "blocked"
    assert "drop its time zone" in t["diff"]["reason"] and "public.ev.at=widen" in t["diff"]["reason"]
    assert any(i["kind"] == "loss" for i in t["diff"]["type_issues"])

    code, loaded = _json(cli, "load", folder, *dsn, "--yes")
    assert code == 1 and loaded["tables"][0]["status"] == "blocked"
    assert query(empty_db, "SELECT count(*) FROM public.ev") == [(0,)]

    # widened on purpose: the instant is kept, and the proof holds with the zone compared
    code, loaded = _json(cli, "load", folder, *dsn, "--yes", "--decide", "public.ev.at=widen")
    assert code == 0, loaded
    assert any("timestamp with time zone" in s for s in loaded["tables"][0]["ddl"])
    got = query(empty_db, "SELECT at AT TIME ZONE 'UTC' FROM public.ev WHERE id = 1")[0][0]
    assert got.isoformat() == "2024-01-01T08:00:00"
    code, v = _json(cli, "validate", folder, *dsn, "--report-dir", tmp_path / "r")
    assert code == 0 and v["ok"], v["headline"]


def test_utc_values_into_timestamp_load_without_a_decision(empty_db, cli, tmp_path):
    run_sql(empty_db, "CREATE TABLE public.ev (id int PRIMARY KEY, at timestamp)")
    folder = _export(tmp_path, UTC)
    dsn = ("--dsn", empty_db.conninfo, "--profile", "none")
    code, loaded = _json(cli, "load", folder, *dsn, "--yes")
    assert code == 0 and loaded["tables"][0]["inserted"] == 3
    assert query(empty_db, "SELECT at::text FROM public.ev ORDER BY id")[0] == ("2024-01-01 10:00:00",)


def test_the_manifests_timestamptz_source_type_blocks_even_when_the_values_are_utc(
    empty_db, cli, tmp_path
):
    run_sql(empty_db, "CREATE TABLE public.ev (id int PRIMARY KEY, at timestamp)")
    folder = _export(tmp_path, UTC)
    entry = manifest_entry("public.ev.csv", UTC)
    cols = tuple(
        replace(c, type="timestamp with time zone") if c.name == "at" else c for c in entry.columns
    )
    m.write_manifest(
        folder,
        m.Manifest(
            tool_version="0.1.0", database="src", server_version="18.3",
            server_version_num=180003, snapshot_time="2026-01-10T22:38:29+00:00",
            tables=(replace(entry, columns=cols),),
        ),
    )
    dsn = ("--dsn", empty_db.conninfo, "--profile", "none")
    code, scan = _json(cli, "scan", folder, *dsn)
    (t,) = scan["tables"]
    assert t["diff"]["status"] == "blocked" and "export's manifest" in t["diff"]["reason"]
    code, loaded = _json(cli, "load", folder, *dsn, "--yes", "--decide", "public.ev.at=widen")
    assert code == 0 and loaded["tables"][0]["inserted"] == 3


import pytest  # noqa: E402

LONG = "n" * 70


@pytest.mark.parametrize(
    ("typ", "bad", "fine", "widened"),
    [
        ("numeric(5,2)", "1.005", "1.500", "numeric"),
        ("numeric(10,6)", "1.5e-7", "1.5e-5", "numeric"),
        ("numeric(5,2)", '"1.00_5"', '"1_0.5_0"', "numeric"),
        ("numeric(4,-1)", "15", "20", "numeric"),
        ("date", "2024-01-01 10:00:00", "2024-01-01 00:00:00", "timestamp with time zone"),
        ("time", "10:00:00+05", "10:00:00", "time with time zone"),
        ("name", LONG, "short", "text"),
        ("timestamp(0)", "2024-01-01 10:00:00.5", "2024-01-01 10:00:00.000", "timestamp with time zone"),
    ],
    ids=[
        "numeric-scale",
        "numeric-exponent",
        "numeric-underscores",
        "numeric-negative-scale",
        "date-time-of-day",
        "time-zone",
        "name-63-bytes",
        "seconds-precision",
    ],
)
def test_a_value_the_target_would_silently_change_blocks_until_widened(
    empty_db, cli, tmp_path, typ, bad, fine, widened
):
    """The audit's silent changes (issue 14): rounded, cut or dropped by the input function, then
    equal on both sides once cast. Each blocks the file naming the value; the default widen
    lifts it and the value arrives whole; a value the type keeps loads as it is."""
    run_sql(empty_db, f"CREATE TABLE public.ev (id int PRIMARY KEY, v {typ})")
    dsn = ("--dsn", empty_db.conninfo, "--profile", "none")
    folder = tmp_path / "export"
    folder.mkdir()
    path = folder / "public.ev.csv"
    path.write_text(f"id,v\n1,{fine}\n", encoding="utf-8")
    code, loaded = _json(cli, "load", folder, *dsn, "--yes")
    assert code == 0 and loaded["tables"][0]["inserted"] == 1, loaded

    run_sql(empty_db, "DROP TABLE public.ev", "DROP SCHEMA aria_tui CASCADE",
            f"CREATE TABLE public.ev (id int PRIMARY KEY, v {typ})")
    path.write_text(f"id,v\n1,{fine}\n2,{bad}\n", encoding="utf-8")
    code, loaded = _json(cli, "load", folder, *dsn, "--yes")
    (t,) = loaded["tables"]
    assert code == 1 and t["status"] == "blocked" and "without a word" in t["error"], t
    assert "public.ev.v=widen" in t["error"]
    code, loaded = _json(cli, "load", folder, *dsn, "--yes", "--decide", "public.ev.v=widen")
    assert code == 0, loaded
    assert any(widened in s for s in loaded["tables"][0]["ddl"]), loaded["tables"][0]["ddl"]
    assert query(empty_db, "SELECT count(*) FROM public.ev") == [(2,)]
    code, v = _json(cli, "validate", folder, *dsn, "--report-dir", tmp_path / "r")
    assert code == 0, v["headline"]


def test_seconds_finer_than_microseconds_block_a_timestamptz(empty_db, cli, tmp_path):
    # no PostgreSQL time type keeps a seventh digit: blocked, the value named; the operator
    # leaves the file out or says where it goes (widen:text)
    run_sql(empty_db, "CREATE TABLE public.ev (id int PRIMARY KEY, v timestamptz)")
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "public.ev.csv").write_text("id,v\n1,2024-01-01 10:00:00.1234567+00\n", encoding="utf-8")
    code, scan = _json(cli, "scan", folder, "--dsn", empty_db.conninfo, "--profile", "none")
    (t,) = scan["tables"]
    assert t["diff"]["status"] == "blocked" and "round its seconds to 6 decimal places" in t["diff"]["reason"]


@pytest.mark.parametrize(
    ("typ", "bad", "fine"),
    [
        ("numeric(5,2)", "1.005e0", "1.50"),
        ("numeric(5,2)", "1.00_5", "1.5_0"),  # PostgreSQL 16+ reads underscores between digits
        ("numeric(2,-1)", "15", "20"),  # a negative scale (PostgreSQL 15+) rounds to tens
        ("timestamp", "Jan 1 2024 10:00:00+05", "2024-01-01T10:00:00"),
        ("timestamp(0)", "20240101T100000.7", "2024-01-01 10:00:00"),
        ("time", "10:00:00 EST", "10:00:00"),
        ("name", "n" * 70, "short"),
        ("varchar(3)", "ab     ", "ab"),
        ("real", "0.12345678901234", "0.1"),
        ("double precision", "1.00000000000000001", "0.1"),
        ("interval second(0)", "1.7 seconds", "00:00:02"),
        ("date", "Jan 2 2024 10:00:00", "2024-01-02"),
        ("money", "1.005", "1.50"),
        ("vector(3)", "[1e-50,1,1]", "[0.5,1,1]"),  # underflow to zero
        ("halfvec(3)", "[0.123456789,1,1]", "[0.5,1,1]"),  # float16 precision
    ],
)
def test_validate_sees_what_a_narrow_type_changed_however_it_is_spelt(
    empty_db, cli, tmp_path, typ, bad, fine
):
    """Second audit: the scan's rules read spellings; the proof must not. Loaded by the server's
    own COPY (as `psql \\copy` would), every value the type silently changed is a difference,
    named by its key, whatever its spelling; values the type keeps whole are equal."""
    import psycopg

    run_sql(empty_db, f"CREATE TABLE public.ev (id int PRIMARY KEY, v {typ})")
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "public.ev.csv").write_text(f'id,v\n1,"{fine}"\n2,"{bad}"\n', encoding="utf-8")
    with psycopg.connect(empty_db.conninfo) as conn:
        with conn.cursor().copy("COPY public.ev FROM STDIN (FORMAT csv, HEADER true)") as copy:
            copy.write((folder / "public.ev.csv").read_bytes())
    dsn = ("--dsn", empty_db.conninfo, "--profile", "none")
    code, v = _json(cli, "validate", folder, *dsn, "--report-dir", tmp_path / "r")
    (t,) = v["tables"]
    assert code == 1 and t["status"] in ("failed", "blocked"), (v["headline"], t["checks"])
    if t["status"] == "failed":  # else the scan's own rule caught the spelling first
        content = next(c for c in t["checks"] if c["name"] == "content")
        assert "id=2" in content["detail"] and "id=1" not in content["detail"], content
    # the value the type keeps whole alone: proven
    run_sql(empty_db, "DELETE FROM public.ev WHERE id = 2")
    (folder / "public.ev.csv").write_text(f'id,v\n1,"{fine}"\n', encoding="utf-8")
    code, v = _json(cli, "validate", folder, *dsn, "--report-dir", tmp_path / "r")
    assert code == 0, v["headline"]


def test_a_generated_column_is_compared_with_the_export_though_not_loaded(empty_db, cli, tmp_path):
    """Second audit: the export holds values of a column the target computes; they are not
    loaded, but a value the target computes otherwise is export data not in the target."""
    run_sql(
        empty_db,
        "CREATE TABLE public.g (id int PRIMARY KEY, name text, up text GENERATED ALWAYS AS (upper(name)) STORED)",
    )
    folder = tmp_path / "export"
    folder.mkdir()
    dsn = ("--dsn", empty_db.conninfo, "--profile", "none")
    (folder / "public.g.csv").write_text("id,name,up\n1,alice,ALICE\n2,bob,BOB\n", encoding="utf-8")
    code, loaded = _json(cli, "load", folder, *dsn, "--yes")
    assert code == 0, loaded
    code, v = _json(cli, "validate", folder, *dsn, "--report-dir", tmp_path / "r")
    assert code == 0, v["headline"]  # what the target computes is what the export holds
    (folder / "public.g.csv").write_text("id,name,up\n1,alice,ALICE\n2,bob,someone else\n", encoding="utf-8")
    run_sql(empty_db, "DROP SCHEMA aria_tui CASCADE")  # the journal spoke of the other file
    code, v = _json(cli, "validate", folder, *dsn, "--report-dir", tmp_path / "r")
    (t,) = v["tables"]
    assert code == 1 and "id=2" in next(c for c in t["checks"] if c["name"] == "content")["detail"]
