"""Audit: generic mode (--profile none): files with no table, two schemas, named selections."""
from auditkit import export, load, log, query, sql, summary, validate


def test_no_target_and_ambiguous_fail(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "id\n1\n", "nowhere.csv": "id\n1\n", "dup.csv": "id\n1\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY)", "CREATE SCHEMA s1", "CREATE SCHEMA s2",
        "CREATE TABLE s1.dup (id int PRIMARY KEY)", "CREATE TABLE s2.dup (id int PRIMARY KEY)")
    code, loaded = load(cli, empty_db, folder)
    log("LOAD", code, [(t["file"], t["status"]) for t in loaded["tables"]])
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE", code, summary(r))
    assert code == 1


def test_case_folded_match_two_tables(empty_db, cli, tmp_path):
    # 'T.csv': no table named exactly T... but two tables fold to it
    folder = export(tmp_path, {"Foo.csv": "id\n1\n2\n"})
    sql(empty_db, 'CREATE TABLE public.foo (id int PRIMARY KEY)', 'CREATE SCHEMA s1',
        'CREATE TABLE s1."FOO" (id int PRIMARY KEY)')
    code, loaded = load(cli, empty_db, folder)
    log("LOAD fold", code, [(t["file"], t["target"], t["status"]) for t in loaded["tables"]])
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE fold", code, summary(r))
    assert code == 1 or len(query(empty_db, "SELECT 1 FROM public.foo UNION ALL SELECT 1 FROM s1.\"FOO\"")) == 2


def test_named_tables_leave_out_failing_file(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "id\n1\n", "nowhere.csv": "id\n1\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY)")
    load(cli, empty_db, folder, "--tables", "t")
    code, r = validate(cli, empty_db, folder, tmp_path, "--tables", "t")
    log("VALIDATE --tables t", code, r["headline"], r.get("not_selected"))


def test_schema_qualified_and_bare_same_table(empty_db, cli, tmp_path):
    # keyed: the bare file is blocked by the load; its record id=2 never loads
    folder = export(tmp_path, {"public.t.csv": "id,n\n1,1\n", "t.csv": "id,n\n1,1\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, loaded = load(cli, empty_db, folder)
    log("LOAD both", code, [(t["file"], t["status"], t.get("error")) for t in loaded["tables"]])
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE both", code, r["headline"])
