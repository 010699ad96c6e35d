"""The C reader's binary fields for integers, float8 and bool against PostgreSQL's own input
functions: every value it encodes is stored exactly as `'text'::type` would store it (bit for
bit: float8send), and every value the server refuses as text it declines. A value it declines
that the server reads is fine (the block then goes the polars way, or the staging table)."""

from __future__ import annotations

import random

import psycopg
import pytest

from aria_tui.csvio import native

c = pytest.importorskip(
    "aria_tui.csvio._native", reason="the C extension was not built (no compiler at install)"
)

KINDS = {
    "int2": native.ColumnKind.INT2,
    "int4": native.ColumnKind.INT4,
    "int8": native.ColumnKind.INT8,
    "float8": native.ColumnKind.FLOAT8,
    "bool": native.ColumnKind.BOOL,
}
SEND = {"int2": "int2send", "int4": "int4send", "int8": "int8send", "float8": "float8send", "bool": "boolsend"}


def _corpus(rng: random.Random) -> list[str]:
    values = [
        "0", "-0", "+0", "007", "-32768", "32767", "32768", "-32769", "2147483647", "2147483648",
        "-2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "99999999999999999999", " 1", "1 ", "1_000",
        "0x1A", "0o17", "0b101", "1.0", "1e3", ".5", "5.", ".", "e5", "1e", "1e+", "-", "+",
        "NaN", "nan", "Infinity", "-Infinity", "inf", "-inf", "+Infinity", "1e308", "1.8e308",
        "1e-400", "4.9e-324", "2.2250738585072014e-308", "0.1", "0.30000000000000004",
        "123456789012345678901234567890", "0x1p3", "--1", "+.5e-3", "1E5", "1e+05",
        "t", "f", "true", "false", "TRUE", "False", "yes", "no", "on", "off", "1", "tr", "",
    ]  # fmt: skip
    for _ in range(400):
        x = rng.choice([rng.uniform(-1, 1), rng.uniform(-1e9, 1e9), rng.random() * 10.0 ** rng.randrange(-320, 308)])
        values.append(rng.choice([repr(x), f"{x:.17g}", f"{x:.9e}", f"{x:.4f}", str(round(x))]))
        values.append(str(rng.randrange(-(1 << rng.choice([7, 15, 31, 63])), 1 << rng.choice([7, 15, 31, 63]))))
    return values


@pytest.mark.parametrize("typ", sorted(KINDS))
def test_what_c_encodes_is_what_the_server_reads(empty_db, typ) -> None:
    kind = KINDS[typ]
    values = _corpus(random.Random(typ))
    encoded = 0
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        for value in values:
            got = c.read_records(f'"{value}"\n'.encode(), 1, False, (kind,), False)
            field = got[2][0][0] if got is not None else None
            try:
                want = conn.execute(f"SELECT {SEND[typ]}(%s::{typ})", (value,)).fetchone()[0]
            except psycopg.Error:
                want = None
            if field is None:
                continue
            assert want is not None, f"C encoded {value!r}, which {typ} input refuses"
            assert field[4:] == bytes(want), value
            assert int.from_bytes(field[:4], "big") == len(field) - 4
            encoded += 1
    assert encoded >= (6 if typ == "bool" else 50)  # it looked at real values, not only declines
