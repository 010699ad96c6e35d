"""Audit: an export column the target lacks, holding data: nothing may call that table proven
unless the operator decided to drop the column."""

from auditkit import export, load, log, sql, validate

BODY = "id,n,extra\n1,1,\n2,2,\n3,3,PRECIOUS\n"


def test_extra_column_with_data_loaded_by_hand(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": BODY})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)",
        "INSERT INTO public.t VALUES (1, 1), (2, 2), (3, 3)")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE (no decision)", code, r["headline"], [(c["name"], c["detail"][:160]) for t in r["tables"] for c in t["checks"]])
    assert code == 1, "false green: column extra holds data the target never received"


def test_extra_column_dropped_at_load_then_validated_without_decision(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": BODY})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, loaded = load(cli, empty_db, folder, "--decide", "public.t.extra=drop")
    log("LOAD drop", code)
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE after drop at load", code, r["headline"], r["tables"][0].get("decisions"))


def test_extra_column_data_after_a_broken_record(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "id,n,extra\n1,1,\n2\n3,3,PRECIOUS\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, loaded = load(cli, empty_db, folder)
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE extra after broken", code, r["headline"])
    assert code == 1
