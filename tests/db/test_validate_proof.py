"""Proof that cannot be fooled (issue 14): for each rule of `validate`, the ways a target could
lack, repeat or alter export records while validation said PASS, against a real PostgreSQL.

Every failing case must exit 1 and name the table (and, for keyed tables, the key). The export is
the truth: missing parents, an empty target or the target's own seed rows never excuse a record.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import psycopg
import pytest
from loadkit import SAMPLE_EXPORT, load_with_copy
from loadkit import sql as run_sql
from psycopg import sql


def export(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text.encode("utf-8"))
    return folder


def ddl(db, text: str) -> None:
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute(text)


def copy_in(db, folder: Path, *tables: str) -> None:
    """What `psql \\copy t FROM file CSV HEADER` does: the server reads the file's bytes."""
    with psycopg.connect(db.conninfo) as conn:
        conn.execute("SET session_replication_role = replica")  # FK order does not matter
        for t in tables:
            path = folder / f"{t}.csv"
            header = path.read_text(encoding="utf-8").splitlines()[0]
            cols = sql.SQL(", ").join(sql.Identifier(c) for c in header.split(","))
            with conn.cursor().copy(
                sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(
                    sql.Identifier("public", t), cols
                )
            ) as cp:
                cp.write(path.read_bytes())
        conn.commit()


def validate(cli, db, folder: Path, tmp_path: Path, *extra: str) -> tuple[int, dict]:
    code, out, err = cli(
        "validate", folder, "--dsn", db.conninfo, "--profile", "none", "--json",
        "--report-dir", tmp_path / "reports", *extra,
    )
    assert out.strip(), err
    return code, json.loads(out)


def load(cli, db, folder: Path, *extra: str) -> tuple[int, dict]:
    code, out, err = cli("load", folder, "--dsn", db.conninfo, "--profile", "none", "--yes", "--json", *extra)
    assert out.strip(), err
    return code, json.loads(out)


def table(result: dict, name: str) -> dict:
    return next(t for t in result["tables"] if t["target"] == name)


def check(t: dict, name: str) -> dict:
    return next(c for c in t["checks"] if c["name"] == name)


def failing_text(t: dict) -> str:
    return " | ".join(c["detail"] for c in t["checks"] if not c["ok"])


# --- 1. one rule: records rejected at load are export data the target lacks ------------------

def test_every_record_rejected_at_load_fails_validate_naming_the_reject_file(empty_db, cli, tmp_path):
    # an `integer` column receiving 13-digit millisecond timestamps: the load rejects all 7
    rows = "".join(f"{i},17040672000{i:02d}\n" for i in range(1, 8))
    folder = export(tmp_path, {"events.csv": "id,at_ms\n" + rows})
    ddl(empty_db, "CREATE TABLE public.events (id int PRIMARY KEY, at_ms integer)")
    code, loaded = load(cli, empty_db, folder)
    assert code == 1 and loaded["tables"][0]["rejected"] == 7
    reject_file = loaded["tables"][0]["reject_file"]
    assert reject_file
    code, result = validate(cli, empty_db, folder, tmp_path, "--tables", "events")
    assert code == 1 and result["ok"] is False
    t = table(result, "public.events")
    assert t["status"] == "incomplete" and t["rejected"] == 7 and t["not_in_target"] == 7
    assert t["reject_file"] == reject_file
    assert result["headline"].startswith("7 records of the export are not in the target")
    presence = check(t, "presence")
    assert not presence["ok"] and "at_ms is not a valid integer" in presence["detail"]
    assert reject_file in presence["detail"]
    # the journal agrees with validation's own count: nothing unverified
    assert check(t, "reconciliation")["ok"]
    # the people's view and the report say it too
    code, out, _ = cli("validate", folder, "--dsn", empty_db.conninfo, "--profile", "none",
                       "--tables", "events", "--report-dir", tmp_path / "reports")
    assert code == 1 and "7 records of the export are not in the target" in out
    text = Path(result["report"]).read_text(encoding="utf-8")
    assert "7 records of the export are not in the target" in text and reject_file in text


def test_some_records_rejected_is_incomplete_and_the_rest_is_still_checked(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "id,n\n1,1\n2,x\n3,3\n"})
    ddl(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    load(cli, empty_db, folder)
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1 and table(result, "public.t")["status"] == "incomplete"
    # a loaded record altered on top of the reject: failed, not merely incomplete
    run_sql(empty_db, "UPDATE public.t SET n = 4 WHERE id = 3")
    code, result = validate(cli, empty_db, folder, tmp_path)
    t = table(result, "public.t")
    assert code == 1 and t["status"] == "failed" and "id=3" in check(t, "content")["detail"]


# --- 2. judged against the export, never excused by the target --------------------------------

def test_self_reference_whose_root_references_itself_on_an_empty_target(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"node.csv": "id,parent_id\n1,1\n2,1\n3,2\n"})
    ddl(empty_db, "CREATE TABLE public.node (id int PRIMARY KEY, parent_id int REFERENCES public.node)")
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1
    t = table(result, "public.node")
    # the parents are in the export: the records are missing, not orphans the load would reject
    assert t["status"] == "failed" and t["rejected"] == 0 and t["not_in_target"] == 3
    assert "id=1 (record 1)" in check(t, "presence")["detail"]


def test_fk_cycle_whose_load_failed_on_an_empty_target(empty_db, cli, tmp_path):
    folder = export(tmp_path, {
        "a.csv": "id,b_id\n1,10\n2,20\n",
        "b.csv": "id,a_id\n10,1\n20,2\n",
    })
    ddl(empty_db, "CREATE TABLE public.a (id int PRIMARY KEY, b_id int);"
                  "CREATE TABLE public.b (id int PRIMARY KEY, a_id int REFERENCES public.a);"
                  "ALTER TABLE public.a ADD FOREIGN KEY (b_id) REFERENCES public.b")
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1 and result["ok"] is False
    for name, key in (("public.a", "id=1"), ("public.b", "id=10")):
        t = table(result, name)
        assert t["status"] == "failed" and t["rejected"] == 0, t
        assert key in check(t, "presence")["detail"]


def test_child_validated_without_its_parent(empty_db, cli, tmp_path):
    folder = export(tmp_path, {
        "parent.csv": "id\n1\n2\n",
        "child.csv": "id,parent_id\n1,1\n2,2\n",
    })
    ddl(empty_db, "CREATE TABLE public.parent (id int PRIMARY KEY);"
                  "CREATE TABLE public.child (id int PRIMARY KEY, parent_id int REFERENCES public.parent)")
    code, result = validate(cli, empty_db, folder, tmp_path, "--tables", "child")
    assert code == 1
    t = table(result, "public.child")
    assert t["status"] == "failed" and t["rejected"] == 0
    assert "id=1 (record 1)" in check(t, "presence")["detail"]
    # the same after a load of both, parent and child deleted by hand: still missing
    copy_in(empty_db, folder, "parent", "child")
    run_sql(empty_db, "DELETE FROM public.child WHERE id = 2", "DELETE FROM public.parent WHERE id = 2")
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1
    assert "id=2" in check(table(result, "public.child"), "presence")["detail"]
    assert table(result, "public.child")["rejected"] == 0
    assert "id=2" in check(table(result, "public.parent"), "presence")["detail"]


def test_a_true_orphan_is_a_record_the_target_lacks(empty_db, cli, tmp_path):
    # parent 9 is in neither the export nor the target: the load rejects the record
    folder = export(tmp_path, {
        "parent.csv": "id\n1\n",
        "child.csv": "id,parent_id\n1,1\n2,9\n",
    })
    ddl(empty_db, "CREATE TABLE public.parent (id int PRIMARY KEY);"
                  "CREATE TABLE public.child (id int PRIMARY KEY, parent_id int REFERENCES public.parent)")
    code, loaded = load(cli, empty_db, folder)
    assert code == 1
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1
    t = table(result, "public.child")
    assert t["status"] == "incomplete" and t["rejected"] == 1 and t["reject_file"]
    assert "the parent is in neither the target nor parent.csv" in check(t, "presence")["detail"]
    assert check(t, "reconciliation")["ok"]  # the load rejected exactly that one
    assert table(result, "public.parent")["ok"]


# --- 3. a record found through another unique key is compared --------------------------------

def test_changed_primary_key_behind_another_unique_key(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"m.csv": "id,key,v\n1,a,one\n2,b,two\n"})
    ddl(empty_db, "CREATE TABLE public.m (id int PRIMARY KEY, key text UNIQUE NOT NULL, v text)")
    code, _ = load(cli, empty_db, folder)
    assert code == 0
    assert validate(cli, empty_db, folder, tmp_path)[0] == 0
    run_sql(empty_db, "UPDATE public.m SET id = 100, v = 'changed' WHERE key = 'b'")
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1
    t = table(result, "public.m")
    detail = check(t, "content")["detail"]
    assert not check(t, "content")["ok"] and "id=2" in detail and "key=b" in detail and "id=100" in detail
    # the primary key alone changed: still a difference
    run_sql(empty_db, "UPDATE public.m SET v = 'two' WHERE key = 'b'")
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1 and "id=100" in check(table(result, "public.m"), "content")["detail"]


# --- 4. exact: nothing else in a table that was empty before its load -------------------------

def test_rows_added_after_the_load_are_flagged(empty_db, cli, tmp_path):
    folder = export(tmp_path, {
        "k.csv": "id,v\n1,a\n2,b\n",
        "bag.csv": "tag\nx\nx\ny\n",
    })
    ddl(empty_db, "CREATE TABLE public.k (id int PRIMARY KEY, v text); CREATE TABLE public.bag (tag text)")
    assert load(cli, empty_db, folder)[0] == 0
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 0, result
    assert table(result, "public.k")["exact"] and table(result, "public.bag")["exact"]
    run_sql(empty_db, "INSERT INTO public.k VALUES (3, 'c')", "INSERT INTO public.bag VALUES ('x')")
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1
    k, bag = table(result, "public.k"), table(result, "public.bag")
    assert "id=3" in check(k, "presence")["detail"]
    assert "1 row more than bag.csv" in check(bag, "presence")["detail"]
    assert not check(bag, "presence")["ok"]


def test_exact_flag_for_a_load_done_by_other_means(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"k.csv": "id,v\n1,a\n2,b\n", "bag.csv": "tag\nx\ny\n"})
    ddl(empty_db, "CREATE TABLE public.k (id int PRIMARY KEY, v text); CREATE TABLE public.bag (tag text)")
    copy_in(empty_db, folder, "k", "bag")
    run_sql(empty_db, "INSERT INTO public.k VALUES (7, 'seed')", "INSERT INTO public.bag VALUES ('seed')")
    # no journal: the extra rows may be the target's own, so they are reported, not judged
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 0, result
    assert "not judged" in check(table(result, "public.k"), "presence")["detail"]
    code, result = validate(cli, empty_db, folder, tmp_path, "--exact")
    assert code == 1
    assert "id=7" in check(table(result, "public.k"), "presence")["detail"]
    assert not check(table(result, "public.bag"), "presence")["ok"]


def test_rows_added_to_a_table_that_held_rows_before_its_load(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"k.csv": "id,v\n1,a\n2,b\n"})
    ddl(empty_db, "CREATE TABLE public.k (id int PRIMARY KEY, v text); INSERT INTO public.k VALUES (50, 'seed')")
    assert load(cli, empty_db, folder)[0] == 0
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 0, result
    assert not table(result, "public.k")["exact"]
    run_sql(empty_db, "INSERT INTO public.k VALUES (51, 'later')")
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1
    assert "rows were added after the load" in check(table(result, "public.k"), "reconciliation")["detail"]


# --- 5. NULL keys and the journal's rejects ----------------------------------------------------

def test_null_keyed_records_are_compared_not_skipped(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"u.csv": "email,name\na@x,Ann\n,Bob\n,Bob\n,Cy\n"})
    ddl(empty_db, "CREATE TABLE public.u (email text UNIQUE, name text)")
    code, _ = load(cli, empty_db, folder)
    assert code == 0
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 0, result
    run_sql(empty_db, "DELETE FROM public.u WHERE ctid = (SELECT min(ctid) FROM public.u WHERE name = 'Bob')")
    code, result = validate(cli, empty_db, folder, tmp_path, "--exact")
    assert code == 1 and table(result, "public.u")["not_in_target"] == 1
    run_sql(empty_db, "INSERT INTO public.u VALUES (NULL, 'Bob')", "UPDATE public.u SET name = 'Cyd' WHERE name = 'Cy'")
    code, result = validate(cli, empty_db, folder, tmp_path, "--exact")
    assert code == 1
    t = table(result, "public.u")
    assert "record 4" in check(t, "presence")["detail"] and t["not_in_target"] == 1


def test_validation_and_the_load_disagreeing_on_rejects_is_unverified(empty_db, cli, tmp_path):
    # a CHECK constraint: the load rejects the record, validation cannot tell why from the file
    folder = export(tmp_path, {"c.csv": "id,n\n1,5\n2,-1\n3,7\n"})
    ddl(empty_db, "CREATE TABLE public.c (id int PRIMARY KEY, n int CHECK (n >= 0))")
    code, loaded = load(cli, empty_db, folder)
    assert loaded["tables"][0]["rejected"] == 1
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1
    t = table(result, "public.c")
    assert "1 record unverified" in check(t, "reconciliation")["detail"]
    assert "id=2" in check(t, "presence")["detail"]


def test_a_value_the_target_would_truncate_is_never_green(empty_db, cli, tmp_path):
    # a domain over varchar(3) and a varchar(3)[]: input functions refuse 'abcdef', an explicit
    # cast would keep 'abc'. Whatever the load did with record 2, validate must not be green
    folder = export(tmp_path, {"d.csv": 'id,s,a\n1,abc,"{abc}"\n2,abcdef,"{abcdef}"\n3,xyz,"{x}"\n'})
    ddl(empty_db, "CREATE DOMAIN public.short AS varchar(3);"
                  "CREATE TABLE public.d (id int PRIMARY KEY, s public.short, a varchar(3)[])")
    load(cli, empty_db, folder)
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1
    t = table(result, "public.d")
    assert t["status"] in ("incomplete", "failed") and t["not_in_target"] >= 1
    assert "record 2" in failing_text(t)
    # the domain-typed column does not make the good records differ
    assert check(t, "content")["ok"], check(t, "content")


# --- 6. crashes and false reds -----------------------------------------------------------------

def test_keyless_table_repeating_one_row_many_times(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"rep.csv": "tag,w\n" + "same,1\n" * 40 + "other,2\n"})
    ddl(empty_db, "CREATE TABLE public.rep (tag text, w int)")
    copy_in(empty_db, folder, "rep")
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 0, result
    run_sql(empty_db, "DELETE FROM public.rep WHERE ctid = (SELECT min(ctid) FROM public.rep)")
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1 and table(result, "public.rep")["not_in_target"] == 1


def test_domain_column_with_one_bad_value_does_not_make_every_row_differ(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"p.csv": "id,pct\n1,10\n2,20\n3,200\n4,40\n"})
    ddl(empty_db, "CREATE DOMAIN public.percent AS int CHECK (VALUE BETWEEN 0 AND 100);"
                  "CREATE TABLE public.p (id int PRIMARY KEY, pct public.percent)")
    load(cli, empty_db, folder)
    code, result = validate(cli, empty_db, folder, tmp_path)
    t = table(result, "public.p")
    assert code == 1 and t["status"] == "incomplete", failing_text(t)
    assert t["rejected"] == 1 and check(t, "content")["ok"]


def test_report_dir_that_is_a_file_is_one_sentence_before_any_work(aria_db, cli, tmp_path):
    folder = export(tmp_path, {"k.csv": "id\n1\n"})
    afile = tmp_path / "afile"
    afile.write_text("x")
    # an unreachable target: the report folder is judged first, so its sentence is what shows
    for where in (afile, afile / "sub"):
        code, out, err = cli("validate", folder, "--dsn", "postgresql://nobody@127.0.0.1:1/x",
                             "--report-dir", where, "--json")
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert str(afile) in err and "Traceback" not in err


# --- 7. a certificate a third party can check again -------------------------------------------

def test_json_certificate_is_stable_and_checkable(empty_db, cli, tmp_path):
    folder = export(tmp_path, {
        "k.csv": "id,v,e\n1,a,\"[1,2,3]\"\n2,b,\"[4,5,6]\"\n",
        "bag.csv": "tag\nx\nx\ny\n",
    })
    ddl(empty_db, "CREATE TABLE public.k (id int PRIMARY KEY, v text, e vector(3));"
                  "CREATE TABLE public.bag (tag text)")
    assert load(cli, empty_db, folder)[0] == 0
    first = validate(cli, empty_db, folder, tmp_path)[1]
    second = validate(cli, empty_db, folder, tmp_path)[1]
    assert first["ok"] and second["ok"] and first["checksum_method"]

    def verdict(result: dict) -> list:
        keep = ("target", "file", "status", "csv_rows", "target_rows", "file_sha256", "file_bytes",
                "export_checksum", "target_checksum", "not_in_target", "exact")
        return [
            ({k: t[k] for k in keep}, [(c["name"], c["ok"], c["detail"]) for c in t["checks"]])
            for t in result["tables"]
        ]

    assert verdict(first) == verdict(second)
    for t in first["tables"]:
        path = folder / t["file"]
        assert t["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert t["file_bytes"] == path.stat().st_size
        # the target holds exactly the file: both checksums are one
        assert t["export_checksum"] == t["target_checksum"] and len(t["export_checksum"]) == 32
    # a changed row changes the target's checksum, not the file's
    run_sql(empty_db, "UPDATE public.bag SET tag = 'z' WHERE tag = 'y'")
    third = validate(cli, empty_db, folder, tmp_path)[1]
    before, after = table(first, "public.bag"), table(third, "public.bag")
    assert after["export_checksum"] == before["export_checksum"]
    assert after["target_checksum"] != before["target_checksum"]


# --- clean loads stay green ------------------------------------------------------------------

def test_complete_plain_copy_load_of_the_sample_validates_green(templates, cli, tmp_path):
    db = templates.fresh("aria_v4")
    loaded = load_with_copy(db)
    stems = sorted(t.split(".", 1)[1] for t in loaded)
    assert len(stems) >= 8
    code, out, err = cli("validate", SAMPLE_EXPORT, "--dsn", db.conninfo, "--tables", ",".join(stems),
                         "--json", "--report-dir", tmp_path)
    result = json.loads(out)
    assert code == 0, [(t["target"], failing_text(t)) for t in result["tables"] if not t["ok"]]
    assert result["headline"].startswith("Proven: all")


@pytest.mark.parametrize("exact", [False, True])
def test_clean_aria_load_of_the_sample_validates_green(templates, cli, tmp_path, exact):
    db = templates.fresh("aria_v4")
    code, _, err = cli("load", SAMPLE_EXPORT, "--dsn", db.conninfo, "--yes", "--json")
    assert code == 0, err
    extra = ["--exact"] if exact else []
    code, out, _ = cli("validate", SAMPLE_EXPORT, "--dsn", db.conninfo, "--json", "--report-dir", tmp_path, *extra)
    result = json.loads(out)
    bad = [(t["target"], failing_text(t)) for t in result["tables"] if not t["ok"]]
    if not exact:
        assert code == 0 and not bad, bad
    else:
        # the bootstrap's seed rows the export does not hold are the only thing --exact may flag
        assert all("no record of" in why for _, why in bad), bad


def test_parent_keys_come_from_every_file_of_the_parent_table(empty_db, cli, tmp_path):
    # the parent table's records are split over two files: a key in either is in the export
    folder = export(tmp_path, {
        "parent.csv": "id\n1\n",
        "public.parent.csv": "id\n2\n",
        "child.csv": "id,parent_id\n1,1\n2,2\n3,9\n",
    })
    ddl(empty_db, "CREATE TABLE public.parent (id int PRIMARY KEY);"
                  "CREATE TABLE public.child (id int PRIMARY KEY, parent_id int REFERENCES public.parent)")
    code, result = validate(cli, empty_db, folder, tmp_path, "--tables", "child")
    assert code == 1
    t = table(result, "public.child")
    detail = check(t, "presence")["detail"]
    # 1 and 2 have their parent in the export: missing; 3 has none anywhere: an orphan
    assert t["rejected"] == 1 and t["not_in_target"] == 3 and t["status"] == "failed"
    assert "id=1 (record 1), id=2 (record 2)" in detail
    assert "parent.csv, public.parent.csv" in detail


def test_a_table_fed_by_two_files_fails_the_second_as_the_load_blocks_it(empty_db, cli, tmp_path):
    # the load takes one file per table (two would race for its rows): the proof must not judge
    # a file the load refused, and each file alone could pass against the whole table
    folder = export(tmp_path, {"k.csv": "id\n1\n2\n", "public.k.csv": "id\n3\n"})
    ddl(empty_db, "CREATE TABLE public.k (id int PRIMARY KEY); INSERT INTO public.k VALUES (1), (2), (3)")
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 1, result
    statuses = sorted(t["status"] for t in result["tables"])
    assert statuses == ["blocked", "passed"], statuses
    blocked = next(t for t in result["tables"] if t["status"] == "blocked")
    assert "already loads" in blocked["checks"][0]["detail"]


def test_export_records_doubled_in_the_target_fail_even_without_exact(empty_db, cli, tmp_path):
    # no key among the loaded columns (the serial id is the target's own): records are compared
    # as whole rows, and a record the target holds twice is export data doubled
    folder = export(tmp_path, {"note.csv": "body\nhello\nhello\nworld\n"})
    ddl(empty_db, "CREATE TABLE public.note (id serial PRIMARY KEY, body text)")
    copy_in(empty_db, folder, "note")
    run_sql(empty_db, "INSERT INTO public.note (body) VALUES ('seed')")  # the target's own row
    code, result = validate(cli, empty_db, folder, tmp_path)
    assert code == 0, result
    run_sql(empty_db, "INSERT INTO public.note (body) VALUES ('world')")
    code, result = validate(cli, empty_db, folder, tmp_path)
    t = table(result, "public.note")
    assert code == 1 and t["status"] == "failed"
    assert "record 3 (1 copy too many)" in check(t, "presence")["detail"]


def test_a_rerun_that_inserts_again_is_never_green(empty_db, cli, tmp_path):
    # the load's records lost between two loads of a table whose key the file does not hold: if
    # the second load inserts everything again, validate must say so (the records of the second
    # run show a table that was not empty, so this is not --exact's doing)
    from aria_tui.load.journal import journal_path

    folder = export(tmp_path, {"note.csv": "body\nhello\nworld\n"})
    ddl(empty_db, "CREATE TABLE public.note (id serial PRIMARY KEY, body text)")
    load(cli, empty_db, folder)
    # every trace of the first load gone: the client journal and the target's commit records
    journal_path(folder, empty_db.key).unlink(missing_ok=True)
    run_sql(empty_db, "DROP SCHEMA IF EXISTS aria_tui CASCADE")
    load(cli, empty_db, folder)
    with psycopg.connect(empty_db.conninfo) as conn:
        rows = conn.execute("SELECT count(*) FROM public.note").fetchone()[0]
    code, result = validate(cli, empty_db, folder, tmp_path)
    if rows == 4:
        assert code == 1 and "too many" in check(table(result, "public.note"), "presence")["detail"]
    else:  # the load refused to insert again
        assert rows == 2 and code == 0, result
