"""pgvector values: text form to float32 on the client (vector_binary.py turns the float32 values
into pgvector's binary form).

The one vector reader of aria-tui: the loader sends what it returns with binary COPY
(`vector_copy_fields`), the scan judges a sample with it (`parse_vectors`).

Parsing on the client is what makes the load fast (the server's single backend parsing vector
text is the bottleneck of a text COPY) and it is also the only way to reject a bad vector with a
reason: pgvector's input function has no soft-error mode, so `pg_input_is_valid` cannot test it.

The rules are pgvector's `vector_in`: optional whitespace, '[', one or more elements separated
by ',', ']', optional whitespace; each element is what C `strtof` reads, with whitespace around
it allowed; NaN and infinite values are refused, as is a value that overflows float4.

The loader first hands each block's rows to a C parser (native_c/decimal.c, built at install time when
a compiler is there), which reads exactly what it can prove it reads as strtof does (plain
decimals, Clinger's fast path) at ~10 ns an element and defers every other row, unjudged, to
three tiers, each only for the rows the one before could not vouch for:

1. bulk: rows spelled as pgvector writes them ('[0.1,-2e-05,3]') are split and cast to float32
   by polars in one go (its cast is correctly rounded, like strtof; measured as the fastest of
   split+cast, json_decode, and a one-column read_csv of the elements);
2. bulk, lenient: whitespace around the brackets and the elements ('[1, 2, 3]', what Python's
   str(list) writes) costs a strip per element, so it is only paid by the rows that need it;
3. one by one, in Python: hex floats, junk, NaN, out-of-range values, wrong dimensions (never
   more than a few rows), with the reason pgvector would give.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aria_tui.csvio import native
from aria_tui.csvio.vector_binary import NULL_FIELD, f32_be
from aria_tui.lazy import lazy

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy

_SPACE = " \t\n\r\v\f"  # vector_isspace
VECTOR_MAX_DIM = 16000  # pgvector's VECTOR_MAX_DIM
# What strtof accepts as a whole element (strtof reads a prefix; pgvector then requires ',' or ']'
# after optional whitespace, so in effect the whole trimmed element must match).
# re.ASCII: Python's \d and float() also take other scripts' digits ('١'), strtof does not.
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z", re.ASCII)
_HEX = re.compile(
    r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?\Z", re.ASCII
)
_INF = re.compile(r"[+-]?(?:inf|infinity)\Z", re.IGNORECASE)
_NAN = re.compile(r"[+-]?nan(?:\([0-9A-Za-z_]*\))?\Z", re.IGNORECASE)


@dataclass(frozen=True)
class VectorParse:
    # One entry per input row: the vector as float32 (pl.Array(pl.Float32, dim), or pl.List when
    # dim is None and the rows' dimensions differ); null where the input was null or is in `bad`.
    values: pl.Series
    bad: dict[int, str]  # input row index -> reason ("expected 768 dimensions, got 767", ...)


@dataclass(frozen=True)
class VectorFields:
    # One binary COPY field per input row (length prefix + pgvector's binary form); NULL_FIELD
    # where the input was null or is in `bad` (a bad row must not be sent at all).
    fields: list[bytes]
    bad: dict[int, str]


@dataclass(frozen=True)
class _Part:
    """Some of the good rows, in increasing order, and their float32 elements row after row."""

    rows: list[int]
    flat: pl.Series  # Float32
    lens: list[int]  # elements of each row


def parse_vectors(values: pl.Series, dim: int | None) -> VectorParse:
    """Parse pgvector text ('[0.1,0.2,...]') vectorised. A null stays null and is not bad.

    `dim` None means the dimension is not checked. Bad: wrong dimension, an element that is not
    a number, NaN or Infinity, a value out of float4 range, missing brackets, '[]'.
    """
    parts, bad = _parse(values, dim)
    return VectorParse(values=_assemble(len(values), dim, parts), bad=bad)


def vector_copy_fields(values: pl.Series, dim: int | None) -> VectorFields:
    """The loader's form of `parse_vectors`: each row as a ready binary COPY field, without
    building a series of arrays first (the float32 buffer goes straight to bytes).

    The native parser (native_c/decimal.c) reads the rows it can read exactly; the tiers below read
    the rest (and alone decide what is bad, and why)."""
    c = native.module()
    if c is not None and values.dtype == pl.String:
        fields, deferred = c.copy_fields(values.to_list(), dim or 0)
        return complete_fields(fields, deferred, values.gather(deferred), dim)
    return _fields_by_tiers(values, dim)


def complete_fields(
    fields: list[bytes], deferred: list[int], texts: pl.Series, dim: int | None
) -> VectorFields:
    """The native parser's fields with its deferred rows (`texts`, in order) read by the tiers,
    which alone say what is bad and why."""
    if not deferred:
        return VectorFields(fields, {})
    rest = _fields_by_tiers(texts, dim)
    for k, i in enumerate(deferred):
        fields[i] = rest.fields[k]
    return VectorFields(fields, {deferred[k]: why for k, why in rest.bad.items()})


def _fields_by_tiers(values: pl.Series, dim: int | None) -> VectorFields:
    n = len(values)
    parts, bad = _parse(values, dim)
    fields = [NULL_FIELD] * n
    pack = struct.Struct(">ihh").pack
    for part in parts:
        raw = f32_be(part.flat)
        widths = set(part.lens)
        if len(widths) == 1:
            (d,) = widths
            head, step = pack(4 + 4 * d, d, 0), 4 * d
            for k, i in enumerate(part.rows):
                fields[i] = head + raw[k * step : (k + 1) * step]
        else:
            offset = 0
            for i, d in zip(part.rows, part.lens, strict=True):
                fields[i] = pack(4 + 4 * d, d, 0) + raw[offset : offset + 4 * d]
                offset += 4 * d
    return VectorFields(fields, bad)


def _parse(values: pl.Series, dim: int | None) -> tuple[list[_Part], dict[int, str]]:
    s = values if values.dtype == pl.String else values.cast(pl.String)
    if s.null_count() == s.len():  # no rows, or a column the export left empty
        return [], {}
    parts: list[_Part] = []
    part, rest = _bulk(s, None, dim, lenient=False)
    if part is not None:
        parts.append(part)
    bad: dict[int, str] = {}
    if rest:
        part, rest = _bulk(s, rest, dim, lenient=True)
        if part is not None:
            parts.append(part)
        good: list[int] = []
        flats: list[float] = []
        lens: list[int] = []
        texts = s.gather(rest).to_list()
        for row, text in zip(rest, texts, strict=True):
            parsed = _parse_one(text)
            if isinstance(parsed, str):
                bad[row] = parsed
            elif dim is not None and len(parsed) != dim:
                bad[row] = _dim_reason(dim, len(parsed))
            elif len(parsed) > VECTOR_MAX_DIM:
                bad[row] = f"vector cannot have more than {VECTOR_MAX_DIM} dimensions"
            else:
                good.append(row)
                flats.extend(parsed)
                lens.append(len(parsed))
        if good:
            parts.append(_Part(good, pl.Series(flats, dtype=pl.Float32), lens))
    return parts, dict(sorted(bad.items()))


def _bulk(
    s: pl.Series, rows: list[int] | None, dim: int | None, lenient: bool
) -> tuple[_Part | None, list[int]]:
    """(the rows of `rows` (None: all) that polars reads in bulk, the non-null others)."""
    if rows is not None:
        s = s.gather(rows)
    if lenient:
        t = s.str.strip_chars(_SPACE)
        inner = t.str.slice(1, t.str.len_bytes() - 2)
        shape = t.str.starts_with("[") & t.str.ends_with("]") & (t.str.len_bytes() > 2)
        pieces = inner.str.split(",").list.eval(pl.element().str.strip_chars(_SPACE))
    else:
        # '[' ... ']' with something inside; a stray bracket ('[[1,2]]') is left in an element,
        # which the float cast then refuses. head/tail are views: no string is copied.
        shape = s.str.starts_with("[") & s.str.ends_with("]") & (s.str.len_bytes() > 2)
        pieces = s.str.head(-1).str.tail(-1).str.split(",")
    try:  # a strict cast is cheaper; the lenient one only when some element is not a number
        floats = pieces.cast(pl.List(pl.Float32))
    except pl.exceptions.PolarsError:
        floats = pieces.cast(pl.List(pl.Float32), strict=False)
    lens = floats.list.len()
    ok = shape & (lens <= VECTOR_MAX_DIM) if dim is None else shape & (lens == dim)
    ok = ok.fill_null(False)
    every = bool(ok.all())
    flat = (floats if every else floats.filter(ok)).list.explode()
    if flat.null_count() or not flat.is_finite().all():
        # an element that is not a plain number (rare): those rows go one tier down
        odd = floats.list.eval(pl.element().is_finite().not_().fill_null(True)).list.any()
        ok = ok & ~odd.fill_null(True)
        every = bool(ok.all())
        flat = (floats if every else floats.filter(ok)).list.explode()
    index = list(range(len(s))) if rows is None else rows
    if every:
        good, left = index, []
    else:
        mask = ok.to_list()
        present = s.is_not_null().to_list()
        good = [r for r, k in zip(index, mask, strict=True) if k]
        left = [r for r, k, p in zip(index, mask, present, strict=True) if p and not k]
    if not good:
        return None, left
    good_lens = (lens if every else lens.filter(ok)).to_list()
    return _Part(good, flat, good_lens), left


def _dim_reason(dim: int, got: int) -> str:
    return f"expected {dim} dimensions, got {got}"


def _parse_one(text: str) -> list[float] | str:
    """One vector by pgvector's rules: its float32 values, or why pgvector would refuse it.

    pgvector reads the elements left to right and stops at the first one strtof refuses or
    that is out of range, so the reason is the first element's problem, whatever its kind.
    """
    t = text.strip(_SPACE)
    if not t.startswith("["):
        return "malformed vector: it must start with '['"
    if not t.endswith("]"):
        return "malformed vector: it must end with ']'"
    body = t[1:-1]
    if not body.strip(_SPACE):
        return "vector must have at least 1 dimension"
    elements = [raw.strip(_SPACE) for raw in body.split(",")]
    problem: tuple[int, str] | None = None
    decimals: list[int] = []
    out: list[float] = [0.0] * len(elements)
    for k, e in enumerate(elements):
        if _DECIMAL.match(e):
            decimals.append(k)
            continue
        if _HEX.match(e):
            value = hex_to_float4(e)
            if value is not None:
                out[k] = value
                continue
            problem = (k, f"value {e} is out of range for a vector (float4)")
        elif _INF.match(e):
            problem = (k, "Infinity not allowed in a vector")
        elif _NAN.match(e):
            problem = (k, "NaN not allowed in a vector")
        else:
            shown = e if len(e) <= 20 else e[:17] + "..."
            problem = (k, f"malformed vector: {shown!r} is not a number")
        break
    limit = problem[0] if problem else len(elements)
    decimals = [k for k in decimals if k < limit]
    if decimals:
        # polars' float32 cast rounds once and correctly, as strtof does (float() then a
        # float4 pack would round twice); a value it reads as infinite overflowed float4
        cast = pl.Series([elements[k] for k in decimals], dtype=pl.String).cast(pl.Float32)
        for k, x in zip(decimals, cast.to_list(), strict=True):
            if x in (_INF_F32, -_INF_F32):
                return f"value {elements[k]} is out of range for a vector (float4)"
            out[k] = x
    if problem:
        return problem[1]
    return out


_INF_F32 = float("inf")
_F32_MAX = float((2**24 - 1) * 2**104)


def hex_to_float4(text: str) -> float | None:
    """A hex float ('0x1.8p3', what strtof also reads) as the float32 strtof gives, or None when
    it overflows float4. Rounded once, from the exact value: float.fromhex then a float4 pack
    would round twice (0x1.000001000000000001p0 must give the float above 1, not 1).
    Correctly rounded, as C asks; glibc 2.36's strtof differs for a few hex subnormals (21 of
    89,207 random ones here, by one unit of 2^-149): hex floats are not what exports contain."""
    body = text.lstrip("+-")
    negative = text.startswith("-")
    mantissa, _, exp_text = body[2:].replace("P", "p").partition("p")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac) or "0"
    m = int(digits, 16)
    exponent = int(exp_text or "0") - 4 * len(frac)
    sign = -1.0 if negative else 1.0
    if m == 0:
        return sign * 0.0
    bits = m.bit_length() + exponent  # the value lies in [2^(bits-1), 2^bits)
    if bits > 129:
        return None  # beyond float4 at any rounding (also keeps 2**exponent small below)
    if bits < -150:
        return sign * 0.0  # below half the smallest subnormal: strtof gives zero
    # keep 24 significant bits (fewer for a subnormal: the quantum is 2^-149), round half even
    quantum = max(bits - 24, -149)
    shift = quantum - exponent
    if shift > 0:
        q, r = divmod(m, 1 << shift)
        half = 1 << (shift - 1)
        if r > half or (r == half and q & 1):
            q += 1
    else:
        q = m << -shift
    value = q * 2.0**quantum  # exact: q < 2^25, 2^-149 <= 2^quantum <= 2^105
    if value > _F32_MAX:
        return None  # rounded past the largest float4: strtof says ERANGE, pgvector refuses
    return sign * value


def _assemble(n: int, dim: int | None, parts: list[_Part]) -> pl.Series:
    """One series of n rows: the good vectors where they belong, null elsewhere."""
    widths = {d for p in parts for d in p.lens}
    uniform = dim if dim is not None else (widths.pop() if len(widths) == 1 else None)
    dtype: pl.DataType = (
        pl.Array(pl.Float32, uniform) if uniform is not None else pl.List(pl.Float32)
    )
    frames = [
        pl.DataFrame(
            {"row": pl.Series(p.rows, dtype=pl.Int64), "v": _rows_of(p, uniform).cast(dtype)}
        )
        for p in parts
    ]
    if len(frames) == 1 and frames[0].height == n:
        return frames[0].get_column("v").rename("vector")  # every row good and read in bulk
    if not frames:
        return pl.Series("vector", [None] * n, dtype=dtype)
    good = pl.concat(frames).sort("row")
    if good.height == n:
        return good.get_column("v").rename("vector")
    full = pl.DataFrame({"row": pl.int_range(0, n, eager=True, dtype=pl.Int64)})
    return (
        full.join(good, on="row", how="left", maintain_order="left")
        .get_column("v")
        .rename("vector")
    )


def _rows_of(part: _Part, uniform: int | None) -> pl.Series:
    if uniform is not None:
        return part.flat.reshape((len(part.rows), uniform))
    row_of = pl.Series(list(range(len(part.lens))), dtype=pl.UInt32).repeat_by(
        pl.Series(part.lens, dtype=pl.UInt32)
    )
    return (
        pl.DataFrame({"r": row_of.explode(), "x": part.flat})
        .group_by("r", maintain_order=True)
        .agg(pl.col("x"))
        .get_column("x")
    )
