"""The values a scan produces: an Inventory of TableScans, each with its schema Diff.

These are plain frozen dataclasses so the wizard, the CLI, the planner and the tests all read the
same thing; `Inventory.to_json()` is the `aria-tui scan --json` object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aria_tui.csvio import CsvProblem, ExportFile, Header
from aria_tui.pg.catalog import Catalog, Trigger
from aria_tui.status import LOADABLE, Blocker, BlockerKind, ScanStatus, sentence_of

MATCH = ScanStatus.MATCH
DRIFT = ScanStatus.DRIFT
BLOCKED = ScanStatus.BLOCKED
NO_TARGET = ScanStatus.NO_TARGET
MISSING = ScanStatus.MISSING
STATUSES = tuple(ScanStatus)

# MissingColumn.filled_by
BY_DEFAULT = "default"
BY_NULL = "null"
BY_NONE = "none"  # nothing fills it: the load would fail, so the file is blocked
BY_FILL = "fill"  # the operator's `fill:VALUE` decision: every loaded record gets VALUE

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
    filled_by: str  # 'default' | 'null' | 'none' (blocking) | 'fill' (decided)
    value: str | None = None  # the decided VALUE of a 'fill'


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
    # 'value': the target refuses it (the load rejects the record); 'zone': the target would
    # take it and silently drop its time zone (`timestamp` without time zone), so the file is
    # blocked until the column is widened (load/decisions.py) or the file left out
    kind: str = "value"


@dataclass(frozen=True)
class Diff:
    status: str  # a ScanStatus: 'match' | 'drift' | 'blocked' | 'no_target' | 'missing'
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
    # CSV column -> sampled records holding a value the target refuses
    type_issue_counts: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # things worth knowing that change no verdict
    # renames guessed from name similarity whose sampled values fit: never applied by themselves,
    # the operator accepts one (`--decide T.C=rename:X`, the plan file, the wizard)
    proposals: tuple[Rename, ...] = ()
    # why the file cannot be loaded, as data; `reason` is their sentences joined
    blockers: tuple[Blocker, ...] = ()
    # what the columns alone say ('match' or 'drift'), blockers aside; None when the file was
    # never compared with a table (no target, unreadable, missing)
    verdict: str | None = None
    # the target table's user triggers that fire on a load's INSERT or UPDATE: a difference the
    # operator decides (keep them, or load with them switched off: load --triggers-off)
    triggers: tuple[Trigger, ...] = ()

    @classmethod
    def blocked(cls, *blockers: Blocker, **fields: Any) -> Diff:
        """A diff that cannot load: `no_target` / `missing` when that is the only reason."""
        kinds = {b.kind for b in blockers}
        if kinds == {BlockerKind.NO_TARGET}:
            status = NO_TARGET
        elif kinds == {BlockerKind.MISSING_FILE}:
            status = MISSING
        else:
            status = BLOCKED
        return cls(status=status, reason=sentence_of(blockers), blockers=blockers, **fields)

    @property
    def loadable(self) -> bool:
        return self.status in LOADABLE

    def kinds(self) -> frozenset[BlockerKind]:
        return frozenset(b.kind for b in self.blockers)

    def blocked_only_by(self, *kinds: BlockerKind) -> bool:
        """Blocked, and by nothing but `kinds` (e.g. the manifest alone)."""
        return bool(self.blockers) and self.kinds() <= set(kinds)

    def without(self, *kinds: BlockerKind) -> Diff:
        """This diff with the blockers of `kinds` lifted (an operator's explicit decision): the
        columns' own verdict when nothing else blocks it. `reason` keeps the lifted sentences,
        so whoever shows the file can still say what was overridden."""
        rest = tuple(b for b in self.blockers if b.kind not in kinds)
        if rest or self.verdict is None:
            return replace(self, blockers=rest, status=BLOCKED if rest else self.status)
        return replace(self, blockers=(), status=self.verdict)

    def adding(self, *blockers: Blocker) -> Diff:
        """This diff blocked by `blockers` too, the comparison itself kept."""
        every = (*self.blockers, *blockers)
        return replace(self, blockers=every, status=BLOCKED, reason=sentence_of(every))

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
                {"name": m.name, "filled_by": m.filled_by}
                | ({"value": m.value} if m.value is not None else {})
                for m in self.missing_columns
            ],
            "renames": [{"from": r.source, "to": r.target, "why": r.why} for r in self.renames],
            "proposed_renames": [
                {"from": r.source, "to": r.target, "why": r.why} for r in self.proposals
            ],
            "type_issues": [
                {"column": t.column, "line": t.line, "value": t.value, "reason": t.reason, "kind": t.kind}
                for t in self.type_issues
            ],
            "mapping": [{"from": s, "to": t} for s, t in self.mapping],
            "reordered": self.reordered,
            "sampled_rows": self.sampled_rows,
            "type_issue_counts": dict(self.type_issue_counts),
            "notes": list(self.notes),
            "source_types": dict(self.source_types),
            "blockers": [b.to_json() for b in self.blockers],
            "verdict": self.verdict,
            "triggers": [
                {
                    "name": t.name,
                    "timing": t.timing,
                    "events": list(t.events),
                    "for_each": "row" if t.row else "statement",
                    "enabled": "always" if t.enabled == "A" else "origin",
                    "may_change_values": t.changes_rows,
                }
                for t in self.triggers
            ],
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
    # a file missing from the folder: the records the export's manifest says it held (None when
    # no manifest lists it), so "N records of the export are not in the target" counts them
    expected_rows: int | None = None

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
    def blockers(self) -> tuple[Blocker, ...]:
        return self.diff.blockers

    @property
    def loadable(self) -> bool:
        """The scan found nothing that stops this file from loading into its target table."""
        return self.diff.loadable and self.target is not None and self.problem is None

    @property
    def missing(self) -> bool:
        """Expected (manifest or profile) but not in the folder."""
        return self.diff.status == MISSING

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
            "expected_rows": self.expected_rows,
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

    @property
    def selected(self) -> list[TableScan]:
        return [t for t in self.tables if t.selected]

    def totals(self) -> dict[str, int]:
        counts: dict[str, int] = {str(status): 0 for status in STATUSES}
        for t in self.tables:
            counts[str(t.status)] += 1
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
