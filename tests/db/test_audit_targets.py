"""Audit of targets written the way real init scripts write them, in generic mode
(`--profile none`). The first three were found by an adversarial pass (each made `load` report
counts that add up and `validate` say PASS while the target held something other than what
PostgreSQL's own `COPY ... (FORMAT csv, HEADER true)` of the same file stores): a table's
inheriting child's rows read as its own, and -0 taken for 0 in vectors and floats. The rest hold
the same classes from the other side.
"""

from __future__ import annotations

import json

import psycopg
from loadkit import query, sql, write


def run_json(cli, *argv) -> tuple[int, dict]:
    code, out, err = cli(*argv)
    assert "Traceback" not in err and "Traceback" not in out, err
    return code, json.loads(out)


def load_and_validate(cli, db, folder) -> tuple[int, dict, int, dict]:
    dsn = ("--dsn", db.conninfo, "--profile", "none")
    lcode, loaded = run_json(cli, "load", folder, *dsn, "--yes", "--json")
    vcode, validated = run_json(cli, "validate", folder, *dsn, "--json")
    return lcode, loaded, vcode, validated


def copy_stores(db, ddl: list[str], table: str, text: str) -> list[tuple]:
    """What COPY (FORMAT csv, HEADER true) stores, on a scratch table built by the same DDL, in a
    transaction that is rolled back (the oracle)."""
    with psycopg.connect(db.conninfo) as conn:
        for s in ddl:
            conn.execute(s)
        with conn.cursor().copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as cp:
            cp.write(text.encode())
        rows = conn.execute(f"SELECT _r::text FROM ONLY {table} AS _r ORDER BY 1").fetchall()
        conn.rollback()
    return rows


def test_a_row_of_an_inheriting_child_table_swallows_a_parent_record_as_a_duplicate(
    empty_db, cli, tmp_path
):
    """Input: a target whose init script made `par (id int PRIMARY KEY, v text)` and a child
    `chi (extra text, PRIMARY KEY (id)) INHERITS (par)`, and seeded the child with (2, 'y', 'seed').
    The export has par.csv = `id,v / 1,x / 2,y`.

    COPY par FROM the file stores both records in par (its primary key covers par alone: the
    child's row 2 is another table's row), so `SELECT FROM ONLY par` holds ids 1 and 2.

    aria-tui reads par's key through the inheritance tree (the child's row is visible in
    `SELECT FROM par`), counts record 2 as a duplicate and skips it: par holds only id 1, the load
    reports csv_rows 2 = inserted 1 + duplicates 1, and validate says PASS ("Proven: all 2
    records ... are in the target with equal content") because it also reads par with its
    children. Dropping or truncating the child (or any `FROM ONLY par`) shows record 2 was never
    loaded.
    """
    ddl = [
        "CREATE TABLE par (id int PRIMARY KEY, v text)",
        "CREATE TABLE chi (extra text, PRIMARY KEY (id)) INHERITS (par)",
        "INSERT INTO chi VALUES (2, 'y', 'seed')",
    ]
    text = "id,v\n1,x\n2,y\n"
    expected = copy_stores(empty_db, ddl, "par", text)
    assert [r[0] for r in expected] == ["(1,x)", "(2,y)"]

    sql(empty_db, *ddl)
    folder = tmp_path / "export"
    write(folder, "par.csv", text)
    lcode, loaded, vcode, validated = load_and_validate(cli, empty_db, folder)

    stored = query(empty_db, "SELECT par::text FROM ONLY par ORDER BY 1")
    (t,) = loaded["tables"]
    said_all_is_well = vcode == 0 and validated["ok"] and t["csv_rows"] == (
        t["inserted"] + t["duplicates"] + t["conflicts"] + t["rejected"] + t["updated"]
    )
    # the defect: every report is green while par lacks record 2 that COPY stores
    assert not (said_all_is_well and stored != expected), (
        f"load {lcode} {t['status']} inserted={t['inserted']} duplicates={t['duplicates']}; "
        f"validate {vcode}: {validated['headline']}; ONLY par holds {stored}, COPY stores {expected}"
    )


def test_a_negative_zero_in_an_embedding_is_skipped_as_a_duplicate_of_a_seed_zero(
    empty_db, cli, tmp_path
):
    """Input: `e (id int PRIMARY KEY, emb vector(3))`, seeded by the init script with
    (1, '[0,1,2]'); the export's e.csv holds `1,"[-0,1,2]"` and `2,"[-0,1,2]"`.

    COPY stores '[-0,1,2]' (pgvector keeps the sign: `'[-0,1,2]'::vector::text` is '[-0,1,2]');
    with the seed row present COPY refuses the file (the key exists with other content), so
    record 1 is a conflict: the same key with different content.

    aria-tui compares vectors with pgvector's `=` (which says -0 = 0), counts record 1 as a
    duplicate and keeps the seed's '[0,1,2]' without a conflict or a decision; validate, which
    compares vector columns value by value with the same equality, says PASS.
    """
    sql(empty_db, "CREATE TABLE e (id int PRIMARY KEY, emb vector(3))",
        "INSERT INTO e VALUES (1, '[0,1,2]')")
    folder = tmp_path / "export"
    write(folder, "e.csv", 'id,emb\n1,"[-0,1,2]"\n2,"[-0,1,2]"\n')
    lcode, loaded, vcode, validated = load_and_validate(cli, empty_db, folder)

    stored = dict(query(empty_db, "SELECT id, emb::text FROM e"))
    (t,) = loaded["tables"]
    assert stored[2] == "[-0,1,2]"  # what the export says, as COPY stores it
    silently_kept = stored[1] != "[-0,1,2]" and t["conflicts"] == 0 and t["rejected"] == 0
    assert not silently_kept, (
        f"load {lcode}: duplicates={t['duplicates']} conflicts={t['conflicts']}; target keeps "
        f"{stored[1]!r} for export '[-0,1,2]'; validate {vcode}: {validated['headline']}"
    )
    assert vcode != 0, validated["headline"]


def test_validate_proves_a_float_zero_equal_to_the_exports_negative_zero(empty_db, cli, tmp_path):
    """Input: `f (id int PRIMARY KEY, x float8, y real)` holding (1, 0, 0) (written by the
    target's init script, or by any load other than this export's); the export's f.csv holds
    `1,-0,-0`.

    COPY of the file would store x = -0 and y = -0 (`'-0'::float8::text` is '-0'): the target's
    row is not what the export says.

    validate compares float columns as `trim_scale(text::numeric)`, where -0 and 0 are one
    number, and says "Proven: all 1 records ... are in the target with equal content" (exit 0).
    (The load itself does see the difference: loading this file reports record 1 as a conflict.)
    """
    sql(empty_db, "CREATE TABLE f (id int PRIMARY KEY, x float8, y real)",
        "INSERT INTO f VALUES (1, 0, 0)")
    folder = tmp_path / "export"
    write(folder, "f.csv", "id,x,y\n1,-0,-0\n")
    assert copy_stores(empty_db, ["CREATE TEMP TABLE g (id int, x float8, y real)"], "g",
                       "id,x,y\n1,-0,-0\n") == [("(1,-0,-0)",)]
    vcode, validated = run_json(
        cli, "validate", folder, "--dsn", empty_db.conninfo, "--profile", "none", "--json"
    )
    assert query(empty_db, "SELECT f::text FROM f") == [("(1,0,0)",)]
    assert vcode != 0 and not validated["ok"], validated["headline"]


# --- the same classes, from the other side: what must stay green, and the proof alone ---------


def test_a_parent_table_is_loaded_and_proven_without_its_inheriting_childs_rows(
    empty_db, cli, tmp_path
):
    """par is empty but its child chi holds a row with par's key 2: the load copies both of
    par's records (COPY would), chi keeps its row, and the proof counts par's own rows only
    (it failed before: 'holds 4 rows, 1 more than the load left')."""
    sql(empty_db, "CREATE TABLE par (id int PRIMARY KEY, v text)",
        "CREATE TABLE chi (extra text, PRIMARY KEY (id)) INHERITS (par)",
        "INSERT INTO chi VALUES (2, 'y', 'seed'), (3, 'z', 'seed')")
    folder = tmp_path / "export"
    write(folder, "par.csv", "id,v\n1,x\n2,y\n")
    lcode, loaded, vcode, validated = load_and_validate(cli, empty_db, folder)
    (t,) = [t for t in loaded["tables"] if t["target"] == "public.par"]
    assert (lcode, t["inserted"], t["duplicates"]) == (0, 2, 0), t
    assert vcode == 0 and validated["ok"], validated["headline"]
    assert query(empty_db, "SELECT id, v FROM ONLY par ORDER BY id") == [(1, "x"), (2, "y")]
    assert query(empty_db, "SELECT id, extra FROM chi ORDER BY id") == [(2, "seed"), (3, "seed")]


def test_the_proof_tells_a_negative_zero_from_a_zero_in_vectors_and_floats(empty_db, cli, tmp_path):
    """The target was loaded by something else: its zeros lack the export's signs. validate
    alone must say so (as numbers -0 = 0; as stored vectors and floats they differ), and must
    stay green for another spelling of the same signed zero (-0.0, -0e3)."""
    sql(empty_db, "CREATE TABLE v (id int PRIMARY KEY, emb vector(3), x float8, y real)",
        "INSERT INTO v VALUES (1, '[0,1,2]', 1, 1), (2, '[1,1,1]', 0, 1), (3, '[1,1,1]', 1, 0),"
        " (4, '[-0,1,2]', '-0', '-0')")  # quoted: the integer -0 is 0
    folder = tmp_path / "export"
    rows = ['1,"[-0,1,2]",1,1', '2,"[1,1,1]",-0,1', '3,"[1,1,1]",1,-0.0', '4,"[-0.0,1,2]",-0e3,-0']
    write(folder, "v.csv", "id,emb,x,y\n" + "\n".join(rows) + "\n")
    code, validated = run_json(
        cli, "validate", folder, "--dsn", empty_db.conninfo, "--profile", "none", "--json"
    )
    assert code == 1 and not validated["ok"], validated["headline"]
    (t,) = validated["tables"]
    content = " ".join(c.get("detail", "") for c in t["checks"] if c["name"] == "content")
    assert all(f"id={i}" in content for i in (1, 2, 3)) and "id=4" not in content, content


def test_take_export_on_a_partitioned_table_updates_the_one_row_it_conflicts_with(
    empty_db, cli, tmp_path
):
    """Each partition has a row at ctid (0,1): the conflict names its row by table and ctid, so
    taking the export's record updates that row, not its twin in the other partition."""
    sql(empty_db, "CREATE TABLE p (id int PRIMARY KEY, v text) PARTITION BY RANGE (id)",
        "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100)",
        "CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200)",
        "INSERT INTO p VALUES (1, 'seed one'), (101, 'seed two')")
    folder = tmp_path / "export"
    write(folder, "p.csv", "id,v\n1,export one\n5,new\n")
    dsn = ("--dsn", empty_db.conninfo, "--profile", "none")
    code, loaded = run_json(cli, "load", folder, *dsn, "--yes", "--json", "--on-conflict", "take-export")
    (t,) = [t for t in loaded["tables"] if t["target"] == "public.p"]
    assert code == 0 and (t["inserted"], t["updated"]) == (1, 1), t
    assert query(empty_db, "SELECT id, v FROM p ORDER BY id") == [
        (1, "export one"), (5, "new"), (101, "seed two")
    ]
    code, validated = run_json(cli, "validate", folder, *dsn, "--json")
    assert code == 0, validated["headline"]
