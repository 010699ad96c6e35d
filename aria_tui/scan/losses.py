"""Values a target column would take and silently change: the input function does not refuse
them, it rounds, cuts or drops part of them. Casting through the target's types makes the export
and the target agree afterwards, so the proof cannot see it; the scan must, before the load.

One rule per kind of column (the target's type decides), each a polars test over the CSV text
and the words that say what would be lost:

- `timestamp` (without time zone): a zone other than UTC is dropped, so the instant moves;
- `numeric(p,s)`: more non-zero decimal places than `s` are rounded away, however the value is
  spelt (`1.005e0`, `1.00_5`), and a negative `s` rounds to tens, hundreds...;
- `date`: a time of day other than midnight is dropped;
- `time` (without time zone): a zone is dropped;
- `name`: more than 63 bytes are cut;
- a time type: seconds finer than its precision (6 digits, or `timestamp(0)`'s 0) are rounded.

A file with such a value is blocked until the operator widens the column (a recorded decision,
load/decisions.py) or leaves the file out.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aria_tui.csvio import native
from aria_tui.csvio.files import is_gzip
from aria_tui.lazy import lazy

if TYPE_CHECKING:
    import polars
    import polars as pl

    from aria_tui.pg.catalog import Column
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy

# a zone at the end of a date-time: an offset, Z, or a name (UTC, Europe/Paris, EST...)
ZONE_AT_END = r"(?i)([+-]\d{1,2}(:?\d{2}){0,2}|z|\s[a-z][a-z0-9/_+-]*)$"
# UTC spelt as a zone: `timestamp` dropping it changes nothing when the data are read in UTC
_UTC_AT_END = r"(?i)([+-]0{1,2}(:?0{2}){0,2}|z|\sutc|\sgmt|\sz)$"
NAME_BYTES = 63  # NAMEDATALEN - 1


@dataclass(frozen=True)
class Hint:
    """Bytes that occur wherever a Loss's test could be true: a '.' followed by a run of digits
    (and underscores, which PostgreSQL 16+ reads between digits) in which a digit after the
    first `digits` is not '0' (seconds or decimal places finer than the column keeps), right
    after ':' and two digits when `clock` (the seconds of a time); or, with `exponent`, a field
    that holds a number written with an exponent (`1.5e-7`, whose places the exponent moves).
    A superset of the test: it looks at no column, and `clock` leaves out the hour."""

    digits: int
    clock: bool = False
    exponent: bool = False

    @property
    def patterns(self) -> tuple[bytes, ...]:
        """The same searches as regular expressions (without the C extension, which runs them
        without the GIL: native_c/hints.c)."""
        run = rb"\.(?:_*[0-9]){%d}(?:_*[0-9])*?_*[1-9]" % self.digits
        out = [(rb":[0-9]{2}" if self.clock else b"") + run]
        if self.exponent:
            out.append(
                rb'(?:^|(?<=[,"\s]))[+-]?[0-9._]*[0-9][0-9._]*[eE][+-]?[0-9][0-9_]*(?=$|[,"\s])'
            )
        return tuple(out)

    def found(self, data: mmap.mmap | bytes, end: int) -> bool:
        with memoryview(data) as view, view[:end] as head:
            fast = native.finer_fraction(head, self.clock, self.digits)
            if fast is not None and not fast and self.exponent:
                fast = native.number_with_exponent(head)
        if fast is not None:
            return fast
        return any(re.compile(p).search(data, 0, end) is not None for p in self.patterns)


@dataclass(frozen=True)
class Loss:
    test: Callable[[str], polars.Expr]  # CSV column -> true where the value would change
    what: str  # "<type> would <what>", e.g. "round it to 2 decimal places"
    # where `test` could be true, in the file's raw bytes: a file in which it occurs nowhere
    # holds no value this rule changes, in any column (see `ruled_out`); None when no such byte
    # pattern exists
    hint: Hint | None = None


def losses_of(col: Column) -> tuple[Loss, ...]:
    """The silent changes `col`'s input function makes to some values (none for most types)."""
    base = col.base_type
    out: list[Loss] = []
    if base == "timestamp":
        out.append(Loss(_zone_not_utc, "drop its time zone, shifting the instant"))
    elif base == "time":
        out.append(Loss(_zone, "drop its time zone"))
    elif base == "date":
        out.append(Loss(_time_of_day, "drop its time of day"))
    elif base == "name":
        out.append(Loss(_too_long_name, f"cut it to {NAME_BYTES} bytes"))
    elif base == "numeric":
        # a negative scale (PostgreSQL 15+) rounds to tens, hundreds...: no byte hint says
        # where such a value is, so the file's values are read
        m = re.search(r"\(\s*\d+\s*,\s*(-?\d+)\s*\)", col.base_format)
        if m:
            scale = int(m.group(1))
            places = f"{scale} decimal places" if scale >= 0 else f"a multiple of 1{'0' * -scale}"
            out.append(
                Loss(
                    lambda c: _more_scale(c, scale),
                    f"round it to {places}",
                    Hint(scale, exponent=True) if scale >= 0 else None,
                )
            )
    digits = _fraction_digits(col)
    if digits is not None:
        out.append(_finer_than(digits))
    return tuple(out)


def ruled_out(path: Path, rules: Iterable[Loss], limit: int | None = None) -> bool:
    """True when no value of the plain (not compressed) file at `path` can be changed by any of
    `rules`: each has a byte hint, and none of the hints occurs anywhere in the file (or in its
    first `limit` bytes, for a caller that reads no further itself).

    One search per distinct hint over the mapped file, at memory speed and without the GIL (the
    C extension's; a regular expression without it, about a millisecond per megabyte here, the
    GIL held), instead of parsing every record of it with polars: the load's own scan
    (`scan(sample_values=False)`) then reads no value of a file whose timestamps and numerics
    carry no digit beyond what their columns keep, the usual case. The hints are supersets (see
    Loss.hint): a match anywhere, in any column, only means the file is read as before.
    Searching bytes is sound because the export is UTF-8 (a file that is not is refused whole),
    in which the ASCII digits, colon and point of a hint are never part of another character.
    """
    hints = set()
    for rule in rules:
        if rule.hint is None:
            return False
        hints.add(rule.hint)
    if is_gzip(path):
        return False
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                return True
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                end = len(data) if limit is None else min(limit, len(data))
                return not any(h.found(data, end) for h in hints)
    except (OSError, ValueError):
        return False  # whoever reads it next says why


def _fraction_digits(col: Column) -> int | None:
    """The fractional digits of seconds a time type keeps: its precision, else 6 (microseconds);
    None for a type without seconds."""
    if col.base_type not in ("timestamp", "timestamptz", "time", "timetz"):
        return None
    m = re.search(r"\((\d)\)", col.base_format)
    return int(m.group(1)) if m else 6


def _finer_than(digits: int) -> Loss:
    """Seconds written finer than the type keeps (a non-zero digit past `digits`): rounded."""

    def test(c: str) -> polars.Expr:
        return pl.col(c).str.contains(r"\d:\d{2}:\d{2}\.\d{" + str(digits) + r"}\d*[1-9]")

    return Loss(
        test,
        f"round its seconds to {digits} decimal place{'s' if digits != 1 else ''}",
        # the test's pattern without its first digit and colon (a literal first character is
        # what lets the search skip along at memory speed)
        Hint(digits, clock=True),
    )


# a time of day in any of the spellings date/time input reads (2024-01-01 10:00, Jan 1 2024
# 10:00:00, 01/01/2024 10:00), which is what tells a zone from the `-01` of an ISO date
_CLOCK = r"\d{1,2}:\d{2}"
# what the date/time and numeric input functions skip around a value (C's isspace), and
# nothing else: polars' default would also strip Unicode spaces, which they refuse
_SPACE = " \t\n\r\x0b\x0c"


def _zone_not_utc(col: str) -> polars.Expr:
    v = pl.col(col).str.strip_chars(_SPACE)
    zoned = v.str.contains(ZONE_AT_END) & ~v.str.contains(_UTC_AT_END)
    return v.str.contains(_CLOCK) & zoned & ~v.str.contains(r"(?i)\s[ap]m$")


def _zone(col: str) -> polars.Expr:
    v = pl.col(col)
    return v.str.contains(r"^\s*\d{1,2}:\d{2}") & v.str.contains(r"([+-]\d{1,2}(:?\d{2})?|(?i:z))\s*$")


def _time_of_day(col: str) -> polars.Expr:
    v = pl.col(col).str.strip_chars(_SPACE)
    # a time part other than a bare 00:00[:00[.000]] at the end (a date written as a midnight
    # timestamp loses nothing), in any date spelling
    return v.str.contains(_CLOCK) & ~v.str.contains(r"(^|[\sT])0{1,2}:00(:00(\.0*)?)?$")


def _too_long_name(col: str) -> polars.Expr:
    return pl.col(col).str.len_bytes() > NAME_BYTES


# numeric_in's decimal spelling, once its surrounding white space and its underscores are gone
_NUMBER = r"^[+-]?([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$"


def _more_scale(col: str, scale: int) -> polars.Expr:
    """A non-zero digit beyond the scale's last place, wherever the exponent puts it (1.500
    into numeric(5,2) loses nothing; 1.005, 1.00_5 and 1.005e0 do; 15 into numeric(2,-1)
    does). Its places past the point: digits after the point, less its trailing zeros, less
    its exponent (1.5e-7: 1 - 0 + 7 = 8)."""
    v = pl.col(col).str.strip_chars(_SPACE)
    for _ in range(2):  # an underscore between two digits, as numeric_in reads it (1_2_3: twice)
        v = v.str.replace_all(r"([0-9])_([0-9])", "${1}${2}")
    ints = v.str.extract(_NUMBER, 1)
    frac = v.str.extract(_NUMBER, 2).fill_null("")
    exp_text = v.str.extract(_NUMBER, 3)
    exp = exp_text.cast(pl.Int64, strict=False)
    digits = pl.concat_str([ints, frac])
    length = digits.str.len_chars().cast(pl.Int64)
    zeros = length - digits.str.strip_chars_end("0").str.len_chars().cast(pl.Int64)
    past_point = frac.str.len_chars().cast(pl.Int64) - zeros - exp.fill_null(0)
    # an exponent past int64 is refused by numeric_in, but flagged rather than trusted
    changed = (past_point > scale) | (exp_text.is_not_null() & exp.is_null())
    lossy = ints.is_not_null() & (length > 0) & digits.str.contains("[1-9]") & changed
    if scale < 0:  # 0x1F, 0o17, 0b101 are integers: only a negative scale rounds them
        lossy = lossy | v.str.contains(r"^[+-]?0[xXoObB]")
    return lossy.fill_null(False)
