"""Values the export produces: progress events while it runs, and the result when it is done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aria_tui.manifest.format import Manifest


@dataclass(frozen=True)
class ExportPlanned:
    """Every table is locked and counted in the snapshot; the data is about to flow."""

    database: str
    server_version: str
    snapshot_time: str
    tables: tuple[tuple[str, int], ...]  # ('schema.table', records) in export order

    @property
    def total_records(self) -> int:
        return sum(n for _, n in self.tables)


@dataclass(frozen=True)
class TableStarted:
    table: str
    file: str
    records: int


@dataclass(frozen=True)
class TableProgress:
    """Throttled to a few per second; records are exact (the server sends one row per message)."""

    table: str
    records_done: int
    records_total: int
    bytes_done: int  # CSV bytes received (before compression)


@dataclass(frozen=True)
class ExportedTable:
    table: str  # 'schema.table'
    file: str
    records: int
    bytes: int  # as stored
    csv_bytes: int  # CSV text before compression (== bytes without --gzip)
    sha256: str
    seconds: float
    csv_sha256: str = ""  # of the CSV text before compression (== sha256 without --gzip)

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "file": self.file,
            "records": self.records,
            "bytes": self.bytes,
            "csv_bytes": self.csv_bytes,
            "sha256": self.sha256,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class TableExported:
    table: ExportedTable


ExportEvent = ExportPlanned | TableStarted | TableProgress | TableExported
ExportProgressFn = Callable[[ExportEvent], None]


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    manifest_path: Path
    manifest: Manifest
    tables: tuple[ExportedTable, ...]
    seconds: float
    stale_files: tuple[str, ...]  # CSVs already in OUT_DIR that this export did not write

    # the manifest lists exactly the tables written, with the same counts: one sum, not two
    @property
    def records(self) -> int:
        return self.manifest.records

    @property
    def bytes(self) -> int:
        return self.manifest.bytes

    @property
    def csv_bytes(self) -> int:
        return sum(t.csv_bytes for t in self.tables)

    @property
    def mb_per_second(self) -> float:
        """Throughput in CSV megabytes (10^6) per second, compression or not."""
        return self.csv_bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "out_dir": str(self.out_dir),
            "manifest": str(self.manifest_path),
            "database": self.manifest.database,
            "server_version": self.manifest.server_version,
            "snapshot_time": self.manifest.snapshot_time,
            "compression": self.manifest.compression,
            "tables": [t.to_json() for t in self.tables],
            "records": self.records,
            "bytes": self.bytes,
            "csv_bytes": self.csv_bytes,
            "seconds": round(self.seconds, 3),
            "mb_per_second": round(self.mb_per_second, 1),
            "stale_files": list(self.stale_files),
        }
