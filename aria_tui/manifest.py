"""The export manifest (`manifest.json`): what `aria-tui export` wrote, and proof a folder still holds it.

Seed 004's migration failed before any load began: pg_dump silently left out 13 of 19 tables and
nobody could say which files were whole. An export folder written by `aria-tui export` carries a
manifest listing every file with its sha256, byte size and the record count the *server* reported,
plus the source's column types and keys. `check_folder` compares a folder against it, so scan can
show a missing, truncated or foreign file as a blocking problem instead of loading it.

A folder without a manifest (a hand-made or pg-side export) is not an error: `check_folder`
returns None and everything works as before.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aria_tui.errors import ExportError
from aria_tui.paths import open_private
from aria_tui.status import ManifestState

MANIFEST_NAME = "manifest.json"
FORMAT = "aria-tui-export"
FORMAT_VERSION = 1

# file statuses; the values are part of `scan --json` (a `manifest` field per table)
OK = ManifestState.OK
MISSING = ManifestState.MISSING
CHANGED = ManifestState.CHANGED
UNLISTED = ManifestState.UNLISTED

CSV_SUFFIXES = (".csv.gz", ".csv")  # longest first: `x.csv.gz` must not read as stem `x.csv`


# --------------------------------------------------------------------------------------------
# the format


@dataclass(frozen=True)
class ManifestColumn:
    name: str
    type: str  # format_type() on the source: 'vector(768)', 'character varying(255)', ...
    not_null: bool


@dataclass(frozen=True)
class ManifestForeignKey:
    columns: tuple[str, ...]
    ref_table: str  # 'schema.table'
    ref_columns: tuple[str, ...]
    on_delete: str  # 'NO ACTION' | 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT'


@dataclass(frozen=True)
class ManifestTable:
    file: str  # name inside the folder: 'aria_data.memories.csv' (or '.csv.gz')
    schema: str
    table: str
    records: int  # count(*) in the export's snapshot, cross-checked against COPY's own count
    bytes: int  # size of the file as stored (compressed when gzip)
    sha256: str  # of the file as stored
    columns: tuple[ManifestColumn, ...]  # in CSV header order
    primary_key: tuple[str, ...] | None = None
    unique_keys: tuple[tuple[str, ...], ...] = ()  # besides the primary key
    foreign_keys: tuple[ManifestForeignKey, ...] = ()
    # a .csv.gz also records its CSV text, so a copy gunzipped on the target host still verifies
    csv_bytes: int | None = None
    csv_sha256: str | None = None

    @property
    def compressed(self) -> bool:
        return self.file.lower().endswith(".gz")

    def forms(self) -> list[tuple[str, int, str]]:
        """(file name, bytes, sha256) of each form the file may take in the folder."""
        forms = [(self.file, self.bytes, self.sha256)]
        if self.compressed and self.csv_sha256 and self.csv_bytes is not None:
            forms.append((self.file[: -len(".gz")], self.csv_bytes, self.csv_sha256))
        return forms

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def stem(self) -> str:
        return stem_of(self.file)

    @property
    def source_types(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns}

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "schema": self.schema,
            "table": self.table,
            "records": self.records,
            "bytes": self.bytes,
            "sha256": self.sha256,
            **(
                {"csv_bytes": self.csv_bytes, "csv_sha256": self.csv_sha256}
                if self.compressed
                else {}
            ),
            "columns": [
                {"name": c.name, "type": c.type, "not_null": c.not_null} for c in self.columns
            ],
            "primary_key": list(self.primary_key) if self.primary_key else None,
            "unique_keys": [list(k) for k in self.unique_keys],
            "foreign_keys": [
                {
                    "columns": list(fk.columns),
                    "ref_table": fk.ref_table,
                    "ref_columns": list(fk.ref_columns),
                    "on_delete": fk.on_delete,
                }
                for fk in self.foreign_keys
            ],
        }


@dataclass(frozen=True)
class Manifest:
    tool_version: str
    database: str  # the source database's name; never a host, user or password
    server_version: str
    server_version_num: int
    snapshot_time: str  # ISO 8601, UTC: now() of the one transaction every table was read in
    tables: tuple[ManifestTable, ...]
    compression: str | None = None  # 'gzip' or None
    encoding: str = "UTF8"
    format_version: int = FORMAT_VERSION

    def entry(self, name: str) -> ManifestTable | None:
        """The entry for a file name, a file stem or a 'schema.table'."""
        for t in self.tables:
            if name in (t.file, t.stem, t.qualified):
                return t
        return None

    @property
    def records(self) -> int:
        return sum(t.records for t in self.tables)

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.tables)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": self.format_version,
            "tool_version": self.tool_version,
            "database": self.database,
            "server_version": self.server_version,
            "server_version_num": self.server_version_num,
            "snapshot_time": self.snapshot_time,
            "compression": self.compression,
            "encoding": self.encoding,
            "csv": {"header": True, "delimiter": ",", "quote": '"', "null": ""},
            "tables": [t.to_json() for t in self.tables],
        }


def stem_of(name: str) -> str:
    """'aria_data.memories.csv.gz' -> 'aria_data.memories' (the name scan maps to a table)."""
    lower = name.lower()
    for suffix in CSV_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def is_export_file(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(CSV_SUFFIXES)


def read_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest, None when it has none; a manifest that cannot be read is an error,
    because silently ignoring it would turn a damaged proof into no proof at all."""
    path = Path(folder) / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"Cannot read {path}: {_os_reason(exc)}.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from None
    return _parse(data, path)


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write atomically (temp file, fsync, rename): a manifest is either whole or absent.

    Like every file the tool writes (paths.write_private), it is mode 0600 from its first byte:
    it names the source database, its tables and their keys, which is nobody else's business.
    """
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    tmp = folder / f".{MANIFEST_NAME}.partial"
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n"
    try:
        with open_private(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(folder)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"Cannot write {path}: {_os_reason(exc)}.") from None
    return path


def fsync_dir(folder: Path) -> None:
    """Make renames inside `folder` durable (a rename lives in the directory, not the file)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some platforms cannot open a directory; the rename itself already happened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _parse(data: Any, path: Path) -> Manifest:
    def bad(what: str) -> ExportError:
        return ExportError(f"{path} is not an aria-tui export manifest: {what}.")

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad(f"its 'format' is not '{FORMAT}'")
    version = data.get("format_version")
    if not isinstance(version, int):
        raise bad("'format_version' is missing")
    if version > FORMAT_VERSION:
        raise ExportError(
            f"{path} has format version {version}, newer than this aria-tui reads "
            f"({FORMAT_VERSION}); upgrade aria-tui."
        )
    tables = data.get("tables")
    if not isinstance(tables, list):
        raise bad("'tables' is not a list")
    try:
        parsed = tuple(_parse_table(t) for t in tables)
        return Manifest(
            tool_version=str(data.get("tool_version", "")),
            database=str(data.get("database", "")),
            server_version=str(data.get("server_version", "")),
            server_version_num=int(data.get("server_version_num") or 0),
            snapshot_time=str(data.get("snapshot_time", "")),
            tables=parsed,
            compression=data.get("compression"),
            encoding=str(data.get("encoding") or "UTF8"),
            format_version=version,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise bad(f"a table entry lacks or mistypes {exc}") from None


def _parse_table(t: dict[str, Any]) -> ManifestTable:
    name = t["file"]
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"'file' ({name!r})")  # a manifest must not point outside its folder
    return ManifestTable(
        file=name,
        schema=str(t["schema"]),
        table=str(t["table"]),
        records=int(t["records"]),
        bytes=int(t["bytes"]),
        sha256=str(t["sha256"]).lower(),
        csv_bytes=int(t["csv_bytes"]) if t.get("csv_bytes") is not None else None,
        csv_sha256=str(t["csv_sha256"]).lower() if t.get("csv_sha256") else None,
        columns=tuple(
            ManifestColumn(str(c["name"]), str(c["type"]), bool(c.get("not_null", False)))
            for c in t.get("columns") or ()
        ),
        primary_key=tuple(t["primary_key"]) if t.get("primary_key") else None,
        unique_keys=tuple(tuple(k) for k in t.get("unique_keys") or ()),
        foreign_keys=tuple(
            ManifestForeignKey(
                columns=tuple(fk["columns"]),
                ref_table=str(fk["ref_table"]),
                ref_columns=tuple(fk["ref_columns"]),
                on_delete=str(fk.get("on_delete", "NO ACTION")),
            )
            for fk in t.get("foreign_keys") or ()
        ),
    )


# --------------------------------------------------------------------------------------------
# verification


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
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise ExportError(f"Cannot read {path}: {_os_reason(exc)}.") from None
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
        raise ExportError(f"Cannot read {path}: {_os_reason(exc)}.") from None
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


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).strip() or type(exc).__name__
