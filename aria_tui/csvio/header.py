"""The header line of an export file: column names, byte-order mark, line-ending style."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from aria_tui.csvio import exact
from aria_tui.csvio.files import open_bytes
from aria_tui.csvio.problems import CsvProblem

BOM = b"\xef\xbb\xbf"
_STEP = 64 * 1024
# A header longer than this is a quote left open on line 1, not a real header.
_MAX_HEADER = 16 * 1024 * 1024


@dataclass(frozen=True)
class Header:
    columns: tuple[str, ...]
    has_bom: bool
    crlf: bool
    lines: int  # physical lines the header spans (1 unless a quoted name holds a newline)
    bytes: int  # bytes of the header including the BOM and its line terminator
    # The terminator style the first line fixes for the whole file, as PostgreSQL does:
    # "\n", "\r\n" or (old Mac files) "\r". Defaulted so a Header can still be built by hand.
    eol: str = "\n"


def read_header(path: Path) -> Header | CsvProblem:
    """The header of `path`, or the problem that makes it unusable.

    Problems: an empty (0-byte) file, an empty header line, a header that never ends (a quote
    left open), invalid UTF-8 or NUL, an empty or duplicate column name.
    """
    header, problem = scan_header(path)
    if problem is not None:
        return problem
    assert header is not None
    return header


def scan_header(path: Path) -> tuple[Header | None, CsvProblem | None]:
    """Like read_header, but keeps the layout (bytes, lines, terminator) when the names are bad,
    so records can still be counted in a file whose header has, say, a duplicate name."""
    path = Path(path)
    name = path.name
    try:
        return _scan_header(path, name)
    except (OSError, EOFError, zlib.error) as exc:
        # open_bytes already turned "cannot open" into ExportError; this is a damaged .gz
        return None, CsvProblem(name, None, None, f"cannot be read ({unreadable(exc)})")


def unreadable(exc: BaseException) -> str:
    """Why a file could not be read, in a few words (gzip damage, I/O error)."""
    if isinstance(exc, EOFError):
        return "the gzip stream ends early: the file is truncated"
    if isinstance(exc, zlib.error):
        return "the gzip data is corrupt"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _scan_header(path: Path, name: str) -> tuple[Header | None, CsvProblem | None]:
    with open_bytes(path) as stream:
        data = b""
        at_eof = False
        while True:
            chunk = stream.read(_STEP)
            if not chunk:
                at_eof = True
            data += chunk
            if not data:
                return None, CsvProblem(name, None, None, "empty file (0 bytes): no header")
            has_bom = data.startswith(BOM)
            body = data[3:] if has_bom else data
            found = exact.first_terminator(body, at_eof)
            if found is not None or at_eof:
                break
            if len(data) > _MAX_HEADER:
                return None, CsvProblem(
                    name, 1, None, "header line never ends (a quote left open?)"
                )
    offset = 3 if has_bom else 0
    if found is None:
        end, eol, term_len = len(body), b"\n", 0
    else:
        end, eol = found
        term_len = len(eol)
    rec = body[:end]
    nl = exact.line_char(eol)
    lines = 1 + rec.count(nl)
    layout = dict(
        has_bom=has_bom,
        crlf=eol == b"\r\n",
        lines=lines,
        bytes=offset + end + term_len,
        eol=eol.decode("ascii"),
    )
    if not rec:
        return None, CsvProblem(name, 1, None, "header line is empty")
    bad = exact.bad_byte(rec)
    if bad is not None:
        off, reason = bad
        return None, CsvProblem(name, 1 + rec.count(nl, 0, off), None, f"{reason} in header")
    fields, open_quote = exact.split_fields(rec)
    if open_quote is not None:
        return None, CsvProblem(name, 1, None, "unterminated quoted field in header")
    columns = tuple("" if f is None else f.decode("utf-8") for f in fields)
    header = Header(columns=columns, **layout)  # type: ignore[arg-type]
    seen: set[str] = set()
    for i, col in enumerate(columns, start=1):
        if col == "":
            return header, CsvProblem(name, 1, None, f"empty column name in header (column {i})")
        if col in seen:
            return header, CsvProblem(name, 1, None, f"duplicate column name '{col}' in header")
        seen.add(col)
    return header, None
