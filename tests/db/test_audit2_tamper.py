"""Audit 2, tamper: after a correct load, the target (or the export, or the commit records in
aria_tui.commits) is changed behind validate's back, and validate must then be red (exit 1, the
table not ok). Each test loads, checks the proof is green, tampers, and validates again.
"""

import psycopg
import pytest
from auditkit import export, load, log, query, sql, summary, validate

from aria_tui.pg.connect import Target


def _table(r, name="public.t"):
    return next(t for t in r["tables"] if t["target"] == name)


def _green_load(cli, db, folder, tmp_path, load_args=(), val_args=()):
    code, loaded = load(cli, db, folder, *load_args)
    assert code == 0, loaded
    code, r = validate(cli, db, folder, tmp_path, *val_args)
    assert code == 0, summary(r)
    return r


def _role(db, name_prefix="auditor"):
    """A login role of its own (roles are cluster-wide: one per test database), and a Target
    connecting as it."""
    dbname = psycopg.conninfo.conninfo_to_dict(db.conninfo)["dbname"]
    role = f"{name_prefix}_{dbname}"
    sql(db, f"CREATE ROLE {role} LOGIN", f"GRANT CONNECT, TEMP ON DATABASE {dbname} TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}")
    uri = db.conninfo.replace("postgres:@", f"{role}@")
    assert uri != db.conninfo
    return role, Target(spec=uri, conninfo=uri, display=uri)


# -- the content comparison, column by column (guards: these pass today) ------------------------

_DDL = (
    "CREATE TABLE public.t (id int PRIMARY KEY, s text, n numeric, f float8, r real, "
    "ts timestamptz, j jsonb, js json, v vector(3), a int[], ta text[], b bool, by bytea, u uuid, "
    "vv vector, hv halfvec(3), sv sparsevec(5), fa float8[], iv interval, d date, tt time)"
)
_CSV = (
    "id,s,n,f,r,ts,j,js,v,a,ta,b,by,u,vv,hv,sv,fa,iv,d,tt\n"
    '1,abc,1.50,0.5,0.25,2020-01-01 00:00:00+00,"{""a"": 1, ""b"": 2}","{""a"": 1}","[1,2,3]",'
    '"{1,2}","{x,y}",t,\\x0102,00000000-0000-0000-0000-000000000001,"[1,2]","[1,2,3]",{1:1}/5,'
    '"{0.5,1}",1 day,2020-01-01,10:00:00\n'
    '2,def,2,0,0,2020-01-02 00:00:00+00,{},[],"[0,0,0]",{},{},f,\\x,'
    '00000000-0000-0000-0000-000000000002,"[3,4]","[0,0,0]",{}/5,{},0,2020-01-02,00:00:00\n'
)


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE public.t SET s = 'abc ' WHERE id = 1",  # trailing white space
        "UPDATE public.t SET s = 'ABC' WHERE id = 1",  # case
        "UPDATE public.t SET s = '' WHERE id = 1",
        "UPDATE public.t SET s = NULL WHERE id = 2",  # '' against NULL, both ways
        "UPDATE public.t SET n = 1.5 WHERE id = 1",  # a trailing zero of numeric
        "UPDATE public.t SET n = 2.0 WHERE id = 2",
        "UPDATE public.t SET f = '-0' WHERE id = 2",  # -0.0 against 0
        "UPDATE public.t SET r = '-0' WHERE id = 2",
        "UPDATE public.t SET f = 0.5000000000000001 WHERE id = 1",
        "UPDATE public.t SET ts = '2020-01-01 00:00:01+00' WHERE id = 1",
        """UPDATE public.t SET j = '{"a": 1.0, "b": 2}' WHERE id = 1""",
        """UPDATE public.t SET js = '{"a":1}' WHERE id = 1""",  # json keeps its white space
        "UPDATE public.t SET v = '[1,2,4]' WHERE id = 1",
        "UPDATE public.t SET v = '[-0,0,0]' WHERE id = 2",
        "UPDATE public.t SET a = '{2,1}' WHERE id = 1",
        "UPDATE public.t SET a = '[0:1]={1,2}' WHERE id = 1",  # same elements, other bounds
        "UPDATE public.t SET ta = NULL WHERE id = 2",
        "UPDATE public.t SET by = '\\x0103' WHERE id = 1",
        "UPDATE public.t SET vv = '[3]' WHERE id = 2",  # another dimension, no typmod
        "UPDATE public.t SET hv = '[-0,0,0]' WHERE id = 2",
        "UPDATE public.t SET sv = '{1:2}/5' WHERE id = 1",
        "UPDATE public.t SET fa = '{-0,1}' WHERE id = 1",
        "UPDATE public.t SET iv = '24 hours' WHERE id = 1",  # equal as intervals, not the same
        "UPDATE public.t SET tt = '10:00:01' WHERE id = 1",
        "DELETE FROM public.t WHERE id = 2",
        "UPDATE public.t SET s = CASE id WHEN 1 THEN 'def' ELSE 'abc' END",  # two rows swapped
        "UPDATE public.t SET id = 13 - id; UPDATE public.t SET id = id - 10",  # keys swapped
    ],
)
def test_one_value_changed_after_the_load_is_red(empty_db, cli, tmp_path, tamper):
    # guard (passes today): an operator would be told "proven" with one value changed
    folder = export(tmp_path, {"t.csv": _CSV})
    sql(empty_db, _DDL)
    _green_load(cli, empty_db, folder, tmp_path)
    sql(empty_db, tamper)
    code, r = validate(cli, empty_db, folder, tmp_path)
    assert code == 1 and not _table(r)["ok"], (tamper, summary(r))


# -- findings ----------------------------------------------------------------------------------


def test_a_default_sequence_no_column_owns_is_moved_and_checked(empty_db, cli, tmp_path):
    # an operator is told "proven" while the application's next insert collides with a loaded
    # row: the sequence behind `DEFAULT nextval('s')` (an init script's CREATE SEQUENCE without
    # OWNED BY) was neither moved by the load nor looked at by validate, even when reset below
    # the maximum afterwards
    folder = export(tmp_path, {"t.csv": "id,x\n1,a\n2,b\n"})
    sql(empty_db, "CREATE SEQUENCE public.t_ids",
        "CREATE TABLE public.t (id int PRIMARY KEY DEFAULT nextval('public.t_ids'), x text)")
    r = _green_load(cli, empty_db, folder, tmp_path)
    assert any(c["name"] == "sequences" and c["ok"] for c in _table(r)["checks"]), summary(r)
    assert query(empty_db, "SELECT nextval('public.t_ids')") == [(3,)]
    sql(empty_db, "SELECT setval('public.t_ids', 1)")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE", code, summary(r))
    assert code == 1 and not _table(r)["ok"]
    assert any(c["name"] == "sequences" and not c["ok"] for c in _table(r)["checks"])


def test_a_descending_identity_is_moved_past_the_loaded_minimum(empty_db, cli, tmp_path):
    # the load said "sequences reset" and exit 0, but moved a descending identity (INCREMENT BY
    # -1) to the loaded maximum: the application's next insert takes -2, a loaded row's key
    # (validate saw it and was red, leaving the operator to repair the load's work by hand)
    folder = export(tmp_path, {"t.csv": "id,x\n-1,a\n-2,b\n-3,c\n"})
    sql(empty_db, "CREATE TABLE public.t (id int GENERATED BY DEFAULT AS IDENTITY "
        "(START WITH -1 INCREMENT BY -1) PRIMARY KEY, x text)")
    _green_load(cli, empty_db, folder, tmp_path)
    assert query(empty_db, "SELECT nextval(pg_get_serial_sequence('public.t', 'id'))") == [(-4,)]


def test_a_duplicate_hidden_by_row_level_security_is_not_proven(empty_db, cli, tmp_path):
    # an operator validating as the tables' owner (FORCE ROW LEVEL SECURITY, as an app's init
    # script writes it) is told "proven" while the table holds a record twice: a policy hides
    # the copy from the validating role, and every check judged the rows left visible
    folder = export(tmp_path, {"t.csv": "a,b\n1,x\n2,y\n"})
    owner, as_owner = _role(empty_db, "owner")
    sql(empty_db, f"GRANT CREATE ON SCHEMA public TO {owner}", f"SET ROLE {owner}",
        "CREATE TABLE public.t (a int, b text, hidden bool NOT NULL DEFAULT false)",
        "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE public.t FORCE ROW LEVEL SECURITY",
        "CREATE POLICY visible ON public.t USING (NOT hidden)", "RESET ROLE")
    _green_load(cli, empty_db, folder, tmp_path)
    sql(empty_db, f"GRANT USAGE ON SCHEMA aria_tui TO {owner}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA aria_tui TO {owner}")
    sql(empty_db, "INSERT INTO public.t VALUES (1, 'x', true)")  # a copy of record 1, hidden
    code, r = validate(cli, empty_db, folder, tmp_path)  # a superuser sees it
    assert code == 1
    code, r = validate(cli, as_owner, folder, tmp_path)
    log("VALIDATE as owner", code, summary(r))
    assert code == 1 and not _table(r)["ok"], summary(r)
    assert "Row-level security" in _table(r)["checks"][0]["detail"]


def test_a_role_that_cannot_read_the_commit_records_is_told_what_to_grant(empty_db, cli, tmp_path):
    # an auditor's read-only role (SELECT on the tables, nothing on schema aria_tui) got "The
    # target failed during validation: current transaction is aborted" (exit 2) and no proof:
    # the refused look at aria_tui.commits aborted validation's transaction. Without the records
    # no proof is possible (a file edited with its table after the load passes by content alone,
    # see below): one sentence naming the grants, then a verdict once they are given
    folder = export(tmp_path, {"t.csv": "id,x\n1,a\n2,b\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, x text)")
    _green_load(cli, empty_db, folder, tmp_path)
    role, auditor = _role(empty_db)
    sql(empty_db, f"GRANT SELECT ON public.t TO {role}")
    code, out, err = cli("validate", folder, "--dsn", auditor.conninfo, "--profile", "none",
                         "--json", "--report-dir", tmp_path / "reports")  # fmt: skip
    assert code == 2 and not out.strip() and "Traceback" not in err, err
    assert f"GRANT USAGE ON SCHEMA aria_tui TO {role}" in err, err
    sql(empty_db, f"GRANT USAGE ON SCHEMA aria_tui TO {role}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA aria_tui TO {role}")  # fmt: skip
    code, r = validate(cli, auditor, folder, tmp_path)
    log("VALIDATE as auditor", code, summary(r))
    assert code == 0 and _table(r)["ok"], summary(r)
    sql(empty_db, "UPDATE public.t SET x = 'z' WHERE id = 2")
    code, r = validate(cli, auditor, folder, tmp_path)
    assert code == 1 and not _table(r)["ok"], summary(r)


def test_a_record_dropped_from_the_file_and_the_table_after_the_load_is_not_proven(
    empty_db, cli, tmp_path
):
    # an operator is told "proven: all 1 records" while the target lost a row the load inserted:
    # the export file was edited after the load (the record removed, as someone "fixing" the
    # export would) and the row deleted; the commit records say the table was loaded from
    # another version of t.csv, which validate noted and passed (the load refuses that state)
    folder = export(tmp_path, {"t.csv": "id,x\n1,a\n2,b\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, x text)")
    _green_load(cli, empty_db, folder, tmp_path)
    (folder / "t.csv").write_text("id,x\n1,a\n")
    sql(empty_db, "DELETE FROM public.t WHERE id = 2")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE", code, summary(r))
    assert code == 1 and not _table(r)["ok"], summary(r)
    assert "another version of t.csv" in _table(r)["checks"][0]["detail"]


def test_a_value_changed_in_the_file_and_the_table_alike_is_not_proven(empty_db, cli, tmp_path):
    # the same with one value changed in both, same size and record count: "proven" although
    # the loaded record's value is nowhere
    folder = export(tmp_path, {"t.csv": "id,x\n1,a\n2,b\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, x text)")
    _green_load(cli, empty_db, folder, tmp_path)
    (folder / "t.csv").write_text("id,x\n1,a\n2,c\n")
    sql(empty_db, "UPDATE public.t SET x = 'c' WHERE id = 2")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE", code, summary(r))
    assert code == 1 and not _table(r)["ok"], summary(r)


@pytest.mark.xfail(
    strict=True,
    reason="design: under --on-conflict keep-target the records excused as kept are the ones "
    "aria_tui.commits lists (decided.kept), and that row is as easy to edit as the data. A fix "
    "needs evidence outside the record: e.g. a kept record's target row must predate the load "
    "(its xmin older than the commit row's, and rows_before >= kept), or the kept keys hashed "
    "into the reject/kept file the operator holds and quoted by the plan",
)
def test_a_changed_row_listed_as_kept_by_an_edited_commit_record_is_not_proven(
    empty_db, cli, tmp_path
):
    # an operator is told "proven, 2 conflicts kept" while record 2, which the load inserted,
    # was changed afterwards: the commit record was edited to list it as kept (its counts made
    # to add up), and the operator's keep-target excuses whatever that record lists
    folder = export(tmp_path, {"t.csv": "id,x\n1,a\n2,b\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, x text)",
        "INSERT INTO public.t VALUES (1, 'seed')")
    keep = ("--on-conflict", "keep-target")
    r = _green_load(cli, empty_db, folder, tmp_path, keep, keep)
    assert _table(r)["kept_conflicts"] == 1
    sql(empty_db, "UPDATE public.t SET x = 'changed' WHERE id = 2",
        "UPDATE aria_tui.commits SET inserted = 0, rows_before = 2, decided = "
        """jsonb_set(jsonb_set(decided::jsonb, '{kept}', '[1, 2]'), '{conflicts}', '2')::text""")
    code, r = validate(cli, empty_db, folder, tmp_path, *keep)
    log("VALIDATE", code, summary(r))
    assert code == 1 and not _table(r)["ok"], summary(r)
