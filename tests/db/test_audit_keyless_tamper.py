"""Audit: rows changed in the target between load and validate, where the proof compares a column
through another type (validate/staging/layout.py `lossless`). Found by an adversarial pass: each
made `validate` say Proven while the target held an export record with other content than
PostgreSQL's own `COPY ... (FORMAT csv, HEADER true)` of the file stores.

Both come from the "wide" comparison (aria_tui/validate/staging/layout.py `lossless`): columns
whose type may change a value are compared through another expression on both sides, and that
expression maps distinct values to one.
"""

import psycopg
import pytest
from auditkit import export, load, log, query, sql, summary, validate


def test_float_text_numeric_cannot_read_is_proven_equal_to_null(empty_db, cli, tmp_path):
    """Input: keyless `t (x float8, y real, b text)`; t.csv holds one record
    `0x1p3,-nan,a`. Both values are valid float input (glibc strtod: a hex float, a signed NaN):
    COPY stores (8, NaN, 'a'), and the load stores the same.
    Target: after the load someone sets x and y to NULL: (NULL, NULL, 'a').
    validate reports Proven (exit 0): the float comparison reads the export's text as numeric
    (`CASE WHEN pg_input_is_valid(v, 'numeric') THEN ... END`), which is NULL for any float text
    numeric does not read (0x1p3, 0x1.8, -nan, nan(1)), and so equal to a NULL in the target.
    The same holds for the non-key float columns of keyed tables.
    Expected: exit 1, record 1 not found / different."""
    folder = export(tmp_path, {"t.csv": "x,y,b\n0x1p3,-nan,a\n"})
    sql(empty_db, "CREATE TABLE public.t (x float8, y real, b text)")
    code, _ = load(cli, empty_db, folder)
    assert code == 0
    assert query(empty_db, "SELECT x::text, y::text, b FROM public.t") == [("8", "NaN", "a")]
    sql(empty_db, "UPDATE public.t SET x = NULL, y = NULL")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE", code, summary(r))
    assert code == 1, r["headline"]


def test_timestamp_moved_across_a_dst_gap_is_proven(empty_db, cli, tmp_path):
    """Input: keyless `t (a timestamp, b text)`; t.csv holds `2020-03-08 02:30:00,x` (a wall-clock
    time that does not exist in New York). Load and validate both run with the operator's
    `--time-zone America/New_York`. COPY into `timestamp` stores 2020-03-08 02:30:00, as the load
    does. Target: after the load someone sets a to 2020-03-08 03:30:00.
    validate reports Proven (exit 0): a `timestamp` column is compared as `::timestamptz` on
    both sides, in the session zone, where 02:30 and 03:30 of that night are one instant.
    Expected: exit 1, record 1 differs."""
    folder = export(tmp_path, {"t.csv": "a,b\n2020-03-08 02:30:00,x\n"})
    sql(empty_db, "CREATE TABLE public.t (a timestamp, b text)")
    code, _ = load(cli, empty_db, folder, "--time-zone", "America/New_York")
    assert code == 0
    assert query(empty_db, "SELECT a::text FROM public.t") == [("2020-03-08 02:30:00",)]
    sql(empty_db, "UPDATE public.t SET a = '2020-03-08 03:30:00'")
    code, r = validate(cli, empty_db, folder, tmp_path, "--time-zone", "America/New_York")
    log("VALIDATE", code, summary(r))
    assert code == 1, r["headline"]


@pytest.mark.parametrize(
    "value",
    [
        " 2020-01-01 00:00:00+02",
        "2020-01-01 00:00:00+02 ",
        "Jan 1 2020 00:00:00+02",
        "01/01/2020 00:00:00+02",
    ],
)
def test_a_zone_a_timestamp_drops_is_seen_however_the_value_is_spelt(
    empty_db, cli, tmp_path, value
):
    """The scan's zone rule wanted an ISO date at the very start: a space before it, or another
    date spelling, let the load drop the zone unasked. It now blocks the file. Loaded anyway by a
    plain COPY (zone dropped: 2020-01-01 00:00:00), the proof says so; and when someone then moves
    the row to the instant the zone names (22:00 the day before, which COPY never stores), the
    proof still says so: it compares the wall clock COPY keeps, not the instant."""
    folder = export(tmp_path, {"t.csv": f'a,b\n"{value}",x\n'})
    sql(empty_db, "CREATE TABLE public.t (a timestamp, b text)")
    code, loaded = load(cli, empty_db, folder)
    (t,) = loaded["tables"]
    assert code != 0 and t["status"] == "blocked" and "time zone" in t["error"], t
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        with conn.cursor().copy("COPY public.t FROM STDIN (FORMAT csv, HEADER true)") as cp:
            cp.write((folder / "t.csv").read_bytes())
    assert query(empty_db, "SELECT a::text FROM public.t") == [("2020-01-01 00:00:00",)]
    code, r = validate(cli, empty_db, folder, tmp_path)
    assert code == 1, r["headline"]
    sql(empty_db, "UPDATE public.t SET a = '2019-12-31 22:00:00'")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE", code, summary(r))
    assert code == 1, r["headline"]
