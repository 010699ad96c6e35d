"""csvio.parse_vectors / vector_binary_payloads: pgvector text in, float32 and binary COPY out."""

from __future__ import annotations

import struct

import polars as pl
import pytest

from aria_tui.csvio import parse_vectors, vector_binary_payloads


def f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def test_good_vectors_and_nulls() -> None:
    s = pl.Series(["[0.1,0.2,0.3]", None, "[1,-2.5e-3,3E2]", " [ 4 , 5,6 ] "])
    r = parse_vectors(s, 3)
    assert r.bad == {}
    assert r.values.dtype == pl.Array(pl.Float32, 3)
    assert r.values.to_list() == [
        [f32(0.1), f32(0.2), f32(0.3)],
        None,
        [1.0, f32(-0.0025), 300.0],
        [4.0, 5.0, 6.0],
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[1,2]", "expected 3 dimensions, got 2"),
        ("[1,2,3,4]", "expected 3 dimensions, got 4"),
        ("[1,x,3]", "malformed vector: 'x' is not a number"),
        ("[1,,3]", "malformed vector: '' is not a number"),
        ("[1,2,3,]", "malformed vector: '' is not a number"),
        ("1,2,3", "malformed vector: it must start with '['"),
        ("[1,2,3", "malformed vector: it must end with ']'"),
        ("[1,2,3]x", "malformed vector: it must end with ']'"),
        ("[]", "vector must have at least 1 dimension"),
        ("[NaN,1,2]", "NaN not allowed in a vector"),
        ("[1,nan,2]", "NaN not allowed in a vector"),
        ("[inf,1,2]", "Infinity not allowed in a vector"),
        ("[1,-Infinity,2]", "Infinity not allowed in a vector"),
        ("[1e40,1,2]", "value 1e40 is out of range for a vector (float4)"),
        ("[1_0,2,3]", "malformed vector: '1_0' is not a number"),
        ("[\u0661,2,3]", "malformed vector: '\u0661' is not a number"),  # Arabic-Indic one
    ],
)
def test_bad_vectors(text: str, reason: str) -> None:
    r = parse_vectors(pl.Series(["[7,8,9]", text, None]), 3)
    assert r.bad == {1: reason}
    assert r.values.to_list() == [[7.0, 8.0, 9.0], None, None]


def test_what_strtof_accepts_pgvector_accepts() -> None:
    r = parse_vectors(pl.Series(["[+1,.5,5.]", "[0x1p3,-0,1e-50]", "[3.4028235e38,1,2]"]), 3)
    assert r.bad == {}
    assert r.values.to_list() == [[1.0, 0.5, 5.0], [8.0, -0.0, 0.0], [f32(3.4028235e38), 1.0, 2.0]]


def test_no_dimension_check() -> None:
    r = parse_vectors(pl.Series(["[1,2]", "[3]", None, "[x]"]), None)
    assert r.bad == {3: "malformed vector: 'x' is not a number"}
    assert r.values.dtype == pl.List(pl.Float32)
    assert r.values.to_list() == [[1.0, 2.0], [3.0], None, None]
    same = parse_vectors(pl.Series(["[1,2]", "[3,4]"]), None)
    assert same.values.dtype == pl.Array(pl.Float32, 2)


def test_many_rows_with_a_few_bad_ones_keep_their_places() -> None:
    texts = [f"[{i},{i}.5]" for i in range(1000)]
    texts[10] = "[1,2,3]"
    texts[500] = "[1,NaN]"
    texts[999] = None
    r = parse_vectors(pl.Series(texts), 2)
    assert r.bad == {10: "expected 2 dimensions, got 3", 500: "NaN not allowed in a vector"}
    vals = r.values.to_list()
    assert vals[9] == [9.0, 9.5] and vals[11] == [11.0, 11.5] and vals[998] == [998.0, 998.5]
    assert vals[10] is None and vals[500] is None and vals[999] is None


def test_binary_payloads_are_pgvector_recv_format() -> None:
    r = parse_vectors(pl.Series(["[1,-2.5,3e-3]", None, "[0,0,1]"]), 3)
    payloads = vector_binary_payloads(r.values)
    assert payloads == [
        struct.pack(">hhfff", 3, 0, 1.0, -2.5, 3e-3),
        None,
        struct.pack(">hhfff", 3, 0, 0.0, 0.0, 1.0),
    ]


def test_binary_payloads_of_varying_dimensions() -> None:
    r = parse_vectors(pl.Series(["[1]", "[2,3]", None]), None)
    assert vector_binary_payloads(r.values) == [
        struct.pack(">hhf", 1, 0, 1.0),
        struct.pack(">hhff", 2, 0, 2.0, 3.0),
        None,
    ]


def test_binary_payloads_of_a_sliced_chunked_series() -> None:
    a = pl.Series([[float(i), float(i) + 0.25] for i in range(10)], dtype=pl.Array(pl.Float32, 2))
    chunked = pl.concat([a.slice(1, 3), a.slice(6, 2)], rechunk=False)
    assert vector_binary_payloads(chunked) == [
        struct.pack(">hhff", 2, 0, i, i + 0.25) for i in (1, 2, 3, 6, 7)
    ]


def test_copy_fields_are_binary_copy_fields_of_the_payloads() -> None:
    from aria_tui.csvio import NULL_FIELD, vector_copy_fields

    texts = ["[1,-2.5,3e-3]", None, "[1,2]", "[0x1p3, 1 ,2]", "[4,5,6]", "[NaN,1,2]"]
    r = vector_copy_fields(pl.Series(texts), 3)
    parsed = parse_vectors(pl.Series(texts), 3)
    assert (
        r.bad == parsed.bad == {2: "expected 3 dimensions, got 2", 5: "NaN not allowed in a vector"}
    )
    want = [
        NULL_FIELD if p is None else struct.pack(">i", len(p)) + p
        for p in vector_binary_payloads(parsed.values)
    ]
    assert r.fields == want
    assert r.fields[3] == struct.pack(">ihhfff", 16, 3, 0, 8.0, 1.0, 2.0)


def test_spaces_around_elements_are_read_in_bulk_like_the_rest() -> None:
    """'[1, 2, 3]' (Python's str(list)) is a vector to pgvector; thousands of rows of it must not
    go one by one through Python."""
    texts = [f"[{i}, {i}.5 ,\t{i}e-1 ]" for i in range(2000)] + [" [1,2,3] ", "[1,,2]"]
    r = parse_vectors(pl.Series(texts), 3)
    assert r.bad == {2001: "malformed vector: '' is not a number"}
    assert r.values[7].to_list() == [7.0, 7.5, f32(0.7)]
    assert r.values[2000].to_list() == [1.0, 2.0, 3.0]


def test_an_all_null_column_costs_nothing_and_stays_null() -> None:
    from aria_tui.csvio import NULL_FIELD, vector_copy_fields

    s = pl.Series([None] * 5, dtype=pl.String)
    assert vector_copy_fields(s, 3).fields == [NULL_FIELD] * 5
    assert parse_vectors(s, 3).values.to_list() == [None] * 5
    assert parse_vectors(pl.Series([], dtype=pl.String), 3).values.to_list() == []


def test_float4_rounding_is_strtof_rounding() -> None:
    """One correct rounding to float4, as strtof does: not float() then a float4 pack, which
    rounds twice (1 + 2**-24 + 2**-70 is above the midpoint: strtof rounds up)."""
    text = "1.00000005960464477539147203294725430033906832250067964196205"
    up = struct.unpack("f", struct.pack("I", 0x3F800001))[0]
    for vector in (f"[{text}]", f"[ {text} ]", f"[{text},0x1p0]"):
        r = parse_vectors(pl.Series([vector]), None)
        assert r.values[0].to_list()[0] == up, vector


@pytest.mark.parametrize(
    ("text", "bits"),
    [
        ("[0x1.000001000000000001p0]", 0x3F800001),  # just above a midpoint: rounds up once
        ("[0x1.fffffefffffffffffp127]", 0x7F7FFFFF),  # just below overflow: the largest float4
        ("[-0x1.8p3]", 0xC1400000),
        ("[0x1p-149]", 0x00000001),
        ("[0x1p-151]", 0x00000000),
    ],
)
def test_hex_floats_are_rounded_once_as_strtof_does(text: str, bits: int) -> None:
    r = parse_vectors(pl.Series([text]), 1)
    assert r.bad == {}
    assert struct.pack(">f", r.values.to_list()[0][0]) == struct.pack(">I", bits)


@pytest.mark.parametrize("text", ["[0x1p99999]", "[0x1p128]", "[0x1.ffffffp127]"])
def test_hex_overflow_is_a_reason_not_a_crash(text: str) -> None:
    r = parse_vectors(pl.Series([text]), 1)
    assert r.bad == {0: f"value {text[1:-1]} is out of range for a vector (float4)"}
