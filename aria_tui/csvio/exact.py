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
    problem: Problem | None = None  # the first bad record's problem
    bad: list[BadRecord] = field(default_factory=list)  # every record COPY would refuse


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


# A record's raw bytes kept for the reject file: a quote left open swallows the rest of the file
MAX_RAW = 64 * 1024
MARKER = b"\\."
MARKER_REASON = (
    "a line holding only \\. (PostgreSQL's end-of-data marker: COPY would silently stop reading "
    "the file here)"
)


_MARKER_LINE = re.compile(rb"(?:\A|[\r\n])\\\.(?:[\r\n]|\Z)")


def has_marker(data: bytes) -> bool:
    """Whether a record of `data` may be a line holding only \\. (a cheap over-approximation:
    a quoted multi-line value can match too; the exact parser decides)."""
    return MARKER in data and _MARKER_LINE.search(data) is not None


@dataclass
class BadRecord:
    """A record COPY would refuse, read on past: rejected alone, with its lines and raw bytes."""

    index: int  # its position among the block's records (a placeholder row of NULLs holds it)
    line: int  # physical line it starts on
    last_line: int  # physical line it ends on
    at: int  # physical line of the problem itself
    column: str | None  # the header column where the problem is, when there is one
    reason: str
    raw: bytes  # the record's bytes, terminator excluded (at most MAX_RAW of them)
    size: int  # the record's length in bytes
    kind: str  # 'encoding', 'nul', 'terminator', 'open-quote', 'marker', 'fields'

    def sentence(self) -> str:
        where = f"line {self.line}" if self.last_line <= self.line else (
            f"lines {self.line}-{self.last_line}"
        )
        col = f', column "{self.column}"' if self.column else ""
        at = f" (on line {self.at})" if self.at != self.line else ""
        return f"{where}{col}: {self.reason}{at}"

    def reject_reason(self) -> str:
        """The reason a reject file gives: what is wrong, where, and that the field is raw."""
        col = f'column "{self.column}": ' if self.column else ""
        span = f" (lines {self.line}-{self.last_line})" if self.last_line > self.line else ""
        if self.at != self.line:
            span = f" on line {self.at}{span}"
        cut = f"; first {len(self.raw)} of its {self.size} bytes shown" if self.size > len(self.raw) else ""
        return f"{col}{self.reason}{span}; the raw record follows as one field{cut}"

    def raw_text(self) -> str:
        """The raw bytes as text for the reject file: invalid UTF-8 as \\xNN, NUL as \\x00."""
        return self.raw.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")


def parse_exact(
    data: bytes,
    *,
    eol: bytes,
    columns: tuple[str, ...],
    first_line: int,
    want_values: bool,
) -> ExactResult:
    """Read every record of `data` (which starts at a record boundary), PostgreSQL's way.

    A record COPY would refuse (a wrong number of fields, an empty line in a multi-column file,
    a NUL byte, invalid UTF-8, an unquoted terminator of another style, a line holding only
    \\., a quote still open at the end) is read on past: it is listed in `bad`, holds a row of
    NULLs in `values` (so record numbers and lines stay in step), and counts as a record.
    Record boundaries do not depend on any of that (only quotes and terminators make them), so
    the records after a bad one are read exactly as COPY would read them. `problem` is the
    first bad record's, for callers that only want to know.
    """
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
        found: tuple[int, str, str] | None = None  # (offset in data, reason, kind)
        if term_problem is not None:
            # a terminator of the wrong style is not a record's end: the record goes on to the
            # next one PostgreSQL would take (or the end of the data)
            # (a \n of the wrong style still ends it where the block cutter and the count see
            # a line end; a lone \r does not)
            found = (term_problem[0], term_problem[1], "terminator")
            while (
                term_problem is not None
                and data[term_problem[0] : term_problem[0] + 1] != nl
                and open_quote is None
                and nxt < n
            ):
                end, nxt, open_quote, term_problem = find_record_end(data, nxt, eol)
            if term_problem is not None and data[term_problem[0] : term_problem[0] + 1] != nl:
                end = n if nxt >= n else end
        rec = data[pos:end]
        bad = bad_byte(rec)
        if bad is not None and (found is None or pos + bad[0] < found[0]):
            off, reason = bad
            kind = "nul" if reason.startswith("NUL") else "encoding"
            if kind == "nul":
                reason += ", which PostgreSQL text cannot hold"
            found = (pos + off, reason, kind)
        if found is None and open_quote is not None:
            found = (
                open_quote,
                "unterminated quoted field (its closing quote is missing)",
                "open-quote",
            )
        fields: list[bytes | None] = []
        if found is None:
            if rec == MARKER:
                found = (pos, MARKER_REASON, "marker")
            else:
                fields, _ = split_fields(rec)
                if len(fields) != ncols:
                    column, reason = _count_problem(fields, columns, rec)
                    found = (-1, reason, "fields")
        start_line = line
        line += data.count(nl, pos, nxt)
        if nxt >= n and end >= n and not data.endswith(nl):
            # the file's last record had no terminator: the line it is on is not followed by another
            line += 1
        if want_values:
            res.lines.append(start_line)
        if found is not None:
            off, reason, kind = found
            if kind == "fields":
                column = _count_problem(fields, columns, rec)[0]
            elif kind == "marker":
                column = None
            else:
                column = _column(columns, field_index(rec, off - pos))
            at = start_line if off < pos else start_line + data.count(nl, pos, off)
            bad_rec = BadRecord(
                index=res.records,
                line=start_line,
                last_line=line - 1,
                column=column,
                reason=reason,
                at=at,
                raw=rec[:MAX_RAW],
                size=len(rec),
                kind=kind,
            )
            res.bad.append(bad_rec)
            if res.problem is None:
                res.problem = Problem(at, column, reason)
            if want_values:
                assert res.values is not None
                for j in range(ncols):
                    res.values[j].append(None)
        elif want_values:
            assert res.values is not None
            for j, value in enumerate(fields):
                res.values[j].append(None if value is None else value.decode("utf-8"))
        res.records += 1
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


def wrong_encoding(undecodable: int, records: int, samples: list[bytes]) -> str | None:
    """When the records refused for invalid UTF-8 say the whole file is in another encoding, the
    end of a sentence saying so (and which encoding it looks like), else None: a few such
    records are rejected one by one, a file where they are common is refused whole."""
    if undecodable < 3 or undecodable * 100 < records:
        return None
    return (
        f"is not UTF-8: {undecodable} of its {records} records are not valid UTF-8; it looks like "
        f"{guess_encoding(samples)}. Convert it (e.g. iconv -f {_iconv(samples)} -t UTF-8) and "
        "load it again."
    )


def guess_encoding(samples: list[bytes]) -> str:
    """What a few records that are not UTF-8 look like (a guess for a sentence, not a decoder)."""
    data = b"".join(samples)
    if data.count(b"\x00") * 4 >= len(data) > 0:
        return "UTF-16 (every other byte is NUL)"
    if any(0x80 <= b <= 0x9F for b in data):
        try:
            data.decode("cp1252")
            return "Windows-1252"
        except UnicodeDecodeError:
            pass
    return "Latin-1 (ISO-8859-1) or another single-byte encoding"


def _iconv(samples: list[bytes]) -> str:
    guess = guess_encoding(samples)
    return "UTF-16" if guess.startswith("UTF-16") else "WINDOWS-1252" if guess.startswith("Windows") else "LATIN1"
