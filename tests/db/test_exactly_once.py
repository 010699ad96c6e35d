"""Exactly once (issue 16, items 3-5): the target's own commit records decide a re-run, whatever
happened to the client side; a table whose rows the file cannot be matched against is refused,
never re-inserted; one load at a time; honest re-run numbers; a dry run changes nothing."""

from __future__ import annotations

import json
import re
import shutil

import psycopg
import pytest
from loadkit import query
from loadkit import sql as run_sql

from aria_tui import paths
from aria_tui.pg import commits
from aria_tui.pg.connect import Target

SERIAL_AND_NULLABLE = (
    "CREATE TABLE public.ev (id serial PRIMARY KEY, body text NOT NULL)",
    "CREATE TABLE public.us (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "email text UNIQUE, name text)",
)


def _export(folder):
    folder.mkdir(exist_ok=True)
    (folder / "ev.csv").write_text("body\na\nb\nc\n")
    # two records without an email: nothing in the file can match them against the target
    (folder / "us.csv").write_text("email,name\nx@y,ann\n,bob\n,cy\nz@y,dee\n")
    return {"public.ev": 3, "public.us": 4}


def _counts(db: Target, tables) -> dict[str, int]:
    return {t: query(db, f"SELECT count(*) FROM {t}")[0][0] for t in tables}


def _load(cli, folder, dsn, *more):
    code, out, err = cli("load", folder, "--dsn", dsn, "--yes", "--json", *more)
    assert "Traceback" not in err
    return code, (json.loads(out) if out.strip() else None), err


def test_rerun_after_the_journal_dir_is_deleted_inserts_nothing(empty_db, cli, tmp_path):
    run_sql(empty_db, *SERIAL_AND_NULLABLE)
    expected = _export(tmp_path / "export")
    code, first, err = _load(cli, tmp_path / "export", empty_db.conninfo)
    assert code == 0, err
    assert _counts(empty_db, expected) == expected
    shutil.rmtree(paths.state_dir() / "journals")  # the client side is gone
    code, again, err = _load(cli, tmp_path / "export", empty_db.conninfo)
    assert code == 0, err
    for t in again["tables"]:
        assert (t["status"], t["inserted"], t["duplicates"]) == ("resumed", 0, 0), t
        assert t["previously_inserted"] == expected[t["target"]], t
        assert t["previously_duplicates"] == t["previously_rejected"] == 0
    assert again["totals"]["inserted"] == 0  # a script summing `inserted` over runs is right
    assert _counts(empty_db, expected) == expected
    # the records are in the target, with the file's identity and this run's counts
    with psycopg.connect(empty_db.conninfo) as conn:
        records = commits.read(conn)
    assert {r.target_table: r.inserted for r in records} == expected
    r = next(r for r in records if r.target_table == "public.ev")
    assert (r.chunk, r.byte_start, r.byte_end, r.first_record, r.last_record) == (0, 0, 11, 1, 3)
    assert len(r.file_sha256) == 64 and r.file_name == "ev.csv"


def test_rows_no_record_accounts_for_are_refused_not_inserted_again(empty_db, cli, tmp_path):
    """A crash could have committed rows whose record the target does not have only if the
    record and rows were apart; here a table holds rows loaded by other means."""
    run_sql(empty_db, *SERIAL_AND_NULLABLE)
    expected = _export(tmp_path / "export")
    code, _, err = _load(cli, tmp_path / "export", empty_db.conninfo)
    assert code == 0, err
    run_sql(empty_db, "DROP SCHEMA aria_tui CASCADE")  # as if loaded by something else
    code, again, err = _load(cli, tmp_path / "export", empty_db.conninfo)
    assert code == 1
    res = {t["target"]: t for t in again["tables"]}
    ev, us = res["public.ev"], res["public.us"]
    assert (ev["status"], ev["inserted"]) == ("failed", 0)
    assert ev["error"].startswith("public.ev already holds 3 rows that no aria-tui commit record")
    assert "does not supply its key (id" in ev["error"], ev["error"]
    assert (us["status"], us["inserted"]) == ("failed", 0)
    assert "2 records of us.csv have no value in its unique key (email)" in us["error"], us
    assert _counts(empty_db, expected) == expected  # nothing inserted twice


def test_nullable_key_without_nulls_matches_as_duplicates(empty_db, cli, tmp_path):
    run_sql(empty_db, SERIAL_AND_NULLABLE[1], "INSERT INTO us (email, name) VALUES ('x@y', 'ann')")
    (tmp_path / "us.csv").write_text("email,name\nx@y,ann\nz@y,dee\n")
    code, data, err = _load(cli, tmp_path, empty_db.conninfo)
    assert code == 0, err
    t = data["tables"][0]
    assert (t["status"], t["inserted"], t["duplicates"]) == ("loaded", 1, 1), t
    code, data, err = _load(cli, tmp_path, empty_db.conninfo)
    t = data["tables"][0]
    assert (t["status"], t["inserted"], t["previously_inserted"], t["previously_duplicates"]) == (
        "resumed",
        0,
        1,
        1,
    ), t
    assert query(empty_db, "SELECT count(*) FROM us") == [(2,)]


def test_password_in_dsn_or_in_pgpassword_resumes_the_same(empty_db, cli, tmp_path, monkeypatch):
    run_sql(empty_db, *SERIAL_AND_NULLABLE)
    expected = _export(tmp_path / "export")
    bare = psycopg.conninfo.conninfo_to_dict(empty_db.conninfo)
    bare.pop("password", None)
    with_password = psycopg.conninfo.make_conninfo(**bare, password="s3cret-pw")
    code, first, err = _load(cli, tmp_path / "export", with_password)
    assert code == 0, err
    monkeypatch.setenv("PGPASSWORD", "s3cret-pw")
    code, again, err = _load(cli, tmp_path / "export", psycopg.conninfo.make_conninfo(**bare))
    assert code == 0, err
    assert {t["status"] for t in again["tables"]} == {"resumed"}
    assert again["journal"] == first["journal"]  # keyed by the target, not the DSN's spelling
    assert "s3cret-pw" not in open(first["journal"], encoding="utf-8").read()
    assert _counts(empty_db, expected) == expected


def test_a_second_load_at_the_same_time_is_refused_naming_the_first(empty_db, cli, tmp_path):
    run_sql(empty_db, *SERIAL_AND_NULLABLE)
    expected = _export(tmp_path / "export")
    # the first load's lock, held exactly as a running loader holds it
    with commits.RunLock(lambda: psycopg.connect(empty_db.conninfo, autocommit=True)):
        code, out, err = _load(cli, tmp_path / "export", empty_db.conninfo)
        assert code == 1 and out is None
        sentence = err.strip()
        assert sentence.count("\n") == 0, err
        assert sentence.startswith("aria-tui: Another load into database "), sentence
        assert "aria-tui load " in sentence and " pid " in sentence, sentence
        assert "connected since" in sentence and "run again" in sentence, sentence
        assert _counts(empty_db, expected) == {t: 0 for t in expected}
    code, data, err = _load(cli, tmp_path / "export", empty_db.conninfo)
    assert code == 0, err  # the first one gone, the load goes ahead
    assert _counts(empty_db, expected) == expected


def test_dry_run_leaves_every_sequence_as_it_was(empty_db, cli, tmp_path):
    run_sql(
        empty_db,
        *SERIAL_AND_NULLABLE,
        "CREATE SEQUENCE shared_seq START 100",
        "CREATE TABLE public.sh (n bigint DEFAULT nextval('shared_seq') PRIMARY KEY, v text)",
        "CREATE TABLE public.own (id serial PRIMARY KEY, v text)",
        "SELECT nextval('ev_id_seq')",  # one already used: is_called true
    )
    folder = tmp_path / "export"
    _export(folder)
    (folder / "sh.csv").write_text("v\np\nq\n")
    (folder / "own.csv").write_text("id,v\n7,a\n9,b\n")  # the file's ids: a real run moves it to 9
    state = (
        "SELECT (SELECT row(last_value, is_called)::text FROM ev_id_seq), "
        "(SELECT row(last_value, is_called)::text FROM us_id_seq), "
        "(SELECT row(last_value, is_called)::text FROM shared_seq), "
        "(SELECT row(last_value, is_called)::text FROM own_id_seq)"
    )
    before = query(empty_db, state)
    for _ in range(2):  # and every retry burns nothing either
        code, dry, err = _load(cli, folder, empty_db.conninfo, "--dry-run")
        assert code == 0, err
        assert query(empty_db, state) == before
    assert {t["target"]: t["inserted"] for t in dry["tables"]} == {
        "public.ev": 3,
        "public.us": 4,
        "public.sh": 2,
        "public.own": 2,
    }
    assert query(empty_db, "SELECT to_regnamespace('aria_tui')") == [(None,)]  # no schema either
    code, real, err = _load(cli, folder, empty_db.conninfo)
    assert code == 0, err
    assert [_timeless(t) for t in dry["tables"]] == [_timeless(t) for t in real["tables"]]
    assert query(empty_db, "SELECT last_value FROM own_id_seq") == [(9,)]


def _timeless(table: dict) -> dict:
    """A table's --json without what differs between two runs of the same load: timings (its
    own, its index and key builds', those its notes quote) and the reject file's path."""
    out = {k: v for k, v in table.items() if k not in ("seconds", "reject_file")}
    for k in ("indexes", "constraints"):
        out[k] = [{**b, "seconds": None} for b in out.get(k, [])]
    out["notes"] = [re.sub(r"\d+\.\d+s\b", "…s", n) for n in out["notes"]]
    return out


@pytest.mark.parametrize("dry", [False, True])
def test_resumed_tables_in_a_dry_run_too(empty_db, cli, tmp_path, dry):
    run_sql(empty_db, *SERIAL_AND_NULLABLE)
    expected = _export(tmp_path / "export")
    code, _, err = _load(cli, tmp_path / "export", empty_db.conninfo)
    assert code == 0, err
    more = ("--dry-run",) if dry else ()
    code, again, err = _load(cli, tmp_path / "export", empty_db.conninfo, *more)
    assert code == 0, err
    assert {t["target"]: (t["status"], t["inserted"]) for t in again["tables"]} == {
        t: ("resumed", 0) for t in expected
    }
