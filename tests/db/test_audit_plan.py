"""Audit: decisions from a plan file (validate --plan)."""
from auditkit import export, load, log, query, sql, validate


def _plan(cli, db, folder, out, *extra):
    code, o, e = cli("plan", folder, "--dsn", db.conninfo, "--profile", "none", "--out", out, *extra)
    return code, o, e


def test_drop_decision_on_a_matched_column(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "id,n\n1,1\n2,2\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, o, e = _plan(cli, empty_db, folder, tmp_path / "cutover.toml", "--decide", "public.t.n=drop")
    log("PLAN drop matched", code, (o + e)[-400:])
    # refused: drop is for export columns the target lacks, never a way to empty one it has
    assert code == 2 and "drop is for an export column the target lacks" in e, (code, o, e)
    return
    code, loaded = load(cli, empty_db, folder, "--plan", tmp_path / "cutover.toml")
    log("LOAD", code, query(empty_db, "SELECT * FROM public.t ORDER BY id"))
    sql(empty_db, "UPDATE public.t SET n = 42")
    code, r = validate(cli, empty_db, folder, tmp_path, "--plan", tmp_path / "cutover.toml")
    log("VALIDATE --plan drop matched", code, r["headline"], [(c["name"], c["detail"]) for c in r["tables"][0]["checks"]], r["tables"][0].get("decisions"))
    # every value of a column the target HAS was left behind and later overwritten: the
    # headline at least must not say "equal content" without naming a decision
    assert code == 1 or "decided" in r["headline"], "drop of a matched column: headline says plain Proven"


def test_plan_accepts_then_file_changes(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "id,n\n1,1\n2,x\n3,3\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, o, e = _plan(cli, empty_db, folder, tmp_path / "cutover.toml", "--accept-rejects", "public.t")
    assert code == 0, e
    code, loaded = load(cli, empty_db, folder, "--plan", tmp_path / "cutover.toml")
    log("LOAD plan", code)
    # the export file changes after the plan and the load: record 3 now holds a bad value
    (folder / "t.csv").write_text("id,n\n1,1\n2,x\n3,y\n")
    sql(empty_db, "DELETE FROM public.t WHERE id = 3")
    code, out, err = cli("validate", folder, "--dsn", empty_db.conninfo, "--profile", "none", "--json",
                         "--report-dir", tmp_path / "r", "--plan", tmp_path / "cutover.toml")
    # the plan's decisions were about other bytes: refused in one sentence, as load --plan does
    assert code == 2 and not out.strip() and "t.csv has changed since it was planned" in err, (code, out, err)


def test_rename_onto_an_already_matched_column(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "id,n,extra\n1,1,100\n2,2,200\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, o, e = _plan(cli, empty_db, folder, tmp_path / "cutover.toml", "--decide", "public.t.extra=rename:n")
    log("PLAN rename onto matched", code, (o + e)[-300:])
    if code != 0:
        return
    log(open(tmp_path / "cutover.toml").read()[-600:])
    code, loaded = load(cli, empty_db, folder, "--plan", tmp_path / "cutover.toml")
    log("LOAD rename", code, query(empty_db, "SELECT * FROM public.t ORDER BY id"))
    code, r = validate(cli, empty_db, folder, tmp_path, "--plan", tmp_path / "cutover.toml")
    log("VALIDATE rename onto matched", code, r["headline"], [(c["name"], c["detail"][:200]) for c in r["tables"][0]["checks"]])
    assert code == 1, "false green: column extra (100, 200) is in the target nowhere"


def test_hand_edited_plan_maps_two_csv_columns_onto_one(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "id,n,extra\n1,1,100\n2,2,200\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)")
    code, o, e = _plan(cli, empty_db, folder, tmp_path / "cutover.toml", "--decide", "public.t.extra=drop")
    assert code == 0, e
    text = open(tmp_path / "cutover.toml").read()
    log(text[text.index("columns"):][:700])
    # hand edit: the operator maps extra onto n as well (a rename written into the mapping)
    text = text.replace('  ["n", "n"],  # same name\n', '  ["n", "n"],  # same name\n  ["extra", "n"],\n')
    text = text.replace('[[table.decision]]\ncolumn = "extra"\naction = "drop"\n', "")
    (tmp_path / "cutover.toml").write_text(text)
    code, out, err = cli("load", folder, "--dsn", empty_db.conninfo, "--profile", "none", "--yes", "--plan", tmp_path / "cutover.toml")
    log("LOAD edited plan", code, err.strip()[:200])
    sql(empty_db, "INSERT INTO public.t VALUES (1, 1), (2, 2)")  # loaded by other means
    code, r = validate(cli, empty_db, folder, tmp_path, "--plan", tmp_path / "cutover.toml")
    log("VALIDATE edited plan", code, r["headline"], [(c["name"], c["detail"][:200]) for c in r["tables"][0]["checks"]])
    assert code == 1, "false green: column extra's values are in the target nowhere"
