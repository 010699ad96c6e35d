"""Adversarial audit of the export files themselves (CSV structure, quoting, folder contents):
each test asserts the HONEST outcome and fails on the current code. The oracle is PostgreSQL's own
reading of the file (`COPY ... (FORMAT csv, HEADER true)` into text columns)."""

from __future__ import annotations

import os

import psycopg
from auditkit import export, load, query, sql, validate

from aria_tui.csvio import native


def pg_reading(db, data: bytes, ncols: int):
    """What PostgreSQL's COPY makes of `data`: its rows (text), or the error it refuses it with."""
    cols = ", ".join(f"c{i} text" for i in range(ncols))
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE TEMP TABLE _pg ({cols})")
        try:
            with conn.cursor() as cur, cur.copy(
                "COPY _pg FROM STDIN (FORMAT csv, HEADER true)"
            ) as copy:
                copy.write(data)
        except psycopg.Error as exc:
            return type(exc).__name__
        return conn.execute("SELECT * FROM _pg").fetchall()


def _filler(first: int, last: int, vector: bool = False) -> bytes:
    """Plain records, enough bytes (> 4 MB) that what follows lands in another csvio block."""
    tail = b',"[1,2]"' if vector else b""
    return b"".join(b"%d,filler %d,%s%s\n" % (i, i, b"x" * 60, tail) for i in range(first, last))


# -- 1. a last record without its terminator ----------------------------------------------------


def test_unterminated_last_record_ragged_for_postgres_is_loaded_with_invented_values(
    empty_db, cli, tmp_path
):
    """The file's last record, with no final newline, is `2,x",""y"`. PostgreSQL reads ONE field
    after the id (`x,"y`: a quote opens mid-field, `""` is a quote, the last `"` closes) and
    refuses the record: 2 fields, the header has 3. csvio's polars reading (proven_frame) reads
    three fields ('2', 'x"', 'y') and its byte-count check (_verify) balances, so the loader
    (records mode after the raw COPY fails) inserts invented values and validate (by_record,
    the same reader) calls the file proven, exit 0, without any decision.
    Honest: the record is rejected (csv_rows 2 = inserted 1 + rejected 1) and validate is red."""
    data = b'id,a,b\n1,p,q\n2,x",""y"'
    assert pg_reading(empty_db, data, 3) == "BadCopyFileFormat"  # PostgreSQL refuses record 2
    folder = export(tmp_path, {"public.t.csv": data})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, a text, b text)")
    code, res = load(cli, empty_db, folder)
    (t,) = res["tables"]
    stored = query(empty_db, "SELECT id, a, b FROM public.t ORDER BY id")
    vcode, v = validate(cli, empty_db, folder, tmp_path)
    assert (vcode, t["inserted"], t["rejected"], stored) == (1, 1, 1, [(1, "p", "q")]), (
        v["headline"],
        t,
    )


# -- 2. polars' reading "proven" by byte counts that a misreading balances -----------------------

# `""z"",z"z"`: PostgreSQL reads ('z', 'zz') (a quote opens a quoted part wherever it stands);
# polars keeps the second value literally ('z"z"') and the first reading's extra doubled quotes
# balance _verify's pair count, so cutter.proven_frame vouches for it.
PAIR_2COL = b'1,""z"",z"z"\n'


def test_polars_misreading_loaded_and_proven_on_a_vector_table(empty_db, cli, tmp_path):
    """Default configuration (C extension built). A vector table's block holds record 1
    (PAIR_2COL) and record 2 with a wrong-dimension vector; ~6 MB later a ragged record. The
    C reader reads block 1 right but returns None because record 2 must be rejected, so the
    block is re-read by polars, which misreads record 1: the target gets b = 'z"z"', PostgreSQL's
    reading is 'zz'. The ragged record makes the server's COPY refuse the file, so validate splits
    records with the same polars reading and finds them equal: with the two rejects accepted
    (the bad vector and the ragged row, and nothing else) validate says proven, exit 0.
    Honest: b = 'zz' in the target, or validate reports record 1 as differing (red)."""
    data = (
        b"id,a,b,emb\n"
        + PAIR_2COL.replace(b"\n", b',"[1,2]"\n')
        + b'2,p,q,"[1,2,3]"\n'
        + _filler(10, 70_000, vector=True)
        + b"999999,ragged\n"
    )
    rows = pg_reading(empty_db, data.replace(b"999999,ragged\n", b""), 4)
    assert rows[0] == ("1", "z", "zz", "[1,2]")  # PostgreSQL's reading of record 1
    folder = export(tmp_path, {"public.t.csv": data})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, a text, b text, emb vector(2))")
    load(cli, empty_db, folder)
    stored = query(empty_db, "SELECT a, b FROM public.t WHERE id = 1")
    vcode, v = validate(cli, empty_db, folder, tmp_path, "--accept-rejects", "public.t")
    assert stored == [("z", "zz")] or vcode == 1, (stored, v["headline"])


def test_polars_misreading_of_a_clean_one_column_file_proven_without_c_extension(
    empty_db, cli, tmp_path, monkeypatch
):
    """Without the C extension (a supported install: "reads the same rows with polars"). A
    one-column file PostgreSQL reads whole and cleanly: a quoted multi-line value holding a
    `\\.` line (data), ~6 MB of plain records, then `""z""` and `z"z"` (PostgreSQL: 'z', 'zz').
    The `\\.` sends the load to csvio's record reading and validate to its by_record split
    (stage(): _marker_line), both polars where no marker is: the target gets 'z"z"' and
    validate says proven, exit 0, with no reject and no decision.
    Honest: the target holds PostgreSQL's value 'zz' (and validate passes), or validate is red."""
    monkeypatch.setattr(native, "_MODULE", None)
    data = (
        b'v\n"first\n\\.\nvalue"\n'
        + b"".join(b"filler %d %s\n" % (i, b"x" * 60) for i in range(80_000))
        + b'""z""\nz"z"\nlast\n'
    )
    assert pg_reading(empty_db, data, 1)[-2:] == [("zz",), ("last",)]
    folder = export(tmp_path, {"public.t.csv": data})
    sql(empty_db, "CREATE TABLE public.t (v text)")
    load(cli, empty_db, folder)
    stored = query(empty_db, "SELECT v FROM public.t WHERE v LIKE 'z%' ORDER BY v")
    vcode, v = validate(cli, empty_db, folder, tmp_path)
    assert stored == [("z",), ("zz",)] or vcode == 1, (stored, v["headline"])


def test_polars_misreading_in_validate_by_record_is_a_false_red(empty_db, cli, tmp_path):
    """FALSE RED (lower priority). Default configuration, plain table: the load reads record 1
    (PAIR_2COL) with the C reader and stores PostgreSQL's value b = 'zz'; a ragged record ~6 MB
    later makes validate split records itself (by_record), with polars, which misreads record 1
    as 'z"z"': validate reports "1 record of the export differs from the target" for a record
    that was loaded exactly. Honest: with the one ragged reject accepted, validate is green."""
    data = b"id,a,b\n" + PAIR_2COL + _filler(10, 90_000) + b"999999,ragged\n"
    folder = export(tmp_path, {"public.t.csv": data})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, a text, b text)")
    code, res = load(cli, empty_db, folder)
    assert res["tables"][0]["rejected"] == 1
    assert query(empty_db, "SELECT a, b FROM public.t WHERE id = 1") == [("z", "zz")]
    vcode, v = validate(cli, empty_db, folder, tmp_path, "--accept-rejects", "public.t")
    assert vcode == 0, v["headline"]


# -- 3. an export file that is there by name and unreadable ---------------------------------------


def test_dangling_symlink_export_file_is_silently_ignored(empty_db, cli, tmp_path):
    """`public.t.csv` in the export folder is a symlink whose target is gone (an unmounted
    volume, a failed copy). csvio.files.discover skips it ("nothing to load"): scan lists one
    file, load exits 0 and validate says "Proven: all 1 records of the 1 validated files", exit 0,
    while a whole table of the export was never read. Honest: the file is named and red
    (unreadable), as a 0-byte or damaged .csv.gz is."""
    folder = export(tmp_path, {"public.a.csv": b"id\n1\n"})
    os.symlink(tmp_path / "gone" / "public.t.csv", folder / "public.t.csv")
    sql(empty_db, "CREATE TABLE public.a (id int PRIMARY KEY)", "CREATE TABLE public.t (id int)")
    load(cli, empty_db, folder)
    vcode, v = validate(cli, empty_db, folder, tmp_path)
    assert vcode == 1 and v["ok"] is False, v["headline"]
    assert any(t["file"] == "public.t.csv" for t in v["tables"]), v["tables"]
