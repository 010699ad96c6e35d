"""pgvector values: text form to float32 on the client, and float32 to pgvector's binary form.

Parsing on the client is what makes the load fast (the server's single backend parsing vector
text is the bottleneck of a text COPY) and it is also the only way to reject a bad vector with a
reason: pgvector's input function has no soft-error mode, so `pg_input_is_valid` cannot test it.

The rules are pgvector's `vector_in`: optional whitespace, '[', one or more elements separated
by ',', ']', optional whitespace; each element is what C `strtof` reads, with whitespace around
it allowed; NaN and infinite values are refused, as is a value that overflows float4.
"""

from __future__ import annotations

import ctypes
import math
import re
import struct
import sys
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

_SPACE = " \t\n\r\v\f"  # vector_isspace
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


def parse_vectors(values: pl.Series, dim: int | None) -> VectorParse:
    """Parse pgvector text ('[0.1,0.2,...]') vectorised. A null stays null and is not bad.

    `dim` None means the dimension is not checked. Bad: wrong dimension, an element that is not
    a number, NaN or Infinity, a value out of float4 range, missing brackets, '[]'.
    """
    s = values if values.dtype == pl.String else values.cast(pl.String)
    n = len(s)
    # Rows shaped like pgvector's own output ('[' ... ']') are split and cast in bulk; an element
    # polars cannot read (whitespace around it, a hex float, junk) becomes null there and sends
    # its row, like every other odd row, to the exact per-row reader below.
    plain = (s.str.starts_with("[") & s.str.ends_with("]") & (s.str.len_bytes() > 2)).fill_null(
        False
    )
    fast_rows = plain.arg_true()
    slow_rows = (~plain & s.is_not_null()).arg_true().to_list()

    flat, lens, suspect = _split_cast(s.gather(fast_rows))
    if len(suspect):
        # an element polars could not read, or NaN/inf: let the exact reader decide and explain
        ends = lens.cum_sum()
        owners = ends.search_sorted(suspect, side="right").unique()
        slow_rows.extend(fast_rows.gather(owners).to_list())
        drop = set(owners.to_list())
    else:
        drop = set()

    bad: dict[int, str] = {}
    lens_list = lens.to_list()
    keep_fast = [i for i, k in enumerate(lens_list) if i not in drop and (dim is None or k == dim)]
    fast_index = fast_rows.to_list()
    if dim is not None:
        for i, k in enumerate(lens_list):
            if i not in drop and k != dim:
                bad[fast_index[i]] = _dim_reason(dim, k)

    slow_good: dict[int, list[float]] = {}
    texts = s.gather(slow_rows).to_list() if slow_rows else []
    for row, text in zip(slow_rows, texts, strict=True):
        parsed = _parse_one(text)
        if isinstance(parsed, str):
            bad[row] = parsed
        elif dim is not None and len(parsed) != dim:
            bad[row] = _dim_reason(dim, len(parsed))
        else:
            slow_good[row] = parsed

    vals = _assemble(n, dim, fast_index, flat, lens, keep_fast, len(drop) > 0, slow_good)
    return VectorParse(values=vals, bad=dict(sorted(bad.items())))


def _dim_reason(dim: int, got: int) -> str:
    return f"expected {dim} dimensions, got {got}"


# Text split and cast per slice of about this size: the split holds a 16-byte view per element
# (1.2 GB for 50,000 x 1536 at once), so slicing keeps the peak near the size of the result.
_SLICE_BYTES = 32 * 1024 * 1024


def _split_cast(s: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """(every element of these bracketed rows as float32, each row's element count, positions
    in the first series of elements that are null, NaN or infinite).

    An element polars cannot read becomes null (strict=False) rather than failing the batch.
    """
    if len(s) == 0:
        empty = pl.Series("x", [], dtype=pl.Float32)
        return empty, pl.Series("n", [], dtype=pl.UInt32), pl.Series("i", [], dtype=pl.UInt32)
    sizes = s.str.len_bytes()
    per_row = max(1, int(sizes.sum()) // len(s))
    step = max(1, _SLICE_BYTES // per_row)
    parts = [s.slice(start, step) for start in range(0, len(s), step)]
    # Series string kernels run on one core; polars releases the GIL, so slices in threads use
    # them all (2x on this 2-core machine), with at most one slice per thread in memory.
    workers = min(len(parts), max(1, pl.thread_pool_size()))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(_split_cast_slice, parts))
    else:
        results = [_split_cast_slice(p) for p in parts]
    flats, lens, suspects = [], [], []
    seen = 0
    for flat, n_elems, bad in results:
        flats.append(flat)
        lens.append(n_elems)
        if len(bad):
            suspects.append(bad + seen)
        seen += len(flat)
    suspect = pl.concat(suspects) if suspects else pl.Series("i", [], dtype=pl.UInt32)
    return pl.concat(flats, rechunk=True), pl.concat(lens), suspect


def _split_cast_slice(part: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    # len_bytes is O(1) where len_chars scans; a row with multi-byte junk gets a wrong cut,
    # an unreadable last element, and so the exact reader, which is where it belongs anyway
    lists = part.str.slice(1, part.str.len_bytes() - 2).str.split(",")
    flat = lists.explode().cast(pl.Float32, strict=False)
    bad = (flat.is_null() | flat.is_nan() | flat.is_infinite()).arg_true()
    return flat, lists.list.len(), bad


def _parse_one(text: str) -> list[float] | str:
    """One vector by pgvector's rules: its float32 values, or why pgvector would refuse it."""
    t = text.strip(_SPACE)
    if not t.startswith("["):
        return "malformed vector: it must start with '['"
    if not t.endswith("]"):
        return "malformed vector: it must end with ']'"
    body = t[1:-1]
    if not body.strip(_SPACE):
        return "vector must have at least 1 dimension"
    out: list[float] = []
    for raw in body.split(","):
        element = raw.strip(_SPACE)
        value = _element(element)
        if isinstance(value, str):
            return value
        out.append(value)
    return out


def _element(e: str) -> float | str:
    if _DECIMAL.match(e):
        x = float(e)
    elif _HEX.match(e):
        x = float.fromhex(e)
    elif _INF.match(e):
        return "Infinity not allowed in a vector"
    elif _NAN.match(e):
        return "NaN not allowed in a vector"
    else:
        shown = e if len(e) <= 20 else e[:17] + "..."
        return f"malformed vector: {shown!r} is not a number"
    # Round to float4 as strtof does; a finite value that rounds to infinity is strtof's ERANGE,
    # which pgvector reports as out of range.
    (f32,) = struct.unpack("f", struct.pack("f", x))
    if math.isinf(f32):
        return f"value {e} is out of range for a vector (float4)"
    return f32


def _assemble(
    n: int,
    dim: int | None,
    fast_index: list[int],
    flat: pl.Series,
    lens: pl.Series,
    keep_fast: list[int],
    filtered: bool,
    slow_good: dict[int, list[float]],
) -> pl.Series:
    """One series of n rows: the good vectors where they belong, null elsewhere."""
    if filtered or len(keep_fast) != len(fast_index):
        # rare: some fast rows were bad; drop their elements (cost: one row id per element)
        row_of = pl.int_range(0, len(lens), eager=True, dtype=pl.UInt32).repeat_by(lens).explode()
        keep = pl.Series([False] * len(lens))
        keep = keep.scatter(keep_fast, True) if keep_fast else keep
        flat = flat.filter(keep.gather(row_of))
        lens = lens.gather(keep_fast)
    rows = [fast_index[i] for i in keep_fast]
    uniform = dim if dim is not None else _uniform(lens, slow_good)
    if uniform is not None:
        dtype: pl.DataType = pl.Array(pl.Float32, uniform)
        fast_vals = flat.reshape((len(rows), uniform)) if rows else pl.Series([], dtype=dtype)
    else:
        dtype = pl.List(pl.Float32)
        fast_vals = _implode(flat, lens)
    fast_vals = fast_vals.cast(dtype)
    if not slow_good and len(rows) == n:
        return fast_vals.rename("vector")  # every row good and read in bulk: already in order
    parts = [pl.DataFrame({"row": pl.Series(rows, dtype=pl.Int64), "v": fast_vals})]
    if slow_good:
        parts.append(
            pl.DataFrame(
                {
                    "row": pl.Series(list(slow_good), dtype=pl.Int64),
                    "v": pl.Series(list(slow_good.values()), dtype=dtype),
                }
            )
        )
    good = pl.concat(parts)
    if good.height == n:
        return good.sort("row").get_column("v").rename("vector")
    full = pl.DataFrame({"row": pl.int_range(0, n, eager=True, dtype=pl.Int64)})
    return (
        full.join(good, on="row", how="left", maintain_order="left")
        .get_column("v")
        .rename("vector")
    )


def _uniform(lens: pl.Series, slow_good: dict[int, list[float]]) -> int | None:
    sizes = set(lens.unique().to_list()) | {len(v) for v in slow_good.values()}
    return sizes.pop() if len(sizes) == 1 else None


def _implode(flat: pl.Series, lens: pl.Series) -> pl.Series:
    row_of = pl.int_range(0, len(lens), eager=True, dtype=pl.UInt32).repeat_by(lens).explode()
    return (
        pl.DataFrame({"r": row_of, "x": flat})
        .group_by("r", maintain_order=True)
        .agg(pl.col("x"))
        .get_column("x")
    )


# --------------------------------------------------------------------------------------------
# binary form for COPY ... (FORMAT binary): pgvector's vector_recv reads int16 dim, int16 unused,
# then dim float4, all big-endian


def vector_binary_payloads(vectors: pl.Series) -> list[bytes | None]:
    """pgvector's binary representation of each row, None for a null row.

    All rows' floats are copied out of polars in one piece (through the Arrow C stream
    interface, so numpy is not needed), byte-swapped in one C call, then sliced per row.
    """
    dtype = vectors.dtype
    if not isinstance(dtype, pl.Array | pl.List):
        raise TypeError(f"expected an Array or List series of floats, got {dtype}")
    present = vectors.is_not_null()
    dense = vectors.filter(present) if vectors.null_count() else vectors
    if isinstance(dtype, pl.Array):
        widths = None
        flat = dense.reshape((-1,)) if len(dense) else pl.Series([], dtype=pl.Float32)
    else:
        widths = iter(dense.list.len().to_list())
        flat = dense.explode() if len(dense) else pl.Series([], dtype=pl.Float32)
    flat = flat.cast(pl.Float32)
    if flat.null_count():
        raise ValueError("a vector holds a null element; parse_vectors never returns one")
    floats = _float32_array(flat)
    if sys.byteorder == "little":
        floats.byteswap()  # in place, one C loop: big-endian is what vector_recv reads
    view = memoryview(floats).cast("B")
    out: list[bytes | None] = []
    pos = 0
    fixed = dtype.size if isinstance(dtype, pl.Array) else 0
    head = struct.pack(">hh", fixed, 0)
    for ok in present.to_list():
        if not ok:
            out.append(None)
            continue
        if widths is None:
            end = pos + 4 * fixed
            out.append(head + view[pos:end])
        else:
            d = next(widths)
            end = pos + 4 * d
            out.append(struct.pack(">hh", d, 0) + view[pos:end])
        pos = end
    return out


class _ArrowArray(ctypes.Structure):
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


class _ArrowArrayStream(ctypes.Structure):
    pass


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
    """The values of a null-free Float32 series as an array('f'), copied once, chunk by chunk.

    Reads polars' buffers through the Arrow C stream interface (`__arrow_c_stream__`, a stable
    ABI every polars since 1.0 exports), so numpy is not needed; falls back to Python floats if
    the interface is ever missing.
    """
    out = array("f")
    try:
        capsule = flat.__arrow_c_stream__()
    except Exception:  # pragma: no cover - only an exotic polars build lacks the interface
        out.extend(flat.to_list())
        return out
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
                    out.frombytes((ctypes.c_char * (4 * arr.length)).from_address(address))
            finally:
                arr.release(ctypes.byref(arr))  # polars' memory is not touched after this
    finally:
        if stream.release:
            stream.release(ctypes.byref(stream))
    return out
