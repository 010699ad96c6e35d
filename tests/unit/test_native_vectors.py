"""The C vector parser (csvio/native_c/decimal.c): what it vouches for is bit-for-bit strtof's float32 (what
pgvector's vector_in stores), and whatever it defers, the tiers read exactly as without it."""

from __future__ import annotations

import ctypes
import random
import struct
import sys

import polars as pl
import pytest
from vectortexts import PAD, element, windowed

from aria_tui.csvio import native as native_mod
from aria_tui.csvio import vector_binary, vectors

native = pytest.importorskip(
    "aria_tui.csvio._native", reason="the C extension was not built (no compiler at install)"
)

_libc = ctypes.CDLL(None)
_strtof = _libc.strtof
_strtof.restype = ctypes.c_float
_strtof.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]


def strtof_bits(text: str) -> bytes:
    """glibc's strtof (correctly rounded; pgvector calls it) as big-endian float4 bytes."""
    return struct.pack(">f", _strtof(text.encode(), None))


def shortest_float4(x: float) -> str:
    f = struct.unpack("f", struct.pack("f", x))[0]
    for digits in range(1, 10):
        text = f"{f:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == f:
            return text
    raise AssertionError(x)


def _x87() -> bool:
    import platform

    return platform.machine() in ("x86_64", "AMD64", "i686")


def elements(field: bytes) -> list[bytes]:
    length, dim = struct.unpack(">ih", field[:6])
    assert length == 4 + 4 * dim and len(field) == 4 + length
    return [field[8 + 4 * k : 12 + 4 * k] for k in range(dim)]


def random_element(rng: random.Random) -> str:
    """Decimals the way exports spell them, and the awkward ones around them."""
    kind = rng.randrange(8)
    if kind == 0:  # PostgreSQL's float4 output: the shortest text that reads back exactly
        f = struct.unpack("f", struct.pack("I", rng.randrange(0x00800000, 0x7F000000)))[0]
        return f"{f:.9g}".replace("e+", "e") if rng.random() < 0.5 else repr(f)
    if kind == 1:  # embedding-like values
        return repr(struct.unpack("f", struct.pack("f", rng.gauss(0, 0.05)))[0])
    if kind == 2:  # many digits: past 2^53 or 19 significant digits, deferred
        return "0." + "".join(rng.choice("0123456789") for _ in range(rng.randrange(10, 30)))
    if kind == 3:  # exponents near and past the fast path's range
        return f"{rng.randrange(1, 10**rng.randrange(1, 9))}e{rng.randrange(-50, 50)}"
    if kind == 4:  # signs, leading zeros, bare points
        return rng.choice(["+", "-", ""]) + rng.choice(
            ["0", "00.5", "5.", ".5", "0.000", "-0", "1.e3", "007", "0e999"]
        )
    if kind == 5:  # near float32's limits
        return rng.choice(["3.4028235e38", "3.4028236e38", "1.1754944e-38", "1.4e-45", "1e-40"])
    if kind == 6:
        return str(rng.randrange(0, 1 << 60))
    return f"{rng.uniform(-1e6, 1e6):.{rng.randrange(0, 17)}f}"


def test_every_element_it_reads_is_strtofs_float32() -> None:
    rng = random.Random(20261122)
    texts = [random_element(rng) for _ in range(60_000)]
    fields, deferred = native.copy_fields([f"[{t}]" for t in texts], 1)
    read, skip = 0, set(deferred)
    for i, (text, field) in enumerate(zip(texts, fields, strict=True)):
        if i in skip:
            continue
        read += 1
        assert elements(field) == [strtof_bits(text)], text
    assert read > 20_000  # half the kinds above are meant to be deferred


def test_long_rows_take_the_fast_reading_and_it_agrees() -> None:
    """Elements with room after them (all but the last few of a row) are read eight digits at a
    time; what that reading accepts and the value it gives must be the careful reading's."""
    rng = random.Random(99)
    texts = [random_element(rng) for _ in range(40_000)]
    _, deferred = native.copy_fields([f"[{t}]" for t in texts], 1)
    skip = set(deferred)
    readable = [t for i, t in enumerate(texts) if i not in skip]
    unreadable = [texts[i] for i in deferred]
    rows = [readable[k : k + 64] for k in range(0, len(readable) - 64, 64)]
    fields, deferred = native.copy_fields(["[" + ",".join(r) + "]" for r in rows], 64)
    assert deferred == []
    for row, field in zip(rows, fields, strict=True):
        assert elements(field) == [strtof_bits(t) for t in row], row
    # and one element it cannot vouch for, anywhere in a long row, defers the row
    mixed = []
    for k, bad in enumerate(unreadable[:500]):
        row = list(rows[k % len(rows)])
        row[rng.randrange(64)] = bad
        mixed.append("[" + ",".join(row) + "]")
    assert native.copy_fields(mixed, 64)[1] == list(range(len(mixed)))


def test_every_width_and_point_place_of_the_16_byte_reading() -> None:
    """The 16-byte reader (at most 16 digits and a point): every digit count and point position,
    each element with room after it, agrees with strtof or defers; and it is not the careful
    reader doing all the work: short plain elements are never deferred."""
    rng = random.Random(16)
    texts = [windowed(rng) for _ in range(20_000)] + [element(rng) for _ in range(20_000)]
    fields, deferred = native.copy_fields([f"[{t}{PAD}]" for t in texts], 0)
    skip = set(deferred)
    for i, (text, field) in enumerate(zip(texts, fields, strict=True)):
        if i not in skip:
            assert elements(field)[0] == strtof_bits(text), text
    # up to 7 digits: exact in float32 or between 1e-7 and 1 (no midpoint there has so few)
    plain = [i for i, t in enumerate(texts[:20_000]) if 0 < len(t.strip("+-").replace(".", "")) <= 7]
    assert len(plain) > 5000 and not skip & set(plain)


def test_shortest_float4_text_is_almost_never_deferred() -> None:
    """What PostgreSQL's COPY TO writes (the shortest text that reads back as the same float4),
    and what Python writes for a float64 (17 digits), as embeddings come in both."""
    rng = random.Random(7)
    floats = [rng.gauss(0, 0.05) for _ in range(1536 * 40)]
    rows = [
        "[" + ",".join(shortest_float4(x) for x in chunk) + "]"
        for chunk in (floats[k : k + 1536] for k in range(0, len(floats), 1536))
    ]
    if struct.calcsize("P") == 8 and sys.platform == "linux" and _x87():
        rows += [
            "[" + ",".join(repr(x) for x in chunk) + "]"
            for chunk in (floats[k : k + 1536] for k in range(0, len(floats), 1536))
        ]
    fields, deferred = native.copy_fields(rows, 1536)
    assert deferred == []
    for row, field in zip(rows, fields, strict=True):
        assert b"".join(elements(field)) == b"".join(strtof_bits(t) for t in row[1:-1].split(","))


@pytest.mark.parametrize(
    "text",
    [
        "4.04126171815733e-06",  # its nearest double is exactly a float32 midpoint
        "1.44703069455437e+19",  # the same, upwards
        "1e28",  # 10^28 is exact in no type the parser uses
        "12345678901234567890",  # 20 significant digits
        "1e-39",  # subnormal float32
        "3.5e38",  # overflows float4: the tiers give pgvector's reason
        "nan",
        "inf",
        "0x1p3",
        " 1",
        "1 ",
        "1e",
        "1e+",
        "--1",
        "",
        "1..2",
    ],
)
def test_what_it_cannot_prove_it_defers(text: str) -> None:
    fields, deferred = native.copy_fields([f"[{text}]"], 1)
    assert deferred == [0] and fields == [vector_binary.NULL_FIELD]


@pytest.mark.parametrize(
    "row",
    ["1,2", "[1,2", "1,2]", "[]", "[,]", "[1,,2]", "[1,2,]", "[,1,2]", "[1;2]", "[[1,2]]", "[1,2] "],
)
def test_rows_it_cannot_read_are_deferred(row: str) -> None:
    assert native.copy_fields([row], 0)[1] == [0]
    assert native.copy_fields([row], 2)[1] == [0]


def test_dimension_nulls_and_any_dimension() -> None:
    fields, deferred = native.copy_fields(["[1,2,3]", None, "[1,2]", b"[4,5,6]"], 3)
    assert deferred == [2]
    assert fields[1] == vector_binary.NULL_FIELD
    assert fields[0] == struct.pack(">ihh3f", 16, 3, 0, 1, 2, 3)
    assert fields[3] == struct.pack(">ihh3f", 16, 3, 0, 4, 5, 6)
    fields, deferred = native.copy_fields(["[1,2,3]", "[7]", None], 0)
    assert deferred == []
    assert fields[:2] == [struct.pack(">ihh3f", 16, 3, 0, 1, 2, 3), struct.pack(">ihhf", 8, 1, 0, 7)]


def test_more_than_pgvectors_16000_dimensions_is_deferred_for_its_reason() -> None:
    row = "[" + ",".join(["1"] * 16001) + "]"
    assert native.copy_fields([row], 0)[1] == [0]
    r = vectors.vector_copy_fields(pl.Series([row]), None)
    assert 0 in r.bad


def test_native_and_tiers_give_the_same_fields_and_reasons(monkeypatch) -> None:
    """The loader's answer does not depend on whether the extension was built."""
    rng = random.Random(3)
    rows: list[str | None] = []
    for _ in range(3000):
        n = rng.choice([3, 3, 3, 2, 4])
        els = [random_element(rng) for _ in range(n)]
        sep = rng.choice([",", ",", ",", ", "])
        rows.append(rng.choice(["[{}]", "[{}]", " [{}] ", "{}"]).format(sep.join(els)))
    rows += [None, "[nan,1,2]", "[1,2,1e39]", "[0x1p-2,1,2]", "[1,2,3,4]", "[]"]
    series = pl.Series(rows, dtype=pl.String)
    with_native = vectors.vector_copy_fields(series, 3)
    monkeypatch.setattr(native_mod, "_MODULE", None)
    assert native_mod.name() == "polars"
    without = vectors.vector_copy_fields(series, 3)
    assert with_native.bad == without.bad and len(without.bad) > 100
    assert with_native.fields == without.fields


def test_parsing_lets_other_threads_run() -> None:
    """Two encoding threads parse two blocks at once: the parse loop releases the GIL."""
    import threading
    import time

    row = "[" + ",".join(["0.123456"] * 1536) + "]"
    rows = [row] * 2000
    ticks = 0
    stop = threading.Event()

    def tick() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0)

    t = threading.Thread(target=tick)
    t.start()
    try:
        switch = sys.getswitchinterval()
        sys.setswitchinterval(1.0)  # a thread holding the GIL would keep it for a whole second
        try:
            before = ticks
            native.copy_fields(rows, 1536)  # ~3 M elements: tens of milliseconds
            during = ticks - before
        finally:
            sys.setswitchinterval(switch)
    finally:
        stop.set()
        t.join()
    assert during > 10
