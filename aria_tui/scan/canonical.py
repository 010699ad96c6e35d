"""Values written in the canonical form PostgreSQL itself writes for their type: the sample
leaves them out of the question put to the target (see `surely_valid`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aria_tui.lazy import lazy
from aria_tui.pg.catalog import Column

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_INT_DIGITS = {"smallint": 4, "integer": 9, "bigint": 18}  # fewer digits than the type's limit
# at most 15 digits each side and an exponent below 100: far inside float8's range either way
# (float4's is too narrow, and it refuses underflow, so real is left to the server)
_FLOAT = r"^[+-]?(\d{1,15}\.?\d{0,15}|\.\d{1,15})([eE][+-]?\d{1,2})?$"
_TIMESTAMP = (
    r"^(\d{4})-(\d{2})-(\d{2})[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
    r"([+-]([01]\d|2[0-3])(:?[0-5]\d)?|Z)?$"
)


def surely_valid(col: str, target: Column) -> pl.Expr | None:
    """Values in the canonical form PostgreSQL itself writes for the type, which its input
    function certainly accepts: they need not travel to the server. Anything else (and every
    type not listed here) is still asked of the target; this only makes the question shorter
    (uuids, timestamps and integers are most of an export's sampled values)."""
    v = pl.col(col)
    typ = target.type
    if typ == "uuid":
        return v.str.contains(_UUID)
    if typ in _INT_DIGITS:
        return v.str.contains(rf"^[+-]?\d{{1,{_INT_DIGITS[typ]}}}$")
    if typ == "double precision":
        return v.str.contains(_FLOAT)
    sized = re.fullmatch(r"(?:character varying|character)\((\d+)\)", typ)  # not an array
    if sized:
        return v.str.len_chars() <= int(sized.group(1))
    scaled = re.fullmatch(r"numeric\((\d+),(\d+)\)", typ)
    if scaled:
        precision, scale = int(scaled.group(1)), int(scaled.group(2))
        whole = v.str.extract(r"^[+-]?(\d*)\.?(\d*)$", 1)
        frac = v.str.extract(r"^[+-]?(\d*)\.?(\d*)$", 2)
        return (
            v.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)$")
            & (whole.str.len_chars() <= precision - scale)
            & (frac.str.len_chars() <= scale)
        ).fill_null(False)
    if typ in ("timestamp with time zone", "timestamp without time zone", "date"):
        date = v.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        form = v.str.contains(_TIMESTAMP) if typ != "date" else v.str.contains(r"^\d{4}-\d{2}-\d{2}$")
        return (form & date.is_not_null() & (v.str.slice(0, 4) != "0000")).fill_null(False)
    return None
