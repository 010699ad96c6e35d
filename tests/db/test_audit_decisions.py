"""Audit: decisions recorded in aria_tui.commits (accept_rejects, kept conflicts)."""
from auditkit import export, load, log, query, sql, summary, validate

ROWS = "id,n\n1,1\n2,x\n3,3\n4,4\n"


def _t(r, name="public.t"):
    return next(t for t in r["tables"] if t["target"] == name)


def test_forged_kept_list_excuses_an_altered_row(empty_db, cli, tmp_path):
    # a clean load under the default policy: no conflict at all
    folder = export(tmp_path, {"t.csv": "id,n\n1,1\n2,2\n3,3\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, loaded = load(cli, empty_db, folder)
    assert code == 0
    log("decided before", query(empty_db, "SELECT decided FROM aria_tui.commits"))
    sql(empty_db, "UPDATE public.t SET n = 99 WHERE id = 2")
    code, r = validate(cli, empty_db, folder, tmp_path)
    assert code == 1
    # one hand edit of the bookkeeping row: a 'kept' list with no conflict recorded
    sql(empty_db, """UPDATE aria_tui.commits SET decided = '{"kept": [2]}'""")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE forged kept", code, r["headline"], summary(r), _t(r).get("decisions"))
    assert code == 1, "false green: kept=[2] in a hand-edited commit record excuses an altered row"


def test_forged_accept_rejects_in_commit_record(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": ROWS})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, _ = load(cli, empty_db, folder)  # no --accept-rejects: exit 1
    assert code == 1
    sql(empty_db, """UPDATE aria_tui.commits SET decided = '{"accept_rejects": true}'""")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE forged accept", code, r["headline"], summary(r))
    assert code == 1, "false green: a hand-set accept_rejects in aria_tui.commits is honoured"


def test_accept_then_reload_without_accept(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": ROWS})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, _ = load(cli, empty_db, folder, "--accept-rejects", "public.t")
    assert code == 0
    code, loaded = load(cli, empty_db, folder)  # the operator no longer accepts
    log("RELOAD without accept", code, loaded)
    code2, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE after reload without accept", code2, r["headline"], summary(r))
    assert not (code == 1 and code2 == 0), "load says rejects are not accepted, validate says accepted"


def test_keep_target_then_kept_row_changed_again(empty_db, cli, tmp_path):
    # the target's seed row id=2 differs from the export: kept by decision
    folder = export(tmp_path, {"t.csv": "id,k,n\n1,a,1\n2,b,2\n3,c,3\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, k text UNIQUE, n int)",
        "INSERT INTO public.t VALUES (2, 'b', 20)")
    code, loaded = load(cli, empty_db, folder, "--on-conflict", "keep-target")
    log("LOAD keep-target", code, [(t["file"], t["status"], t["inserted"], t.get("conflicts")) for t in loaded["tables"]])
    code, r = validate(cli, empty_db, folder, tmp_path)
    assert code == 1  # the proof's caller did not say keep-target: the kept row is a difference
    code, r = validate(cli, empty_db, folder, tmp_path, "--on-conflict", "keep-target")
    log("VALIDATE keep-target", code, summary(r), _t(r).get("decisions"))
    assert code == 0
    # now the kept row's key changes: id=2 disappears, the row lives on as id=7 (k='b' still):
    # the conflict was kept on the primary key, whose row is gone: the record is missing again
    sql(empty_db, "UPDATE public.t SET id = 7, k = 'b' WHERE id = 2")
    code, r = validate(cli, empty_db, folder, tmp_path, "--on-conflict", "keep-target")
    log("VALIDATE after kept row rekeyed", code, summary(r))
    assert code == 1 and _t(r)["kept_conflicts"] == 0


def test_keep_target_conflict_on_secondary_key(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "id,k,n\n1,a,1\n2,b,2\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, k text UNIQUE, n int)",
        "INSERT INTO public.t VALUES (9, 'b', 20)")
    code, loaded = load(cli, empty_db, folder, "--on-conflict", "keep-target")
    log("LOAD keep-target 2ndary", code, [(t["file"], t["status"], t["inserted"], t.get("conflicts")) for t in loaded["tables"]])
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE keep-target 2ndary", code, summary(r), _t(r).get("decisions"))
    # then the kept target row is altered further (content changes, key k='b' stays)
    sql(empty_db, "UPDATE public.t SET n = 21 WHERE id = 9")
    code2, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE keep-target 2ndary altered", code2, summary(r))


def test_accept_rejects_other_schema_same_name(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"a.t.csv": ROWS, "b.t.csv": ROWS})
    sql(empty_db, "CREATE SCHEMA a", "CREATE SCHEMA b",
        "CREATE TABLE a.t (id int PRIMARY KEY, n int)", "CREATE TABLE b.t (id int PRIMARY KEY, n int)")
    code, _ = load(cli, empty_db, folder, "--accept-rejects", "a.t")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE accept a.t only", code, summary(r))
    assert code == 1 and _t(r, "b.t")["accepted_rejects"] == 0


# --- found by an adversarial pass on decisions: what the tool decided for the operator ---------


def test_an_extra_column_of_words_or_white_space_waits_for_the_operators_decision(
    empty_db, cli, tmp_path
):
    """The text `null` and three spaces are values of a text column, not emptiness: the column
    the target lacks is not dropped until the operator says so (it was, and validate said
    Proven). Only NULL, '' and the empty JSON containers are dropped unasked (seed 000 §7.1)."""
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    folder = export(tmp_path, {"t.csv": 'id,n,note\n1,1,null\n2,2,"   "\n'})
    code, loaded = load(cli, empty_db, folder)
    t = _t(loaded)
    assert code != 0 and t["inserted"] == 0 and t["status"] == "blocked", t
    assert "note" in t["error"], t["error"]
    code, loaded = load(cli, empty_db, folder, "--decide", "public.t.note=drop")
    assert code == 0 and _t(loaded)["inserted"] == 2

    sql(empty_db, "CREATE TABLE public.u (id int PRIMARY KEY, n int)")
    folder = export(tmp_path, {"u.csv": 'id,n,meta\n3,3,{}\n4,4,\n5,5,[]\n6,6,""\n'}, "empty")
    code, loaded = load(cli, empty_db, folder)
    assert code == 0 and _t(loaded, "public.u")["inserted"] == 4, _t(loaded, "public.u")
    code, r = validate(cli, empty_db, folder, tmp_path)
    assert code == 0, r["headline"]


def test_add_without_a_type_keeps_every_value_as_the_export_spells_it(empty_db, cli, tmp_path):
    """`add` with no type: the guessed type must keep each value's text (007 as bigint came back
    as 7; a JSON document with a repeated key lost one as jsonb, and validate said Proven).
    Values spelt as a type prints them still get that type."""
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY)")
    doc1, doc2 = '{"a": 1, "a": 2}', '{"b":  2}'
    csv_doc = [d.replace('"', '""') for d in (doc1, doc2)]
    folder = export(tmp_path, {"t.csv": (
        "id,code,doc,n,flag,amount\n"
        f'1,007,"{csv_doc[0]}",7,t,1.50\n'
        f'2,010,"{csv_doc[1]}",-12,f,-0.25\n'
    )})
    decide = [x for c in ("code", "doc", "n", "flag", "amount") for x in ("--decide", f"public.t.{c}=add")]
    code, _ = load(cli, empty_db, folder, *decide)
    assert code == 0
    types = dict(query(empty_db, "SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 't'"))
    assert (types["code"], types["doc"], types["n"], types["flag"], types["amount"]) == (
        "text", "json", "bigint", "boolean", "numeric"
    ), types
    rows = query(empty_db, "SELECT code, doc::text, n::text, flag::text, amount::text FROM public.t ORDER BY id")
    assert rows == [("007", doc1, "7", "true", "1.50"), ("010", doc2, "-12", "false", "-0.25")], rows
    code, r = validate(cli, empty_db, folder, tmp_path, "--exact")  # the columns are the target's now
    assert code == 0, r["headline"]
