"""The binary (vector) path reads every record as PostgreSQL's COPY would: csvio's checked reader.

What polars would read differently from PostgreSQL (a quote in the middle of a field, a value
starting with U+FEFF at the start of a block) must load what COPY loads; a record COPY refuses
must fail the table with its line; many blocks must keep their records' lines and order.
"""

from __future__ import annotations

import csv

import psycopg
import pytest
from loadkit import assert_counts_add_up, load, plan_for, query, sql, write

import aria_tui.load.encoding as load_encoding
from aria_tui.load import run_plan
from aria_tui.pg.connect import Target


def _copy_text(db: Target, table: str, data: bytes) -> list[tuple]:
    """What PostgreSQL's own COPY ... (FORMAT csv, HEADER true) stores from `data`."""
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        copy = f"COPY {table} (note, id, emb) FROM STDIN (FORMAT csv, HEADER true)"
        with conn.cursor().copy(copy) as cp:
            cp.write(data)
        return conn.execute(f"SELECT id, note, emb::text FROM {table} ORDER BY id").fetchall()


# A quote in the middle of an unquoted field: PostgreSQL opens a quoted part there (and drops
# the quotes), polars would keep them. A value starting with U+FEFF: polars strips it at the
# start of its input, PostgreSQL keeps it. A needless pair of quotes next to a mid-field quote:
# the byte and quote counts balance exactly, only the doubled quotes tell the two apart.
ODD = (
    "note,id,emb\n"
    '\ufeffbom,3,"[7,8,9]"\n'  # the first record: at the start of the first block
    'say "hi",1,"[1,2,3]"\n'
    'ab"c,d"e,2,"[4,5,6]"\n'
    '"plain",4,"[1,1,1]"\n'
    'x"y"z,5,"[2,2,2]"\n'
    "\ufeffagain,6,[3]\n"  # a bad vector: the one reject
)


@pytest.mark.parametrize("block_bytes", [4 << 20, 40], ids=["one-block", "tiny-blocks"])
def test_binary_path_loads_what_copy_loads(empty_db, tmp_path, monkeypatch, block_bytes):
    # tiny blocks put a U+FEFF value at the start of a block, where polars would strip it
    monkeypatch.setattr(load_encoding, "BLOCK_BYTES", block_bytes)
    sql(
        empty_db,
        "CREATE TABLE t (id int PRIMARY KEY, note text, emb vector(3))",
        "CREATE TABLE ref (id int PRIMARY KEY, note text, emb vector(3))",
    )
    write(tmp_path, "public.t.csv", ODD)
    result = load(empty_db, tmp_path, ["public.t"])
    t = result.table("public.t")
    assert t.status == "loaded" and t.path == "binary", t
    assert (t.csv_rows, t.inserted, t.rejected) == (6, 5, 1)
    got = query(empty_db, "SELECT id, note, emb::text FROM t ORDER BY id")
    # PostgreSQL's own COPY of the same bytes, the bad vector left out (COPY would refuse it)
    good = "".join(line for line in ODD.splitlines(keepends=True) if "again" not in line)
    assert got == _copy_text(empty_db, "ref", good.encode())
    assert [g[1] for g in got] == ["say hi", "abc,de", "\ufeffbom", "plain", "xyz"]
    with open(t.reject_file, encoding="utf-8", newline="") as fh:
        rejects = [r[:3] for r in list(csv.reader(fh))[1:]]
    assert rejects == [["7", 'column "emb": expected 3 dimensions, got 1', "\ufeffagain"]]


def test_many_blocks_keep_order_lines_and_rejects(empty_db, tmp_path, monkeypatch):
    monkeypatch.setattr(load_encoding, "BLOCK_BYTES", 300)  # dozens of blocks, cut inside records
    sql(empty_db, "CREATE TABLE v (id int PRIMARY KEY, note text, emb vector(2))")
    lines = ["id,note,emb"]
    bad = {}
    line = 2
    for i in range(1, 201):
        emb = f'"[{i},{i}.5]"'
        if i % 37 == 0:
            emb = '"[1,2,3]"'  # wrong dimension: a client-side reject
            bad[i] = line
        note = f'"two\nlines {i}"' if i % 3 == 0 else f"n{i}"
        lines.append(f"{i},{note},{emb}")
        line += 2 if i % 3 == 0 else 1
    write(tmp_path, "public.v.csv", "\n".join(lines) + "\n")
    result = load(empty_db, tmp_path, ["public.v"])
    t = result.table("public.v")
    assert t.path == "binary" and t.status == "loaded"
    assert (t.csv_rows, t.inserted, t.rejected) == (200, 200 - len(bad), len(bad))
    assert_counts_add_up(result)
    with open(t.reject_file, encoding="utf-8", newline="") as fh:
        rejects = list(csv.reader(fh))[1:]
    assert [(int(r[0]), r[2]) for r in rejects] == [(ln, str(i)) for i, ln in bad.items()]
    assert all('column "emb": expected 2 dimensions, got 3' == r[1] for r in rejects)
    assert query(empty_db, "SELECT count(*), sum(id) FROM v") == [
        (200 - len(bad), sum(range(1, 201)) - sum(bad))
    ]
    assert query(empty_db, "SELECT note, emb::text FROM v WHERE id = 99") == [
        ("two\nlines 99", "[99,99.5]")
    ]


def test_a_record_copy_refuses_is_rejected_alone_with_its_line(empty_db, tmp_path, monkeypatch):
    """The scan of a large file samples it; the loader reads every record and is the one that
    finds a broken record the sample missed (here: one written after the scan), and rejects
    that record alone, with its line, reason and raw bytes."""
    monkeypatch.setattr(load_encoding, "BLOCK_BYTES", 64)
    sql(
        empty_db,
        "CREATE TABLE r (id int PRIMARY KEY, note text, emb vector(2))",
        "CREATE TABLE ok (id int PRIMARY KEY)",
    )
    rows = [f'{i},"a\nb","[{i},{i}]"' for i in range(1, 20)]
    write(tmp_path, "public.r.csv", "id,note,emb\n" + "\n".join(rows) + "\n")
    write(tmp_path, "public.ok.csv", "id\n1\n")
    plan = plan_for(empty_db, tmp_path)
    rows[11] = "12,short"  # a row with too few fields, on line 2 + 11 * 2
    write(tmp_path, "public.r.csv", "id,note,emb\n" + "\n".join(rows) + "\n")
    result = run_plan(empty_db, plan)
    r = result.table("public.r")
    assert r.status == "loaded", r
    assert (r.csv_rows, r.inserted, r.rejected) == (19, 18, 1)
    with open(r.reject_file, encoding="utf-8", newline="") as fh:
        rejects = list(csv.reader(fh))
    assert rejects[1][0] == "24" and "row has 2 fields, header has 3" in rejects[1][1]
    assert rejects[1][2] == "12,short"
    assert query(empty_db, "SELECT count(*) FROM r WHERE id = 12") == [(0,)]
    assert result.table("public.ok").status == "loaded"


def test_a_halfvec_column_loads_what_copy_loads(empty_db, tmp_path):
    """halfvec has no float32 binary form: staged as vector(n), cast on insert, the values those
    of PostgreSQL's own text input (strtof, then to half), a value too big for half a reject."""
    sql(
        empty_db,
        "CREATE TABLE h (id int PRIMARY KEY, note text, emb halfvec(3))",
        "CREATE TABLE href (id int PRIMARY KEY, note text, emb halfvec(3))",
    )
    good = 'note,id,emb\na,1,"[0.1,-2.5e-3,3]"\nb,2,"[1e-8,65504,0.33333334]"\nc,3,\n'
    write(tmp_path, "public.h.csv", good + 'd,4,"[1,2,70000]"\n')
    result = load(empty_db, tmp_path, ["public.h"])
    t = result.table("public.h")
    assert t.status == "loaded", t
    assert (t.csv_rows, t.inserted, t.rejected) == (4, 3, 1)
    assert query(empty_db, "SELECT id, note, emb::text FROM h ORDER BY id") == _copy_text(
        empty_db, "href", good.encode()
    )


def test_an_integer_column_null_in_every_record_loads_binary(empty_db, tmp_path):
    """A nullable integer column holding no value at all (all of a block NULL) is no range
    problem: the binary path loads it as NULLs."""
    sql(empty_db, "CREATE TABLE n (id int PRIMARY KEY, parent bigint, emb vector(2))")
    write(tmp_path, "public.n.csv", 'id,parent,emb\n1,,"[1,2]"\n2,,"[3,4]"\n')
    t = load(empty_db, tmp_path, ["public.n"]).table("public.n")
    assert (t.status, t.path, t.inserted) == ("loaded", "binary", 2), t
    assert query(empty_db, "SELECT id, parent FROM n ORDER BY id") == [(1, None), (2, None)]


def test_integer_float8_and_bool_columns_load_what_copy_loads(empty_db, tmp_path):
    """The C reader's own integer, float8 and bool fields (canonical spellings, range edges, a
    denormal, -0, NaN, the infinities, quoted values, NULLs) land as COPY's text input stores
    them, bit for bit."""
    cols = "i2 int2, i4 int4, i8 int8, f8 float8, b bool, emb vector(2)"
    sql(
        empty_db,
        f"CREATE TABLE x (id int PRIMARY KEY, {cols})",
        f"CREATE TABLE xref (id int PRIMARY KEY, {cols})",
    )
    data = (
        "id,i2,i4,i8,f8,b,emb\n"
        '1,-32768,2147483647,-9223372036854775808,4.9e-324,t,"[1,2]"\n'
        '2,32767,-2147483648,9223372036854775807,-0,FALSE,"[3,4]"\n'
        '3,007,+5,-0,0.30000000000000004,True,"[5,6]"\n'
        '4,,,,NaN,,"[7,8]"\n'
        '5,1,2,3,-Infinity,f,"[9,10]"\n'
        '6,"12","13","14","1e308","t","[1,1]"\n'
    )
    write(tmp_path, "public.x.csv", data)
    t = load(empty_db, tmp_path, ["public.x"]).table("public.x")
    assert (t.status, t.path, t.inserted) == ("loaded", "binary", 6), t
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        with conn.cursor().copy(
            "COPY xref (id, i2, i4, i8, f8, b, emb) FROM STDIN (FORMAT csv, HEADER true)"
        ) as cp:
            cp.write(data.encode())
    same = "SELECT id, i2, i4, i8, float8send(f8), b, emb::text FROM {} ORDER BY id"
    assert query(empty_db, same.format("x")) == query(empty_db, same.format("xref"))


def test_real_columns_hold_what_float4in_makes_of_every_spelling(empty_db, tmp_path):
    """A `real` column of a vector table is read by polars' Float32 cast (not by the C reader)
    when the encoder vouches for the whole block, by the server's float4in otherwise. For the
    float32 midpoints, subnormals, range edges and odd spellings the vector parser is tested
    with, every value float4in accepts loads bit for bit as COPY's text input stores it, by both
    routes (one rounding, as strtof: a parse to float64 first would round twice), and nothing
    float4in refuses loads at all."""
    import random

    import polars as pl
    from vectortexts import element

    from aria_tui.load import encoders

    rng = random.Random(17)
    texts = sorted({element(rng) for _ in range(3000)} - {""})
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        valid = conn.execute(
            "SELECT t, pg_input_is_valid(t, 'real') FROM unnest(%s::text[]) t", (texts,)
        ).fetchall()
    good = [t for t, ok in valid if ok]
    bad = [t for t, ok in valid if not ok]
    float4 = encoders.encoder_for(query_column(empty_db, "real"))
    assert float4 is not None

    def vouched(t: str) -> bool:
        try:
            float4(pl.Series([t]))
        except encoders.Unencodable:
            return False
        return True

    plain = [t for t in good if vouched(t)]  # the block goes straight in, polars' values
    assert len(good) > 1500 and len(bad) > 20 and len(plain) > 1000  # every kind is there
    for n, values in enumerate((plain, good)):
        table = f"r{n}"
        sql(empty_db, f"CREATE TABLE {table} (id int PRIMARY KEY, v real, emb vector(1))")
        sql(empty_db, f"CREATE TABLE {table}ref (id int PRIMARY KEY, v real, emb vector(1))")
        text = "id,v,emb\n" + "".join(f'{i},"{t}","[1]"\n' for i, t in enumerate(values))
        folder = tmp_path / table
        folder.mkdir()
        write(folder, f"public.{table}.csv", text)
        t = load(empty_db, folder, [f"public.{table}"]).table(f"public.{table}")
        assert (t.status, t.path, t.inserted) == ("loaded", "binary", len(values)), t
        with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
            copy = f"COPY {table}ref (id, v, emb) FROM STDIN (FORMAT csv, HEADER true)"
            with conn.cursor().copy(copy) as cp:
                cp.write(text.encode())
        same = "SELECT id, float4send(v) FROM {} ORDER BY id"
        assert query(empty_db, same.format(table)) == query(empty_db, same.format(table + "ref"))

    sql(empty_db, "CREATE TABLE rbad (id int PRIMARY KEY, v real, emb vector(1))")
    folder = tmp_path / "rbad"
    folder.mkdir()
    write(
        folder,
        "public.rbad.csv",
        "id,v,emb\n" + "".join(f'{i},"{t}","[1]"\n' for i, t in enumerate(bad)),
    )
    t = load(empty_db, folder, ["public.rbad"]).table("public.rbad")
    assert (t.inserted, t.rejected) == (0, len(bad)), t


def query_column(db: Target, typ: str):
    """The catalog's Column of a one-column table of type `typ` (what the loader would see)."""
    from aria_tui.pg.catalog import read_catalog

    sql(db, f"CREATE TABLE IF NOT EXISTS typeprobe (v {typ})")
    with psycopg.connect(db.conninfo) as conn:
        table = read_catalog(conn).get("public.typeprobe")
        assert table is not None
        return table.column("v")


# spellings PostgreSQL's date/time input reads other than polars' %Y-%m-%d would (a short first
# field is a month under DateStyle MDY, a two-digit year is 20xx/19xx) or refuses (a signed
# year); and the canonical ones beside them, which must still load
ODD_DATES = [
    ("date", "12-01-05"),
    ("date", "1-2-3"),
    ("date", "5-01-05"),
    ("date", "+2024-01-05"),
    ("date", "-0001-01-01"),
    ("date", "10000-01-01"),
    ("date", " 2024-01-05"),
    ("date", "2024-01-05"),
    ("timestamp", "12-01-05 10:00:00"),
    ("timestamp", "+2024-01-01 00:00:00"),
    ("timestamp", "2024-01-01T10:00:00"),
    ("timestamp", "2024-01-01 10:00:00.5"),
    ("timestamptz", "12-01-05 10:00:00+00"),
    ("timestamptz", "-0044-03-15 12:00:00+00"),
    ("timestamptz", "2024-01-01 10:00:00Z"),
    ("timestamptz", "2024-01-01 10:00:00+05:30"),
    ("timestamptz", "2024-01-01 10:00:00+0530"),
]


@pytest.mark.parametrize(("typ", "value"), ODD_DATES)
def test_date_and_time_columns_load_what_copy_loads_or_reject_what_it_refuses(
    empty_db, tmp_path, typ, value
):
    """A vector table's date / timestamp(tz) column (its blocks encoded on the client when the
    C reader declines them, by polars, else cast by the server): each spelling lands as COPY's
    text input stores it, or its record is rejected where COPY refuses it; never a third value.
    (Found by an adversarial pass: `12-01-05` stored as the year 12, `+2024-01-05` loaded.)"""
    cols = f"id int PRIMARY KEY, v {typ}, emb vector(2)"
    sql(empty_db, f"CREATE TABLE t ({cols})", f"CREATE TABLE tref ({cols})")
    data = f'id,v,emb\n1,"{value}","[1,2]"\n2,,"[3,4]"\n'
    write(tmp_path, "public.t.csv", data)
    t = load(empty_db, tmp_path, ["public.t"]).table("public.t")
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        refused = not conn.execute("SELECT pg_input_is_valid(%s, %s)", (value, typ)).fetchone()[0]
        if not refused:
            with conn.cursor().copy("COPY tref FROM STDIN (FORMAT csv, HEADER true)") as cp:
                cp.write(data.encode())
    assert t.path == "binary", t
    if refused:
        assert (t.inserted, t.rejected) == (1, 1), t
    else:
        assert (t.status, t.inserted, t.rejected) == ("loaded", 2, 0), t
    same = "SELECT id, v::text FROM {} ORDER BY id"
    assert query(empty_db, same.format("t")) == query(empty_db, same.format("tref")) or refused
    if refused:
        assert query(empty_db, same.format("t")) == [(2, None)]
