"""`aria-tui validate` against real PostgreSQL: the Done-when of issue 6.

The sample export is loaded once by aria-tui's loader (tests that edit it get a clone) and, for
comparison, once by plain COPY (what `psql \\copy` does); then rows are deleted or edited by hand
and validation must notice, name the table and the key, and exit 1.
"""

from __future__ import annotations

import json
import os
import stat

import psycopg
import pytest
from loadkit import SAMPLE_EXPORT, load_with_copy
from psycopg import sql

from aria_tui.pg.connect import Target
from aria_tui.pg.dsn import display_dsn


def validate_json(cli, db, *extra: str, folder=SAMPLE_EXPORT) -> tuple[int, dict, str]:
    code, out, err = cli("validate", folder, "--dsn", db.conninfo, "--json", *extra)
    assert out.strip(), err
    return code, json.loads(out), err


def by_target(result: dict) -> dict[str, dict]:
    return {t["target"]: t for t in result["tables"]}


def checks_of(table: dict) -> dict[str, dict]:
    return {c["name"]: c for c in table["checks"]}


@pytest.fixture(scope="module")
def aria_loaded(templates):
    """One target loaded by `aria-tui load sample_export --yes`, once for the module; tests that
    change it work on a clone (`loaded_clone`), so the journal of this load stays its own."""
    from aria_tui.cli import main

    db = templates.fresh("aria_v4")
    assert main(["load", str(SAMPLE_EXPORT), "--dsn", db.conninfo, "--yes", "--json"]) == 0
    return db


@pytest.fixture
def loaded_clone(templates, aria_loaded):
    source = psycopg.conninfo.conninfo_to_dict(aria_loaded.conninfo)["dbname"]
    name = f"{source}_c{os.urandom(3).hex()}"
    with templates.admin() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(source))
        )
    uri = templates.server.get_uri(name)
    return Target(spec=uri, conninfo=uri, display=display_dsn(uri))


def test_load_then_validate_is_green_and_report_is_private(aria_loaded, cli, tmp_path):
    aria_db = aria_loaded
    code, result, err = validate_json(cli, aria_db, "--report-dir", tmp_path)
    failures = [
        (t["target"], c["name"], c["detail"]) for t in result["tables"] for c in t["checks"] if not c["ok"]
    ]
    assert failures == [], failures
    assert code == 0 and result["ok"] is True
    tables = by_target(result)
    # the default selection of the sample: every HIGH and MEDIUM table of the aria_v4 profile
    assert "aria_data.memories" in tables and "aria_engine.scheduled_jobs" in tables
    for t in result["tables"]:
        names = [c["name"] for c in t["checks"]]
        assert names[:3] == ["reconciliation", "presence", "content"], t
        assert t["csv_rows"] > 0 and t["target_rows"] >= t["csv_rows"] - t["rejected"]
    assert checks_of(tables["aria_data.semantic_memories"])["vectors"]["ok"]
    assert checks_of(tables["aria_data.knowledge_relations"])["foreign_keys"]["ok"]
    # the seed row aria_identity is both in the file and in the target: present, same content
    assert checks_of(tables["aria_data.memories"])["presence"]["ok"]
    # the load's journal is read for its arithmetic, and only for that
    counts = checks_of(tables["aria_data.memories"])["reconciliation"]["detail"]
    assert "journal of the load" in counts and "duplicates 2" in counts

    md, js = result["report"], result["report_json"]
    for path in (md, js):
        assert os.path.dirname(path) == str(tmp_path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = open(md, encoding="utf-8").read()
    assert aria_db.display in text and "✅ PASS" in text
    assert "| Tables validated |" in text and "## What failed and why" in text
    assert json.loads(open(js, encoding="utf-8").read())["ok"] is True


def test_deleted_row_and_edited_character_fail_naming_table_and_key(loaded_clone, cli, tmp_path):
    aria_db = loaded_clone
    with psycopg.connect(aria_db.conninfo, autocommit=True) as conn:
        gone = conn.execute(
            "DELETE FROM aria_data.memories WHERE id = (SELECT id FROM aria_data.memories "
            "WHERE key <> 'aria_identity' ORDER BY id LIMIT 1) RETURNING id"
        ).fetchone()[0]
        edited = conn.execute(
            "UPDATE aria_data.thoughts SET content = overlay(content placing "
            "CASE WHEN left(content, 1) = 'X' THEN 'Y' ELSE 'X' END from 1 for 1) "
            "WHERE id = (SELECT id FROM aria_data.thoughts ORDER BY id DESC LIMIT 1) RETURNING id"
        ).fetchone()[0]
    code, result, _ = validate_json(cli, aria_db, "--report-dir", tmp_path)
    assert code == 1 and result["ok"] is False
    tables = by_target(result)
    presence = checks_of(tables["aria_data.memories"])["presence"]
    assert not presence["ok"] and f"id={gone}" in presence["detail"]
    content = checks_of(tables["aria_data.thoughts"])["content"]
    assert not content["ok"] and f"id={edited}" in content["detail"]
    assert ": content)" in content["detail"]  # the column that differs is named
    assert checks_of(tables["aria_data.thoughts"])["presence"]["ok"]
    # everything else still passes: the failures are pinned to what was touched
    others = [t for t in result["tables"] if t["target"] not in ("aria_data.memories", "aria_data.thoughts")]
    assert all(c["ok"] for t in others for c in t["checks"])

    # the people's view names them too, and the Markdown says what failed and why
    code, out, _ = cli("validate", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--report-dir", tmp_path)
    assert code == 1
    assert "aria_data.memories" in out and str(gone) in out and str(edited) in out
    text = open(result["report"], encoding="utf-8").read()
    failed_part = text.split("## What failed and why", 1)[1].split("## Check details", 1)[0]
    assert "aria_data.memories" in failed_part and str(gone) in failed_part
    assert "aria_data.thoughts" in failed_part and str(edited) in failed_part


def test_plain_copy_load_validates_like_an_aria_load(templates, aria_loaded, cli, tmp_path):
    ours, theirs = aria_loaded, templates.fresh("aria_v4")
    loaded = load_with_copy(theirs)
    assert len(loaded) >= 8, loaded  # most files load as-is; goals (extra columns) and memories
    _, a, _ = validate_json(cli, ours, "--report-dir", tmp_path)
    _, b, _ = validate_json(cli, theirs, "--report-dir", tmp_path)
    a_tables, b_tables = by_target(a), by_target(b)
    some = sorted(loaded)[0]
    assert "no journal: load done by other means" in checks_of(b_tables[some])["reconciliation"]["detail"]
    for target in sorted(loaded):
        verdict_a = {c["name"]: c["ok"] for c in a_tables[target]["checks"]}
        verdict_b = {c["name"]: c["ok"] for c in b_tables[target]["checks"]}
        assert verdict_a == verdict_b, target
        assert a_tables[target]["target_rows"] == b_tables[target]["target_rows"], target
        content_a = checks_of(a_tables[target])["content"]["detail"]
        content_b = checks_of(b_tables[target])["content"]["detail"]
        assert content_a == content_b, target  # same checksum over the same records
    # a file that plain COPY could not load is reported missing, never as a pass
    for target in set(a_tables) - loaded:
        assert b_tables[target]["ok"] is False


# --- hand-made export: one defect of each kind -------------------------------------------------

GENERIC_SCHEMA = """
CREATE TABLE public.parent (id serial PRIMARY KEY, name text NOT NULL, price numeric(6,2),
                            meta jsonb, seen timestamptz);
CREATE TABLE public.child (id integer PRIMARY KEY, parent_id integer REFERENCES public.parent (id),
                           emb vector, note text);
CREATE TABLE public.tagged (tag text, weight real);
"""

PARENT_CSV = (
    "id,name,price,meta,seen\n"
    '1,apple,1.50,"{""b"": 1, ""a"": 2}",2024-01-01 10:00:00+00\n'
    '2,"two\nlines, ""quoted""",2.5,{},2024-01-01T11:00:00Z\n'
    "3,pear,3,[],2024-01-02 00:00:00+00\n"
)
CHILD_CSV = 'id,parent_id,emb,note\n1,1,"[1,2,3]",a\n2,1,"[0.5,0.25,1e-3]",\n3,2,"[3,2,1]",""\n'
TAGGED_CSV = "tag,weight\nx,1.5\nx,1.5\ny,2\n"


@pytest.fixture
def generic_export(tmp_path, empty_db):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "parent.csv").write_text(PARENT_CSV, encoding="utf-8")
    (folder / "child.csv").write_text(CHILD_CSV, encoding="utf-8")
    (folder / "tagged.csv").write_text(TAGGED_CSV, encoding="utf-8")
    (folder / "ghost.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with psycopg.connect(empty_db.conninfo) as conn:
        conn.execute(GENERIC_SCHEMA)
        for name in ("parent", "child", "tagged"):
            with conn.cursor().copy(
                sql.SQL("COPY {} FROM STDIN (FORMAT csv, HEADER true)").format(sql.Identifier(name))
            ) as copy:
                copy.write((folder / f"{name}.csv").read_bytes())
        # what the loader does after COPY with explicit ids; a plain \copy forgets it
        conn.execute("SELECT setval('public.parent_id_seq', 3)")
    return folder


def test_plain_export_with_formats_that_differ_only_in_text_passes(generic_export, empty_db, cli, tmp_path):
    # 1.50 vs 1.5, JSON key order, ISO 'T' timestamps, a quoted multi-line field: equal after casting
    code, result, _ = validate_json(
        cli, empty_db, "--profile", "none", "--tables", "parent,child,tagged",
        "--report-dir", tmp_path, folder=generic_export,
    )
    assert code == 0, result
    tables = by_target(result)
    assert "public.tagged" in tables
    assert checks_of(tables["public.tagged"])["content"]["ok"]
    assert checks_of(tables["public.parent"])["sequences"]["ok"]


def test_each_defect_is_detected_and_named(generic_export, empty_db, cli, tmp_path):
    with psycopg.connect(empty_db.conninfo) as conn:
        conn.execute("UPDATE public.child SET emb = '[1,2]' WHERE id = 2")  # wrong dimension
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE public.child SET parent_id = 99 WHERE id = 3")  # orphan
        conn.execute("SET session_replication_role = origin")
        conn.execute("SELECT setval('public.parent_id_seq', 2)")  # sequence behind max(id)
        conn.execute("DELETE FROM public.tagged WHERE ctid = (SELECT min(ctid) FROM public.tagged WHERE tag = 'x')")
    code, result, _ = validate_json(
        cli, empty_db, "--profile", "none", "--tables", "parent,child,tagged,ghost",
        "--report-dir", tmp_path, folder=generic_export,
    )
    assert code == 1 and result["ok"] is False
    tables = by_target(result)
    child = checks_of(tables["public.child"])
    assert not child["vectors"]["ok"] and "id=2" in child["vectors"]["detail"]
    assert not child["foreign_keys"]["ok"] and "id=3" in child["foreign_keys"]["detail"]
    assert "99" in child["foreign_keys"]["detail"]
    parent = checks_of(tables["public.parent"])
    assert not parent["sequences"]["ok"] and "public.parent_id_seq" in parent["sequences"]["detail"]
    assert parent["presence"]["ok"] and parent["content"]["ok"]
    # no key: the file's two identical 'x' rows must both be there
    tagged = checks_of(tables["public.tagged"])
    assert not tagged["content"]["ok"] and "record" in tagged["content"]["detail"]
    # a selected file the target has no table for is a failure, never a pass
    ghost = next(t for t in result["tables"] if t["file"] == "ghost.csv")
    assert ghost["ok"] is False and ghost["status"] == "no_target"
    assert [c["ok"] for c in ghost["checks"]] == [False]


def test_rows_the_load_would_reject_are_counted_not_missing(tmp_path, empty_db, cli):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "items.csv").write_text(
        "id,qty,emb\n1,5,\"[1,2,3]\"\n2,lots,\"[1,2,3]\"\n3,7,\"[1,2]\"\n4,8,\"[1,1e39,2]\"\n5,,\"[1,2,3]\"\n",
        encoding="utf-8",
    )
    with psycopg.connect(empty_db.conninfo) as conn:
        conn.execute("CREATE TABLE public.items (id int PRIMARY KEY, qty int NOT NULL, emb vector(3))")
        conn.execute("INSERT INTO public.items VALUES (1, 5, '[1,2,3]')")
    code, result, _ = validate_json(cli, empty_db, "--profile", "none", "--report-dir", tmp_path, folder=folder)
    # records that cannot be loaded are export data the target lacks: never green (issue 14)
    assert code == 1 and result["ok"] is False, result
    items = by_target(result)["public.items"]
    assert items["rejected"] == 4 and items["not_in_target"] == 4
    assert items["status"] == "incomplete"
    assert result["headline"].startswith("4 records of the export are not in the target")
    checks = checks_of(items)
    detail = checks["presence"]["detail"]
    assert not checks["presence"]["ok"]
    assert "4 records of items.csv cannot be loaded" in detail and "qty is not a valid integer" in detail
    assert "emb has 2 dimensions, not 3" in detail
    # what is in the target is right: only the presence of every record fails
    assert all(c["ok"] for c in checks.values() if c["name"] != "presence")


def test_password_never_reaches_output_or_report(aria_db, cli, tmp_path):
    secret = "s3cret-Pw-4711"
    # the embedded server trusts local connections, so a password is accepted and ignored
    dsn = aria_db.conninfo.replace("postgres:@", f"postgres:{secret}@", 1)
    assert secret in dsn
    code, out, err = cli("validate", SAMPLE_EXPORT, "--dsn", dsn, "--tables", "memories",
                         "--report-dir", tmp_path)
    assert code == 1  # nothing loaded: memories is reported missing
    assert secret not in out + err
    files = list(tmp_path.iterdir())
    assert len(files) == 2
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert secret not in text and "***" in text


def test_unusable_input_is_one_sentence_and_exit_2(cli, aria_db, tmp_path):
    code, out, err = cli("validate", tmp_path / "nope", "--dsn", aria_db.conninfo, "--json")
    assert code == 2 and out == "" and err.count("\n") == 1 and "nope" in err
    code, out, err = cli("validate", SAMPLE_EXPORT, "--dsn", "postgresql://nobody@127.0.0.1:1/x", "--json")
    assert code == 2 and out == "" and err.startswith("aria-tui: ") and err.count("\n") == 1
    code, out, err = cli("validate", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--tables", "no_such_table")
    assert code == 2 and "no_such_table" in err


def test_cancel_stops_before_any_report(generic_export, empty_db, tmp_path):
    from aria_tui.errors import Cancelled
    from aria_tui.validate import validate

    events = []
    with pytest.raises(Cancelled):
        validate(
            generic_export, empty_db, profile="none", tables=["parent", "child"],
            report_dir=tmp_path / "reports", on_event=events.append, cancel=lambda: bool(events),
        )
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_gzip_export_loads_and_validates_green(aria_loaded, templates, cli, tmp_path):
    # the server reads the file decompressed, as the loader does (not the gzip bytes)
    out = tmp_path / "gz"
    code, _, err = cli(
        "export", "--source", aria_loaded.conninfo, out,
        "--tables", "semantic_memories,aria_data.memories,aria_data.thoughts", "--gzip",
    )
    assert code == 0, err
    assert sorted(p.name for p in out.glob("*.csv.gz")) == [
        "aria_data.memories.csv.gz", "aria_data.semantic_memories.csv.gz", "aria_data.thoughts.csv.gz",
    ]
    target = templates.fresh("aria_v4")
    # three files of an aria_v4 export: the profile's other HIGH/MEDIUM files are missing, a
    # failure by default; naming the tables says the partial export is meant
    tables = ("--tables", "semantic_memories,memories,thoughts")
    code, out_json, err = cli("load", out, "--dsn", target.conninfo, "--yes", "--json")
    assert code == 1 and "is rated HIGH by the aria_v4 profile" in out_json
    code, _, err = cli("load", out, "--dsn", target.conninfo, "--yes", "--json", *tables)
    assert code == 0, err
    code, result, err = validate_json(
        cli, target, "--report-dir", tmp_path / "r", *tables, folder=out
    )
    assert code == 0 and result["ok"], [
        (t["target"], [c for c in t["checks"] if not c["ok"]]) for t in result["tables"]
    ]
    tables = by_target(result)
    assert set(tables) == {"aria_data.memories", "aria_data.semantic_memories", "aria_data.thoughts"}
    assert all(t["csv_rows"] == t["target_rows"] > 0 for t in tables.values())


def test_tables_are_checked_side_by_side_on_one_snapshot(aria_loaded):
    # pg_export_snapshot() refuses to run in a subtransaction: the helpers must still come up
    from aria_tui.pg.session import prepare_session
    from aria_tui.validate.pool import TEMP_BUFFERS, begin, helper_connections

    with aria_loaded.connect() as conn:
        prepare_session(conn, "10s", TEMP_BUFFERS)
        begin(conn)
        helpers = helper_connections(conn, aria_loaded, 3, "10s")
        try:
            assert len(helpers) == 2
            for helper in helpers:
                assert helper.execute("SHOW transaction_isolation").fetchone()[0] == "repeatable read"
                assert helper.execute("SHOW lock_timeout").fetchone()[0] == "10s"
        finally:
            for helper in helpers:
                helper.close()
            conn.rollback()


def test_bad_lock_timeout_is_one_sentence_and_exit_2(cli, aria_db):
    code, out, err = cli(
        "validate", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--json", "--lock-timeout", "soon"
    )
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "'soon' is not a PostgreSQL duration" in err


def test_scan_without_value_sample_keeps_mappings_and_verdicts(aria_db):
    # validation scans without the value sample (it casts every value itself): what it needs
    # from the scan (mapping, blocked or not, the record count) must not change
    from aria_tui.scan import scan

    with psycopg.connect(aria_db.conninfo) as conn:
        full = scan(SAMPLE_EXPORT, conn)
        lite = scan(SAMPLE_EXPORT, conn, sample_values=False)
    assert len(full.tables) == len(lite.tables)
    for a, b in zip(full.tables, lite.tables, strict=True):
        assert (a.file.name, a.target, a.rows, a.selected) == (b.file.name, b.target, b.rows, b.selected)
        assert a.diff.mapping == b.diff.mapping, a.file.name
        assert (a.status == "blocked") == (b.status == "blocked"), a.file.name
        assert not b.diff.type_issues


def test_a_locked_table_fails_alone_and_names_its_holder(empty_db, tmp_path, monkeypatch):
    from aria_tui.validate import pool, validate

    folder = tmp_path / "export"
    folder.mkdir()
    # the locked table's file is the biggest, so it is checked first on the one connection
    (folder / "t.csv").write_text("id,body\n" + "".join(f"{i},{'x' * 40}\n" for i in range(200)))
    (folder / "ok.csv").write_text("id\n1\n")
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.t (id int PRIMARY KEY, body text)")
        conn.execute("CREATE TABLE public.ok (id int PRIMARY KEY)")
        conn.execute("INSERT INTO public.ok VALUES (1)")
    monkeypatch.setattr(pool, "worker_count", lambda chosen: 1)
    with psycopg.connect(empty_db.conninfo, application_name="the-locker") as other:
        other.execute("LOCK TABLE public.t IN ACCESS EXCLUSIVE MODE")
        result = validate(
            folder, empty_db, profile="none", report_dir=tmp_path / "r", lock_timeout="300ms"
        )
        other.rollback()
    tables = {t.target: t for t in result.tables}
    assert not result.ok and tables["public.ok"].ok  # the connection lives on after the lock
    t = tables["public.t"]
    assert t.status == "error" and len(t.checks) == 1
    detail = t.checks[0].detail
    assert detail.startswith("Gave up on public.t after waiting 300ms for a lock on it"), detail
    assert "AccessExclusiveLock" in detail and "the-locker" in detail
