"""Finding the export's CSV files and opening them as bytes (plain or gzip)."""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from aria_tui.errors import ExportError

_SUFFIXES = ((".csv.gz", True), (".csv", False))


@dataclass(frozen=True)
class ExportFile:
    path: Path
    stem: str  # 'memories' or 'aria_data.memories': the file name minus .csv / .csv.gz
    schema: str | None  # 'aria_data' for 'aria_data.memories.csv', else None
    table: str  # 'memories'
    compressed: bool  # .csv.gz
    bytes: int  # size on disk (compressed size for .csv.gz)

    @property
    def name(self) -> str:
        """The file name, as problems and screens show it."""
        return self.path.name


def _split_name(name: str) -> tuple[str, bool] | None:
    lower = name.lower()
    for suffix, compressed in _SUFFIXES:
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], compressed
    return None


def discover(folder: Path) -> list[ExportFile]:
    """Every *.csv and *.csv.gz directly in `folder`, sorted by stem.

    Raises ExportError (exit 2) when the folder is missing, not a directory, unreadable, or holds
    no CSV file at all: each of those means the operator pointed at the wrong place.
    """
    folder = Path(folder)
    if not folder.exists():
        raise ExportError(f"Export folder {folder} does not exist.")
    if not folder.is_dir():
        raise ExportError(f"Export folder {folder} is not a directory.")
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise ExportError(
            f"Export folder {folder} cannot be read ({exc.strerror or exc})."
        ) from None
    found: list[ExportFile] = []
    for path in entries:
        split = _split_name(path.name)
        if split is None:
            continue
        stem, compressed = split
        try:
            if path.is_dir():
                continue  # a directory called x.csv is not an export file
            size = path.stat().st_size if path.is_file() else 0
        except OSError:
            size = 0
        # anything else named like an export file (a dangling symlink: an unmounted volume, a
        # copy that failed; a fifo) is listed, and whoever reads it says it cannot be read
        # (`regular`, before any open: a fifo's would wait for a writer): a table's file the
        # export holds but nobody can read must never vanish from the proof
        # COPY-per-table exports name files schema.table.csv; a table name never needs the dot
        schema, _, table = stem.partition(".") if "." in stem else ("", "", stem)
        found.append(
            ExportFile(
                path=path,
                stem=stem,
                schema=schema or None,
                table=table,
                compressed=compressed,
                bytes=size,
            )
        )
    if not found:
        raise ExportError(f"Export folder {folder} holds no .csv or .csv.gz files.")
    found.sort(key=lambda f: (f.stem, f.compressed))
    return found


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def regular(path: Path) -> None:
    """Raise OSError unless `path` is a regular file (or a link to one): never opened otherwise,
    since opening a fifo waits for a writer."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(errno.EINVAL, "not a regular file", str(path))


def open_bytes(path: Path) -> BinaryIO:
    """The file as a binary stream; a .gz file is decompressed on the fly.

    Raises ExportError when the file cannot be opened, with the file named.
    """
    path = Path(path)
    try:
        regular(path)
        if is_gzip(path):
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return open(path, "rb")  # noqa: SIM115 - the caller owns and closes the stream
    except OSError as exc:
        raise ExportError(f"{path.name} cannot be opened ({exc.strerror or exc}).") from None


def raw_position(stream: BinaryIO) -> int | None:
    """Bytes of the file on disk consumed so far: the compressed offset for a gzip stream."""
    inner = getattr(stream, "fileobj", None)  # GzipFile keeps the on-disk file here
    try:
        return (inner if inner is not None else stream).tell()
    except (OSError, ValueError):
        return None


def skip(stream: BinaryIO, n: int) -> None:
    """Move the stream to offset `n` of its (decompressed) content."""
    try:
        stream.seek(n)  # a GzipFile seeks forward by decompressing, which is what we want
        return
    except (OSError, ValueError):
        pass  # not seekable (a pipe): read past it
    while n > 0:
        chunk = stream.read(min(n, 1 << 20))
        if not chunk:
            return
        n -= len(chunk)


class Sha256:
    """sha256 and size of the bytes fed to it: a file's identity in the manifest, the load's
    commit records and the validation report (fed while the file streams to the server, or by
    `sha256_file`)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._h = hashlib.sha256()
        self.bytes = 0

    def update(self, data: bytes | memoryview, /) -> None:
        self._h.update(data)
        self.bytes += len(data)

    def hexdigest(self) -> str:
        return self._h.hexdigest()


HASH_CHUNK = 1 << 20


def sha256_file(path: Path, progress: Callable[[str, int], None] | None = None) -> Sha256:
    """The file as it is on disk (a .csv.gz compressed), read in 1 MiB chunks: memory stays flat
    whatever its size. `progress(name, bytes so far)` after each chunk. Raises OSError."""
    digest = Sha256()
    buf = bytearray(HASH_CHUNK)
    view = memoryview(buf)
    regular(path)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            digest.update(view[:n])
            if progress is not None:
                progress(path.name, digest.bytes)
    return digest
