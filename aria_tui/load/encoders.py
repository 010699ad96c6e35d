"""Binary COPY encoders for common column types, exact or not at all.

Used to send a vector table straight into an EMPTY target with binary COPY (no staging table:
the server only stores what it receives). Each encoder accepts only the canonical text that
PostgreSQL's own output produces (`2026-01-10 12:34:56.123+00`, `t`, lowercase uuids...); any
other spelling raises `Unencodable` and the table goes through the staging table instead, where
the server's own input functions read every value. So an encoder can be strict, never clever.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from aria_tui.lazy import lazy
from aria_tui.load.vectors import NULL_FIELD
from aria_tui.pg.catalog import Column

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy

EPOCH_2000_US = 946_684_800_000_000  # PostgreSQL's binary timestamps count from 2000-01-01
EPOCH_2000_DAYS = 10_957

Encoder = Callable[["pl.Series"], list[bytes]]


class Unencodable(Exception):
    """A value the client cannot encode exactly as the server would read it."""


def _check_parsed(source: pl.Series, parsed: pl.Series, what: str) -> None:
    if parsed.null_count() != source.null_count():
        raise Unencodable(what)


def _canonical(s: pl.Series, shape: str, what: str) -> None:
    """Every non-NULL value spelt as `shape` (a regular expression) says, else Unencodable."""
    if not s.drop_nulls().str.contains(shape).all():
        raise Unencodable(what)


def _fixed(fmt: str, size: int, values: list) -> list[bytes]:
    pack = struct.Struct(f">i{fmt}").pack
    return [NULL_FIELD if v is None else pack(size, v) for v in values]


def text_field(s: pl.Series) -> list[bytes]:
    pack = struct.Struct(">i").pack
    return [NULL_FIELD if v is None else pack(len(v)) + v for v in s.cast(pl.Binary).to_list()]


def jsonb_field(s: pl.Series) -> list[bytes]:
    # jsonb's binary form is a version byte and the JSON text: jsonb_recv parses it like jsonb_in
    pack = struct.Struct(">ib").pack
    return [
        NULL_FIELD if v is None else pack(len(v) + 1, 1) + v for v in s.cast(pl.Binary).to_list()
    ]


def _int(bits: int) -> Encoder:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    fmt = {16: "h", 32: "i", 64: "q"}[bits]

    def encode(s: pl.Series) -> list[bytes]:
        parsed = s.cast(pl.Int64, strict=False)
        _check_parsed(s, parsed, "integer")
        if (parsed < lo).any() or (parsed > hi).any():  # nulls compare to nothing
            raise Unencodable("integer out of range")
        return _fixed(fmt, bits // 8, parsed.to_list())

    return encode


_SPECIAL_FLOAT = r"(?i)^[+-]?(inf|infinity|nan)$"
_NONZERO_MANTISSA = r"^\s*[+-]?[0-9.]*[1-9]"  # a nonzero digit before any exponent


def _float(bits: int) -> Encoder:
    fmt = "f" if bits == 32 else "d"

    def encode(s: pl.Series) -> list[bytes]:
        parsed = s.cast(pl.Float32 if bits == 32 else pl.Float64, strict=False)
        _check_parsed(s, parsed, "float")
        special = parsed.is_nan() | parsed.is_infinite()
        # polars reads 1e400 as inf where PostgreSQL says "out of range": only real spellings pass
        if special.any() and not s.filter(special).str.contains(_SPECIAL_FLOAT).all():
            raise Unencodable("float out of range")
        # and 1e-50 (real) or 1e-400 (double) as 0, where float4in/float8in say "out of range"
        # too: a zero is only a zero when no digit of its mantissa is
        zero = parsed == 0
        if zero.any() and s.filter(zero).str.contains(_NONZERO_MANTISSA).any():
            raise Unencodable("float underflow")
        return _fixed(fmt, bits // 8, parsed.to_list())

    return encode


_BOOL = {"t": True, "true": True, "f": False, "false": False}


def _bool(s: pl.Series) -> list[bytes]:
    out = []
    for v in s.to_list():
        if v is None:
            out.append(NULL_FIELD)
            continue
        b = _BOOL.get(v.lower())
        if b is None:
            raise Unencodable("boolean")
        out.append(b"\x00\x00\x00\x01\x01" if b else b"\x00\x00\x00\x01\x00")
    return out


_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def uuid_field(s: pl.Series) -> list[bytes]:
    _canonical(s, _UUID, "uuid")
    raw = s.str.replace_all("-", "", literal=True).str.decode("hex").to_list()
    return [NULL_FIELD if v is None else b"\x00\x00\x00\x10" + v for v in raw]


# more than microseconds (PostgreSQL rounds, polars truncates), a leap second, 24:00:00, the
# year 0 and a zone offset of 16 hours or more (polars reads both, PostgreSQL refuses them)
_AWKWARD_TIME = r"\.\d{7,}|:60(\D|$)|\s24:|^0000-|[+-](1[6-9]|[2-9]\d)(:?\d\d)*$"
# PostgreSQL's own output shape, and nothing else: chrono's %Y takes a year of any length and a
# sign, so `12-01-05` would be the year 12 (PostgreSQL reads month 12, day 1, 2005) and
# `+2024-01-05` the year 2024 (PostgreSQL refuses it)
_DATE_SHAPE = r"^\d{4}-\d{2}-\d{2}"
_TIMESTAMP_SHAPE = _DATE_SHAPE + r" \d{2}:\d{2}:\d{2}(\.\d{1,6})?"
_ZONE_SHAPE = r"[+-]\d{2}(:?\d{2})?$"


def _timestamp(with_zone: bool) -> Encoder:
    fmt = "%Y-%m-%d %H:%M:%S%.f%#z" if with_zone else "%Y-%m-%d %H:%M:%S%.f"
    shape = _TIMESTAMP_SHAPE + (_ZONE_SHAPE if with_zone else "$")

    def encode(s: pl.Series) -> list[bytes]:
        dtype = pl.Datetime("us", "UTC") if with_zone else pl.Datetime("us")
        _canonical(s, shape, "timestamp")
        if s.drop_nulls().str.contains(_AWKWARD_TIME).any():
            raise Unencodable("timestamp")
        parsed = s.str.strptime(dtype, fmt, strict=False)
        _check_parsed(s, parsed, "timestamp")
        micros = (parsed.dt.epoch("us") - EPOCH_2000_US).to_list()
        return _fixed("q", 8, micros)

    return encode


timestamptz_field = _timestamp(True)
timestamp_field = _timestamp(False)


def _date(s: pl.Series) -> list[bytes]:
    _canonical(s, _DATE_SHAPE + "$", "date")
    if s.drop_nulls().str.starts_with("0000-").any():
        raise Unencodable("date")  # year 0: PostgreSQL refuses it, polars reads it
    parsed = s.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    _check_parsed(s, parsed, "date")
    days = (parsed.dt.epoch("d") - EPOCH_2000_DAYS).to_list()
    return _fixed("i", 4, days)


int2_field = _int(16)
int4_field = _int(32)
int8_field = _int(64)
float8_field = _float(64)
bool_field = _bool

_ENCODERS: dict[str, Encoder] = {
    "text": text_field,
    "varchar": text_field,  # varcharrecv applies the length limit, as input does
    "bpchar": text_field,
    "json": text_field,
    "jsonb": jsonb_field,
    "int2": int2_field,
    "int4": int4_field,
    "int8": int8_field,
    "float4": _float(32),
    "float8": float8_field,
    "bool": bool_field,
    "uuid": uuid_field,
    "timestamptz": timestamptz_field,
    "timestamp": timestamp_field,
    "date": _date,
}


def encoder_for(column: Column) -> Encoder | None:
    """The encoder for a column's type, or None (the table then uses the staging table)."""
    if column.type.endswith("[]"):
        return None
    if column.base_type in ("timestamptz", "timestamp") and "(" in column.base_format:
        return None  # timestamp(p): the server would round to p digits
    return _ENCODERS.get(column.base_type)
