"""The values validation produces: a Check per question asked of a table, a TableValidation per
table, a Validation for the whole cutover. `Validation.to_json()` is the `validate --json` object."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aria_tui.status import CheckStatus

# how the checksums of the report are made (checks/queries.py sums the bits, checks/staged.py digests
# the sum), so a third party can redo them
CHECKSUM_METHOD = (
    "md5 of the text 'ROWS:SUM' where SUM is the sum, over the rows, of the first 60 bits (15 hex "
    "digits) of md5(record_send(ROW(the loaded columns, in the file's column order, cast to the "
    "target's types))) read as an integer; vector columns of keyed tables are compared value by "
    "value and not part of the sum"
)

# check names, in the order the report shows them
RECONCILIATION = "reconciliation"
PRESENCE = "presence"
CONTENT = "content"
FOREIGN_KEYS = "foreign_keys"
VECTORS = "vectors"
SEQUENCES = "sequences"
STATUS = "status"  # the only check of a table that could not be validated at all
CHECK_NAMES = (RECONCILIATION, PRESENCE, CONTENT, FOREIGN_KEYS, VECTORS, SEQUENCES)

# TableValidation.status (aria_tui.status.CheckStatus)
PASSED = CheckStatus.PASSED
FAILED = CheckStatus.FAILED
# every check holds for what is in the target, but records of the file cannot be loaded (the
# load rejected them): export data the target lacks, so never green
INCOMPLETE = CheckStatus.INCOMPLETE
NO_TARGET = CheckStatus.NO_TARGET  # the target has no table for the file
BLOCKED = CheckStatus.BLOCKED  # the scan found the file unloadable (missing column, broken CSV, ...)
MISSING = CheckStatus.MISSING  # the manifest or the profile expects the file; the folder lacks it
SKIPPED = CheckStatus.SKIPPED  # the load journal says the load skipped or failed this table
ERROR = CheckStatus.ERROR  # a check could not run (the server refused the file, ...)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str  # one or two sentences a person can paste into a ticket

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class Decided:
    """What whoever asks for the proof decided away (a plan file, `--accept-rejects`,
    `--on-conflict keep-target`, the wizard's choices). What a load recorded in the target is
    never an excuse by itself: a row of aria_tui.commits is as easy to edit as the data."""

    accept_rejects: frozenset[str] = frozenset()  # 'schema.table' whose unloadable records go
    keep_target: frozenset[str] = frozenset()  # tables whose kept conflicts are on purpose
    keep_target_everywhere: bool = False  # --on-conflict keep-target: every table

    def keeps(self, table: str) -> bool:
        return self.keep_target_everywhere or table in self.keep_target


NOTHING_DECIDED = Decided()


@dataclass(frozen=True)
class TableValidation:
    target: str  # 'schema.table' (the file stem when the target has no such table)
    file: str  # file name inside the export folder
    csv_rows: int  # records in the file, counted the way PostgreSQL's CSV COPY reads them
    target_rows: int  # count(*) of the target table now
    checks: tuple[Check, ...]
    status: str
    seconds: float = 0.0
    priority: str | None = None
    # records the export holds that the target cannot (values that do not cast, vectors of the
    # wrong dimension, NULL in a NOT NULL column, a parent in neither the export nor the target)
    rejected: int = 0
    not_in_target: int = 0  # records of the file the target lacks: `rejected` + missing ones
    differing: int = 0  # records the target holds with other content (or another key)
    reject_file: str | None = None  # the load's reject file, from its journal
    exact: bool = False  # the target was judged to hold nothing but the file's records
    # the certificate: what was compared, so that a third party can check it again
    file_sha256: str | None = None
    file_bytes: int | None = None
    export_checksum: str | None = None  # over the file's loadable records
    target_checksum: str | None = None  # over every row of the target table
    decisions: tuple[str, ...] = ()  # the operator's decisions this verdict rests on
    # records decided away rather than loaded: rejects accepted on purpose (they are part of
    # `rejected` and `not_in_target`), conflicts whose target row was kept on purpose
    accepted_rejects: int = 0
    kept_conflicts: int = 0

    @property
    def ok(self) -> bool:
        return self.status == PASSED

    def check(self, name: str) -> Check | None:
        for c in self.checks:
            if c.name == name:
                return c
        return None

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "file": self.file,
            "csv_rows": self.csv_rows,
            "target_rows": self.target_rows,
            "ok": self.ok,
            "status": self.status,
            "priority": self.priority,
            "rejected": self.rejected,
            "not_in_target": self.not_in_target,
            "differing": self.differing,
            "reject_file": self.reject_file,
            "exact": self.exact,
            "file_sha256": self.file_sha256,
            "file_bytes": self.file_bytes,
            "export_checksum": self.export_checksum,
            "target_checksum": self.target_checksum,
            "decisions": list(self.decisions),
            "accepted_rejects": self.accepted_rejects,
            "kept_conflicts": self.kept_conflicts,
            "seconds": round(self.seconds, 3),
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass(frozen=True)
class Validation:
    ok: bool
    tables: tuple[TableValidation, ...]
    report_path: Path | None  # the Markdown report; the JSON one sits next to it
    export: Path = Path()
    target_display: str = ""
    profile: str | None = None
    not_selected: tuple[str, ...] = ()  # files of the export that were not validated
    started_at: str = ""  # ISO 8601, UTC
    seconds: float = 0.0
    json_path: Path | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> int:
        return sum(1 for t in self.tables if t.ok)

    @property
    def failed(self) -> int:
        return len(self.tables) - self.passed

    @property
    def not_in_target(self) -> int:
        """Records of the validated files the target does not hold."""
        return sum(t.not_in_target for t in self.tables)

    @property
    def decided_away(self) -> int:
        """Records the operator decided away: rejects accepted, conflicts kept on purpose."""
        return sum(t.accepted_rejects + t.kept_conflicts for t in self.tables)

    @property
    def headline(self) -> str:
        """The verdict in one sentence."""
        records = sum(t.csv_rows for t in self.tables)
        decided = self.decided_away
        if self.ok:
            if decided:
                return (
                    f"Proven: all {records:,} records of the {len(self.tables)} validated files "
                    f"are in the target with equal content, or were decided away by the operator "
                    f"({decided:,}: {self._decided_words()})."
                )
            return (
                f"Proven: all {records:,} records of the {len(self.tables)} validated files are in "
                "the target with equal content."
            )
        parts = []
        # records accepted away on purpose are not "missing", even beside another table's failure
        missing = self.not_in_target - sum(t.accepted_rejects for t in self.tables)
        if missing:
            parts.append(
                f"{missing:,} record{'s' if missing != 1 else ''} of the export "
                f"{'are' if missing != 1 else 'is'} not in the target"
            )
        differing = sum(t.differing for t in self.tables)
        if differing:
            parts.append(
                f"{differing:,} record{'s' if differing != 1 else ''} of the export "
                f"{'differ' if differing != 1 else 'differs'} from the target"
            )
        absent = sum(1 for t in self.tables if t.status == MISSING)
        if absent:
            # a file that never arrived: its records are counted above when the manifest says how many
            parts.append(
                f"{absent} file{'s' if absent != 1 else ''} of the export "
                f"{'are' if absent != 1 else 'is'} missing from the folder"
            )
        unchecked = sum(1 for t in self.tables if t.status in (NO_TARGET, BLOCKED, ERROR))
        if unchecked:
            parts.append(f"{unchecked} file{'s' if unchecked != 1 else ''} could not be checked")
        failed = self.failed
        parts.append(f"{failed} of {len(self.tables)} table{'s' if len(self.tables) != 1 else ''} not proven")
        if decided:
            parts.append(f"{decided:,} decided away by the operator ({self._decided_words()})")
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    def _decided_words(self) -> str:
        accepted = sum(t.accepted_rejects for t in self.tables)
        kept = sum(t.kept_conflicts for t in self.tables)
        words = []
        if accepted:
            words.append(f"{accepted:,} rejected record{'s' if accepted != 1 else ''} accepted")
        if kept:
            words.append(f"{kept:,} conflict{'s' if kept != 1 else ''} kept")
        return ", ".join(words)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "report": str(self.report_path) if self.report_path else None,
            "report_json": str(self.json_path) if self.json_path else None,
            "export": str(self.export),
            "target": self.target_display,
            "profile": self.profile,
            "started_at": self.started_at,
            "seconds": round(self.seconds, 3),
            "headline": self.headline,
            "summary": {
                "tables": len(self.tables),
                "passed": self.passed,
                "failed": self.failed,
                "incomplete": sum(1 for t in self.tables if t.status == INCOMPLETE),
                "csv_rows": sum(t.csv_rows for t in self.tables),
                "target_rows": sum(t.target_rows for t in self.tables),
                "not_in_target": self.not_in_target,
                "differing": sum(t.differing for t in self.tables),
                "decided_away": self.decided_away,
            },
            "checksum_method": CHECKSUM_METHOD,
            "tables": [t.to_json() for t in self.tables],
            "not_selected": list(self.not_selected),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ValidateEvent:
    """Progress for the wizard and the CLI: `check` is None when a table starts or ends."""

    table: str
    index: int  # 0-based position of the table in the selection
    total: int
    check: str | None = None
    message: str = ""
    result: TableValidation | None = None  # set on the event that ends a table
    done: int = 0  # tables finished so far (tables run side by side, so not `index`)
