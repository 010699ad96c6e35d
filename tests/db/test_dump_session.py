"""A faithful export (issue 16, item 6): the source session is pinned as pg_dump pins it, whatever
the database or role says, and inheritance children are not doubled into their parent's file."""

from __future__ import annotations

import json

import psycopg
from psycopg import sql

DDL = """
CREATE TABLE public.f (
    id int PRIMARY KEY, r real, d double precision, iv interval, dt date, ts timestamp,
    tz timestamptz
);
CREATE TABLE public.p (id int PRIMARY KEY, v text);
CREATE TABLE public.c (extra text) INHERITS (public.p);
"""

ROWS = """
INSERT INTO public.f VALUES
  (1, 1.2345678, 1.23456789012345678, '-1 days -2 hours', '2026-01-02', '2026-01-02 03:04:05.123456',
   '2026-01-02 03:04:05.654321+05:30'),
  (2, 3.4028235e38, 2.2250738585072014e-308, '-1 day +2 hours', '1999-12-31', '1999-12-31 23:59:59',
   '1999-12-31 23:59:59+00'),
  (3, 0.1, 0.1, '1 year -2 mons 3 days -04:05:06.5', '0044-03-15 BC', NULL, NULL),
  (4, -0.0, 1e-300, '-00:00:01', NULL, '2026-03-01 00:00:00', '2026-03-29 01:30:00+00');
INSERT INTO public.p VALUES (1, 'parent one'), (2, 'parent two');
INSERT INTO public.c VALUES (10, 'child ten', 'x'), (11, 'child eleven', NULL);
"""

PINNED = (
    "SET extra_float_digits = 3; SET DateStyle = ISO; SET IntervalStyle = postgres; "
    "SET TimeZone = 'UTC'"
)


def _rows(conninfo: str, table: str) -> list[tuple]:
    """Every row of ONLY `table`, as text in a pinned session (exact: shortest round-trip floats,
    ISO dates, postgres intervals, UTC instants)."""
    with psycopg.connect(conninfo) as conn:
        conn.execute(PINNED)
        cur = conn.execute(
            sql.SQL("SELECT t::text FROM ONLY {} t ORDER BY 1").format(sql.Identifier(*table.split(".")))
        )
        return cur.fetchall()


def test_export_pins_the_session_and_reads_only_each_table(empty_db, templates, cli, tmp_path):
    source = empty_db
    with psycopg.connect(source.conninfo, autocommit=True) as conn:
        conn.execute(DDL)
        conn.execute(ROWS)
        db = conn.info.dbname
        # what a source database (or role) may say: every one of these changes the text COPY writes
        for setting in (
            "extra_float_digits = 0",
            "IntervalStyle = sql_standard",
            "DateStyle = 'SQL, DMY'",
            "TimeZone = 'America/New_York'",
        ):
            conn.execute(sql.SQL("ALTER DATABASE {} SET " + setting).format(sql.Identifier(db)))
    with psycopg.connect(source.conninfo) as conn:  # the settings are really in force
        assert conn.execute("SHOW IntervalStyle").fetchone()[0] == "sql_standard"
        assert conn.execute("SELECT 1.2345678::real::text").fetchone()[0] == "1.23457"

    out = tmp_path / "exp"
    code, stdout, err = cli("export", "--source", source.conninfo, out, "--json")
    assert code == 0, err
    assert "Traceback" not in err
    result = json.loads(stdout)
    by_name = {t["table"]: t for t in result["tables"]} if "tables" in result else {}
    text = (out / "public.f.csv").read_text()
    assert "1.2345678" in text and "-1 days -02:00:00" in text and "2026-01-02" in text
    # the parent's file holds the parent's rows only
    assert (out / "public.p.csv").read_text().count("\n") == 3
    assert (out / "public.c.csv").read_text().count("\n") == 3
    del by_name

    target = templates.fresh(None)
    with psycopg.connect(target.conninfo, autocommit=True) as conn:
        conn.execute(DDL)
    code, stdout, err = cli(
        "load", out, "--dsn", target.conninfo, "--tables", "public.f,public.p,public.c", "--yes",
        "--json",
    )
    assert code == 0, err
    loaded = {t["target"]: t for t in json.loads(stdout)["tables"]}
    assert {k: v["inserted"] for k, v in loaded.items()} == {
        "public.f": 4,
        "public.p": 2,
        "public.c": 2,
    }
    for table in ("public.f", "public.p", "public.c"):
        assert _rows(target.conninfo, table) == _rows(source.conninfo, table), table
    with psycopg.connect(target.conninfo) as conn:
        assert conn.execute("SELECT count(*) FROM public.p").fetchone()[0] == 4  # 2 + 2 children
