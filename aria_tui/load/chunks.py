"""The loader's reading of an export file: csvio's record-aligned blocks, hashed as they are read.

The cutting into whole records (quote parity), the reading of each block (polars where it
provably reads what PostgreSQL reads, the exact parser elsewhere) and the line numbers are
csvio's (`aria_tui.csvio.cutter`, `csvio.read_block`): one implementation for scan and load.
What is the loader's own: the file is hashed on the way (the journal's checksum, without a
second pass) and opened through `open_bytes` here, so a test can make the loader's reads fail
while the scan's succeed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from aria_tui.csvio import Header, cutter, exact
from aria_tui.csvio.files import Sha256, is_gzip, open_bytes
from aria_tui.errors import ExportError

READ_BYTES = 1 << 20  # raw passthrough paths send ~1 MB writes


class Hasher(Protocol):
    """What the loader needs of a hashlib object."""

    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


def new_hash() -> Hasher:
    """The commit record's file checksum (sha256: OpenSSL makes it faster than blake2b here)."""
    return Sha256()


class _Hashed:
    """A plain file whose every byte read also goes to `hasher` (reads only, no seeking)."""

    def __init__(self, stream: BinaryIO, hasher: Hasher) -> None:
        self._stream = stream
        self._hasher = hasher

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        self._hasher.update(data)
        return data

    def tell(self) -> int:
        return self._stream.tell()


@contextmanager
def blocks(
    path: Path, header: Header, hasher: Hasher | None = None, block_bytes: int | None = None
) -> Iterator[Iterator[cutter.Block]]:
    """The body of `path` (after its header) as csvio blocks, read as the caller iterates.

    `hasher` (if given) sees every byte of the file, header included: pass one only for an
    uncompressed file, whose bytes read are the bytes on disk. `Block.raw_done` is None for a
    plain file; for a .gz it is the compressed offset, for progress on the size on disk.
    """
    with open_bytes(path) as raw:
        stream: BinaryIO = raw
        if hasher is not None and not is_gzip(path):
            stream = _Hashed(raw, hasher)  # type: ignore[assignment]
        head = header.bytes
        while head > 0:  # read, not seek: the header is part of the checksum
            got = stream.read(min(head, READ_BYTES))
            if not got:
                break
            head -= len(got)
        eol = header.eol.encode("ascii")
        if block_bytes is None:
            yield cutter.iter_blocks(stream, eol)
        else:
            yield cutter.iter_blocks(stream, eol, block_bytes)


# -- a file cut into chunks loaded side by side (chunked.py) ---------------------------------------


@dataclass(frozen=True)
class Chunk:
    """A run of whole records of a file: [start, end) of its bytes, records first..first+records-1.

    The first chunk of a file starts at byte 0 (its header is part of it, as a whole file's commit
    record covers [0, size)); its records start after the header, at `body`."""

    number: int  # 1-based, in file order
    start: int
    end: int
    body: int  # where its records start (after the header for the first chunk, else `start`)
    first_record: int
    records: int
    lines: int  # physical lines its records span
    # its record-aligned blocks as the cutting pass found them: (end offset, quotes in it), so
    # that the threads loading it read whole blocks without looking for boundaries again
    blocks: tuple[tuple[int, int], ...] = ()
    final: bool = False  # the file's last chunk


def cut_chunks(
    path: Path,
    header: Header,
    chunk_bytes: int,
    hasher: Hasher,
    stop: Callable[[], bool],
    cuts: tuple[int, ...] = (),
    read_bytes: int = cutter.BLOCK_BYTES,
    first_bytes: int | None = None,
) -> Iterator[Chunk]:
    """The file's chunks of about `chunk_bytes`, each yielded as soon as its end is found.

    One sequential pass that only counts (quote parity, C speed, without the GIL) and hashes
    every byte into `hasher`: the chunks' records are loaded by other threads reading their own
    byte range, so this pass runs ahead of them at the speed of the disk. A chunk also ends at
    every offset of `cuts` (the edges of byte ranges an earlier run committed, which are record
    boundaries), so that a resumed load's chunks never straddle one. `stop()` True ends it early
    (the load gave up; the hash is then incomplete and must not be used). `first_bytes`: the
    size of the first chunk, each next one twice the last, up to `chunk_bytes`.
    """
    eol = header.eol.encode("ascii")
    term = exact.line_char(eol)
    want = min(first_bytes or chunk_bytes, chunk_bytes)  # this chunk's size
    read_bytes = max(1, min(read_bytes, want))  # blocks no larger than a chunk
    with open(path, "rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        head = raw.read(header.bytes)
        hasher.update(head)
        edges = sorted({c for c in cuts if header.bytes < c < size} | {size})
        number, start, body, at = 1, 0, header.bytes, header.bytes
        record, records, lines = 1, 0, 0
        ends: list[tuple[int, int]] = []
        for edge in edges:
            stream = _Hashed(_Range(raw, at, edge), hasher)  # type: ignore[arg-type]
            for block in cutter.iter_blocks(stream, eol, read_bytes):  # type: ignore[arg-type]
                if stop():
                    return
                n, spans = cutter.count_records(block.data, term)
                records += n
                lines += spans
                at += len(block.data)
                ends.append((at, block.quotes))
                if at - start >= want and at < edge:
                    yield Chunk(number, start, at, body, record, records, lines, tuple(ends))
                    number, start, body = number + 1, at, at
                    record, records, lines = record + records, 0, 0
                    ends = []
                    want = min(2 * want, chunk_bytes)
            if at != edge:  # the file changed under us, or an edge was not a record boundary
                raise ExportError(
                    f"{path.name} changed while it was being loaded (expected {edge} bytes "
                    f"read, got {at})."
                )
            if at > start or number == 1:
                yield Chunk(
                    number, start, at, body, record, records, lines, tuple(ends), edge == size
                )
                number, start, body = number + 1, at, at
                record, records, lines = record + records, 0, 0
                ends = []


class _Range:
    """A plain file read from `start` up to `end` only (a chunk's bytes), as a stream."""

    def __init__(self, stream: BinaryIO, start: int, end: int) -> None:
        if stream.tell() != start:
            stream.seek(start)
        self._stream = stream
        self._left = end - start

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        data = self._stream.read(self._left if n < 0 else min(n, self._left))
        self._left -= len(data)
        return data

    def tell(self) -> int:
        return self._stream.tell()


def chunk_blocks(
    path: Path, chunk: Chunk, before_read: Callable[[], None] | None = None
) -> Iterator[cutter.Block]:
    """The records of one chunk as csvio blocks, read from its own byte range of the file.
    `before_read()` runs before each block is read (the load's bound on blocks in memory)."""
    with open(path, "rb") as raw:
        raw.seek(chunk.body)
        at = chunk.body
        last = len(chunk.blocks) - 1
        for i, (end, quotes) in enumerate(chunk.blocks):
            if before_read is not None:
                before_read()
            data = raw.read(end - at)
            if len(data) != end - at:
                raise ExportError(f"{path.name} changed while it was being loaded (shorter).")
            at = end
            yield cutter.Block(data, quotes, chunk.final and i == last, end)
