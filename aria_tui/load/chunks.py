"""Read a CSV file as whole-record byte chunks, in constant memory, hashing as it goes.

A record ends at a newline outside quotes. With PostgreSQL's CSV defaults (QUOTE and ESCAPE both
'"'), a doubled quote toggles the state twice, so "outside quotes" is simply "an even number of
quote bytes since the start of the record": that is how COPY itself splits lines, and counting a
byte is C-speed work (`bytes.count`), never per-row Python.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aria_tui.csvio.files import is_gzip, open_bytes, raw_position

BOM = b"\xef\xbb\xbf"
CHUNK_BYTES = 8 << 20
READ_BYTES = 1 << 20  # raw passthrough paths send ~1 MB writes


def new_hash():
    """The journal's file checksum (sha256: OpenSSL makes it faster than blake2b here)."""
    return hashlib.sha256()


def file_digest(path: Path) -> str:
    """sha256 of the file as it is on disk (compressed bytes for .csv.gz)."""
    h = new_hash()
    with open(path, "rb") as fh:
        while block := fh.read(READ_BYTES * 4):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Chunk:
    data: bytes  # whole records, no header
    offset: int  # where `data` starts in the (uncompressed) byte stream
    bytes_done: int  # bytes of the file on disk consumed once this chunk is done


def read_header(path: Path) -> tuple[list[str], bytes, int]:
    """(column names, the header's raw bytes including its newline, physical lines it spans)."""
    with open_bytes(path) as fh:
        raw = b""
        while True:
            block = fh.read(1 << 16)
            raw += block
            end = _first_boundary(raw)
            if end is not None or not block:
                break
    head = raw if end is None else raw[: end + 1]
    text = head.removeprefix(BOM).decode("utf-8")
    row = next(csv.reader(io.StringIO(text, newline="")), [])
    return row, head, head.count(b"\n") or 1


def _first_boundary(buf: bytes) -> int | None:
    pos = 0
    quotes = 0
    while True:
        nl = buf.find(b"\n", pos)
        if nl < 0:
            return None
        quotes += buf.count(b'"', pos, nl)
        if quotes % 2 == 0:
            return nl
        pos = nl + 1


def iter_chunks(path: Path, hasher=None, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """Chunks of whole records after the header (a .csv.gz is decompressed on the fly).

    `hasher` (if given) sees every byte read: pass one only for uncompressed files, whose bytes
    read are the bytes on disk. `Chunk.bytes_done` counts bytes on disk (compressed for .gz).
    Lines are not counted here (that would be a second pass over every byte): `LineIndex` finds
    the line of a record when a reject needs it.
    """
    _, head, _ = read_header(path)
    compressed = is_gzip(path)
    with open_bytes(path) as fh:
        first = fh.read(len(head))
        if hasher is not None:
            hasher.update(first)
        offset = done = len(first)
        rest = b""
        rest_quotes = 0
        while True:
            block = fh.read(max(chunk_bytes, len(rest)))
            if hasher is not None and block:
                hasher.update(block)
            done = (raw_position(fh) or done) if compressed else done + len(block)
            if not block:
                if rest.strip(b"\r\n"):
                    yield Chunk(rest, offset, done)
                return
            quotes = rest_quotes + block.count(b'"')
            # walk back from the end to the last newline with an even quote count before it
            end = len(block)
            tail_quotes = 0
            cut = -1
            while True:
                nl = block.rfind(b"\n", 0, end)
                if nl < 0:
                    break
                tail_quotes += block.count(b'"', nl, end)
                end = nl
                if (quotes - tail_quotes) % 2 == 0:
                    cut = nl
                    break
            if cut < 0:  # one record longer than a chunk: keep reading (geometrically)
                rest, rest_quotes = rest + block, quotes
                continue
            data = b"".join((rest, memoryview(block)[: cut + 1])) if rest else block[: cut + 1]
            yield Chunk(data, offset, done if compressed else done - (len(block) - cut - 1))
            offset += len(data)
            rest, rest_quotes = block[cut + 1 :], tail_quotes


class LineIndex:
    """Physical lines of records, found on demand by reading the file again (rejects only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _, head, self.header_lines = read_header(path)
        self.header_bytes = len(head)
        self._fh = None
        self._pos = 0
        self._line = 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _advance(self, offset: int) -> None:
        if self._fh is None or offset < self._pos:
            self.close()
            self._fh = open_bytes(self.path)
            self._pos, self._line = 0, 1
        while self._pos < offset:
            block = self._fh.read(min(READ_BYTES * 4, offset - self._pos))
            if not block:
                break
            self._line += block.count(b"\n")
            self._pos += len(block)

    def lines_of(self, offset: int, indexes: list[int]) -> dict[int, int]:
        """Start line of the records `indexes` (0-based) of the chunk that starts at `offset`."""
        self._advance(offset)
        base = self._line
        wanted = sorted(set(indexes))
        out: dict[int, int] = {}
        if not wanted:
            return out
        assert self._fh is not None
        record = 0
        line = base
        quotes = 0
        pending = b""
        pos = 0
        i = 0
        while i < len(wanted):
            if record == wanted[i]:
                out[record] = line
                i += 1
                continue
            nl = pending.find(b"\n", pos)
            if nl < 0:
                more = self._fh.read(READ_BYTES)
                self._pos += len(more)
                self._line += more.count(b"\n")
                if not more:
                    break
                pending = pending[pos:] + more
                pos = 0
                continue
            quotes += pending.count(b'"', pos, nl)
            line += 1
            pos = nl + 1
            if quotes % 2 == 0:
                record += 1
                quotes = 0
        # the stream moved on: start over next time rather than track a partial position
        self.close()
        return out
