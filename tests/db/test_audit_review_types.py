"""Adversarial review of 9e779e2..19226cc (types seen through: domains, arrays, ranges,
composites; keys compared whole; keep-target on a secondary key; CSV reading, discover).

Each test failed on 19226cc (false greens first, then false reds, crashes, hangs) and asserts
the honest outcome; each docstring tells what was said then and where it came from.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest
from loadkit import query, sql, write

DSN_EXTRA = ("--profile", "none")


def run_json(cli, *argv):
    code, out, err = cli(*argv)
    assert "Traceback" not in err and "Traceback" not in out, err
    return code, json.loads(out)


def load_validate(cli, db, folder, tmp_path, tamper=(), load_extra=(), validate_extra=()):
    dsn = ("--dsn", db.conninfo, *DSN_EXTRA)
    lcode, loaded = run_json(cli, "load", folder, *dsn, "--yes", "--json", *load_extra)
    if tamper:
        sql(db, *tamper)
    vcode, validated = run_json(
        cli, "validate", folder, *dsn, "--json", "--report-dir", tmp_path / "reports", *validate_extra
    )
    return lcode, loaded, vcode, validated


def csv_field(v: str) -> str:
    return '"' + v.replace('"', '""') + '"'


def said(lcode, loaded, vcode, validated, db, cols="v::text"):
    t = loaded["tables"][0] if loaded["tables"] else {}
    return (
        f"load {lcode} ({t.get('status')}, conflicts={t.get('conflicts')}, duplicates={t.get('duplicates')}); "
        f"validate {vcode}: {validated['headline']}; target "
        f"{query(db, f'SELECT id, {cols} FROM public.ev ORDER BY 1')}"
    )


def pg_export(db, table, settings=()) -> bytes:
    """What PostgreSQL's own COPY TO writes for `table` (optionally under session settings)."""
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        for s in settings:
            conn.execute(s)
        with conn.cursor().copy(f"COPY {table} TO STDOUT (FORMAT csv, HEADER)") as cp:
            return b"".join(bytes(b) for b in cp)


# ============================== FALSE GREENS ==============================

SHAPES = [
    # (id, column type, export value, tamper of the loaded row)
    ("empty array made NULL", "numeric(10,2)[]", "{}", "UPDATE public.ev SET v = NULL"),
    ("NULL made empty array", "numeric(10,2)[]", "", "UPDATE public.ev SET v = '{}'"),
    ("1-D made 2-D", "numeric(10,2)[]", "{1.50,2.00}", "UPDATE public.ev SET v = '{{1.5,2}}'"),
    ("lower bound changed", "numeric(10,2)[]", "{1.50,2.00}", "UPDATE public.ev SET v = '[0:1]={1.5,2}'"),
    ("2x2 flattened", "varchar(3)[]", "{{a,b},{c,d}}", "UPDATE public.ev SET v = '{a,b,c,d}'"),
    ("timestamp[] empty made NULL", "timestamp[]", "{}", "UPDATE public.ev SET v = NULL"),
    ("real[] bounds dropped", "real[]", "[2:3]={1,2}", "UPDATE public.ev SET v = '{1,2}'"),
]


@pytest.mark.parametrize(("typ", "value", "tamper"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_false_green_array_of_narrowing_type_loses_shape_and_emptiness(
    empty_db, cli, tmp_path, typ, value, tamper
):
    """Setup: `ev (id int PRIMARY KEY, v numeric(10,2)[])` (or varchar(3)[], timestamp[],
    real[]); export `1,{}` (or `{1.50,2.00}`, `{{a,b},{c,d}}`, `[2:3]={1,2}`); load (exact),
    then the target row is changed to NULL / '{}' / '{{1.5,2}}' / '[0:1]={1.5,2}' / flattened.

    Tool: validate "Proven: all 1 records ... equal content", exit 0.
    Truth: the target holds another value ('{}' IS NOT NULL; '{{1.5,2}}' <> '{1.5,2}';
    array_lower differs). REGRESSION: 9e779e2 says red for every case (typed array compare).

    Cause: validate/staging/layout.py `_each_element`: `(SELECT array_agg(.. ORDER BY u.i) FROM
    unnest(a) WITH ORDINALITY)` flattens dimensions, resets bounds to 1 and turns an empty
    array into NULL, on both sides alike.
    Fix: keep the shape in the comparison, e.g. append `array_dims(a)` (NULL for '{}', so
    also `cardinality(a)` / `a IS NULL`) to the element list: `ROW(array_dims({0}),
    cardinality({0}), (SELECT array_agg ...))`, or coalesce the aggregate to '{}' and add
    array_dims on both sides (export side on `({0})::text[]`)."""
    sql(empty_db, f"CREATE TABLE public.ev (id int PRIMARY KEY, v {typ})")
    folder = tmp_path / "export"
    write(folder, "public.ev.csv", f"id,v\n1,{csv_field(value) if value else ''}\n")
    r = load_validate(cli, empty_db, folder, tmp_path, tamper=[tamper])
    assert r[0] == 0
    assert r[2] != 0, said(*r, empty_db)


NESTED = [
    # (id, ddl, column type, export value: the narrowing type rounds 1.005 to 1.01 / drops a zone)
    ("range over domain numeric(10,2)",
     ["CREATE DOMAIN amt AS numeric(10,2)", "CREATE TYPE amtrange AS RANGE (subtype = amt)"],
     "amtrange", "[1.005,3)"),
    ("multirange over domain numeric(10,2)",
     ["CREATE DOMAIN amt AS numeric(10,2)", "CREATE TYPE amtrange AS RANGE (subtype = amt)"],
     "amtmultirange", "{[1.005,3)}"),
    ("composite attribute of a domain",
     ["CREATE DOMAIN amt AS numeric(10,2)", "CREATE TYPE price AS (amount amt, cur text)"],
     "price", "(1.005,EUR)"),
    ("composite attribute that is an array",
     ["CREATE TYPE prices AS (amounts numeric(10,2)[], cur text)"], "prices", '("{1.005}",EUR)'),
    ("composite inside a composite",
     ["CREATE TYPE pin AS (amount numeric(10,2))", "CREATE TYPE pout AS (p pin, cur text)"],
     "pout", '("(1.005)",EUR)'),
    ("array of composite",
     ["CREATE TYPE price AS (amount numeric(10,2), cur text)"], "price[]", '{"(1.005,EUR)"}'),
    ("array of tsrange", [], "tsrange[]", '{"[\\"2024-01-01 10:00:00+05\\",)"}'),
]


@pytest.mark.parametrize(("ddl", "typ", "value"), [n[1:] for n in NESTED], ids=[n[0] for n in NESTED])
def test_false_green_narrowing_type_nested_one_level_deeper(empty_db, cli, tmp_path, ddl, typ, value):
    """Setup: a column whose narrowing type sits one level deeper than the new rules look: a
    range / multirange whose subtype is a domain over numeric(10,2), a composite attribute that
    is a domain / an array / another composite, an array of composites, an array of ranges.
    Export '[1.005,3)' etc. COPY and the load store 1.01 (or drop the +05 zone).

    Tool: load exit 0, validate "Proven" exit 0. Truth: target holds '[1.01,3.00)',
    '(1.01,EUR)', '{"[\\"2024-01-01 10:00:00\\",)"}'.
    (A range of numeric(10,2) cannot be declared; a domain is the usual way. The same values in
    `numeric(10,2)` / `price` with a numeric(10,2) attribute are red.)

    Cause: pg/catalog.py `_MADE_OF_SQL` resolves one level only: parts are (typname,
    format_type) with no domain resolution of a part and no element/parts of a part;
    `Column.as_type` sets element=None, parts=() so layout.py `lossless(col.as_type(*part))`
    sees typname 'amt' / '_numeric' / 'pin' / 'price' / 'tsrange' and returns None.
    Fix: resolve types recursively (a small recursive type descriptor: domain -> base+mod,
    array -> element, range/multirange -> subtype, composite -> attributes), and make
    `lossless` recurse; or, when any part is not a plain known type, fall back to the text
    comparison (or block in scan)."""
    sql(empty_db, *ddl, f"CREATE TABLE public.ev (id int PRIMARY KEY, v {typ})")
    folder = tmp_path / "export"
    write(folder, "public.ev.csv", f"id,v\n1,{csv_field(value)}\n")
    r = load_validate(cli, empty_db, folder, tmp_path)
    assert r[2] != 0, said(*r, empty_db)


def test_false_green_pk_kept_conflict_excused_by_an_unrelated_row_holding_its_email(
    empty_db, cli, tmp_path
):
    """Setup: `ev (id int PRIMARY KEY, email text UNIQUE, name text)` seeded (1,'b','M');
    export `1,a,N`. `load --on-conflict keep-target`: conflict on ev_pkey, kept (journal
    records line 2 kept). Then the seed row 1 is deleted and an unrelated row (7,'a','Z') is
    inserted. `validate --on-conflict keep-target`.

    Tool: "Proven: ... or were decided away by the operator (1: 1 conflict kept)", exit 0.
    Truth: the target holds no row with id 1 (the row the decision kept is gone); record 1 is
    missing. 9e779e2 said red (found only under another key). The docstring of
    kept_conflicts promises only records "the target does hold otherwise" are excused.

    Cause: validate/checks/content.py `kept_conflicts` counts every decided record with
    `_other IS NOT NULL` (any unique key of the record matches any row), not knowing on which
    key the load kept the conflict. Fix: record the conflicting constraint (and target row
    key) in the journal's kept list and excuse a record only when that same key still finds a
    row (PK conflicts: only through `differing`; secondary-key conflicts: only through that
    constraint)."""
    sql(empty_db, "CREATE TABLE public.ev (id int PRIMARY KEY, email text UNIQUE, name text)",
        "INSERT INTO public.ev VALUES (1, 'b', 'M')")
    folder = tmp_path / "export"
    write(folder, "public.ev.csv", "id,email,name\n1,a,N\n")
    kt = ("--on-conflict", "keep-target")
    r = load_validate(
        cli, empty_db, folder, tmp_path, load_extra=kt, validate_extra=kt,
        tamper=["DELETE FROM public.ev WHERE id = 1", "INSERT INTO public.ev VALUES (7, 'a', 'Z')"],
    )
    assert r[1]["tables"][0]["conflicts"] == 1
    assert r[2] != 0, said(*r, empty_db, "email, name")


# ======================= FALSE REDS / CRASHES / HANGS ======================


def test_false_red_composite_with_target_database_interval_style(empty_db, cli, tmp_path):
    """Setup: `CREATE TYPE iv AS (d interval, at timestamp)`; export is PostgreSQL's COPY
    (`1,"(""1 day 02:00:00"",""2024-01-01 00:00:00"")"`); the target database has
    `ALTER DATABASE ... SET IntervalStyle = 'postgres_verbose'`.

    Tool: load exit 0; validate "1 record ... not in the target", exit 1. Truth: equal value
    (target prints '("@ 1 day 2 hours",...)'). REGRESSION vs 9e779e2 (green).

    Cause: layout.py `lossless` parts -> text comparison under a session whose IntervalStyle
    (and DateStyle) pg/session.py `prepare_session` does not pin (it pins extra_float_digits
    for the same reason). Fix: pin IntervalStyle='postgres' and DateStyle='ISO, MDY' in
    prepare_session, and/or compare parts typed (see the time zone test)."""
    sql(empty_db, "CREATE TYPE iv AS (d interval, at timestamp)",
        "CREATE TABLE public.src (id int PRIMARY KEY, v iv)",
        "INSERT INTO public.src VALUES (1, ROW('1 day 02:00', '2024-01-01'))")
    data = pg_export(empty_db, "public.src")
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        dbname = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f"ALTER DATABASE \"{dbname}\" SET IntervalStyle = 'postgres_verbose'")
    sql(empty_db, "CREATE TABLE public.ev (LIKE public.src)", "DROP TABLE public.src")
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "public.ev.csv").write_bytes(data)
    r = load_validate(cli, empty_db, tmp_path / "export", tmp_path)
    assert r[0] == 0 and r[2] == 0, said(*r, empty_db) + " export: " + data.decode()


def test_crash_validate_on_a_target_database_with_a_non_iso_datestyle(empty_db, cli, tmp_path):
    """Setup: target database `ALTER DATABASE ... SET DateStyle = 'SQL, DMY'`; `ev (id int PK)`;
    export `id\\n1\\n`; load, then validate.

    Tool: validate raises NotImplementedError (psycopg: "can't parse timestamptz with DateStyle
    'SQL, DMY'") from pg/commits.py `read` via validate/journal.py `read_entries`: a traceback.
    (Pre-existing at 9e779e2, not a regression; same family as the extra_float_digits pin.)
    Truth: the record is there; validate should say Proven.

    Fix: pin DateStyle = 'ISO' (and IntervalStyle = 'postgres') in pg/session.py
    `prepare_session` and on every connection that reads aria_tui.commits."""
    sql(empty_db, "CREATE TABLE public.ev (id int PRIMARY KEY)")
    folder = tmp_path / "export"
    write(folder, "public.ev.csv", "id\n1\n")
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        dbname = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f"ALTER DATABASE \"{dbname}\" SET DateStyle = 'SQL, DMY'")
    r = load_validate(cli, empty_db, folder, tmp_path)
    assert r[0] == 0 and r[2] == 0, r[3]["headline"]


def test_false_red_numeric_scale_key_1_0_is_a_duplicate_of_seed_1_00(empty_db, cli, tmp_path):
    """Setup: `ev (id numeric(10,2) PRIMARY KEY, v text)` seeded (1.00,'x'); export `1.0,x`.
    COPY would store 1.00 — the very seed row: a duplicate.

    Tool: load counts a *conflict* (exit 1); validate then says Proven (exit 0).
    Truth: duplicate; load should exit 0. (Pre-existing at 9e779e2.)

    Cause: load/conflicts.py `export_text`: `(stage.value)::text` of a numeric without the
    column's typmod prints '1.0', target_text prints '1.00'. Fix: for numeric(p,s) (and other
    typmod types, domains via base_format) cast to the column's full type before ::text, or
    compare trim_scale(numeric) like layout.py `lossless`."""
    sql(empty_db, "CREATE TABLE public.ev (id numeric(10,2) PRIMARY KEY, v text)",
        "INSERT INTO public.ev VALUES (1.00, 'x')")
    folder = tmp_path / "export"
    write(folder, "public.ev.csv", "id,v\n1.0,x\n")
    r = load_validate(cli, empty_db, folder, tmp_path)
    t = r[1]["tables"][0]
    assert (r[0], t["duplicates"], t["conflicts"]) == (0, 1, 0), said(*r, empty_db)


def test_hang_a_fifo_named_like_an_export_file(empty_db, tmp_path):
    """Setup: export folder with public.ev.csv (`id\\n1\\n`) and a FIFO public.other.csv
    (mkfifo; both tables exist). Run `load --yes` and `validate` (subprocess, 60 s limit).

    Tool: both hang forever (open() of a FIFO blocks until a writer appears). REGRESSION:
    9e779e2's `discover` skipped anything not `is_file()`.
    Truth: the file should be listed and red ("cannot be read"), as a dangling symlink now is.

    Cause: csvio/files.py `discover` now keeps every non-directory (its comment names a fifo).
    Fix: list it but mark it unreadable without opening: `stat.S_ISREG(os.stat(path).st_mode)`
    false -> a listed file that says "not a regular file" and is never opened."""
    sql(empty_db, "CREATE TABLE public.ev (id int PRIMARY KEY)",
        "CREATE TABLE public.other (id int PRIMARY KEY)")
    folder = tmp_path / "export"
    write(folder, "public.ev.csv", "id\n1\n")
    os.mkfifo(folder / "public.other.csv")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    said_ = {}
    for cmd in (["load", "--yes"], ["validate", "--report-dir", str(tmp_path / "r")]):
        try:
            p = subprocess.run(
                [sys.executable, "-m", "aria_tui", cmd[0], str(folder), "--dsn", empty_db.conninfo,
                 *DSN_EXTRA, "--json", *cmd[1:]],
                capture_output=True, text=True, env=env, timeout=60,
            )
            said_[cmd[0]] = p.returncode
        except subprocess.TimeoutExpired:
            said_[cmd[0]] = "hang"
    assert said_ == {"load": 1, "validate": 1}, said_
