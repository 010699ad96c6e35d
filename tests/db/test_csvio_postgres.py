"""csvio against the real thing: the same bytes through PostgreSQL's COPY and through csvio.

Uses the session's embedded server (conftest `empty_db`: a fresh database with pgvector).
"""

from __future__ import annotations

import gzip
import random
import struct
from pathlib import Path

import polars as pl
import psycopg
import pytest
from csvcases import BAD, GOOD
from psycopg import sql

from aria_tui.csvio import (
    Header,
    check_structure,
    count_records,
    iter_batches,
    parse_vectors,
    read_header,
    vector_binary_payloads,
)


def pg_copy(conn: psycopg.Connection, data: bytes, ncols: int) -> list[tuple] | str:
    """Rows PostgreSQL reads from `data` with COPY ... (FORMAT csv, HEADER true), or its error."""
    cols = [sql.Identifier(f"c{i}") for i in range(ncols)]
    with conn.transaction():
        conn.execute("DROP TABLE IF EXISTS t")
        conn.execute(
            sql.SQL("CREATE TABLE t (n bigserial, {})").format(
                sql.SQL(", ").join(sql.SQL("{} text").format(c) for c in cols)
            )
        )
    try:
        with (
            conn.transaction(),
            conn.cursor().copy(
                sql.SQL("COPY t ({}) FROM STDIN (FORMAT csv, HEADER true)").format(
                    sql.SQL(", ").join(cols)
                )
            ) as cp,
        ):
            cp.write(data)
    except psycopg.Error as exc:
        return f"error: {exc.diag.message_primary}"
    # prepare=False: t is recreated with other columns each time, a cached plan would not fit
    rows = conn.execute("SELECT * FROM t ORDER BY n", prepare=False).fetchall()
    return [r[1:] for r in rows]


def ours(path: Path) -> list[tuple] | str:
    h = read_header(path)
    assert isinstance(h, Header)
    problem = check_structure(path, h)
    if problem is not None:
        return f"problem: {problem.sentence()}"
    rows: list[tuple] = []
    for b in iter_batches(path, h):
        rows += b.frame.rows()
    assert count_records(path) == len(rows)
    return rows


@pytest.fixture
def conn(empty_db):
    with psycopg.connect(empty_db.conninfo, autocommit=True) as c:
        yield c


def test_same_rows_as_copy(conn, tmp_path: Path) -> None:
    for name, (data, rows, _lines) in GOOD.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(data)
        h = read_header(path)
        assert isinstance(h, Header)
        assert pg_copy(conn, data, len(h.columns)) == rows == ours(path), name


def test_copy_refuses_what_check_structure_reports(conn, tmp_path: Path) -> None:
    for name, (data, problem) in BAD.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(data)
        ncols = data.split(b"\n")[0].rstrip(b"\r").count(b",") + 1
        assert pg_copy(conn, data, ncols).startswith("error: "), name
        assert ours(path) == f"problem: {problem.sentence().replace('t.csv', path.name)}", name


def test_reads_what_copy_to_wrote(conn, tmp_path: Path) -> None:
    """Random nasty values written by PostgreSQL's own COPY TO, read back by csvio."""
    rng = random.Random(11)
    pieces = ["", "a", "b,c", 'q"q', "line\nbreak", "cr\r\nlf", '""', "\\.", "é", " s ", "\t"]
    values = [
        (
            i,
            None if rng.random() < 0.2 else "".join(rng.choices(pieces, k=rng.randint(0, 4))),
            None if rng.random() < 0.2 else "".join(rng.choices(pieces, k=rng.randint(0, 4))),
        )
        for i in range(500)
    ]
    conn.execute("CREATE TABLE src (id int, a text, b text)")
    with conn.cursor().copy("COPY src FROM STDIN") as cp:
        for row in values:
            cp.write_row(row)
    out = bytearray()
    with conn.cursor().copy("COPY src TO STDOUT (FORMAT csv, HEADER true)") as cp:
        for chunk in cp:
            out += chunk
    path = tmp_path / "src.csv"
    path.write_bytes(bytes(out))
    expected = [(str(i), a, b) for i, a, b in values]
    assert ours(path) == expected


def test_odd_files_read_as_copy_reads_them(conn, tmp_path: Path) -> None:
    """Quotes, carriage returns and short rows where a hand editor or another tool puts them:
    PostgreSQL's reading (or refusal) wins. Each of these cells once fooled a faster check."""
    rng = random.Random(5)
    cells = [
        '"a"', 'x"y"z', '""', "", '"b,c"', 'say "hi"', '"q""q"', '"m\nn"', "p", 'a"\n"b',
        '"r\r\ns"', "z\r", "l\rm", '"l\rm"', "\ufeffb", '""""', 'a""', '"a"b', "\\.", ",",
    ]  # fmt: skip
    for k in range(60):
        ncols = rng.randint(1, 3)
        eol = rng.choice(["\n", "\n", "\r\n", "\r"])
        lines = [",".join(f"h{i}" for i in range(ncols))]
        for _ in range(rng.randint(0, 5)):
            width = rng.choice([ncols, ncols, ncols, ncols - 1, ncols + 1]) or 1
            lines.append(",".join(rng.choices(cells, k=width)))
        data = (eol.join(lines) + rng.choice([eol, ""])).encode()
        path = tmp_path / f"odd{k}.csv"
        path.write_bytes(data)
        expected = pg_copy(conn, data, ncols)
        got = ours(path)
        if isinstance(expected, str):
            assert isinstance(got, str) and got.startswith("problem: "), (data, expected, got)
        else:
            assert got == expected, data
            gz = tmp_path / f"odd{k}.csv.gz"
            gz.write_bytes(gzip.compress(data))
            assert ours(gz) == expected, data


def test_vectors_as_pgvector_reads_them(conn) -> None:
    texts = [
        "[1,2,3]",
        " [ 1 ,\t2\n, 3 ] ",
        "[+1,.5,5.]",
        "[0x1p3,1,2]",
        "[1.17549435e-38,2,3]",
        "[0.1,0.2,0.30000001]",
        "[1,2]",
        "[NaN,1,2]",
        "[1,x,3]",
        "[]",
        "[1e40,1,1]",
        "[inf,1,2]",
        "[1,,3]",
        "[1,2,3]x",
        "[1_0,2,3]",
    ]
    parsed = parse_vectors(pl.Series(texts), 3)
    payloads = vector_binary_payloads(parsed.values)
    for i, text in enumerate(texts):
        try:
            got = conn.execute("SELECT %s::vector(3)::text", (text,)).fetchone()[0]
        except psycopg.Error:
            assert i in parsed.bad, text
            continue
        assert i not in parsed.bad, (text, parsed.bad.get(i))
        want = [struct.unpack("f", struct.pack("f", float(x)))[0] for x in got[1:-1].split(",")]
        assert parsed.values[i].to_list() == want, text
        assert payloads[i] == struct.pack(">hh3f", 3, 0, *want), text
