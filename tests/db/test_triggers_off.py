"""A target table's user triggers, as a real init script writes them (`BEFORE INSERT OR UPDATE
... NEW.updated_at = now()`): shown by the scan and the plan as a difference to decide, and the
decision to load with them switched off (`--triggers-off`, the plan's `triggers_off`), taken in
the table's own transaction and undone before its commit, each trigger in the mode it had."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from auditkit import export, load, query, sql, table, validate
from loadkit import kill_9_during

from aria_tui.pg.connect import Target

ROOT = Path(__file__).resolve().parents[2]

ROWS = 6
CSV = "id,name,updated_at\n" + "".join(
    f"{i},item {i},2020-01-0{i} 10:00:00+00\n" for i in range(1, ROWS + 1)
)

STAMP = (
    "CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$"
)
TABLE = "CREATE TABLE public.items (id int PRIMARY KEY, name text, updated_at timestamptz)"
# the usual updated_at trigger, one that runs ENABLE ALWAYS (an audit log), one switched off by
# the target's owner on purpose (it would refuse every row: it must stay off)
TRIGGERS = (
    "CREATE TRIGGER items_stamp BEFORE INSERT OR UPDATE ON public.items "
    "FOR EACH ROW EXECUTE FUNCTION public.stamp()",
    "CREATE TABLE public.audit (id int, at timestamptz DEFAULT now())",
    "CREATE FUNCTION public.audit_it() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN INSERT INTO public.audit (id) VALUES (NEW.id); RETURN NEW; END $$",
    "CREATE TRIGGER items_audit AFTER INSERT ON public.items "
    "FOR EACH ROW EXECUTE FUNCTION public.audit_it()",
    "ALTER TABLE public.items ENABLE ALWAYS TRIGGER items_audit",
    "CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'refused'; END $$",
    "CREATE TRIGGER items_refuse BEFORE INSERT ON public.items "
    "FOR EACH ROW EXECUTE FUNCTION public.refuse()",
    "ALTER TABLE public.items DISABLE TRIGGER items_refuse",
)
MODES = {"items_stamp": "O", "items_audit": "A", "items_refuse": "D"}


def _target(db, *extra: str) -> None:
    sql(db, STAMP, TABLE, *TRIGGERS, *extra)


def _modes(db) -> dict[str, str]:
    rows = query(
        db,
        "SELECT tgname, tgenabled::text FROM pg_trigger "
        "WHERE tgrelid = 'public.items'::regclass AND NOT tgisinternal",
    )
    return dict(rows)


def _stamps(db) -> set[str]:
    return {r[0] for r in query(db, "SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY') FROM items")}


def _folder(tmp_path: Path) -> Path:
    return export(tmp_path, {"items.csv": CSV})


def test_scan_shows_the_triggers_as_a_difference_to_decide_without_blocking(empty_db, cli, tmp_path):
    _target(empty_db)
    folder = _folder(tmp_path)
    code, out, err = cli("scan", folder, "--dsn", empty_db.conninfo, "--profile", "none", "--json")
    assert code == 0, err
    (t,) = [t for t in json.loads(out)["tables"] if t["file"] == "items.csv"]
    diff = t["diff"]
    assert diff["status"] == "match" and not diff["blockers"], diff
    names = {tr["name"]: tr for tr in diff["triggers"]}
    assert set(names) == {"items_stamp", "items_audit"}  # the disabled one does not fire
    assert names["items_stamp"]["may_change_values"] and names["items_stamp"]["timing"] == "BEFORE"
    assert names["items_audit"]["enabled"] == "always"
    (note,) = [n for n in diff["notes"] if "trigger" in n]
    assert "items_stamp" in note and "may change the export's values on each row" in note
    assert "--triggers-off public.items" in note
    # the text output says it too
    code, out, err = cli("scan", folder, "--dsn", empty_db.conninfo, "--profile", "none")
    assert code == 0 and "items_stamp" in out and "--triggers-off" in out, out


def test_without_the_decision_the_trigger_rewrites_every_row_and_validate_stays_red(
    empty_db, cli, tmp_path
):
    """The regression guard: the triggers on, as they are, the proof is red by updated_at."""
    _target(empty_db)
    folder = _folder(tmp_path)
    code, loaded = load(cli, empty_db, folder)
    assert table(loaded, "public.items")[0]["inserted"] == ROWS, loaded
    assert _stamps(empty_db) != {"2020"}  # now(), not the export's
    vcode, validated = validate(cli, empty_db, folder, tmp_path)
    assert vcode == 1 and not validated["ok"], validated["headline"]
    assert _modes(empty_db) == MODES


def test_triggers_off_loads_the_exports_values_proven_and_puts_every_trigger_back(
    empty_db, cli, tmp_path
):
    _target(empty_db)
    folder = _folder(tmp_path)
    code, loaded = load(cli, empty_db, folder, "--triggers-off", "public.items")
    assert code == 0 and loaded["ok"], loaded
    (t,) = table(loaded, "public.items")
    assert t["inserted"] == ROWS and t["triggers_off"], t
    assert [s.split(" ")[0] for s in t["triggers_switched_off"]] == ["items_audit", "items_stamp"]
    assert any("user triggers switched off" in n for n in t["notes"]), t["notes"]
    assert _stamps(empty_db) == {"2020"}
    assert query(empty_db, "SELECT count(*) FROM audit") == [(0,)]  # the audit trigger was off
    # back in their own modes: ALWAYS stays ALWAYS, the disabled one stays disabled
    assert _modes(empty_db) == MODES
    vcode, validated = validate(cli, empty_db, folder, tmp_path)
    assert vcode == 0 and validated["ok"], validated["headline"]
    (v,) = [x for x in validated["tables"] if x["target"] == "public.items"]
    assert any("user triggers switched off" in d and "items_stamp" in d for d in v["decisions"]), v
    # and the triggers fire again for everyone else
    sql(empty_db, "INSERT INTO items VALUES (100, 'after', '2020-01-01')")
    assert query(empty_db, "SELECT extract(year FROM updated_at)::int FROM items WHERE id = 100") != [
        (2020,)
    ]


def test_a_name_the_load_does_not_load_is_refused_in_one_sentence(empty_db, cli, tmp_path):
    _target(empty_db)
    code, out, err = cli(
        "load", _folder(tmp_path), "--dsn", empty_db.conninfo, "--profile", "none", "--yes",
        "--triggers-off", "public.nope",
    )  # fmt: skip
    assert code == 2 and "Traceback" not in err + out
    assert "--triggers-off names public.nope" in err


def test_take_export_through_a_before_update_trigger_is_provable_with_the_decision(
    empty_db, cli, tmp_path
):
    # a seed row the init script wrote, other content, same key; the trigger stamps its UPDATE
    _target(empty_db, "INSERT INTO items VALUES (1, 'seeded', '2019-05-05')")
    folder = _folder(tmp_path)
    code, loaded = load(
        cli, empty_db, folder, "--on-conflict", "take-export", "--triggers-off", "public.items"
    )
    (t,) = table(loaded, "public.items")
    assert code == 0 and (t["updated"], t["inserted"]) == (1, ROWS - 1), t
    assert _stamps(empty_db) == {"2020"}
    vcode, validated = validate(cli, empty_db, folder, tmp_path, "--on-conflict", "take-export")
    assert vcode == 0, validated["headline"]
    assert _modes(empty_db) == MODES


def test_take_export_without_the_decision_stays_red(empty_db, cli, tmp_path):
    _target(empty_db, "INSERT INTO items VALUES (1, 'seeded', '2019-05-05')")
    sql(empty_db, "DROP TRIGGER items_stamp ON items",
        "CREATE TRIGGER items_stamp BEFORE UPDATE ON public.items "
        "FOR EACH ROW EXECUTE FUNCTION public.stamp()")  # fmt: skip
    folder = _folder(tmp_path)
    code, loaded = load(cli, empty_db, folder, "--on-conflict", "take-export")
    assert table(loaded, "public.items")[0]["updated"] == 1, loaded
    vcode, validated = validate(cli, empty_db, folder, tmp_path, "--on-conflict", "take-export")
    assert vcode == 1, validated["headline"]


def test_the_decision_round_trips_through_the_plan_file(empty_db, cli, tmp_path):
    _target(empty_db)
    folder = _folder(tmp_path)
    undecided = tmp_path / "undecided.toml"
    code, out, err = cli(
        "plan", folder, "--dsn", empty_db.conninfo, "--profile", "none", "--out", undecided
    )
    assert code == 0, err
    text = undecided.read_text()
    assert "triggers_off = false" in text and "items_stamp (BEFORE INSERT OR UPDATE" in text, text

    plan = tmp_path / "cutover.toml"
    code, out, err = cli(
        "plan", folder, "--dsn", empty_db.conninfo, "--profile", "none", "--out", plan,
        "--triggers-off", "public.items",
    )  # fmt: skip
    assert code == 0, err
    assert "triggers_off = true" in plan.read_text()
    common = ("--dsn", empty_db.conninfo, "--profile", "none", "--plan", plan)
    code, out, err = cli("load", folder, *common, "--yes", "--json")
    assert code == 0, out + err
    (t,) = table(json.loads(out), "public.items")
    assert t["triggers_off"] and t["triggers_switched_off"], t
    assert _stamps(empty_db) == {"2020"} and _modes(empty_db) == MODES
    code, out, err = cli("validate", folder, *common, "--json", "--report-dir", tmp_path / "r")
    assert code == 0, out + err
    # the record says it: a re-run under the same plan resumes
    code, out, err = cli("load", folder, *common, "--yes", "--json")
    (t,) = table(json.loads(out), "public.items")
    assert code == 0 and t["status"] == "resumed", t


def test_a_rerun_under_another_triggers_decision_processes_the_table_again(empty_db, cli, tmp_path):
    _target(empty_db)
    folder = _folder(tmp_path)
    code, first = load(cli, empty_db, folder)
    assert code == 0 and _stamps(empty_db) != {"2020"}
    # the rows the triggers stamped now conflict with the export's records: taken with them off
    code, again = load(
        cli, empty_db, folder, "--triggers-off", "public.items", "--on-conflict", "take-export"
    )
    (t,) = table(again, "public.items")
    assert t["status"] == "loaded" and t["updated"] == ROWS, t
    assert _stamps(empty_db) == {"2020"} and _modes(empty_db) == MODES
    vcode, validated = validate(cli, empty_db, folder, tmp_path, "--on-conflict", "take-export")
    assert vcode == 0, validated["headline"]
    # and the same decisions again: resumed, nothing processed
    code, third = load(
        cli, empty_db, folder, "--triggers-off", "public.items", "--on-conflict", "take-export"
    )
    assert table(third, "public.items")[0]["status"] == "resumed", third


def test_a_kill_9_during_the_load_leaves_every_trigger_on(empty_db, tmp_path):
    # a CHECK that takes its time on each row: the kill lands inside the COPY, triggers off
    _target(
        empty_db,
        "CREATE FUNCTION slow(x int) RETURNS bool IMMUTABLE LANGUAGE plpgsql AS "
        "'BEGIN PERFORM pg_sleep(0.05); RETURN true; END'",
        "ALTER TABLE items ADD CONSTRAINT items_slow CHECK (slow(id))",
    )
    rows = 200
    body = "id,name,updated_at\n" + "".join(
        f"{i},item {i},2020-01-01 10:00:00+00\n" for i in range(1, rows + 1)
    )
    folder = export(tmp_path, {"items.csv": body})
    argv = [
        sys.executable, "-m", "aria_tui", "load", str(folder), "--dsn", empty_db.conninfo,
        "--profile", "none", "--yes", "--json", "--jobs", "1", "--triggers-off", "public.items",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kill_9_during(empty_db, argv, env, "COPY%items%")
    assert query(empty_db, "SELECT count(*) FROM items") == [(0,)]
    assert _modes(empty_db) == MODES
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert _modes(empty_db) == MODES
    assert _stamps(empty_db) == {"2020"}


def test_a_role_that_does_not_own_the_table_fails_it_in_one_sentence(empty_db, cli, tmp_path):
    _target(empty_db)
    role = f"aria_loader_{os.getpid()}"  # roles are cluster-wide: one name per test session
    info = psycopg.conninfo.conninfo_to_dict(empty_db.conninfo)
    sql(
        empty_db,
        f"CREATE ROLE {role} LOGIN",
        f"GRANT CREATE ON DATABASE {info['dbname']} TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT ALL ON public.items, public.audit TO {role}",
    )
    uri = psycopg.conninfo.make_conninfo(**{**info, "user": role})
    other = Target(spec=uri, conninfo=uri, display=role)
    try:
        folder = _folder(tmp_path)
        code, out, err = cli(
            "load", folder, "--dsn", other.conninfo, "--profile", "none", "--yes", "--json",
            "--triggers-off", "public.items",
        )  # fmt: skip
        assert "Traceback" not in out + err
        (t,) = table(json.loads(out), "public.items")
        assert code == 1 and t["status"] == "failed", t
        assert f"the role {role} does not own the table" in t["error"], t["error"]
        assert "--triggers-off" in t["error"]
        assert query(empty_db, "SELECT count(*) FROM items") == [(0,)]
        assert _modes(empty_db) == MODES
    finally:
        sql(empty_db, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def test_a_file_that_would_load_in_chunks_loads_whole_with_its_triggers_off(
    empty_db, cli, tmp_path, monkeypatch
):
    """Chunks commit one by one: the triggers are off only inside one transaction, so the table
    loads whole, and its notes say why."""
    sql(
        empty_db,
        TABLE,
        "CREATE TABLE public.audit (id int)",
        "CREATE FUNCTION public.audit_it() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO public.audit VALUES (NEW.id); RETURN NEW; END $$",
        "CREATE TRIGGER items_audit AFTER INSERT ON public.items "
        "FOR EACH ROW EXECUTE FUNCTION public.audit_it()",
    )
    monkeypatch.setenv("ARIA_TUI_CHUNK_BYTES", "2000")
    body = "id,name,updated_at\n" + "".join(
        f"{i},item {i},2020-01-01 10:00:00+00\n" for i in range(1, 1001)
    )
    folder = export(tmp_path, {"items.csv": body})
    # with its triggers on, the file loads in chunks
    code, on = load(cli, empty_db, folder, "--jobs", "2")
    assert code == 0 and table(on, "public.items")[0]["chunks"] > 1, on
    sql(empty_db, "TRUNCATE items, audit")  # emptied: the next load loads it again
    code, loaded = load(cli, empty_db, folder, "--jobs", "2", "--triggers-off", "public.items")
    (t,) = table(loaded, "public.items")
    assert code == 0 and t["chunks"] == 0 and t["inserted"] == 1000, t
    assert any("loaded whole in one transaction rather than in chunks" in n for n in t["notes"])
    assert query(empty_db, "SELECT count(*) FROM audit") == [(0,)]
    assert _modes(empty_db) == {"items_audit": "O"}
