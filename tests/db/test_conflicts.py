"""Duplicates versus conflicts (issue 15): a record whose key is taken is a duplicate only when
its content is equal; a conflict is decided by the table's policy, never dropped in silence."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

from loadkit import assert_counts_add_up, load, query, sql, write

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_EXPORT = ROOT / "sample_export"
IDENTITY = "SELECT value::text FROM aria_data.memories WHERE key = 'aria_identity'"
CUSTOMISED = (
    'UPDATE aria_data.memories SET value = \'{"name": "Aria (init default)"}\' '
    "WHERE key = 'aria_identity'"
)


def _rows(path: str) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _memories(out: str) -> dict:
    data = json.loads(out)
    return next(t for t in data["tables"] if t["target"] == "aria_data.memories")


def _export_identity() -> str:
    with open(SAMPLE_EXPORT / "memories.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["key"] == "aria_identity":
                return row["value"]
    raise AssertionError("no aria_identity in the sample export")


def test_a_customised_seed_row_is_a_conflict_rejected_with_both_versions(aria_db, cli):
    sql(aria_db, CUSTOMISED)
    code, out, err = cli("load", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--yes", "--json")
    assert code == 1, err
    mem = _memories(out)
    assert mem["conflicts"] == 1 and mem["conflicts_rejected"] == 1, mem
    assert mem["duplicates"] >= 1  # aria_birth is still an equal row: a duplicate
    assert mem["updated"] == 0 and mem["ddl"] == []
    assert (
        mem["csv_rows"]
        == mem["inserted"] + mem["updated"] + mem["duplicates"] + mem["conflicts"] + mem["rejected"]
    )
    rows = _rows(mem["reject_file"])
    header, body = rows[0], rows[1:]
    assert len(body) == 1
    rec = dict(zip(header, body[0], strict=True))
    assert rec["key"] == "aria_identity"
    assert rec["value"] == _export_identity()  # the export's version, as exported
    reason = rec["reason"]
    assert "memories_key_key" in reason or "memories_pkey" in reason, reason
    assert "value" in reason and "Aria (init default)" in reason, reason  # the target's version
    # the target is untouched
    assert "init default" in query(aria_db, IDENTITY)[0][0]


def test_take_export_replaces_the_row_and_writes_an_undo_file(aria_db, cli):
    sql(aria_db, CUSTOMISED)
    code, out, err = cli(
        "load", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--yes", "--json",
        "--on-conflict", "take-export",
    )  # fmt: skip
    assert code == 0, (out, err)
    mem = _memories(out)
    assert mem["updated"] == 1 and mem["conflicts"] == 0, mem
    assert json.loads(query(aria_db, IDENTITY)[0][0]) == json.loads(_export_identity())
    undo = mem["undo_file"]
    assert stat.S_IMODE(os.stat(undo).st_mode) == 0o600
    assert "init default" in "".join(",".join(r) for r in _rows(undo))
    code, out, err = cli("validate", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--json")
    assert code == 0, (out, err)


def test_keep_target_keeps_the_row_and_says_so(aria_db, cli):
    sql(aria_db, CUSTOMISED)
    code, out, err = cli(
        "load", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--yes", "--json",
        "--on-conflict", "keep-target",
    )  # fmt: skip
    assert code == 0, (out, err)
    mem = _memories(out)
    assert mem["conflicts"] == 1 and mem["conflicts_kept"] == 1 and mem["updated"] == 0, mem
    assert mem["kept"] and "00000000-0000-4000-8000-000000000001" in mem["kept"][0]["reason"]
    assert "init default" in query(aria_db, IDENTITY)[0][0]
    # the journal mirrors the commit record written with the rows: every shared fact agrees
    entry = json.loads(Path(json.loads(out)["journal"]).read_text())["tables"]["aria_data.memories"]
    (record,) = query(
        aria_db,
        "SELECT file_name, file_bytes, file_sha256, csv_rows, inserted, duplicates, rejected, "
        "reject_file, load_path, rows_before, run_id, decided FROM aria_tui.commits "
        "WHERE target_table = 'aria_data.memories'",
    )
    decided = json.loads(record[-1])
    assert (
        entry["file"], entry["size"], entry["sha256"], entry["csv_rows"], entry["inserted"],
        entry["duplicates"], entry["rejected"], entry["reject_file"], entry["path"],
        entry["rows_before"], entry["run_id"],
    ) == tuple(record[:-1])  # fmt: skip
    assert entry["conflicts"] == decided["conflicts"] == mem["conflicts"] == 1
    assert entry["kept_records"] == decided["kept"] and len(entry["kept_records"]) == 1
    assert entry["on_conflict"] == decided["on_conflict"] == "keep-target"
    assert entry["conflicts_kept"] == 1 and entry["kept_file"] == mem["kept_file"]
    # the load's policy is recorded, but the proof keeps a conflict only when it is told so too
    code, vout, err = cli("validate", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--json")
    assert code == 1, (vout, err)
    code, vout, err = cli(
        "validate", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--json", "--on-conflict", "keep-target"
    )
    assert code == 0, (vout, err)
    assert "1 conflict kept by decision" in vout
    kept_table = next(t for t in json.loads(vout)["tables"] if t["target"] == "aria_data.memories")
    assert kept_table["differing"] == 0 and kept_table["ok"]  # decided, not a difference
    # the same decision again: the table is resumed; another decision processes it again
    args = ["load", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--yes", "--json"]
    code, out, err = cli(*args, "--on-conflict", "keep-target", "--tables", "aria_data.memories")
    assert code == 0 and _memories(out)["status"] == "resumed", (out, err)
    code, out, err = cli(*args, "--on-conflict", "take-export", "--tables", "aria_data.memories")
    assert code == 0, (out, err)
    mem = _memories(out)
    assert mem["status"] == "loaded" and mem["updated"] == 1, mem
    assert json.loads(query(aria_db, IDENTITY)[0][0]) == json.loads(_export_identity())


def test_keep_target_human_output(aria_db, cli):
    sql(aria_db, CUSTOMISED)
    code, out, err = cli(
        "load", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--yes",
        "--on-conflict", "keep-target", "--tables", "aria_data.memories",
    )  # fmt: skip
    assert code == 0, (out, err)
    assert "1 conflict kept by decision" in " ".join(out.split())


def test_a_different_entity_on_a_secondary_unique_key_is_a_conflict(empty_db, tmp_path):
    sql(
        empty_db,
        "CREATE TABLE settings (id int PRIMARY KEY, name text UNIQUE, value text)",
        "INSERT INTO settings VALUES (100, 'theme', 'dark')",
    )
    write(tmp_path, "public.settings.csv", "id,name,value\n1,theme,dark\n2,lang,en\n")
    result = load(empty_db, tmp_path)
    t = result.table("public.settings")
    assert (t.inserted, t.duplicates, t.conflicts, t.rejected) == (1, 0, 1, 0), t
    assert not result.ok
    assert "settings_name_key" in _rows(t.reject_file)[1][1]
    assert "id" in _rows(t.reject_file)[1][1]
    assert_counts_add_up(result)
    # take-export: the row becomes the export's, its primary key too
    result = load(empty_db, tmp_path, on_conflict="take-export")
    t = result.table("public.settings")
    assert (t.updated, t.duplicates, t.conflicts) == (1, 1, 0), (t.status, t.error, t.notes)
    assert query(empty_db, "SELECT id, name FROM settings ORDER BY id") == [
        (1, "theme"),
        (2, "lang"),
    ]


def test_take_export_is_refused_where_a_foreign_key_holds_the_old_key(empty_db, tmp_path):
    sql(
        empty_db,
        "CREATE TABLE owners (id int PRIMARY KEY, name text UNIQUE)",
        "CREATE TABLE pets (id int PRIMARY KEY, owner_id int REFERENCES owners (id))",
        "INSERT INTO owners VALUES (100, 'ann'); INSERT INTO pets VALUES (1, 100)",
    )
    write(tmp_path, "public.owners.csv", "id,name\n1,ann\n")
    result = load(empty_db, tmp_path, ["public.owners"], on_conflict="take-export")
    t = result.table("public.owners")
    assert (t.updated, t.conflicts) == (0, 1), t
    why = _rows(t.reject_file)[1][1]
    assert "public.pets" in why and "take-export refused" in why, why
    assert query(empty_db, "SELECT id FROM owners") == [(100,)]


def test_two_records_of_one_file_same_key_different_content(empty_db, tmp_path):
    sql(empty_db, "CREATE TABLE kv (k text PRIMARY KEY, v int)")
    write(tmp_path, "public.kv.csv", "k,v\na,1\nb,2\na,1\nb,3\n")
    for staging in (False, True):
        sql(empty_db, "TRUNCATE kv")
        result = load(empty_db, tmp_path, force_staging=staging)
        t = result.table("public.kv")
        assert (t.inserted, t.duplicates, t.conflicts, t.rejected) == (2, 1, 1, 0), t
        rows = _rows(t.reject_file)
        assert rows[1][0] == "5" and "record 2 of this file" in rows[1][1], rows
        assert query(empty_db, "SELECT k, v FROM kv ORDER BY k") == [("a", 1), ("b", 2)]


def test_rows_a_trigger_swallows_are_rejected_with_that_reason(empty_db, tmp_path):
    sql(
        empty_db,
        "CREATE TABLE ev (id int PRIMARY KEY, kind text)",
        "CREATE FUNCTION drop_noise() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN IF NEW.kind = 'noise' THEN RETURN NULL; END IF; RETURN NEW; END$$",
        "CREATE TRIGGER ev_noise BEFORE INSERT ON ev FOR EACH ROW EXECUTE FUNCTION drop_noise()",
    )
    write(tmp_path, "public.ev.csv", "id,kind\n1,ok\n2,noise\n3,ok\n")
    result = load(empty_db, tmp_path)
    t = result.table("public.ev")
    assert (t.inserted, t.duplicates, t.rejected) == (2, 0, 1), t
    rows = _rows(t.reject_file)
    assert rows[1][0] == "3" and "ev_noise" in rows[1][1], rows


def test_a_partial_unique_index_is_reported_not_called_a_duplicate(empty_db, tmp_path):
    sql(
        empty_db,
        "CREATE TABLE job (id int PRIMARY KEY, name text, active bool)",
        "CREATE UNIQUE INDEX one_active ON job (name) WHERE active",
        "INSERT INTO job VALUES (1, 'x', true)",
    )
    write(tmp_path, "public.job.csv", "id,name,active\n2,x,true\n3,x,false\n")
    result = load(empty_db, tmp_path)
    t = result.table("public.job")
    assert (t.inserted, t.duplicates, t.rejected) == (1, 0, 1), t
    assert "one_active" in _rows(t.reject_file)[1][1]


def test_keep_target_on_a_secondary_unique_key_is_a_decision_the_proof_honours(
    empty_db, tmp_path, cli
):
    """A conflict on another unique key (a seed row of another id holding the record's name) kept
    by decision is decided away: the proof says so and stays green. Taking the target row away
    afterwards makes the record missing again: red, whatever the journal says."""
    sql(
        empty_db,
        "CREATE TABLE settings (id int PRIMARY KEY, name text UNIQUE, value text)",
        "INSERT INTO settings VALUES (100, 'theme', 'dark')",
    )
    write(tmp_path, "public.settings.csv", "id,name,value\n1,theme,light\n2,lang,en\n")
    t = load(empty_db, tmp_path, on_conflict="keep-target").table("public.settings")
    assert (t.inserted, t.conflicts, t.conflicts_kept) == (1, 1, 1), t
    validate = ["validate", tmp_path, "--dsn", empty_db.conninfo, "--profile", "none", "--json"]
    code, out, err = cli(*validate, "--report-dir", tmp_path / "r1")
    assert code == 1, (out, err)  # the load's policy alone excuses nothing, and says how to
    assert "validate with --on-conflict keep-target" in out, out
    code, out, err = cli(*validate, "--report-dir", tmp_path / "r2", "--on-conflict", "keep-target")
    assert code == 0, (out, err)
    (table,) = json.loads(out)["tables"]
    assert table["kept_conflicts"] == 1 and table["ok"], table
    assert "1 conflict kept by decision" in out
    sql(empty_db, "DELETE FROM settings WHERE id = 100")
    code, out, err = cli(*validate, "--report-dir", tmp_path / "r3", "--on-conflict", "keep-target")
    assert code == 1, (out, err)
    (table,) = json.loads(out)["tables"]
    assert table["kept_conflicts"] == 0 and table["not_in_target"] == 1, table


def test_a_rerun_after_rejected_conflicts_stays_not_ok_and_counts_them(empty_db, tmp_path, cli):
    """The re-run of a load that rejected conflicts resumes the table: its numbers are the earlier
    run's, conflicts included (they add up to the file's records), and the result is still not
    OK (before: resumed, "0 rejected", OK, exit 0, while the conflicting records are not in the
    target)."""
    sql(
        empty_db,
        "CREATE TABLE settings (id int PRIMARY KEY, name text UNIQUE, value text)",
        "INSERT INTO settings VALUES (100, 'theme', 'dark')",
    )
    write(tmp_path, "public.settings.csv", "id,name,value\n1,theme,light\n2,lang,en\n")
    first = load(empty_db, tmp_path)
    assert not first.ok and first.table("public.settings").conflicts == 1
    again = load(empty_db, tmp_path)
    t = again.table("public.settings")
    assert t.status == "resumed" and (t.previously_inserted, t.previously_conflicts) == (1, 1), t
    assert not t.ok and not again.ok
    assert_counts_add_up(again)
    args = ("load", tmp_path, "--dsn", empty_db.conninfo, "--profile", "none", "--yes")
    code, out, err = cli(*args)
    assert code == 1 and "Not OK" in out, (out, err)
    assert "1 conflicts (rejected)" in out and "1 rejected rows in" in out, out
    code, out, err = cli(*args, "--json")
    (table,) = json.loads(out)["tables"]
    assert table["previously_conflicts"] == 1 and json.loads(out)["ok"] is False


def test_take_export_refuses_a_record_whose_new_key_would_orphan_a_child(empty_db, cli, tmp_path):
    # take-export on a conflict found by a secondary key (code) would change the target row's
    # primary key (id) under a child that references the old id without ON UPDATE CASCADE: that
    # record is refused with the reason, its line in the reject file; the row and its child stay
    sql(
        empty_db,
        "CREATE TABLE public.teams (id int PRIMARY KEY, code text UNIQUE NOT NULL, name text)",
        "CREATE TABLE public.members (id int PRIMARY KEY, team_id int REFERENCES public.teams (id))",
        "INSERT INTO public.teams VALUES (1, 'red', 'seed red'), (2, 'blue', 'seed blue')",
        "INSERT INTO public.members VALUES (10, 1)",
    )
    folder = tmp_path / "export"
    # red: same code, another id (a child holds id 1); blue: same code and id, another name
    write(folder, "teams.csv", "id,code,name\n7,red,export red\n2,blue,export blue\n")
    code, out, err = cli("load", folder, "--dsn", empty_db.conninfo, "--profile", "none",
                         "--tables", "teams", "--on-conflict", "take-export", "--yes", "--json")  # fmt: skip
    assert code == 1, err
    (t,) = json.loads(out)["tables"]
    assert t["updated"] == 1 and t["conflicts_rejected"] == 1, t
    assert t["csv_rows"] == t["inserted"] + t["updated"] + t["duplicates"] + t["conflicts"] + t["rejected"]
    rows = _rows(t["reject_file"])
    rec = dict(zip(rows[0], rows[1], strict=True))
    assert rec["code"] == "red" and "still references the target row's old id" in rec["reason"], rec
    assert query(empty_db, "SELECT id, code, name FROM public.teams ORDER BY id") == [
        (1, "red", "seed red"),
        (2, "blue", "export blue"),
    ]
