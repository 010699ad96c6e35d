"""Time zones do not depend on the operator's shell (issue 16, item 7): a zoneless timestamp
loaded into timestamptz is read in the pinned zone (UTC unless --time-zone says otherwise),
whatever PGTZ is at load time; validate reads it the same way; scan says so."""

from __future__ import annotations

import json

import pytest
from loadkit import load, query, sql, write

from aria_tui.scan import scan

CSV = "id,at,emb\n1,2026-01-02 03:04:05,\"[1,2]\"\n2,2026-07-01 12:00:00+02,\"[3,4]\"\n"


@pytest.mark.parametrize("force_staging", [False, True])
def test_zoneless_timestamps_are_utc_whatever_pgtz_says(empty_db, tmp_path, monkeypatch, force_staging):
    monkeypatch.setenv("PGTZ", "Asia/Tokyo")  # libpq sends it as the session's TimeZone
    sql(empty_db, "CREATE TABLE ev (id int PRIMARY KEY, at timestamptz, emb vector(2))")
    write(tmp_path, "public.ev.csv", CSV)
    result = load(empty_db, tmp_path, force_staging=force_staging)
    t = result.tables[0]
    assert (t.status, t.inserted, t.rejected) == ("loaded", 2, 0), t
    got = query(
        empty_db,
        "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM ev ORDER BY id",
    )
    assert got == [(1, "2026-01-02 03:04:05"), (2, "2026-07-01 10:00:00")]


def test_time_zone_option_and_validate_agree(empty_db, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("PGTZ", "Asia/Tokyo")
    sql(empty_db, "CREATE TABLE ev (id int PRIMARY KEY, at timestamptz, emb vector(2))")
    folder = tmp_path / "export"
    write(folder, "public.ev.csv", CSV)
    dsn = ("--dsn", empty_db.conninfo)
    code, out, err = cli("load", folder, *dsn, "--yes", "--json", "--time-zone", "Europe/Paris")
    assert code == 0, err
    assert json.loads(out)["tables"][0]["inserted"] == 2
    got = query(empty_db, "SELECT to_char(at AT TIME ZONE 'UTC', 'HH24:MI') FROM ev WHERE id = 1")
    assert got == [("02:04",)]  # 03:04 in Paris (winter, +01)
    code, out, err = cli("validate", folder, *dsn, "--json", "--time-zone", "Europe/Paris")
    assert code == 0, (out, err)
    # validated in another zone than the load's, the same file does not match the target
    code, out, err = cli("validate", folder, *dsn, "--json")
    assert code == 1, out
    code, out, err = cli("load", folder, *dsn, "--yes", "--time-zone", "Mars/Olympus")
    assert code == 2 and "Mars/Olympus" in err and "Traceback" not in err


def test_scan_notes_zoneless_timestamps_for_timestamptz(empty_db, tmp_path):
    sql(empty_db, "CREATE TABLE ev (id int PRIMARY KEY, at timestamptz, emb vector(2))")
    write(tmp_path, "public.ev.csv", CSV)
    with empty_db.connect() as conn:
        inv = scan(tmp_path, conn, "none")
    notes = " ".join(inv.tables[0].diff.notes)
    assert "without a time zone (line 2" in notes and "UTC" in notes, notes
    write(tmp_path, "public.ev.csv", CSV.replace("03:04:05", "03:04:05+00"))
    with empty_db.connect() as conn:
        inv = scan(tmp_path, conn, "none")
    assert "without a time zone" not in " ".join(inv.tables[0].diff.notes)
