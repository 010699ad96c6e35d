"""A target column the export does not supply, NOT NULL without a default (Aria v4's
`working_memory.agent_id VARCHAR(100) NOT NULL`): blocked with a sentence naming the way forward,
`--decide S.T.C=fill:VALUE`, which loads VALUE into every inserted record through the column's
default inside the table's transaction and leaves the target's schema as it was."""

from __future__ import annotations

import json
import tomllib

import pytest
from loadkit import query, sql, write

DDL = (
    "CREATE SCHEMA app",
    "CREATE TABLE app.memory (id int PRIMARY KEY, note text, "
    "agent_id varchar(8) NOT NULL, tenant text NOT NULL DEFAULT 'acme')",
)
CSV = "id,note\n1,first\n2,second\n3,third\n"
FILL = ("--decide", "app.memory.agent_id=fill:main")
SPEC = "app.memory.agent_id=fill:VALUE"


def _table(out: str) -> dict:
    return next(t for t in json.loads(out)["tables"] if t["target"] == "app.memory")


def _default(db, column: str = "agent_id"):
    return query(
        db,
        "SELECT column_default FROM information_schema.columns WHERE table_schema = 'app' "
        "AND table_name = 'memory' AND column_name = %s",
        (column,),
    )[0][0]


def _setup(db, folder, csv: str = CSV) -> None:
    sql(db, *DDL)
    write(folder, "app.memory.csv", csv)


def test_without_the_decision_the_table_is_blocked_by_a_sentence_naming_it(empty_db, cli, tmp_path):
    _setup(empty_db, tmp_path)
    code, out, err = cli("scan", tmp_path, "--dsn", empty_db.conninfo, "--json")
    diff = json.loads(out)["tables"][0]["diff"]
    assert diff["status"] == "blocked"
    (sentence,) = [b["sentence"] for b in diff["blockers"]]
    assert "agent_id is NOT NULL without a default" in sentence
    assert f"(decide: --decide {SPEC})" in sentence, sentence
    code, out, err = cli("load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--json")
    assert code == 1
    t = _table(out)
    assert t["status"] == "blocked" and f"--decide {SPEC}" in t["error"], t
    assert query(empty_db, "SELECT count(*) FROM app.memory") == [(0,)]


@pytest.mark.parametrize("staging", [False, True], ids=["copy", "staging"])
def test_a_fill_loads_the_value_leaves_the_schema_as_it_was_and_is_proven(
    empty_db, cli, tmp_path, staging
):
    _setup(empty_db, tmp_path)
    decide = (*FILL, "--decide", "app.memory.tenant=fill:globex")
    base = ("load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--json", *decide)
    code, out, err = cli(*base, *(("--force-staging",) if staging else ()))
    assert code == 0, (out, err)
    t = _table(out)
    assert (t["status"], t["inserted"]) == ("loaded", 3), t
    assert t["ddl"] == [
        """ALTER TABLE ONLY "app"."memory" ALTER COLUMN "agent_id" SET DEFAULT 'main'::character varying(8)""",
        """ALTER TABLE ONLY "app"."memory" ALTER COLUMN "tenant" SET DEFAULT 'globex'::text""",
        'ALTER TABLE ONLY "app"."memory" ALTER COLUMN "agent_id" DROP DEFAULT',
        """ALTER TABLE ONLY "app"."memory" ALTER COLUMN "tenant" SET DEFAULT 'acme'::text""",
    ], t["ddl"]
    assert any("agent_id filled with 'main' in every loaded record" in n for n in t["notes"]), t
    assert query(empty_db, "SELECT id, note, agent_id, tenant FROM app.memory ORDER BY id") == [
        (1, "first", "main", "globex"),
        (2, "second", "main", "globex"),
        (3, "third", "main", "globex"),
    ]
    # the schema as it was: no default for agent_id, tenant's own one back
    assert _default(empty_db) is None
    assert _default(empty_db, "tenant") == "'acme'::text"

    vbase = ("validate", tmp_path, "--dsn", empty_db.conninfo, "--json")
    code, vout, err = cli(*vbase, "--report-dir", tmp_path / "r", *decide)
    assert code == 0, (vout, err)
    (vt,) = json.loads(vout)["tables"]
    assert vt["ok"], vt
    content = next(c for c in vt["checks"] if c["name"] == "content")
    assert "agent_id, tenant filled by decision, not in the export, so not compared" in content[
        "detail"
    ], content
    assert any("agent_id filled by decision: the rows hold 'main'" in d for d in vt["decisions"]), vt["decisions"]
    # a re-run changes nothing, and the schema still holds no fill's default
    code, out, err = cli(*base)
    assert code == 0 and _table(out)["inserted"] == 0, (out, err)
    assert _default(empty_db) is None


def test_a_dry_run_shows_the_ddl_and_leaves_no_default_behind(empty_db, cli, tmp_path):
    _setup(empty_db, tmp_path)
    code, out, err = cli(
        "load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--json", "--dry-run", *FILL
    )
    assert code == 0, (out, err)
    t = _table(out)
    assert t["inserted"] == 3 and any("SET DEFAULT 'main'" in s for s in t["ddl"]), t
    assert _default(empty_db) is None
    assert query(empty_db, "SELECT count(*) FROM app.memory") == [(0,)]


@pytest.mark.parametrize(
    ("value", "why"),
    [("far-too-long", "value too long for type character varying(8)")],
)
def test_a_value_the_column_type_refuses_is_one_sentence(empty_db, cli, tmp_path, value, why):
    _setup(empty_db, tmp_path)
    for command in ("load", "plan"):
        extra = ("--yes",) if command == "load" else ("--out", tmp_path / "cutover.toml")
        code, out, err = cli(
            command, tmp_path, "--dsn", empty_db.conninfo, *extra,
            "--decide", f"app.memory.agent_id=fill:{value}",
        )  # fmt: skip
        assert code == 2, (command, out, err)
        assert "Traceback" not in err
        assert f"'{value}' is not a value of app.memory.agent_id" in err and why in err, err
        assert len(err.strip().splitlines()) == 1, err
    assert query(empty_db, "SELECT count(*) FROM app.memory") == [(0,)]


def test_an_integer_column_refuses_text_and_a_vector_column_its_wrong_dimension(
    empty_db, cli, tmp_path
):
    sql(
        empty_db,
        "CREATE SCHEMA app",
        "CREATE TABLE app.memory (id int PRIMARY KEY, note text, n int NOT NULL, "
        "v vector(2) NOT NULL)",
    )
    write(tmp_path, "app.memory.csv", CSV)
    for decide, said in (
        ("app.memory.n=fill:abc", "invalid input syntax for type integer"),
        ("app.memory.v=fill:[1,2,3]", "expected 2 dimensions, not 3"),
    ):
        code, out, err = cli(
            "load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--decide", decide,
            "--decide", "app.memory.v=fill:[1,2]" if "n=" in decide else "app.memory.n=fill:7",
        )  # fmt: skip
        assert code == 2 and said in err and "Traceback" not in err, (decide, err)
    # both right: the vector column filled through the binary path's COPY too
    code, out, err = cli(
        "load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--json",
        "--decide", "app.memory.n=fill:7", "--decide", "app.memory.v=fill:[1,2]",
    )  # fmt: skip
    assert code == 0, (out, err)
    assert query(empty_db, "SELECT DISTINCT n, v::text FROM app.memory") == [(7, "[1,2]")]


def test_a_fill_on_a_column_the_export_supplies_is_refused(empty_db, cli, tmp_path):
    _setup(empty_db, tmp_path)
    for decide, said in (
        ("app.memory.note=fill:x", "loaded from the export's column note"),
        ("app.memory.nope=fill:x", "app.memory has no column nope"),
        ("app.memory.agent_id=fill:", "gives no value"),
    ):
        code, out, err = cli(
            "load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--decide", decide
        )
        assert code == 2 and said in err and "Traceback" not in err, (decide, err)
        assert len(err.strip().splitlines()) == 1, err


def test_plan_load_validate_round_trip(empty_db, cli, tmp_path):
    export = tmp_path / "export"
    _setup(empty_db, export)
    plan = tmp_path / "cutover.toml"
    code, out, err = cli("plan", export, "--dsn", empty_db.conninfo, "--out", plan, *FILL)
    assert code == 0, (out, err)
    text = plan.read_text(encoding="utf-8")
    (table,) = tomllib.loads(text)["table"]
    (decision,) = table["decision"]
    assert (decision["column"], decision["action"], decision["arg"]) == ("agent_id", "fill", "main")
    assert "SET DEFAULT 'main'" in decision["ddl"]
    assert "# app.memory.agent_id filled with 'main' in every loaded record" in text, text
    code, out, err = cli("load", export, "--dsn", empty_db.conninfo, "--plan", plan, "--yes", "--json")
    assert code == 0, (out, err)
    assert _table(out)["inserted"] == 3
    assert _default(empty_db) is None
    code, vout, err = cli(
        "validate", export, "--dsn", empty_db.conninfo, "--plan", plan, "--json",
        "--report-dir", tmp_path / "r",
    )  # fmt: skip
    assert code == 0, (vout, err)
    # without the decision, the proof does not know what fills the column: the table is blocked
    code, vout, err = cli(
        "validate", export, "--dsn", empty_db.conninfo, "--json", "--report-dir", tmp_path / "r2"
    )
    assert code != 0, vout


def test_take_export_keeps_the_target_rows_own_value(empty_db, cli, tmp_path):
    """A seed row replaced by the export's record keeps its agent_id: the UPDATE writes the
    export's columns, and a stand-in value does not overwrite the target's real one."""
    _setup(empty_db, tmp_path)
    sql(empty_db, "INSERT INTO app.memory (id, note, agent_id) VALUES (1, 'seeded', 'seed')")
    args = ("--dsn", empty_db.conninfo, "--on-conflict", "take-export", *FILL)
    code, out, err = cli("load", tmp_path, *args, "--yes", "--json")
    assert code == 0, (out, err)
    t = _table(out)
    assert (t["inserted"], t["updated"]) == (2, 1), t
    assert query(empty_db, "SELECT id, note, agent_id FROM app.memory ORDER BY id") == [
        (1, "first", "seed"),
        (2, "second", "main"),
        (3, "third", "main"),
    ]
    assert _default(empty_db) is None
    code, vout, err = cli("validate", tmp_path, *args, "--json", "--report-dir", tmp_path / "r")
    assert code == 0, (vout, err)


def test_a_table_with_a_fill_is_not_chunked(empty_db, cli, tmp_path, monkeypatch):
    """Chunks commit one by one: a fill's default would be in the schema between them."""
    monkeypatch.setenv("ARIA_TUI_CHUNK_BYTES", "16")
    rows = "".join(f"{i},note {i}\n" for i in range(1, 201))
    _setup(empty_db, tmp_path, "id,note\n" + rows)
    code, out, err = cli(
        "load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--json", "--jobs", "4", *FILL
    )
    assert code == 0, (out, err)
    t = _table(out)
    assert (t["inserted"], t["chunks"]) == (200, 0), t
    assert any("loaded in one transaction, not in chunks" in n for n in t["notes"]), t["notes"]
    assert query(empty_db, "SELECT count(*) FROM aria_tui.commits WHERE target_table = 'app.memory'") == [(1,)]
    assert query(empty_db, "SELECT DISTINCT agent_id FROM app.memory") == [("main",)]
    assert _default(empty_db) is None


def test_the_binary_path_fills_the_column_too(empty_db, cli, tmp_path):
    sql(
        empty_db,
        "CREATE SCHEMA app",
        "CREATE TABLE app.memory (id int PRIMARY KEY, v vector(2), agent_id text NOT NULL)",
    )
    write(tmp_path, "app.memory.csv", 'id,v\n1,"[1,2]"\n2,"[3,4]"\n')
    code, out, err = cli("load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--json", *FILL)
    assert code == 0, (out, err)
    t = _table(out)
    assert (t["inserted"], t["path"]) == (2, "binary"), t
    assert query(empty_db, "SELECT DISTINCT agent_id FROM app.memory") == [("main",)]
    assert _default(empty_db) is None
