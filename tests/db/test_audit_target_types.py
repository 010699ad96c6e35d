"""Adversarial audit: target-side semantics (domains, arrays, ranges, composites, keys, session
settings) that made `validate` say Proven (exit 0) while the target held other content than the
export says. Each test asserts the honest outcome; its docstring tells the false green (or false
red) the code before this file said, and where that came from.

The reference for "silently changed" is the project's own: tests/db/test_silent_losses.py
(`test_validate_sees_what_a_narrow_type_changed_however_it_is_spelt`): a value a narrow target
type silently changes (rounds, cuts, drops a zone or a time of day) is either blocked by the
scan or shown as a difference by the proof, never Proven. The rules of such types
(scan/losses.py `losses_of`, validate/staging/layout.py `lossless`) now reach a domain's base
type, an array's element type, a range's subtype and a composite's attributes (pg/catalog.py
`Column.domain_base`, `.element`, `.parts`); key columns are compared through them too; every
loader and validator connection pins extra_float_digits.

Left as it is: jsonb keeps the last of an object's repeated keys, as COPY does; that is jsonb's
input, not a narrowing of the export's value (an export of a jsonb column has no repeated key).
"""

from __future__ import annotations

import json

import psycopg
import pytest
from loadkit import query, sql, write


def run_json(cli, *argv) -> tuple[int, dict]:
    code, out, err = cli(*argv)
    assert "Traceback" not in err and "Traceback" not in out, err
    return code, json.loads(out)


def load_and_validate(cli, db, folder, tmp_path) -> tuple[int, dict, int, dict]:
    dsn = ("--dsn", db.conninfo, "--profile", "none")
    lcode, loaded = run_json(cli, "load", folder, *dsn, "--yes", "--json")
    vcode, validated = run_json(
        cli, "validate", folder, *dsn, "--json", "--report-dir", tmp_path / "reports"
    )
    return lcode, loaded, vcode, validated


def csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _narrowed(empty_db, cli, tmp_path, ddl: list[str], typ: str, extra: str, value: str):
    """Load `id,v / 1,value` with the tool into `ev (id int PRIMARY KEY, v typ extra)` and
    validate; return what was said and what the target holds."""
    sql(empty_db, *ddl, f"CREATE TABLE public.ev (id int PRIMARY KEY, v {typ}{extra})")
    folder = tmp_path / "export"
    write(folder, "public.ev.csv", f"id,v\n1,{csv_field(value)}\n")
    lcode, loaded, vcode, validated = load_and_validate(cli, empty_db, folder, tmp_path)
    stored = query(empty_db, "SELECT v::text FROM public.ev")
    said = (
        f"load exit {lcode} ({loaded['tables'][0]['status']}); validate exit {vcode}: "
        f"{validated['headline']}; export {value!r}, target holds {stored}"
    )
    return vcode, said


# --- 1. domains over a narrowing type ---------------------------------------------------------

DOMAINS = [
    # (id, domain's base type, a value the base type silently changes)
    ("numeric(10,2)", "numeric(10,2) CHECK (VALUE >= 0)", "1.005"),  # stored 1.01
    ("varchar(3)", "varchar(3)", "ab     "),  # stored 'ab '
    ("timestamp", "timestamp", "2024-01-01 10:00:00+05"),  # zone dropped
    ("timestamp(0)", "timestamp(0)", "2024-01-01 10:00:00.7"),  # stored 10:00:01
    ("date", "date", "2024-01-02 10:00:00"),  # time of day dropped
    ("time", "time", "10:00:00+05"),  # zone dropped
    ("money", "money", "1.005"),  # stored $1.01
    ("real", "real", "0.12345678901234"),  # stored 0.12345679
    ("interval", "interval year", "1 year 2 months"),  # stored '1 year'
]


@pytest.mark.parametrize(("base", "value"), [d[1:] for d in DOMAINS], ids=[d[0] for d in DOMAINS])
def test_a_domain_over_a_narrowing_type_hides_what_it_changed(empty_db, cli, tmp_path, base, value):
    """Input: an init script's `CREATE DOMAIN d AS <base>` (e.g. `amount AS numeric(10,2)
    CHECK (VALUE >= 0)`, the usual way to write money columns) and `ev (id int PRIMARY KEY,
    v d)`; the export holds a value the base type silently changes ('1.005' -> 1.01, a dropped
    zone, 'ab     ' -> 'ab ', ...).

    The same column declared with the base type directly is blocked by the scan or red in the
    proof (test_silent_losses.py). Declared through a domain, `load` loads it (exit 0, status
    loaded) and `validate` says "Proven: all 1 records ... equal content" (exit 0) while the
    target holds the changed value.

    Cause: catalog.py stores pg_type.typname as `base_type` ('d'), so scan/losses.py
    `losses_of` and validate/staging/layout.py `lossless` find no rule, and the proof compares
    `export::d` with the stored value, both narrowed. Fix: read the domain's base type and typmod
    (pg_type.typbasetype / typtypmod, recursively) into Column and apply the rules to it.
    """
    vcode, said = _narrowed(empty_db, cli, tmp_path, [f"CREATE DOMAIN d AS {base}"], "d", "", value)
    assert vcode != 0, said


# --- 2. arrays of a narrowing type ------------------------------------------------------------

ARRAYS = [
    ("numeric(10,2)[]", "{1.005,2.5}"),  # stored {1.01,2.50}
    ("varchar(3)[]", '{"ab     "}'),  # stored {"ab "}
    ("timestamp[]", '{"2024-01-01 10:00:00+05"}'),  # zone dropped
    ("date[]", '{"2024-01-02 10:00:00"}'),  # time of day dropped
    ("real[]", "{0.12345678901234}"),  # stored {0.12345679}
]


@pytest.mark.parametrize(("typ", "value"), ARRAYS, ids=[a[0] for a in ARRAYS])
def test_an_array_of_a_narrowing_type_hides_what_it_changed(empty_db, cli, tmp_path, typ, value):
    """Input: `ev (id int PRIMARY KEY, v numeric(10,2)[])` (or varchar(3)[], timestamp[],
    date[], real[]); the export holds `{1.005,2.5}`. COPY and the load store {1.01,2.50}.

    load exits 0 (loaded), validate says Proven (exit 0). The element type's rounding is the
    one numeric(10,2) alone is blocked / red for.

    Cause: the array's typname is '_numeric': scan/losses.py `losses_of` has no rule (its
    `_more_scale` reads a scalar, `{1.005}` never matches `_NUMBER`) and layout.py `lossless`
    returns None, so the proof hashes `'{1.005,2.5}'::numeric(10,2)[]` against the stored
    array, both rounded. Fix: for an array, apply the element type's rule per element (e.g.
    export `text::numeric[]` vs target `::numeric[]` with trim_scale over unnest), or block the
    file when an element would change.
    """
    vcode, said = _narrowed(empty_db, cli, tmp_path, [], typ, "", value)
    assert vcode != 0, said


# --- 3. ranges and composites over a narrowing type -------------------------------------------

CONTAINERS = [
    ("tsrange", [], "tsrange", '["2024-01-01 10:00:00+05","2024-01-02 10:00:00+05")'),
    ("daterange", [], "daterange", '["2024-01-01 10:00","2024-01-05 18:00")'),
    ("composite numeric(5,2)", ["CREATE TYPE price AS (amount numeric(5,2), cur text)"], "price",
     "(1.005,EUR)"),
    ("composite timestamp", ["CREATE TYPE stamp AS (at timestamp, who text)"], "stamp",
     '("2024-01-01 10:00:00+05",x)'),
]


@pytest.mark.parametrize(
    ("ddl", "typ", "value"), [c[1:] for c in CONTAINERS], ids=[c[0] for c in CONTAINERS]
)
def test_a_range_or_composite_of_a_narrowing_type_hides_what_it_changed(
    empty_db, cli, tmp_path, ddl, typ, value
):
    """Input: a `tsrange` column receiving bounds with a zone ('["2024-01-01 10:00:00+05",
    ...)'), a `daterange` receiving bounds with a time of day, or a composite type whose
    attribute is numeric(5,2) / timestamp. range_in / record_in read each part with the
    subtype's input function: zones and times of day are dropped, 1.005 becomes 1.01.

    load exits 0, validate says Proven. The same values in a plain timestamp / date /
    numeric(5,2) column are blocked by the scan.

    Cause: as for domains and arrays, `losses_of` / `lossless` see only the container's typname
    ('tsrange', 'daterange', 'price'). Fix: recurse into the range's subtype / the composite's
    attribute types, or, when a container holds a narrowing type, compare the export's text with
    the stored value's text after a round trip (`text::T::text = text` normalised), or block.
    """
    vcode, said = _narrowed(empty_db, cli, tmp_path, ddl, typ, "", value)
    assert vcode != 0, said


# --- 4. a narrowing column that is part of a key, a unique key or a foreign key ---------------

KEPT = [
    # (id, extra ddl, column type, table clause, value)
    ("unique varchar(3)", [], "varchar(3)", " UNIQUE", "ab     "),  # stored 'ab '
    ("fk varchar(3)", ["CREATE TABLE par (c varchar(3) PRIMARY KEY)", "INSERT INTO par VALUES ('ab ')"],
     "varchar(3)", " REFERENCES par (c)", "ab     "),
    ("unique real", [], "real", " UNIQUE", "0.12345678901234"),  # stored 0.12345679
    ("unique float8", [], "float8", " UNIQUE", "1.00000000000000001"),  # stored 1
    ("unique money", [], "money", " UNIQUE", "1.005"),  # stored $1.01
    ("unique interval second(0)", [], "interval second(0)", " UNIQUE", "1.7 seconds"),
    ('unique "char"', [], '"char"', " UNIQUE", "abc"),  # stored 'a'
]


@pytest.mark.parametrize(
    ("ddl", "typ", "extra", "value"), [k[1:] for k in KEPT], ids=[k[0] for k in KEPT]
)
def test_a_narrowing_key_unique_or_foreign_key_column_hides_what_it_changed(
    empty_db, cli, tmp_path, ddl, typ, extra, value
):
    """Input: `ev (id int PRIMARY KEY, v varchar(3) UNIQUE)` (or a foreign key column, or a
    unique real / float8 / money / interval second(0) / "char"); the export holds 'ab     ',
    which varchar(3) input silently cuts to 'ab ' (excess trailing spaces are dropped, not
    refused).

    The same column without UNIQUE is red in the proof (test_silent_losses.py: "varchar(3)",
    "real", "double precision", "money", "interval second(0)"). With UNIQUE / REFERENCES, load
    exits 0 and validate says Proven.

    Cause: validate/staging/layout.py `Layout.wide` skips every `kept` column (key, unique keys,
    foreign keys), so such a column is hashed as `export::varchar(3)` against the stored
    value, both cut. The scan has no rule for these types either (it relies on the proof).
    Fix: keep the typed value for matching but hash (or compare) kept columns through
    `lossless` too; or have losses_of block these types in kept columns.
    """
    vcode, said = _narrowed(empty_db, cli, tmp_path, ddl, typ, extra, value)
    assert vcode != 0, said


def test_a_varchar_primary_key_cut_by_the_target_is_proven(empty_db, cli, tmp_path):
    """Input: `ev (code varchar(3) PRIMARY KEY, v text)`; the export's code is 'ab     '
    (source column text). COPY and the load store 'ab ' (four spaces lost).

    load exits 0 (inserted 1), validate says Proven: the key is matched and hashed after the
    same cut on both sides (layout.py: key columns are never `wide`). Fix: as above; for a key
    column the comparison must also tell 'ab     ' from 'ab ' (e.g. `export_text =
    stored::text` in addition to the key match)."""
    sql(empty_db, "CREATE TABLE public.ev (code varchar(3) PRIMARY KEY, v text)")
    folder = tmp_path / "export"
    write(folder, "public.ev.csv", 'code,v\n"ab     ",x\n')
    lcode, loaded, vcode, validated = load_and_validate(cli, empty_db, folder, tmp_path)
    stored = query(empty_db, "SELECT code || '|' FROM public.ev")
    assert vcode != 0, f"load {lcode}; validate {vcode}: {validated['headline']}; target {stored}"


# --- 5. the target database's own session settings --------------------------------------------


@pytest.mark.parametrize("digits", [0, -15])
def test_extra_float_digits_of_the_target_makes_another_float_a_duplicate_and_proven(
    empty_db, cli, tmp_path, digits
):
    """Input: the target database was created with `ALTER DATABASE ... SET extra_float_digits =
    0` (PostgreSQL 11's output, which legacy clients expect; -15 shows the extreme), and its
    init script seeded `ev (id int PRIMARY KEY, x float8)` with (1, 0.1+0.2 =
    0.30000000000000004) [with -15: (1, 1.23456)]. The export's ev.csv holds `1,0.3` [`1,1`].

    COPY of the file would store 0.3 [1]: the key exists with other content, a conflict.
    aria-tui's load counts record 1 as a *duplicate* (exit 0, conflicts 0) and keeps the
    target's value; validate says "Proven: all 1 records ... equal content" (exit 0).

    Cause: both sides compare the target's float through its text output, which
    extra_float_digits <= 0 rounds to 15 (or fewer) significant digits: load/conflicts.py
    `_equal` (export_text vs target_text, `t.x::text`) and validate/staging/layout.py
    `lossless` for float4/float8 (`{0}::text::numeric` on the target side). Neither the loader
    nor validate pins the setting (pg/session.py `prepare_session` pins only TimeZone,
    temp_buffers, lock_timeout). Fix: `SET extra_float_digits = 3` (as dump/snapshot.py already
    does for the export side) in prepare_session for every loader and validator connection; or
    compare floats as `float8send`/`::numeric` of the value rather than its text.
    """
    seed, text = ("0.1::float8 + 0.2::float8", "0.3") if digits == 0 else ("1.23456", "1")
    sql(empty_db, "CREATE TABLE public.ev (id int PRIMARY KEY, x float8)",
        f"INSERT INTO public.ev VALUES (1, {seed})")
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        dbname = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f'ALTER DATABASE "{dbname}" SET extra_float_digits = {digits}')
    folder = tmp_path / "export"
    write(folder, "public.ev.csv", f"id,x\n1,{text}\n")
    lcode, loaded, vcode, validated = load_and_validate(cli, empty_db, folder, tmp_path)
    (t,) = loaded["tables"]
    (equal,) = query(empty_db, f"SELECT x = '{text}'::float8 FROM public.ev")[0]
    assert not equal  # the target does not hold what the export (and COPY) says
    assert not (lcode == 0 and vcode == 0), (
        f"load {lcode}: duplicates={t['duplicates']} conflicts={t['conflicts']}; "
        f"validate {vcode}: {validated['headline']}"
    )


# --- false reds (lower priority): honest but wrong the other way --------------------------------


def test_false_red_a_char_n_key_equal_to_a_seed_row_is_rejected_not_a_duplicate(
    empty_db, cli, tmp_path
):
    """FALSE RED. Input: `ev (code char(3) PRIMARY KEY, v text)` seeded with ('ab', 'x'); the
    export (from a char(3) source, which prints the padding) holds `"ab ",x`. In char(3) 'ab'
    and 'ab ' are one stored value ('ab '): the record is a duplicate of the seed row.

    The load rejects it ("duplicate key value violates unique constraint ev_pkey", exit 1)
    and validate fails the reconciliation. The same pair in a non-key char(3) column is
    (correctly) a duplicate.

    Cause: load/staging.py `Stage.value` returns the staged *text* for STRING_TYPES (bpchar
    included), so load/conflicts.py `classify_target` matches `t.code = s.c` as bpchar = text,
    i.e. text equality after the bpchar is rtrimmed: 'ab' <> 'ab '. The record is not
    classified, the INSERT hits the unique index. Fix: match keys with `s.c::bpchar` (or
    `rtrim`) for bpchar key columns, as `export_text` already does for the comparison."""
    sql(empty_db, "CREATE TABLE public.ev (code char(3) PRIMARY KEY, v text)",
        "INSERT INTO public.ev VALUES ('ab', 'x')")
    folder = tmp_path / "export"
    write(folder, "public.ev.csv", 'code,v\n"ab ",x\n')
    lcode, loaded, vcode, validated = load_and_validate(cli, empty_db, folder, tmp_path)
    (t,) = loaded["tables"]
    assert (lcode, t["duplicates"], t["rejected"]) == (0, 1, 0), t
    assert vcode == 0, validated["headline"]


def test_false_red_extra_float_digits_of_the_target_makes_an_exact_load_differ(
    empty_db, cli, tmp_path
):
    """FALSE RED. Input: target database with `SET extra_float_digits = 0`; `ev (id int
    PRIMARY KEY, x float8, r real)`; export `1,0.30000000000000004,1.2345678`. The load stores
    exactly those floats (float8 0.30000000000000004, float4 1.2345678, as COPY does).

    validate says "1 of 1 record ... differs ... (record 1: x, r)" (exit 1): the target side
    of layout.py `lossless` reads the float's text output, rounded to 15 / 6 digits by the
    setting. Same cause and fix as the false green above (pin extra_float_digits = 3)."""
    sql(empty_db, "CREATE TABLE public.ev (id int PRIMARY KEY, x float8, r real)")
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        dbname = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f'ALTER DATABASE "{dbname}" SET extra_float_digits = 0')
    folder = tmp_path / "export"
    write(folder, "public.ev.csv", "id,x,r\n1,0.30000000000000004,1.2345678\n")
    lcode, loaded, vcode, validated = load_and_validate(cli, empty_db, folder, tmp_path)
    assert query(empty_db, "SELECT x = '0.30000000000000004'::float8 AND r = '1.2345678'::real "
                           "FROM public.ev") == [(True,)]
    assert lcode == 0, loaded
    assert vcode == 0, validated["headline"]
