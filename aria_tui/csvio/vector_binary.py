"""float32 vectors to pgvector's binary form, for COPY ... (FORMAT binary): vector_recv reads
int16 dim, int16 unused, then dim float4, all big-endian. The float32 values leave polars through
the Arrow C stream interface, so neither numpy nor pyarrow is needed."""

from __future__ import annotations

import ctypes
import struct
import sys
from array import array
from typing import TYPE_CHECKING

from aria_tui.lazy import lazy

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy


NULL_FIELD = b"\xff\xff\xff\xff"  # binary COPY: field length -1 = NULL


def vector_binary_payloads(vectors: pl.Series) -> list[bytes | None]:
    """pgvector's binary representation of each row of a parsed series, None for a null row."""
    dtype = vectors.dtype
    if not isinstance(dtype, pl.Array | pl.List):
        raise TypeError(f"expected an Array or List series of floats, got {dtype}")
    present = vectors.is_not_null()
    dense = vectors.filter(present) if vectors.null_count() else vectors
    if isinstance(dtype, pl.Array):
        widths = [dtype.size] * len(dense)
        flat = dense.reshape((-1,)) if len(dense) else pl.Series([], dtype=pl.Float32)
    else:
        widths = dense.list.len().to_list()
        flat = dense.explode() if len(dense) else pl.Series([], dtype=pl.Float32)
    flat = flat.cast(pl.Float32)
    if flat.null_count():
        raise ValueError("a vector holds a null element; parse_vectors never returns one")
    raw = f32_be(flat)
    out: list[bytes | None] = []
    pos = 0
    it = iter(widths)
    for ok in present.to_list():
        if not ok:
            out.append(None)
            continue
        d = next(it)
        out.append(struct.pack(">hh", d, 0) + raw[pos : pos + 4 * d])
        pos += 4 * d
    return out


def f32_be(series: pl.Series) -> bytes:
    """The values of a null-free Float32 series as big-endian float4 bytes (what vector_recv
    reads): copied out of polars once, byte-swapped in one C call."""
    series = series.cast(pl.Float32)
    try:
        data = _float32_array(series)
    except Exception:  # pragma: no cover - a polars without the Arrow C stream: slower, same bytes
        data = array("f", series.to_list())
    if sys.byteorder == "little":
        data.byteswap()
    return data.tobytes()


# -- float32 buffer out of polars without numpy or pyarrow: the Arrow C stream interface -------


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


def _float32_array(flat: pl.Series) -> array:
    """The values of a null-free Float32 series as an array('f'), one memcpy per chunk.

    Reads polars' buffers through the Arrow C stream interface (`__arrow_c_stream__`, a stable
    ABI every polars since 1.0 exports), so numpy is not needed.
    """
    out = array("f")
    capsule = flat.__arrow_c_stream__()
    stream = ctypes.cast(
        _capsule_pointer(capsule, b"arrow_array_stream"), ctypes.POINTER(_ArrowArrayStream)
    ).contents
    try:
        while True:
            arr = _ArrowArray()
            if stream.get_next(ctypes.byref(stream), ctypes.byref(arr)) != 0:
                raise RuntimeError("polars could not export the vector values")
            if not arr.release:  # end of stream
                break
            try:
                if arr.n_buffers != 2:
                    raise RuntimeError("unexpected Arrow layout for float32 values")
                if arr.length:
                    address = arr.buffers[1] + 4 * arr.offset
                    out.frombytes(ctypes.string_at(address, 4 * arr.length))
            finally:
                arr.release(ctypes.byref(arr))  # polars' memory is not touched after this
    finally:
        if stream.release:
            stream.release(ctypes.byref(stream))
    return out
