"""The values a load works on and produces: LoadPlan / TablePlan in, RunResult / TableResult out.

`RunResult.to_json()` is the `aria-tui load --json` object of issue 5.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aria_tui.pg.catalog import ForeignKey, Table
from aria_tui.status import Blocker, BlockerKind, LoadStatus, sentence_of

if TYPE_CHECKING:
    from pathlib import Path

    from aria_tui.load.constraints import ConstraintBuild
    from aria_tui.load.indexes import IndexBuild
    from aria_tui.scan.model import TableScan

# TableResult.status
LOADED = LoadStatus.LOADED
FAILED = LoadStatus.FAILED
SKIPPED = LoadStatus.SKIPPED
RESUMED = LoadStatus.RESUMED
BLOCKED = LoadStatus.BLOCKED
NO_TARGET = LoadStatus.NO_TARGET

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
    # what a record whose key the target holds with other content becomes (load/conflicts.py)
    on_conflict: str = "reject"  # 'reject' | 'keep-target' | 'take-export'
    ddl: tuple[str, ...] = ()  # decided schema changes, run first in the table's transaction
    # run after the rows, before the commit: what a fill's default was set from, put back
    ddl_after: tuple[str, ...] = ()
    decision_notes: tuple[str, ...] = ()  # what the decisions did (added, dropped, widened)
    accept_rejects: bool = False  # rejects accepted on purpose (plan): they do not fail the run
    # the table's user triggers switched off for its load (plan / --triggers-off), in its own
    # transaction, and on again as they were before it commits
    triggers_off: bool = False

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
    def decisions_key(self) -> str:
        """Changes when a decision about this table does (its DDL; drift-only, so a plain
        table keeps the empty key and old journals still resume)."""
        if not self.ddl:
            return ""
        import hashlib

        text = "\x00".join([*self.ddl, *(f"{c}={t}" for c, t in self.columns)])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

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
            "on_conflict": self.on_conflict,
            "ddl": list(self.ddl),
            "ddl_after": list(self.ddl_after),
            "decision_notes": list(self.decision_notes),
            "accept_rejects": self.accept_rejects,
            "triggers_off": self.triggers_off,
        }


@dataclass(frozen=True)
class Skipped:
    """A selected file the plan cannot load, with its blockers. Unpacks as (scan, reason)."""

    scan: TableScan
    blockers: tuple[Blocker, ...]

    @property
    def reason(self) -> str:
        return sentence_of(self.blockers) or f"{self.scan.file.name} cannot be loaded."

    @property
    def status(self) -> str:
        """`no_target` when the target has no table for it (and nothing else), else `blocked`."""
        kinds = {b.kind for b in self.blockers}
        return NO_TARGET if kinds == {BlockerKind.NO_TARGET} else BLOCKED

    def __iter__(self) -> Iterator[Any]:  # `for scan, reason in plan.skipped`
        return iter((self.scan, self.reason))

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.scan.file.name,
            "target": self.scan.target,
            "reason": self.reason,
            "status": str(self.status),
            "blockers": [b.to_json() for b in self.blockers],
        }


@dataclass(frozen=True)
class LoadPlan:
    tables: tuple[TablePlan, ...]
    skipped: tuple[Skipped, ...] = ()  # selected, but not loadable: reported, the run fails
    export: str = ""
    # the session TimeZone zoneless timestamps are read in (never the shell's PGTZ)
    time_zone: str = "UTC"
    # files of the export left out on purpose (deselected, outside the priorities, SKIP)
    left_out: tuple[TableScan, ...] = ()

    @property
    def rows(self) -> int:
        return sum(t.scan.rows for t in self.tables)

    @property
    def bytes(self) -> int:
        return sum(t.scan.file.bytes for t in self.tables)

    def to_json(self) -> dict[str, Any]:
        return {
            "export": self.export,
            "time_zone": self.time_zone,
            "tables": [t.to_json() for t in self.tables],
            "skipped": [s.to_json() for s in self.skipped],
            "left_out": [s.file.name for s in self.left_out],
        }


@dataclass(frozen=True)
class ConflictRecord:
    """One conflicting record as both sides hold it, for a side-by-side view (the wizard's).

    `values`: (target column, the export's value, the other side's value) for every loaded
    column, as the target prints them; the other side is the target's row, or None where the
    conflict is with an earlier record of the same file (the reason names it). Long values are
    clipped. A load keeps the first CONFLICT_DETAILS of a table (the reject file has them all).
    """

    line: int  # where the record starts in the export file (header = line 1)
    reason: str  # as in the reject file: the constraint, the key, the differing columns
    source: str  # 'target' | 'file': whose row holds the key
    action: str  # 'rejected' | 'kept' | 'updated': what the table's policy made of it
    values: tuple[tuple[str, str | None, str | None], ...]

    @property
    def differing(self) -> tuple[str, ...]:
        return tuple(c for c, mine, theirs in self.values if theirs is not None and mine != theirs)


CONFLICT_DETAILS = 100


@dataclass(frozen=True)
class TableResult:
    target: str
    file: str  # file name inside the export folder
    csv_rows: int  # CSV records read by this load (PostgreSQL's count)
    inserted: int
    # csv_rows = inserted + updated + duplicates + conflicts + rejected, always (see README)
    duplicates: int  # records equal to the row holding their key (target or file): skipped
    rejected: int  # records rejected for anything but a conflict, in the reject file with a reason
    status: str  # a LoadStatus: 'loaded' | 'failed' | 'skipped' | 'resumed' | 'blocked' | 'no_target'
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
    # and the conflicts they counted: rejected (in their reject file) or kept by decision, and
    # the target rows they replaced (take-export)
    previously_conflicts: int = 0
    previously_conflicts_kept: int = 0
    previously_updated: int = 0
    # records whose key is held by a row with other content, left as they are: rejected (in the
    # reject file) or kept by decision (keep-target); `conflicts_kept` of them were kept
    conflicts: int = 0
    conflicts_kept: int = 0
    updated: int = 0  # conflicting target rows replaced by the export's record (take-export)
    on_conflict: str = "reject"
    kept: tuple[tuple[int, str], ...] = ()  # (line, reason) of each conflict kept by decision
    kept_file: str | None = None  # the kept records as exported (CSV, 0600)
    undo_file: str | None = None  # the target's values before take-export replaced them
    ddl: tuple[str, ...] = ()  # statements run on the table's schema (plan decisions)
    accept_rejects: bool = False  # the plan accepts this table's rejects on purpose
    triggers_off: bool = False  # the plan loads it with its user triggers switched off
    # the triggers this load switched off (and on again before its commit), as described
    triggers_switched_off: tuple[str, ...] = ()

    @property
    def conflicts_rejected(self) -> int:
        return self.conflicts - self.conflicts_kept
    blockers: tuple[Blocker, ...] = ()  # why a blocked / no_target file was not loaded
    indexes: tuple[IndexBuild, ...] = ()  # indexes dropped and built again after the rows
    # a large file loaded over several connections (load/chunked.py): the chunks this run
    # committed, each with its own commit record, and the connections that loaded them
    chunks: int = 0
    chunk_connections: int = 0
    # rows those chunks committed when the file did not finish (cancelled, failed): they stay in
    # the target, recorded, and a re-run counts them as previously inserted (`inserted` counts
    # only a table loaded whole)
    committed_rows: int = 0
    # keys dropped and built again, foreign keys checked in one query, after the rows
    constraints: tuple[ConstraintBuild, ...] = ()
    # the first CONFLICT_DETAILS conflicting records with both sides' values (not in --json:
    # the reject, kept and undo files hold every one)
    conflict_records: tuple[ConflictRecord, ...] = ()

    @property
    def ok(self) -> bool:
        """Loaded (or resumed) with nothing rejected, no conflict left undecided, nothing to report."""
        return (
            self.status in (LOADED, RESUMED)
            and ((self.rejected == 0 and self.previously_rejected == 0) or self.accept_rejects)
            and self.conflicts_rejected == 0
            and self.previously_conflicts == self.previously_conflicts_kept
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
            "chunks": self.chunks,
            "chunk_connections": self.chunk_connections,
            "committed_rows": self.committed_rows,
            "previously_inserted": self.previously_inserted,
            "previously_duplicates": self.previously_duplicates,
            "previously_rejected": self.previously_rejected,
            "previously_conflicts": self.previously_conflicts,
            "previously_conflicts_kept": self.previously_conflicts_kept,
            "previously_updated": self.previously_updated,
            "conflicts": self.conflicts,
            "conflicts_kept": self.conflicts_kept,
            "conflicts_rejected": self.conflicts_rejected,
            "updated": self.updated,
            "on_conflict": self.on_conflict,
            "kept": [{"line": line, "reason": why} for line, why in self.kept],
            "kept_file": self.kept_file,
            "undo_file": self.undo_file,
            "ddl": list(self.ddl),
            "accept_rejects": self.accept_rejects,
            "triggers_off": self.triggers_off,
            "triggers_switched_off": list(self.triggers_switched_off),
            "blockers": [b.to_json() for b in self.blockers],
            "indexes": [i.to_json() for i in self.indexes],
            "constraints": [c.to_json() for c in self.constraints],
        }


@dataclass(frozen=True)
class RunResult:
    dry_run: bool
    tables: tuple[TableResult, ...]
    cancelled: bool = False
    seconds: float = 0.0
    journal: str | None = None  # the client-side mirror of the commit records (None: dry run)
    notes: tuple[str, ...] = field(default=())
    not_selected: tuple[str, ...] = ()  # files of the export left out on purpose
    jobs: int = 1  # connections that loaded tables side by side

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
            "jobs": self.jobs,
            "totals": {
                "csv_rows": sum(t.csv_rows for t in self.tables),
                "inserted": sum(t.inserted for t in self.tables),
                "duplicates": sum(t.duplicates for t in self.tables),
                "rejected": sum(t.rejected for t in self.tables),
                "conflicts": sum(t.conflicts for t in self.tables),
                "conflicts_kept": sum(t.conflicts_kept for t in self.tables),
                "updated": sum(t.updated for t in self.tables),
            },
            "notes": list(self.notes),
            "tables": [t.to_json() for t in self.tables],
            "not_selected": list(self.not_selected),
        }
