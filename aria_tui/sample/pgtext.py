"""Values as PostgreSQL prints them, and CSV fields as `COPY ... TO (FORMAT csv)` writes them.

The sample export must be byte-for-byte what a real export would hold, because loaders break on
the details: quoting only where PostgreSQL quotes, `""` for an empty string against nothing for
NULL, `t`/`f`, `+00` timestamps with trimmed microseconds, jsonb key order and spacing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

# PostgreSQL quotes a CSV field that holds the delimiter, the quote or a line break
_NEEDS_QUOTE = re.compile(r'[",\r\n]')


class Verbatim(str):
    """Text already in its final CSV form (for example a pre-quoted vector): written untouched."""

    __slots__ = ()


class Numeric(str):
    """A numeric already formatted with its column's scale, written unquoted."""

    __slots__ = ()


def csv_field(value: object) -> str:
    """One field the way PostgreSQL's CSV COPY writes it: NULL is empty, '' is `""`."""
    if value is None:
        return ""
    if type(value) is str:
        if not value:
            return '""'
        if _NEEDS_QUOTE.search(value):
            return '"' + value.replace('"', '""') + '"'
        return value
    if isinstance(value, str):  # Verbatim / Numeric
        return value
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float8(value)
    if isinstance(value, datetime):
        return timestamptz(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"no CSV form for {type(value).__name__}")


def csv_line(values: Sequence[object]) -> str:
    return ",".join([csv_field(v) for v in values]) + "\n"


def timestamptz(value: datetime) -> str:
    """`2026-02-21 14:03:07.1234+00`: UTC, microseconds with trailing zeros trimmed, as PG prints."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    v = value
    text = f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}"
    if v.microsecond:
        text += f".{v.microsecond:06d}".rstrip("0")
    return text + "+00"


def float8(value: float) -> str:
    """A double as PostgreSQL prints it: shortest round-trip text, no trailing `.0`."""
    text = repr(float(value))
    if text.endswith(".0"):
        text = text[:-2]
    return text


def numeric(value: float, scale: int) -> Numeric:
    """A numeric(p, s) value as PostgreSQL prints it: always `scale` decimals."""
    return Numeric(f"{value:.{scale}f}")


def _jsonb_key(item: tuple[str, object]) -> tuple[int, bytes]:
    raw = item[0].encode("utf-8")
    return (len(raw), raw)


def _jsonb_normal(value: object) -> object:
    if isinstance(value, dict):
        # jsonb stores object keys shorter-first, then bytewise, and prints them in that order
        return {k: _jsonb_normal(v) for k, v in sorted(value.items(), key=_jsonb_key)}
    if isinstance(value, list | tuple):
        return [_jsonb_normal(v) for v in value]
    return value


def jsonb(value: object) -> str:
    """JSON text the way PostgreSQL prints a jsonb value: `{"a": 1, "bb": [1, 2]}`."""
    return json.dumps(_jsonb_normal(value), ensure_ascii=False, separators=(", ", ": "))
