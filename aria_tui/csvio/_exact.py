"""PostgreSQL's own CSV rules, in Python: the slow path that is always right.

This mirrors `CopyReadLineText` and `CopyReadAttributesCSV` (src/backend/commands/copyfromparse.c)
for COPY ... (FORMAT csv) with the default delimiter, quote and escape:

- A record ends at a line terminator outside quotes. Every quote character toggles "inside
  quotes", wherever it stands (PostgreSQL reads `ab"c,d"e` as the one field `abc,de`), so a
  record boundary is exactly a terminator preceded by an even number of quotes.
- The terminator style is fixed by the first line (\\n, \\r\\n or a lone \\r); an unquoted
  terminator of another style is an error, not data.
- Inside quotes a doubled quote is one literal quote. An unquoted empty field is NULL; a
  quoted empty field is the empty string.
- Every byte must be valid UTF-8 and not NUL (the server's encoding check runs first).

The fast path (polars) is used only where it provably reads the same values; anything it cannot
vouch for comes here, so this module is the reference for what the file means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

QUOTE = 0x22
COMMA = 0x2C
CR = 0x0D
LF = 0x0A

_OUTSIDE = re.compile(rb'["\r\n]')  # what matters to the record scanner outside quotes
_FIELD = re.compile(rb'[,"]')  # what matters to the field splitter outside quotes


_STRAY_CR = "unquoted carriage return in data (a \\r inside a value must be quoted)"
_STRAY_LF = {
    b"\r\n": "unquoted newline in data (the header line ends with \\r\\n, so every line must)",
    b"\r": "unquoted newline in data (the header line ends with \\r, so every line must)",
}


@dataclass
class Problem:
    line: int
    column: str | None
    reason: str


@dataclass
class ExactResult:
    records: int = 0
    end_line: int = 0  # physical line where the next block starts
    lines: list[int] = field(default_factory=list)  # start line of each record (when wanted)
    values: list[list[str | None]] | None = None  # one list per column (when wanted)
    problem: Problem | None = None


def line_char(eol: bytes) -> bytes:
    """The byte that counts physical lines: \\n, except in files whose lines end with a lone \\r."""
    return b"\r" if eol == b"\r" else b"\n"


def split_fields(rec: bytes) -> tuple[list[bytes | None], int | None]:
    """Fields of one record (its terminator removed), PostgreSQL's way.

    Returns (fields, None), or (fields so far, offset of the opening quote) when a quoted part
    is never closed, which can only happen to the last record of a file.
    """
    if b'"' not in rec:
        return [f if f else None for f in rec.split(b",")], None
    fields: list[bytes | None] = []
    n = len(rec)
    i = 0
    while True:
        saw_quote = False
        parts: list[bytes] = []
        last = False
        while True:
            m = _FIELD.search(rec, i)
            if m is None:
                parts.append(rec[i:])
                i = n
                last = True
                break
            k = m.start()
            parts.append(rec[i:k])
            if rec[k] == COMMA:
                i = k + 1
                break
            saw_quote = True
            opened = k
            i = k + 1
            while True:
                q = rec.find(b'"', i)
                if q < 0:
                    return fields, opened
                parts.append(rec[i:q])
                if q + 1 < n and rec[q + 1] == QUOTE:
                    parts.append(b'"')
                    i = q + 2
                    continue
                i = q + 1
                break
        value = b"".join(parts)
        fields.append(value if (saw_quote or value) else None)
        if last:
            return fields, None


def field_index(rec: bytes, offset: int) -> int:
    """Which field of `rec` holds byte `offset` (commas outside quotes before it)."""
    pieces = rec[:offset].split(b'"')
    return sum(p.count(b",") for p in pieces[0::2])


def bad_byte(rec: bytes) -> tuple[int, str] | None:
    """First byte PostgreSQL's UTF-8 check refuses: (offset, reason), or None."""
    nul = rec.find(b"\x00")
    try:
        rec.decode("utf-8")
        bad = -1
    except UnicodeDecodeError as exc:
        bad = exc.start
    if nul < 0 and bad < 0:
        return None
    if nul >= 0 and (bad < 0 or nul <= bad):
        return nul, "NUL byte (0x00)"
    return bad, f"invalid UTF-8 byte 0x{rec[bad]:02x}"


def first_terminator(data: bytes, at_eof: bool) -> tuple[int, bytes] | None:
    """Offset and style of the first line terminator outside quotes: what fixes the file's style.

    None when `data` holds no complete first line yet (or, at EOF, has no terminator at all).
    """
    p = 0
    while True:
        m = _OUTSIDE.search(data, p)
        if m is None:
            return None
        k = m.start()
        if data[k] == QUOTE:
            q = data.find(b'"', k + 1)
            if q < 0:
                return None
            p = q + 1
            continue
        if data[k] == LF:
            return k, b"\n"
        if k + 1 < len(data):
            return k, b"\r\n" if data[k + 1] == LF else b"\r"
        return (k, b"\r") if at_eof else None


def find_record_end(
    data: bytes, pos: int, eol: bytes
) -> tuple[int, int, int | None, tuple[int, str] | None]:
    """Scan one record starting at `pos`.

    Returns (end, next_pos, unterminated_quote_at, terminator_problem): `end` excludes the
    terminator; `unterminated_quote_at` is the offset of a quote still open at the end of data;
    `terminator_problem` is (offset, reason) for a terminator PostgreSQL refuses.
    """
    n = len(data)
    p = pos
    while True:
        m = _OUTSIDE.search(data, p)
        if m is None:
            return n, n, None, None
        k = m.start()
        c = data[k]
        if c == QUOTE:
            q = data.find(b'"', k + 1)
            if q < 0:
                return n, n, k, None
            p = q + 1
            continue
        if c == CR:
            if eol == b"\r\n" and data[k + 1 : k + 2] == b"\n":
                return k, k + 2, None, None
            if eol == b"\r":
                return k, k + 1, None, None
            return k, k + 1, None, (k, _STRAY_CR)
        if eol == b"\n":
            return k, k + 1, None, None
        return k, k + 1, None, (k, _STRAY_LF[eol])


def parse_exact(
    data: bytes,
    *,
    eol: bytes,
    columns: tuple[str, ...],
    first_line: int,
    want_values: bool,
) -> ExactResult:
    """Read whole records from `data` (which starts at a record boundary) until the first problem."""
    ncols = len(columns)
    nl = line_char(eol)
    res = ExactResult(end_line=first_line)
    if want_values:
        res.values = [[] for _ in range(ncols)]
    line = first_line
    pos = 0
    n = len(data)
    while pos < n:
        end, nxt, open_quote, term_problem = find_record_end(data, pos, eol)
        rec = data[pos:end]
        bad = bad_byte(rec if term_problem is None else data[pos : term_problem[0]])
        if bad is not None:
            off, reason = bad
            if reason.startswith("NUL"):
                reason += ", which PostgreSQL text cannot hold"
            res.problem = Problem(
                line + rec.count(nl, 0, off), _column(columns, field_index(rec, off)), reason
            )
            return res
        if term_problem is not None:
            off, reason = term_problem
            column = _column(columns, field_index(rec, off - pos))
            res.problem = Problem(line + data.count(nl, pos, off), column, reason)
            return res
        if open_quote is not None:
            off = open_quote - pos
            res.problem = Problem(
                line + rec.count(nl, 0, off),
                _column(columns, field_index(rec, off)),
                "unterminated quoted field (its closing quote is missing)",
            )
            return res
        fields, _ = split_fields(rec)
        if len(fields) != ncols:
            res.problem = Problem(line, *_count_problem(fields, columns, rec))
            return res
        if want_values:
            res.lines.append(line)
            assert res.values is not None
            for j, value in enumerate(fields):
                res.values[j].append(None if value is None else value.decode("utf-8"))
        res.records += 1
        line += data.count(nl, pos, nxt)
        if nxt == n and end == n:
            # the file's last record had no terminator: the line it is on is not followed by another
            line += 1
        pos = nxt
    res.end_line = line
    return res


def _column(columns: tuple[str, ...], index: int) -> str | None:
    return columns[index] if 0 <= index < len(columns) else None


def _count_problem(
    fields: list[bytes | None], columns: tuple[str, ...], rec: bytes
) -> tuple[str | None, str]:
    got, want = len(fields), len(columns)
    noun = "field" if got == 1 else "fields"
    if got < want:
        if not rec:
            return columns[got], f"empty line (row has 1 field, header has {want})"
        return columns[got], f"row has {got} {noun}, header has {want}"
    return None, f"row has {got} {noun}, header has {want}"
