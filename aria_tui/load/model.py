"""The values a load works on and produces: LoadPlan / TablePlan in, RunResult / TableResult out.

`RunResult.to_json()` is the `aria-tui load --json` object of issue 5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aria_tui.pg.catalog import ForeignKey, Table

if TYPE_CHECKING:
    from pathlib import Path

    from aria_tui.scan.model import TableScan

# TableResult.status
LOADED = "loaded"
FAILED = "failed"
SKIPPED = "skipped"
RESUMED = "resumed"
BLOCKED = "blocked"

# TableResult.path
FAST = "fast"  # raw CSV bytes straight into the empty target table
BINARY = "binary"  # vectors parsed on the client, binary COPY into a staging table
STAGING = "staging"  # raw CSV into a text staging table, bad rows found in SQL


@dataclass(frozen=True)
class TablePlan:
    scan: TableScan
    table: Table  # the live target table from the catalog
    # (CSV column, target column) for every loaded column, in CSV header order
    columns: tuple[tuple[str, str], ...]
    csv_columns: tuple[str, ...]  # the whole CSV header, dropped columns included
    conflict_keys: tuple[tuple[str, ...], ...]  # every unique key, primary key first
    sequences: tuple[tuple[str, str], ...]  # (column, sequence) to move past the loaded maximum
    self_fks: tuple[ForeignKey, ...]
    order: int  # 1-based load order
    group: int | None = None  # tables of one FK cycle share a group and one transaction
    deferred: bool = False  # the group's FKs are deferrable: checked at its commit

    @property
    def target(self) -> str:
        return self.table.qualified

    @property
    def file(self) -> Path:
        return self.scan.file.path

    @property
    def direct(self) -> bool:
        """CSV header = target columns (any order, a subset): nothing dropped or renamed."""
        return len(self.columns) == len(self.csv_columns) and all(c == t for c, t in self.columns)

    @property
    def vector_columns(self) -> tuple[str, ...]:
        """Target vector columns this file fills."""
        vec = {c.name for c in self.table.vector_columns}
        return tuple(t for _, t in self.columns if t in vec)

    def to_json(self) -> dict[str, Any]:
        return {
            "order": self.order,
            "target": self.target,
            "file": self.scan.file.name,
            "rows": self.scan.rows,
            "bytes": self.scan.file.bytes,
            "columns": [{"from": c, "to": t} for c, t in self.columns],
            "dropped": [c for c in self.csv_columns if c not in {s for s, _ in self.columns}],
            "conflict_keys": [list(k) for k in self.conflict_keys],
            "sequences": [{"column": c, "sequence": s} for c, s in self.sequences],
            "self_references": [fk.name for fk in self.self_fks],
            "group": self.group,
            "deferred": self.deferred,
        }


@dataclass(frozen=True)
class LoadPlan:
    tables: tuple[TablePlan, ...]
    skipped: tuple[tuple[TableScan, str], ...] = ()  # (scan, one-sentence reason): not loadable
    export: str = ""

    @property
    def rows(self) -> int:
        return sum(t.scan.rows for t in self.tables)

    @property
    def bytes(self) -> int:
        return sum(t.scan.file.bytes for t in self.tables)

    def to_json(self) -> dict[str, Any]:
        return {
            "export": self.export,
            "tables": [t.to_json() for t in self.tables],
            "skipped": [
                {"file": s.file.name, "target": s.target, "reason": reason}
                for s, reason in self.skipped
            ],
        }


@dataclass(frozen=True)
class TableResult:
    target: str
    file: str  # file name inside the export folder
    csv_rows: int  # CSV records read by this load (PostgreSQL's count)
    inserted: int
    duplicates: int  # rows the target already had (same unique key): skipped, not errors
    rejected: int  # rows written to the reject file with their line and reason
    status: str  # 'loaded' | 'failed' | 'skipped' | 'resumed' | 'blocked'
    error: str | None = None  # one sentence when not loaded
    reject_file: str | None = None
    seconds: float = 0.0
    path: str | None = None  # 'fast' | 'binary' | 'staging'
    bytes: int = 0
    sequences_reset: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # a resumed table: what the earlier run(s) that committed it counted (this run: 0)
    previously_inserted: int = 0
    previously_duplicates: int = 0
    previously_rejected: int = 0

    @property
    def ok(self) -> bool:
        """Loaded (or resumed) with nothing rejected (now or by the run that committed it) and
        nothing to report."""
        return (
            self.status in (LOADED, RESUMED)
            and self.rejected == 0
            and self.previously_rejected == 0
            and self.error is None
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "file": self.file,
            "csv_rows": self.csv_rows,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "status": self.status,
            "error": self.error,
            "reject_file": self.reject_file,
            "seconds": round(self.seconds, 3),
            "path": self.path,
            "bytes": self.bytes,
            "sequences_reset": list(self.sequences_reset),
            "notes": list(self.notes),
            "previously_inserted": self.previously_inserted,
            "previously_duplicates": self.previously_duplicates,
            "previously_rejected": self.previously_rejected,
        }


@dataclass(frozen=True)
class RunResult:
    dry_run: bool
    tables: tuple[TableResult, ...]
    cancelled: bool = False
    seconds: float = 0.0
    journal: str | None = None  # the client-side mirror of the commit records (None: dry run)
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Every table loaded (or resumed) with nothing rejected, and not cancelled."""
        return not self.cancelled and all(t.ok for t in self.tables)

    def table(self, target: str) -> TableResult | None:
        for t in self.tables:
            if t.target == target:
                return t
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "cancelled": self.cancelled,
            "seconds": round(self.seconds, 3),
            "journal": self.journal,
            "totals": {
                "csv_rows": sum(t.csv_rows for t in self.tables),
                "inserted": sum(t.inserted for t in self.tables),
                "duplicates": sum(t.duplicates for t in self.tables),
                "rejected": sum(t.rejected for t in self.tables),
            },
            "notes": list(self.notes),
            "tables": [t.to_json() for t in self.tables],
        }
