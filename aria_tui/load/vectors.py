"""Vectors parsed on the client in vectorised batches, encoded as pgvector's binary format.

The server's single backend parsing vector text is what makes `psql \\copy` slow on embedding
tables; polars parses a batch of vector literals into float32 (correctly rounded, like strtof in
pgvector's own input function) several times faster, and binary COPY hands the server
ready-made values. Bad vectors never reach the server: each one becomes a reject with a reason.

pgvector binary format: int16 dimensions, int16 unused (0), then float4 values, big-endian.
"""

from __future__ import annotations

import array
import ctypes
import struct
import sys
from dataclasses import dataclass

import polars as pl

NULL_FIELD = b"\xff\xff\xff\xff"  # binary COPY: field length -1 = NULL


@dataclass(frozen=True)
class VectorBatch:
    fields: list[bytes]  # per row: the complete binary COPY field (length prefix + value)
    bad: dict[int, str]  # row index in the batch -> reason


def parse_vector_column(series: pl.Series, dim: int | None, column: str) -> VectorBatch:
    """Parse one batch of vector literals; NULLs stay NULL (NOT NULL is the target's to judge).

    Fast, vectorised path for what pgvector's own output looks like ('[1,2.5,-3e-05]'); the few
    other rows (blanks around elements, wrong dimension, not a number...) go through `_one()`.
    """
    n = series.len()
    inner = series.str.strip_chars("[]")
    inner_len = inner.str.len_bytes()
    # exactly one bracket each side ('[[1,2]]' is not a vector)
    shape = (
        series.str.starts_with("[")
        & series.str.ends_with("]")
        & (inner_len == series.str.len_bytes() - 2)
    )
    parts = inner.str.split(",")
    try:  # a strict cast is ~8% cheaper; the lenient one only when some element is not a number
        floats = parts.cast(pl.List(pl.Float32))
    except pl.exceptions.PolarsError:
        floats = parts.cast(pl.List(pl.Float32), strict=False)
    lens = floats.list.len()
    ok = shape & (inner_len > 0)
    if dim is not None:
        ok = ok & (lens == dim)
    ok = ok.fill_null(False)
    flat = floats.filter(ok).list.explode() if not ok.all() else floats.list.explode()
    if flat.null_count() or flat.is_nan().any() or flat.is_infinite().any():
        # some element is not a plain number: find the rows (rare), they take the slow path
        clean = ~(
            floats.list.eval(
                pl.element().is_null() | pl.element().is_nan() | pl.element().is_infinite()
            )
            .list.any()
            .fill_null(True)
        )
        ok = ok & clean
        flat = floats.filter(ok).list.explode()
    fast = ok.to_list() if not ok.all() else None
    rows = range(n) if fast is None else [i for i, k in enumerate(fast) if k]
    raw = _f32_be(flat) if len(flat) else b""
    fields: list[bytes] = [NULL_FIELD] * n
    pack = struct.Struct(">ihh").pack
    if dim is not None:
        head = pack(4 + 4 * dim, dim, 0)
        step = 4 * dim
        for k, i in enumerate(rows):
            fields[i] = head + raw[k * step : (k + 1) * step]
    else:  # an unconstrained vector column: each row has its own dimension
        offset = 0
        for i, d in zip(rows, floats.filter(ok).list.len().to_list(), strict=True):
            fields[i] = pack(4 + 4 * d, d, 0) + raw[offset : offset + 4 * d]
            offset += 4 * d
    bad: dict[int, str] = {}
    if fast is not None:
        values = series.to_list()
        for i, good in enumerate(fast):
            if good or values[i] is None:
                continue
            parsed = _one(values[i], dim, column)
            if isinstance(parsed, str):
                bad[i] = parsed
            else:
                fields[i] = parsed
    return VectorBatch(fields, bad)


_BLANKS = " \t\n\r\v\f"


def _one(text: str, dim: int | None, column: str) -> bytes | str:
    """One vector the fast path did not take, read as pgvector's vector_in reads it.

    Returns the binary COPY field, or the reason it is not a vector.
    """
    body = text.strip(_BLANKS)
    if not (body.startswith("[") and body.endswith("]")) or len(body) < 2:
        return f'column "{column}": not a vector literal (expected [x,y,...])'
    elements = [e.strip(_BLANKS) for e in body[1:-1].split(",")]
    if elements == [""]:
        return f'column "{column}": a vector must have at least 1 dimension'
    if dim is not None and len(elements) != dim:
        return f'column "{column}": expected {dim} dimensions, not {len(elements)}'
    # polars' float32 parse is correctly rounded, like strtof in pgvector; float() + pack is not
    values = pl.Series(elements, dtype=pl.String).cast(pl.Float32, strict=False)
    if values.null_count():
        first = elements[values.is_null().arg_true()[0]]
        return f'column "{column}": {first[:40]!r} is not a number'
    if values.is_nan().any():
        return f'column "{column}": NaN is not allowed in a vector'
    if values.is_infinite().any():
        return f'column "{column}": a vector element is infinite or out of range for float4'
    d = len(elements)
    return struct.pack(">ihh", 4 + 4 * d, d, 0) + _f32_be(values)


# -- float32 buffer out of polars without numpy or pyarrow: the Arrow C stream interface -------


class _ArrowSchema(ctypes.Structure):
    pass


class _ArrowArray(ctypes.Structure):
    pass


class _ArrowArrayStream(ctypes.Structure):
    pass


_ArrowArray._fields_ = [
    ("length", ctypes.c_int64),
    ("null_count", ctypes.c_int64),
    ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.c_void_p),
    ("dictionary", ctypes.c_void_p),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(_ArrowArray))),
    ("private_data", ctypes.c_void_p),
]
_ArrowArrayStream._fields_ = [
    (
        "get_schema",
        ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(_ArrowArrayStream), ctypes.c_void_p),
    ),
    (
        "get_next",
        ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(_ArrowArrayStream), ctypes.POINTER(_ArrowArray)
        ),
    ),
    ("get_last_error", ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.POINTER(_ArrowArrayStream))),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(_ArrowArrayStream))),
    ("private_data", ctypes.c_void_p),
]
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def _f32_le(series: pl.Series) -> bytes:
    """The float32 values of a null-free Float32 series as native bytes, one memcpy per chunk."""
    capsule = series.__arrow_c_stream__()
    stream = ctypes.cast(
        _capsule_pointer(capsule, b"arrow_array_stream"), ctypes.POINTER(_ArrowArrayStream)
    ).contents
    parts = []
    while True:
        arr = _ArrowArray()
        if stream.get_next(ctypes.byref(stream), ctypes.byref(arr)) != 0:
            raise RuntimeError("polars could not export a float32 buffer")
        if not arr.release:
            break
        try:
            if arr.length:
                parts.append(ctypes.string_at(arr.buffers[1] + arr.offset * 4, arr.length * 4))
        finally:
            arr.release(ctypes.byref(arr))
    return b"".join(parts)


def _f32_be(series: pl.Series) -> bytes:
    series = series.cast(pl.Float32)
    try:
        data = array.array("f", _f32_le(series))
    except Exception:  # a polars without the Arrow C stream: slower, same bytes
        data = array.array("f", series.to_list())
    if sys.byteorder == "little":
        data.byteswap()
    return data.tobytes()
