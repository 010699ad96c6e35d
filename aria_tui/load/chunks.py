"""The loader's reading of an export file: csvio's record-aligned blocks, hashed as they are read.

The cutting into whole records (quote parity), the reading of each block (polars where it
provably reads what PostgreSQL reads, the exact parser elsewhere) and the line numbers are
csvio's (`aria_tui.csvio.cutter`, `csvio.read_block`): one implementation for scan and load.
What is the loader's own: the file is hashed on the way (the journal's checksum, without a
second pass) and opened through `open_bytes` here, so a test can make the loader's reads fail
while the scan's succeed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from aria_tui.csvio import Header, cutter
from aria_tui.csvio.files import Sha256, is_gzip, open_bytes

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
