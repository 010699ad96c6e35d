"""A folder compared with its manifest: one FileCheck per file on disk or listed (ok, missing,
changed or unlisted), the sha256 of the listed files computed in a few threads."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aria_tui.errors import ExportError
from aria_tui.manifest.format import (
    MANIFEST_NAME,
    Manifest,
    ManifestTable,
    is_export_file,
    os_reason,
    read_manifest,
    stem_of,
)
from aria_tui.status import ManifestState

# file statuses; the values are part of `scan --json` (a `manifest` field per table)
OK = ManifestState.OK
MISSING = ManifestState.MISSING
CHANGED = ManifestState.CHANGED
UNLISTED = ManifestState.UNLISTED


class SupportsPath(Protocol):
    """csvio's ExportFile, or anything else that knows its file."""

    @property
    def path(self) -> Path: ...


FileLike = Path | str | SupportsPath


@dataclass(frozen=True)
class FileCheck:
    """One file of the folder, or one manifest entry whose file is gone."""

    file: str  # name inside the folder
    status: str  # ok | missing | changed | unlisted
    reason: str | None  # one sentence when the status is not ok
    entry: ManifestTable | None  # None for an unlisted file
    bytes: int | None  # on disk; None when missing
    records: int | None = None  # counted on disk only when the file changed (to say by how much)

    @property
    def stem(self) -> str:
        return stem_of(self.file)

    @property
    def ok(self) -> bool:
        return self.status == OK

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "table": self.entry.qualified if self.entry else None,
            "status": self.status,
            "reason": self.reason,
            "records_expected": self.entry.records if self.entry else None,
            "records_found": self.records,
            "bytes_expected": self.entry.bytes if self.entry else None,
            "bytes_found": self.bytes,
        }


@dataclass(frozen=True)
class ManifestCheck:
    """A folder compared with its manifest: one FileCheck per file on disk or listed."""

    folder: Path
    manifest: Manifest
    files: tuple[FileCheck, ...]
    _by_name: dict[str, FileCheck] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for fc in self.files:
            self._by_name.setdefault(fc.file, fc)
            self._by_name.setdefault(fc.stem, fc)

    def check_for(self, file: FileLike) -> FileCheck | None:
        """The check of one file: an ExportFile, a Path, a file name or a stem."""
        return self._by_name.get(_name_of(file)) or self._by_name.get(stem_of(_name_of(file)))

    def status_for(self, file: FileLike) -> str | None:
        fc = self.check_for(file)
        return fc.status if fc else None

    def reason_for(self, file: FileLike) -> str | None:
        fc = self.check_for(file)
        return fc.reason if fc else None

    def source_types(self, file: FileLike) -> dict[str, str]:
        """Column -> source type (format_type) for the diff; {} for a file the manifest lacks."""
        fc = self.check_for(file)
        return fc.entry.source_types if fc and fc.entry else {}

    @property
    def missing(self) -> tuple[FileCheck, ...]:
        """Tables the manifest lists whose file is not in the folder."""
        return tuple(fc for fc in self.files if fc.status == MISSING)

    @property
    def missing_paths(self) -> tuple[Path, ...]:
        return tuple(self.folder / fc.file for fc in self.missing)

    @property
    def problems(self) -> tuple[FileCheck, ...]:
        return tuple(fc for fc in self.files if not fc.ok)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "database": self.manifest.database,
            "server_version": self.manifest.server_version,
            "snapshot_time": self.manifest.snapshot_time,
            "ok": self.ok,
            "files": [fc.to_json() for fc in self.files],
        }


HashProgress = Callable[[str, int], None]  # (file name, bytes hashed so far in it)


def check_folder(
    folder: Path,
    files: Iterable[FileLike] | None = None,
    *,
    count_records: Callable[[Path], int] | None = None,
    progress: HashProgress | None = None,
    workers: int | None = None,
) -> ManifestCheck | None:
    """Compare `folder` with its manifest.json; None when the folder has no manifest.

    `files` are the CSVs scan found (csvio.discover); without them the folder is listed here.
    A listed file that is absent is `missing`; a size or sha256 that differs is `changed` (the
    records are then counted with `count_records`, csvio's by default, only to say how many);
    a CSV the manifest does not list is `unlisted`; everything else is `ok`.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return None
    if files is None:
        names = sorted(p.name for p in folder.iterdir() if p.is_file() and is_export_file(p.name))
    else:
        names = sorted({_name_of(f) for f in files})
    on_disk = set(names)
    listed: set[str] = set()
    checks: list[FileCheck] = []
    to_hash: list[tuple[ManifestTable, str, int, str]] = []  # entry, file, bytes, sha256
    for entry in manifest.tables:
        found = False
        for name, size_expected, digest_expected in entry.forms():
            listed.add(name)
            path = folder / name
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise ExportError(f"Cannot read {path}: {os_reason(exc)}.") from None
            if not stat.S_ISREG(st.st_mode):
                continue  # a folder (or device) of that name is no export file: the file is missing
            size = st.st_size
            found = True
            if size != size_expected:
                checks.append(_changed(folder, entry, name, size, count_records, "size"))
            else:
                to_hash.append((entry, name, size, digest_expected))
        if not found:
            checks.append(
                FileCheck(
                    entry.file,
                    MISSING,
                    f"{entry.file} is listed in {MANIFEST_NAME} ({entry.records:,} records of "
                    f"{entry.qualified}) but is not in the folder.",
                    entry,
                    None,
                )
            )

    # hashing releases the GIL, so a few threads verify several files at disk speed
    pool_size = workers or min(4, os.cpu_count() or 1, max(1, len(to_hash)))
    with ThreadPoolExecutor(max_workers=pool_size) as pool:
        digests = list(
            pool.map(lambda job: sha256_file(folder / job[1], progress=progress)[0], to_hash)
        )
    for (entry, name, size, expected), digest in zip(to_hash, digests, strict=True):
        if digest == expected:
            checks.append(FileCheck(name, OK, None, entry, size))
        else:
            checks.append(_changed(folder, entry, name, size, count_records, "sha256"))

    for name in sorted(on_disk - listed):
        path = folder / name
        checks.append(
            FileCheck(
                name,
                UNLISTED,
                _unlisted_reason(name, manifest),
                None,
                _size_or_none(path),
            )
        )
    checks.sort(key=lambda fc: fc.file)
    return ManifestCheck(folder=folder, manifest=manifest, files=tuple(checks))


def _changed(
    folder: Path,
    entry: ManifestTable,
    name: str,
    size: int,
    count_records: Callable[[Path], int] | None,
    what: str,
) -> FileCheck:
    path = folder / name
    records = _count(path, count_records)
    expected_size = entry.bytes if name == entry.file else entry.csv_bytes
    if records is not None and records != entry.records:
        detail = f"it holds {records:,} records, the export wrote {entry.records:,}"
    elif what == "size":
        detail = f"it is {size:,} bytes, the export wrote {expected_size:,}"
    else:
        detail = "its sha256 differs from the one the export recorded"
    return FileCheck(
        name,
        CHANGED,
        _changed_reason(name, entry.qualified, detail),
        entry,
        size,
        records,
    )


# The sentences of a changed and an unlisted file; scan carries them as blockers of kind
# `manifest` (aria_tui.status), so nobody needs to recognise them again.
_CHANGED = "changed since it was exported from"
_UNLISTED = f"is not listed in {MANIFEST_NAME}:"


def _changed_reason(name: str, qualified: str, detail: str) -> str:
    return f"{name} {_CHANGED} {qualified}: {detail}."


def _unlisted_reason(name: str, manifest: Manifest) -> str:
    return (
        f"{name} {_UNLISTED} it was not written by the export of {manifest.database} at "
        f"{manifest.snapshot_time}."
    )


def _count(path: Path, count_records: Callable[[Path], int] | None) -> int | None:
    """Records in a changed file, or None when they cannot be counted (the status stays changed)."""
    if count_records is None:
        try:
            from aria_tui.csvio import count_records as csvio_count
        except ImportError:
            return None
        count_records = csvio_count
    try:
        return int(count_records(path))
    except Exception:  # a file too damaged to count is still just `changed`: say so, not crash
        return None


def sha256_file(path: Path, progress: HashProgress | None = None) -> tuple[str, int]:
    """sha256 and size of a file (csvio's), a read error said as one sentence."""
    from aria_tui.csvio.files import sha256_file as sha256_of

    try:
        digest = sha256_of(path, progress)
    except OSError as exc:
        raise ExportError(f"Cannot read {path}: {os_reason(exc)}.") from None
    return digest.hexdigest(), digest.bytes


def _name_of(file: FileLike) -> str:
    if isinstance(file, str):
        return file
    if isinstance(file, Path):
        return file.name
    return Path(file.path).name


def _size_or_none(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
