"""The manifest file's format: the values `aria-tui export` writes to `manifest.json`, reading and
parsing it (a damaged manifest is an error, never no manifest), and the atomic write."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aria_tui.errors import ExportError
from aria_tui.paths import open_private

MANIFEST_NAME = "manifest.json"
FORMAT = "aria-tui-export"
FORMAT_VERSION = 1

CSV_SUFFIXES = (".csv.gz", ".csv")  # longest first: `x.csv.gz` must not read as stem `x.csv`


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
        raise ExportError(f"Cannot read {path}: {os_reason(exc)}.") from None
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
        raise ExportError(f"Cannot write {path}: {os_reason(exc)}.") from None
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


def os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).strip() or type(exc).__name__
