"""Audit 2: identifiers and table shapes of real targets.

Unique keys as the server enforces them (an index's INCLUDE columns are no part of its key; a
NULLS NOT DISTINCT key holds one NULL), decisions on columns whose names hold a dot, and a schema
whose name needs quoting. Each test loads a small hand-written export through the CLI, as an
operator would, and validates it.
"""

from __future__ import annotations

import json

from auditkit import export, load, query, sql, validate

from aria_tui.load import decisions as dec

KEEP = ("--on-conflict", "keep-target")


def _table(result: dict, target: str) -> dict:
    (t,) = [t for t in result["tables"] if t["target"] == target]
    return t


# -- a unique index with INCLUDE columns ---------------------------------------------------------


def test_a_conflict_on_a_unique_index_with_include_columns_is_a_conflict_the_policy_decides(
    empty_db, cli, tmp_path
):
    # operator loses: their keep-target decision. The index u_email is unique on email alone
    # (name is only carried in it), but aria-tui took (email, name) for the key, so an export
    # record holding the seed's email under another name was no conflict to it: the INSERT hit
    # the index and the record was rejected with the server's raw error, the load exited 1 and
    # the proof stayed red although the operator had decided to keep the target's rows
    sql(empty_db, "CREATE TABLE u (id int PRIMARY KEY, email text NOT NULL, name text)",
        "CREATE UNIQUE INDEX u_email ON u (email) INCLUDE (name)",
        "INSERT INTO u VALUES (1, 'a@x', 'Alice')")
    folder = export(tmp_path, {"u.csv": "id,email,name\n2,a@x,Bob\n3,b@x,Carl\n"})
    code, loaded = load(cli, empty_db, folder, *KEEP)
    t = _table(loaded, "public.u")
    assert (t["inserted"], t["conflicts"], t["conflicts_kept"], t["rejected"]) == (1, 1, 1, 0), t
    assert "u_email (email)" in t["kept"][0]["reason"], t["kept"]
    assert code == 0, t
    vcode, validated = validate(cli, empty_db, folder, tmp_path, *KEEP)
    assert vcode == 0 and validated["ok"], validated["headline"]
    assert query(empty_db, "SELECT id, email, name FROM u ORDER BY id") == [
        (1, "a@x", "Alice"), (3, "b@x", "Carl")
    ]


def test_a_nullable_include_column_does_not_make_a_seeded_table_unloadable(empty_db, cli, tmp_path):
    # operator loses: a way forward. The table's only key is email (NOT NULL); the INCLUDE
    # column `name` was read as part of it, so records with no name "have no value in its
    # unique key" and the whole file was refused ("empty the table to load it"), though every
    # record can be matched against the seed rows by its email
    sql(empty_db, "CREATE TABLE u (email text NOT NULL, name text)",
        "CREATE UNIQUE INDEX u_email ON u (email) INCLUDE (name)",
        "INSERT INTO u VALUES ('seed@x', NULL)")
    folder = export(tmp_path, {"u.csv": "email,name\nseed@x,\nb@x,\n"})
    code, loaded = load(cli, empty_db, folder)
    t = _table(loaded, "public.u")
    assert code == 0 and t["status"] == "loaded", t.get("error")
    assert (t["inserted"], t["duplicates"], t["rejected"]) == (1, 1, 0), t
    vcode, validated = validate(cli, empty_db, folder, tmp_path)
    assert vcode == 0 and validated["ok"], validated["headline"]


# -- UNIQUE NULLS NOT DISTINCT -------------------------------------------------------------------


def test_a_null_key_of_a_nulls_not_distinct_constraint_is_a_conflict_the_policy_decides(
    empty_db, cli, tmp_path
):
    # operator loses: their keep-target decision. Under NULLS NOT DISTINCT the target's row
    # with no tag holds the key `tag = NULL`; aria-tui matched keys with `=`, which never
    # matches a NULL, so the export's record with no tag went to the INSERT, hit the
    # constraint and was rejected with the server's raw error instead of being kept
    sql(empty_db, "CREATE TABLE t (id int PRIMARY KEY, tag text, v text, "
        "CONSTRAINT t_tag UNIQUE NULLS NOT DISTINCT (tag))",
        "INSERT INTO t VALUES (7, NULL, 'seed')")
    folder = export(tmp_path, {"t.csv": "id,tag,v\n5,,new\n6,b,b\n"})
    code, loaded = load(cli, empty_db, folder, *KEEP)
    t = _table(loaded, "public.t")
    assert (t["inserted"], t["conflicts"], t["conflicts_kept"], t["rejected"]) == (1, 1, 1, 0), t
    assert code == 0, t
    vcode, validated = validate(cli, empty_db, folder, tmp_path, *KEEP)
    assert vcode == 0 and validated["ok"], validated["headline"]


def test_two_records_with_no_value_in_a_nulls_not_distinct_key_are_told_apart_from_the_file(
    empty_db, cli, tmp_path
):
    # operator is misled about: which record was refused and why. The second record with no
    # tag repeats the first one's key (NULLS NOT DISTINCT): it is a duplicate of it when equal
    # and a conflict with it when not, like any repeated key, not a raw server error
    sql(empty_db, "CREATE TABLE t (id int PRIMARY KEY, tag text, v text, "
        "CONSTRAINT t_tag UNIQUE NULLS NOT DISTINCT (tag))",
        "INSERT INTO t VALUES (100, 'seed', 'seed')")  # not empty: the staging path
    folder = export(tmp_path, {"t.csv": "id,tag,v\n1,,one\n2,,two\n3,c,c\n"})
    code, loaded = load(cli, empty_db, folder)
    t = _table(loaded, "public.t")
    assert (t["inserted"], t["conflicts"], t["conflicts_rejected"], t["rejected"]) == (2, 1, 1, 0), t
    with open(t["reject_file"], encoding="utf-8") as f:
        reject = f.read()
    assert "an earlier record" in reject or "record 1 of this file" in reject, reject
    assert code == 1


def test_a_keyless_seeded_table_with_a_nulls_not_distinct_key_loads_its_null_keyed_record(
    empty_db, cli, tmp_path
):
    # operator loses: a way forward. A NULL is a value of a NULLS NOT DISTINCT key, so the
    # export's record with no tag can be matched against the seed row; aria-tui refused the
    # whole file ("cannot tell whether they are already there ... empty the table")
    sql(empty_db, "CREATE TABLE t (tag text, v text, CONSTRAINT t_tag UNIQUE NULLS NOT DISTINCT (tag))",
        "INSERT INTO t VALUES (NULL, 'seed')")
    folder = export(tmp_path, {"t.csv": "tag,v\n,seed\nb,b\n"})
    code, loaded = load(cli, empty_db, folder)
    t = _table(loaded, "public.t")
    assert code == 0 and t["status"] == "loaded", t.get("error")
    assert (t["inserted"], t["duplicates"], t["rejected"]) == (1, 1, 0), t
    vcode, validated = validate(cli, empty_db, folder, tmp_path)
    assert vcode == 0 and validated["ok"], validated["headline"]


# -- decisions on columns whose names hold a dot -------------------------------------------------


def test_the_decision_the_load_asks_for_on_a_dotted_column_can_be_given(empty_db, cli, tmp_path):
    # operator loses: any way forward from the command line. The export has a column
    # "addr.city" the target lacks; the load blocks the file and says "decide: --decide
    # public.t.addr.city=add or =drop", and that very decision is refused ("Cannot read the
    # decision"): SCHEMA.TABLE.COLUMN was split at every dot
    sql(empty_db, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    folder = export(tmp_path, {"t.csv": 'id,v,addr.city\n1,a,Paris\n2,b,Rome\n'})
    code, loaded = load(cli, empty_db, folder)
    error = _table(loaded, "public.t")["error"]
    assert code == 1 and "--decide " in error, error
    suggested = error.split("--decide ", 1)[1].split(" or ", 1)[0]
    decided = dec.parse(suggested)
    assert (decided.table, decided.column, decided.action) == ("public.t", "addr.city", "add")
    drop = suggested.replace("=add", "=drop")
    code, loaded = load(cli, empty_db, folder, "--decide", drop)
    t = _table(loaded, "public.t")
    assert code == 0 and t["inserted"] == 2, t
    vcode, validated = validate(cli, empty_db, folder, tmp_path, "--decide", drop)
    assert vcode == 0 and validated["ok"], validated["headline"]


def test_a_plan_file_with_a_decision_on_a_dotted_column_is_replayed(empty_db, cli, tmp_path):
    # operator loses: the plan they saved. `plan --decide` wrote the decision on "addr.city"
    # into cutover.toml, and `load --plan cutover.toml` refused the file it had just written
    # (the plan reader glued table and column back together and split them at every dot)
    sql(empty_db, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    folder = export(tmp_path, {"t.csv": 'id,v,addr.city\n1,a,Paris\n2,b,Rome\n'})
    plan = tmp_path / "cutover.toml"
    dsn = ("--dsn", empty_db.conninfo, "--profile", "none")
    code, out, err = cli("plan", folder, *dsn, "--out", plan, "--decide", 'public.t."addr.city"=add:text')
    assert code == 0, err
    code, loaded = load(cli, empty_db, folder, "--plan", plan)
    t = _table(loaded, "public.t")
    assert code == 0 and t["inserted"] == 2, t
    assert query(empty_db, 'SELECT "addr.city" FROM t ORDER BY id') == [("Paris",), ("Rome",)]
    vcode, validated = validate(cli, empty_db, folder, tmp_path, "--plan", plan)
    assert vcode == 0 and validated["ok"], validated["headline"]


def test_decision_spellings_round_trip():
    # a column or table whose name holds a dot, a quote or an equals sign is spelt quoted, and
    # the spelling reads back as the same decision; plain names keep their plain spelling
    for table, column, action, arg in [
        ("public.t", "addr.city", "drop", None),
        ("public.my.table", "v", "fill", "a:b=c"),
        ("Sch ema.T", 'say "hi"', "add", "text"),
        ("public.t", "a=b", "rename", "ab"),
        ("aria_data.memories", "legacy", "drop", None),
    ]:
        d = dec.Decision(table, column, action, arg)
        assert dec.parse(d.spec()) == d, d.spec()
    assert dec.Decision("aria_data.memories", "legacy", "drop").spec() == "aria_data.memories.legacy=drop"


# -- a schema whose name needs quoting ------------------------------------------------------------


def test_keys_of_a_table_in_a_mixed_case_schema_are_built_after_its_rows(empty_db, cli, tmp_path):
    # operator loses: the bulk-load speed the design promises (keys and foreign-key checks
    # built once after the rows). The catalog query quoted an already quoted schema name
    # ("""Sales"""), every drop failed in its savepoint, and the keys were silently
    # maintained row by row for any schema whose name needs quotes
    sql(empty_db, 'CREATE SCHEMA "Sales"',
        'CREATE TABLE "Sales".parent (id int PRIMARY KEY)',
        'CREATE TABLE "Sales".child (id int PRIMARY KEY, pid int REFERENCES "Sales".parent)')
    folder = export(tmp_path, {"Sales.parent.csv": "id\n1\n2\n", "Sales.child.csv": "id,pid\n1,1\n2,2\n"})
    code, loaded = load(cli, empty_db, folder)
    built = {c["name"] for c in _table(loaded, "Sales.child")["constraints"]}
    assert code == 0 and built == {'"Sales".child_pkey', "child_pid_fkey"}, json.dumps(loaded)[:2000]
    assert query(empty_db, "SELECT conname FROM pg_constraint WHERE conrelid = '\"Sales\".child'::regclass "
                 "AND contype IN ('p', 'f') ORDER BY 1") == [("child_pid_fkey",), ("child_pkey",)]


# -- take-export on a table keyed by an identity column GENERATED ALWAYS -------------------------

IDENTITY = [
    "CREATE TABLE i (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text UNIQUE, v text)",
    "INSERT INTO i (name, v) VALUES ('a', 'seed')",
]
TAKE = ("--on-conflict", "take-export")


def test_take_export_on_a_generated_always_identity_table_updates_the_row(empty_db, cli, tmp_path):
    # operator loses: the whole table. The export's record 1 differs from the seed row 1 in v
    # only; take-export's UPDATE set id too, which the server refuses for a GENERATED ALWAYS
    # identity column whatever the value ("can only be updated to DEFAULT"): the table failed,
    # record 2 (no conflict at all) was never loaded, and the decision could not be applied
    sql(empty_db, *IDENTITY)
    folder = export(tmp_path, {"i.csv": "id,name,v\n1,a,new\n6,b,b\n"})
    code, loaded = load(cli, empty_db, folder, *TAKE)
    t = _table(loaded, "public.i")
    assert code == 0 and t["status"] == "loaded", t.get("error")
    assert (t["inserted"], t["updated"], t["rejected"]) == (1, 1, 0), t
    assert query(empty_db, "SELECT id, name, v FROM i ORDER BY id") == [(1, "a", "new"), (6, "b", "b")]
    vcode, validated = validate(cli, empty_db, folder, tmp_path)
    assert vcode == 0 and validated["ok"], validated["headline"]


def test_take_export_refuses_one_record_whose_generated_always_identity_differs(
    empty_db, cli, tmp_path
):
    # operator is misled about: nothing less than the whole table failing for one record. The
    # record's name holds the seed row's key under another id: making the row id 5 takes an
    # UPDATE of a GENERATED ALWAYS identity, which the server refuses, so that one record is
    # refused with that reason (its line in the reject file) and the rest of the file loads
    sql(empty_db, *IDENTITY)
    folder = export(tmp_path, {"i.csv": "id,name,v\n5,a,new\n6,b,b\n"})
    code, loaded = load(cli, empty_db, folder, *TAKE)
    t = _table(loaded, "public.i")
    assert t["status"] == "loaded", t.get("error")
    assert (t["inserted"], t["updated"], t["conflicts_rejected"]) == (1, 0, 1), t
    with open(t["reject_file"], encoding="utf-8") as f:
        reject = f.read()
    assert reject.splitlines()[1].startswith("2,") and "GENERATED ALWAYS" in reject, reject
    assert code == 1
    assert query(empty_db, "SELECT id, name, v FROM i ORDER BY id") == [(1, "a", "seed"), (6, "b", "b")]


# -- pgvector in a schema of its own ------------------------------------------------------------

EXTENSIONS_SCHEMA = [
    "DROP EXTENSION vector CASCADE",
    "CREATE SCHEMA extensions",
    "CREATE EXTENSION vector SCHEMA extensions",
    "CREATE TABLE e (id int PRIMARY KEY, emb extensions.vector(3))",
]
VECTORS = 'id,emb\n1,"[1,2,3]"\n2,"[4,5,6]"\n'


def test_a_vector_table_is_proven_when_pgvector_lives_outside_the_search_path(empty_db, cli, tmp_path):
    # operator loses: any green proof of a vector table. pgvector installed in its own schema
    # (`CREATE EXTENSION vector SCHEMA extensions`, Supabase's layout) with the session's
    # search_path leaving it out: the load worked, but validate named vector_dims unqualified
    # and ended "A check could not run: function vector_dims(extensions.vector) does not exist"
    sql(empty_db, *EXTENSIONS_SCHEMA)
    folder = export(tmp_path, {"e.csv": VECTORS})
    code, loaded = load(cli, empty_db, folder)
    assert code == 0 and _table(loaded, "public.e")["inserted"] == 2, _table(loaded, "public.e")
    vcode, validated = validate(cli, empty_db, folder, tmp_path)
    assert vcode == 0 and validated["ok"], validated["headline"]


def test_a_seeded_vector_table_loads_when_pgvector_lives_outside_the_search_path(empty_db, cli, tmp_path):
    # operator loses: the whole table. A target holding a seed row goes through the staging
    # path, whose stage declared its vector column as bare `vector(3)`: 'type "vector" does
    # not exist', the table failed
    sql(empty_db, *EXTENSIONS_SCHEMA, "INSERT INTO e VALUES (1, '[1,2,3]')")
    folder = export(tmp_path, {"e.csv": VECTORS})
    code, loaded = load(cli, empty_db, folder)
    t = _table(loaded, "public.e")
    assert code == 0 and t["status"] == "loaded", t.get("error")
    assert (t["inserted"], t["duplicates"]) == (1, 1), t
    vcode, validated = validate(cli, empty_db, folder, tmp_path)
    assert vcode == 0 and validated["ok"], validated["headline"]


def test_a_file_name_decomposed_on_its_way_matches_its_table(empty_db, cli, tmp_path):
    # The operator lost the table: an export zipped on macOS names café.csv with "e" + U+0301
    # (NFD); the target's table is "café" (NFC). The scan said "the target has no table named
    # café" and nothing loaded; now the file matches, loads and is proven, bare or qualified.
    import unicodedata

    sql(empty_db, 'CREATE TABLE public."café" (id int PRIMARY KEY, name text)')
    for stem in ("café", "public.café"):
        folder = tmp_path / stem
        folder.mkdir()
        (folder / (unicodedata.normalize("NFD", stem) + ".csv")).write_text("id,name\n1,a\n2,b\n")
        assert unicodedata.normalize("NFD", stem) != stem
        code, out, err = cli("load", folder, "--dsn", empty_db.conninfo, "--profile", "none",
                             "--yes", "--json")  # fmt: skip
        assert code == 0, (out, err)
        (t,) = json.loads(out)["tables"]
        assert t["target"] == "public.café" and t["csv_rows"] == 2, t
        code, out, err = cli("validate", folder, "--dsn", empty_db.conninfo, "--profile", "none",
                             "--json", "--report-dir", tmp_path / "r")  # fmt: skip
        assert code == 0 and json.loads(out)["ok"], (out, err)
    assert query(empty_db, 'SELECT count(*) FROM public."café"') == [(2,)]
