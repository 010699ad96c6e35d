"""The values a scan produces: an Inventory of TableScans, each with its schema Diff.

These are plain frozen dataclasses so the wizard, the CLI, the planner and the tests all read the
same thing; `Inventory.to_json()` is the `aria-tui scan --json` object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aria_tui.csvio import CsvProblem, ExportFile, Header
from aria_tui.errors import AriaError
from aria_tui.pg.catalog import Catalog

MATCH = "match"
DRIFT = "drift"
BLOCKED = "blocked"
NO_TARGET = "no_target"
STATUSES = (MATCH, DRIFT, BLOCKED, NO_TARGET)

# MissingColumn.filled_by
BY_DEFAULT = "default"
BY_NULL = "null"
BY_NONE = "none"  # nothing fills it: the load would fail, so the file is blocked

# TableScan.manifest (issue 10); None when the export folder has no manifest.json
MANIFEST_STATES = ("ok", "missing", "changed", "unlisted")


@dataclass(frozen=True)
class ExtraColumn:
    """A CSV column the target table does not have (and no rename maps)."""

    name: str
    all_empty: bool  # every value NULL, '' or an empty JSON value: dropping it loses nothing
    # first value that is not empty, so a blocked verdict can show what would be lost
    first_value_line: int | None = None
    first_value: str | None = None


@dataclass(frozen=True)
class MissingColumn:
    """A target column the CSV does not provide."""

    name: str
    filled_by: str  # 'default' | 'null' | 'none' (blocking)


@dataclass(frozen=True)
class Rename:
    """CSV column `source` loads into target column `target`."""

    source: str
    target: str
    why: str = "profile"  # 'profile' | 'similar name' | 'same name without _id' | 'case'


@dataclass(frozen=True)
class TypeIssue:
    """A sampled value the target column will not accept; the loader rejects such rows."""

    column: str  # CSV column
    line: int  # physical line where the record starts (the header is line 1)
    value: str  # truncated to about 80 characters
    reason: str


@dataclass(frozen=True)
class Diff:
    status: str  # 'match' | 'drift' | 'blocked' | 'no_target'
    matched: tuple[str, ...] = ()
    extra_columns: tuple[ExtraColumn, ...] = ()
    missing_columns: tuple[MissingColumn, ...] = ()
    renames: tuple[Rename, ...] = ()
    type_issues: tuple[TypeIssue, ...] = ()
    reason: str | None = None  # one sentence when blocked / no_target
    # every CSV header column -> target column, or None = dropped; the loader uses exactly this
    mapping: tuple[tuple[str, str | None], ...] = ()
    source_types: dict[str, str] = field(default_factory=dict)  # from an export manifest
    reordered: bool = False  # header order differs from the target's column order
    sampled_rows: int = 0  # records whose values were type-checked
    type_issue_counts: dict[str, int] = field(default_factory=dict)  # CSV column -> bad sampled values
    notes: tuple[str, ...] = ()  # things worth knowing that change no verdict
    # renames guessed from name similarity whose sampled values fit: never applied by themselves,
    # the operator accepts one (`--decide T.C=rename:X`, the plan file, the wizard)
    proposals: tuple[Rename, ...] = ()

    @property
    def loadable(self) -> bool:
        return self.status in (MATCH, DRIFT)

    @property
    def column_list(self) -> tuple[str, ...]:
        """Target columns the loader fills, in CSV header order."""
        return tuple(t for _, t in self.mapping if t is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "matched": list(self.matched),
            "extra_columns": [
                {
                    "name": e.name,
                    "all_empty": e.all_empty,
                    "first_value_line": e.first_value_line,
                    "first_value": e.first_value,
                }
                for e in self.extra_columns
            ],
            "missing_columns": [
                {"name": m.name, "filled_by": m.filled_by} for m in self.missing_columns
            ],
            "renames": [{"from": r.source, "to": r.target, "why": r.why} for r in self.renames],
            "proposed_renames": [
                {"from": r.source, "to": r.target, "why": r.why} for r in self.proposals
            ],
            "type_issues": [
                {"column": t.column, "line": t.line, "value": t.value, "reason": t.reason}
                for t in self.type_issues
            ],
            "mapping": [{"from": s, "to": t} for s, t in self.mapping],
            "reordered": self.reordered,
            "sampled_rows": self.sampled_rows,
            "type_issue_counts": dict(self.type_issue_counts),
            "notes": list(self.notes),
            "source_types": dict(self.source_types),
        }


@dataclass(frozen=True)
class TableScan:
    file: ExportFile
    header: Header | None
    rows: int  # records as PostgreSQL's CSV COPY counts them (0 when the file is unreadable)
    problem: CsvProblem | None  # structural CSV problem: the file is blocked
    target: str | None  # 'schema.table'
    category: str | None
    priority: str | None
    reason: str | None
    selected: bool  # default selection: HIGH/MEDIUM (any, in generic mode) with a target, not blocked
    diff: Diff
    manifest: str | None = None  # 'ok'|'missing'|'changed'|'unlisted', None without manifest.json
    rows_estimated: bool = False  # `rows` is an estimate from the file's head (scan count_large=False)

    @property
    def name(self) -> str:
        """The file stem: `memories` for memories.csv, `aria_data.memories` for aria_data.memories.csv."""
        return self.file.stem

    @property
    def table_name(self) -> str:
        """The bare table name the file holds (stem without a schema prefix)."""
        if self.target:
            return self.target.split(".", 1)[1]
        return self.name.rsplit(".", 1)[-1]

    @property
    def status(self) -> str:
        return self.diff.status

    @property
    def bytes(self) -> int:
        return self.file.bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file.name,
            "table": self.name,
            "target": self.target,
            "rows": self.rows,
            "rows_estimated": self.rows_estimated,
            "bytes": self.file.bytes,
            "category": self.category,
            "priority": self.priority,
            "reason": self.reason,
            "selected": self.selected,
            "columns": list(self.header.columns) if self.header is not None else None,
            "problem": _problem_json(self.problem),
            "manifest": self.manifest,
            "diff": self.diff.to_json(),
        }


def _problem_json(problem: CsvProblem | None) -> dict[str, Any] | None:
    if problem is None:
        return None
    return {
        "line": problem.line,
        "column": problem.column,
        "reason": problem.reason,
        "sentence": problem.sentence(),
    }


@dataclass(frozen=True)
class Inventory:
    export: Path
    profile: str | None  # profile name, None in generic mode
    target_display: str  # password-free description of the target
    tables: tuple[TableScan, ...]
    catalog: Catalog
    # problems of the folder as a whole (a manifest entry with no file, ...), one sentence each
    notes: tuple[str, ...] = ()
    manifest: str | None = None  # path of manifest.json when the folder has one (issue 10)

    def table(self, name: str) -> TableScan | None:
        """By file stem, bare table name or 'schema.table' target; None when nothing matches."""
        matchers: tuple[Callable[[TableScan], bool], ...] = (
            lambda t: t.name == name,
            lambda t: t.target == name,
            lambda t: t.file.name == name,
            lambda t: t.table_name == name,
        )
        for by in matchers:
            hits = [t for t in self.tables if by(t)]
            if len(hits) == 1:
                return hits[0]
            if hits:  # e.g. memories.csv and public.memories.csv: the bare name says too little
                return None
        return None

    def select(
        self, tables: list[str] | None = None, priorities: list[str] | None = None
    ) -> list[TableScan]:
        """The tables to load: named ones, those of some priorities, or the default selection.

        A name that matches no file, or a named file that cannot be loaded, is an error the
        operator must hear about; a priority filter quietly leaves out what cannot be loaded.
        """
        if tables:
            chosen: list[TableScan] = []
            for name in tables:
                scan = self.table(name)
                if scan is None:
                    raise AriaError(f"The export has no file for table '{name}' (or the name is ambiguous).")
                if not scan.diff.loadable:
                    why = scan.diff.reason or scan.diff.status
                    raise AriaError(f"{scan.file.name} cannot be loaded: {why.rstrip('.')}.")
                if scan not in chosen:
                    chosen.append(scan)
            return chosen
        if priorities:
            wanted = {p.upper() for p in priorities}
            return [t for t in self.tables if t.priority in wanted and t.diff.loadable]
        return [t for t in self.tables if t.selected]

    @property
    def selected(self) -> list[TableScan]:
        return [t for t in self.tables if t.selected]

    def totals(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUSES}
        for t in self.tables:
            counts[t.status] += 1
        return {
            "files": len(self.tables),
            "rows": sum(t.rows for t in self.tables),
            "bytes": sum(t.file.bytes for t in self.tables),
            "selected": sum(1 for t in self.tables if t.selected),
            "selected_rows": sum(t.rows for t in self.tables if t.selected),
            **counts,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "export": str(self.export),
            "profile": self.profile,
            "target": self.target_display,
            "server_version": self.catalog.server_version,
            "manifest": self.manifest,
            "notes": list(self.notes),
            "totals": self.totals(),
            "tables": [t.to_json() for t in self.tables],
        }


@dataclass(frozen=True)
class ScanProgress:
    """One tick of a scan: `current_file` is the file just finished (None before the first)."""

    files_done: int
    files_total: int
    current_file: str | None
