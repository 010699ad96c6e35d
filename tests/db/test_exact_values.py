"""Values exactly as the target's input functions take them, or rejected (issue 16, item 2): no
truncating or padding cast on the staging path, no underflow to zero on the binary path, and an
extension type without soft errors rejects its bad values one by one."""

from __future__ import annotations

import csv

import pytest
from loadkit import assert_counts_add_up, load, query, sql, write


def _rejects(path: str | None) -> dict[int, str]:
    if path is None:
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        return {int(r[0]): r[1] for r in list(csv.reader(fh))[1:]}


# (force_staging, with a vector column): the fast COPY, the text stage, the binary stage
PATHS = [(False, False), (True, False), (False, True)]
IDS = ["fast-then-stage", "text-stage", "binary-stage"]


def _table(db, name: str, cols: str, vector: bool) -> None:
    sql(db, f"CREATE TABLE {name} (id int PRIMARY KEY, {cols}{', emb vector(2)' if vector else ''})")


def _csv(header: str, rows: list[str], vector: bool) -> str:
    if vector:
        header += ",emb"
        rows = [r + ',"[1,2]"' for r in rows]
    return header + "\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize(("force_staging", "vector"), PATHS, ids=IDS)
def test_no_truncating_or_padding_casts(empty_db, tmp_path, force_staging, vector):
    sql(
        empty_db,
        "CREATE DOMAIN short3 AS varchar(3)",
        "CREATE DOMAIN short3s AS varchar(3)[]",
    )
    _table(empty_db, "v", "a varchar(3)[], d short3, b bit(4)[], s short3s, n numeric(5,2)[]", vector)
    rows = [
        '1,{abc},abc,{1010},{ab},"{1.005,2}"',  # fits (numeric rounds, as its input does)
        "2,{abcdef},,,,",  # varchar(3)[] would keep {abc}
        "3,,abcdef,,,",  # the domain over varchar(3) would keep abc
        "4,,,{101},,",  # bit(4)[] would pad to {1010}
        "5,,,,{abcd},",  # a domain over varchar(3)[]
        '6,"{""ab ""}",ab ,{0000},{x},',  # fits
    ]
    write(tmp_path, "public.v.csv", _csv("id,a,d,b,s,n", rows, vector))
    result = load(empty_db, tmp_path, force_staging=force_staging)
    t = result.tables[0]
    assert_counts_add_up(result)
    assert (t.inserted, t.rejected) == (2, 4), t
    rejects = _rejects(t.reject_file)
    assert sorted(rejects) == [3, 4, 5, 6], rejects
    assert "too long" in rejects[3] and "too long" in rejects[4] and "too long" in rejects[6]
    assert "bit string length 3 does not match type bit(4)" in rejects[5]
    got = query(empty_db, "SELECT id, a::text, d, b::text, s::text, n::text FROM v ORDER BY id")
    assert got == [
        (1, "{abc}", "abc", "{1010}", "{ab}", "{1.01,2.00}"),
        (6, '{"ab "}', "ab ", "{0000}", "{x}", None),
    ]


@pytest.mark.parametrize(("force_staging", "vector"), PATHS, ids=IDS)
def test_float_underflow_is_rejected_not_zero(empty_db, tmp_path, force_staging, vector):
    _table(empty_db, "f", "r real, d double precision", vector)
    rows = [
        "1,0,0",
        "2,1e-50,",  # below real's range: float4in says out of range
        "3,,1e-400",  # below double's
        "4,-0.000,0e5",  # zeros spelled otherwise are zeros
        "5,1.5e-45,4.9e-324",  # the smallest subnormals: in range
        "6,0.0000000000000000000000000000000000000000000000000001,",  # underflow too
    ]
    write(tmp_path, "public.f.csv", _csv("id,r,d", rows, vector))
    result = load(empty_db, tmp_path, force_staging=force_staging)
    t = result.tables[0]
    assert_counts_add_up(result)
    rejects = _rejects(t.reject_file)
    assert sorted(rejects) == [3, 4, 7], (t, rejects)
    assert all("out of range" in why for why in rejects.values()), rejects
    got = query(empty_db, "SELECT id, r::float8, d FROM f ORDER BY id")
    assert [g[0] for g in got] == [1, 4, 5]
    assert got[0][1:] == (0.0, 0.0) and got[1][1:] == (0.0, 0.0)
    assert got[2][1] > 0 and got[2][2] == 5e-324


@pytest.mark.parametrize("vector", [False, True], ids=["staging", "binary"])
def test_extension_type_without_soft_errors_rejects_one_record(empty_db, tmp_path, vector):
    """pgvector's sparsevec input has no soft errors: pg_input_is_valid raises on a bad literal,
    which must not fail the whole file."""
    _table(empty_db, "sv", "v sparsevec(2)", vector)
    rows = ['1,"{1:1,2:2}/2"', '2,"{1:hello,2:1}/2"', '3,"{2:5}/2"', '4,"{1:1}/3"']
    write(tmp_path, "public.sv.csv", _csv("id,v", rows, vector))
    result = load(empty_db, tmp_path)
    t = result.tables[0]
    assert t.status == "loaded", t
    assert_counts_add_up(result)
    assert (t.inserted, t.rejected) == (2, 2), t
    assert sorted(_rejects(t.reject_file)) == [3, 5]
    assert query(empty_db, "SELECT id, v::text FROM sv ORDER BY id") == [
        (1, "{1:1,2:2}/2"),
        (3, "{2:5}/2"),
    ]
