"""Raw byte passthrough COPY: the file's bytes go to the server untouched, in ~1 MB writes.

`copy.write(bytes)` sends the bytes as they are; `write_row` would send COPY *text* format even
inside `COPY ... (FORMAT csv)`. No per-row Python: this runs at psql's speed. Used for an empty
target with a direct mapping and no vector columns (fast path), and for filling a text staging
table (staging path); the caller runs it inside a savepoint so a failure rolls back cleanly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from aria_tui.csvio.exact import has_marker
from aria_tui.csvio.files import is_gzip, open_bytes, raw_position
from aria_tui.load.chunks import READ_BYTES, Hasher
from aria_tui.load.events import Emitter
from aria_tui.timing import mark


class CancelledLoad(Exception):
    """The operator cancelled; the table's transaction must roll back."""


class EndMarker(Exception):
    """The file may hold a line with only \\. on it, which PostgreSQL 16's COPY takes for the end
    of the data (and silently stops there): raw bytes must not be sent; the caller rolls back and
    reads the file record by record, where such a line is a reject."""


def marker_guard() -> Callable[[bytes], None]:
    """A check over consecutive pieces of one stream: raises EndMarker at a possible \\. line."""
    tail = b""

    def check(block: bytes) -> None:
        nonlocal tail
        if b"\\" in block or tail:
            if has_marker(tail + block if tail else block):
                raise EndMarker()
        tail = block[-2:] if b"\\" in block[-2:] else b""

    return check


def stream_file(
    conn: psycopg.Connection,
    statement: sql.Composed,
    path: Path,
    emitter: Emitter,
    cancel: threading.Event | None,
    hasher: Hasher | None = None,
) -> int:
    """COPY `path` through `statement` (a `COPY ... FROM STDIN (FORMAT csv, HEADER true)`).

    Returns the server's record count (PostgreSQL's own count of CSV records). `hasher` sees
    the bytes sent: pass one only for an uncompressed file (then it hashes the file on disk).
    Raises EndMarker before sending a piece that may hold a line with only \\. (see there).
    """
    done = 0
    guard = marker_guard()
    with conn.cursor() as cur:
        with cur.copy(statement) as copy:
            compressed = is_gzip(path)
            with open_bytes(path) as fh:
                while block := fh.read(READ_BYTES):
                    if cancel is not None and cancel.is_set():
                        raise CancelledLoad()
                    guard(block)
                    if hasher is not None:
                        hasher.update(block)
                    if not done:
                        mark("first COPY byte", once=True)
                    copy.write(block)
                    done = (raw_position(fh) or done) if compressed else done + len(block)
                    emitter.progress(bytes_done=done)
        return cur.rowcount


def copy_into_target(
    conn: psycopg.Connection,
    table_ident: sql.Composable,
    columns: list[str],
    path: Path,
    emitter: Emitter,
    cancel: threading.Event | None,
    hasher: Hasher | None = None,
) -> int:
    return stream_file(conn, csv_copy(table_ident, columns), path, emitter, cancel, hasher)


def csv_copy(table_ident: sql.Composable, columns: list[str]) -> sql.Composed:
    """The raw paths' COPY: the file's bytes, its header line first, into these columns (a
    whole file here, a chunk of one in chunked.py)."""
    return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(
        table_ident, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
