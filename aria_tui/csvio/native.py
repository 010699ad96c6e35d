"""The C half of csvio (native_c/*.c), when it was built, and how Python hands work to it.

The extension is optional (setup.py): without a compiler at install time aria-tui still
installs, and these functions say "not here" so the callers take the pure polars / Python paths,
which give the same values, more slowly. ARIA_TUI_NATIVE=0 turns it off (to compare, or to rule
it out). `name()` says which one a process uses, for reports.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from aria_tui.lazy import lazy

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy


if TYPE_CHECKING:
    from aria_tui.csvio.header import Header


class ColumnKind(IntEnum):
    """What the C reader makes of one CSV column (`read_records`' `kinds`, one per column).

    A vector column is not a member: its kind is its dimension, >= 0 (0: any), see `vector`.
    The C side receives plain ints and keeps the same numbers (its KIND_* constants, checked
    against these by tests/unit/test_native_records.py).
    """

    BOOL = -12  # binary bool field (t, true, f, false in any case, else the block is declined)
    FLOAT8 = -11  # binary float8 field (decimal spellings, NaN, Infinity, -Infinity; idem)
    INT8 = -10  # binary int8 field (an optional sign and digits, within range; idem)
    INT4 = -9  # binary int4 field (idem)
    INT2 = -8  # binary int2 field (idem)
    UUID = -7  # binary uuid field (PostgreSQL's own spelling, else the block is declined)
    TIMESTAMP = -6  # binary timestamp field (idem)
    TIMESTAMPTZ = -5  # binary timestamptz field (idem)
    JSONB = -4  # binary jsonb field: version byte + the text
    SKIP = -3  # not read (None in the result)
    STR = -2  # the value as str, None for NULL
    COPYTEXT = -1  # binary text field: length + UTF-8 bytes, or the NULL field


def vector(dim: int | None) -> int:
    """The kind of a vector column of `dim` dimensions (None: any)."""
    return dim or 0


_MODULE: Any = False  # not looked for yet


def module() -> Any:
    """The _native module, or None."""
    global _MODULE
    if _MODULE is False:
        _MODULE = None
        if os.environ.get("ARIA_TUI_NATIVE", "1") != "0":
            try:
                # by name: the extension is optional, and it holds no Python import of its own
                # (a `from aria_tui.csvio import` would make the import contracts see this
                # module depend on all of csvio, which it does not)
                _MODULE = importlib.import_module("aria_tui.csvio._native")
            except ImportError:
                pass
    return _MODULE


def finer_fraction(data: Any, clock: bool, digits: int) -> bool | None:
    """Whether the bytes `data` (any buffer: bytes, an mmap, a memoryview) hold a '.' followed
    by a run of digits (and underscores) with a non-zero digit after its first `digits`, right
    after ':' and two digits when `clock` (scan/losses.py's Hint), searched without the GIL;
    None: no extension (or one built before this function)."""
    search = getattr(module(), "finer_fraction", None)
    return None if search is None else bool(search(data, clock, digits))


def number_with_exponent(data: Any) -> bool | None:
    """Whether a field of `data` starts with a number written with an exponent (`1.5e-7`:
    native_c/hints.c says exactly where), searched without the GIL; None: no extension."""
    search = getattr(module(), "number_with_exponent", None)
    return None if search is None else bool(search(data))


def name() -> str:
    """What reads vector blocks in this process: 'native' or 'polars'."""
    return "native" if module() is not None else "polars"


@dataclass
class NativeRead:
    rows: int
    spans: int  # physical lines the block spans
    lines: pl.Series | None  # each record's first line minus the block's (when asked)
    columns: list[list | None]  # per CSV column: str values, COPY text fields or vector fields
    deferred: list[list[tuple[int, str]] | None]  # per vector column: rows left to the tiers


def read_records(
    data: bytes, header: Header, kinds: tuple[ColumnKind | int, ...], lines: bool
) -> NativeRead | None:
    """A record-aligned block's bytes read by the C reader, or None: no extension, or a block
    it does not vouch for (an odd line terminator, or anything PostgreSQL would refuse: the
    caller's other reading finds the line and the reason). Takes the bytes, not csvio's Block,
    so that this interface to the extension sits below the block cutter, which uses it."""
    native = module()
    if native is None or header.eol == "\r":
        return None
    if len(header.columns) == 1:
        from aria_tui.csvio.exact import has_marker

        if has_marker(data):
            return None  # a line holding only \. is a value to this reader, the end of data to COPY
    got = native.read_records(data, len(header.columns), header.eol == "\r\n", kinds, lines)
    if got is None:
        return None
    rows, spans, columns, deferred, starts = got
    series = pl.Series("line", starts, dtype=pl.Int64) if starts is not None else None
    return NativeRead(rows, spans, series, columns, deferred)
