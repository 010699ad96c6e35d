"""`Work`: what the load of one table has done so far, from its start to its result; and
`TableFailed`, the one sentence that ends a table (its transaction rolls back, the run goes on)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aria_tui.load import conflicts as conflicts_mod
from aria_tui.load import constraints as constraints_mod
from aria_tui.load import indexes as indexes_mod
from aria_tui.load import model as m
from aria_tui.load.rejects import RejectWriter
from aria_tui.load.staging import Stage
from aria_tui.pg import commits
from aria_tui.pg.catalog import Trigger


class TableFailed(Exception):
    """One sentence about one table; its transaction rolls back, the run goes on."""


@dataclass
class Work:
    plan: m.TablePlan
    writer: RejectWriter
    started: float
    csv_rows: int = 0
    inserted: int = 0
    rejected: int = 0
    path: str | None = None  # the load path that loaded it (model.FAST, BINARY, STAGING)
    sha256: str | None = None
    size: int = 0
    mtime_ns: int = 0
    sequences: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    empty_before: bool = False
    rows_before: int | None = None
    duplicates: int = 0
    conflicts: int = 0  # left as they are: rejected, or kept by decision
    kept: int = 0
    updated: int = 0
    kept_records: tuple[tuple[int, int, str], ...] = ()  # (record, line, reason)
    kept_on: dict[int, str] = field(default_factory=dict)  # record -> the key it was kept on
    conflict_records: tuple[m.ConflictRecord, ...] = ()  # both sides, the first few
    sinks: conflicts_mod.Sinks = field(default_factory=conflicts_mod.Sinks)
    ddl: tuple[str, ...] = ()
    indexes: tuple[indexes_mod.IndexBuild, ...] = ()
    constraints: tuple[constraints_mod.ConstraintBuild, ...] = ()
    record: commits.Commit | None = None  # written with the rows; the journal mirrors it
    triggers_off: tuple[str, ...] = ()  # user triggers switched off for the load, described
    switched: tuple[Trigger, ...] = ()  # and as they were, to switch on again before the commit

    def take(self, stage: Stage, rejected: int) -> None:
        """The counts of a settled stage; `rejected` is every record its reject file got."""
        t = stage.tally
        self.duplicates = t.duplicates
        self.conflicts = t.conflicts_rejected + t.kept
        self.kept = t.kept
        self.updated = t.updated
        self.kept_records = tuple(t.kept_records)
        self.kept_on = dict(t.kept_on)
        self.conflict_records = tuple(t.details)
        self.rejected = rejected - t.conflicts_rejected

    def restart(self) -> None:
        """Forget what the load paths did: its transaction rolled back to before them, and the
        table loads again from its first record."""
        for w in self.writers():
            w.discard()
        self.csv_rows = self.inserted = self.rejected = 0
        self.duplicates = self.conflicts = self.kept = self.updated = 0
        self.path = None
        self.kept_records, self.conflict_records = (), ()
        self.kept_on = {}
        self.indexes, self.constraints = (), ()

    def writers(self) -> tuple[RejectWriter, ...]:
        return tuple(w for w in (self.writer, self.sinks.kept, self.sinks.undo) if w is not None)

    def result(self, status: str, error: str | None = None) -> m.TableResult:
        loaded = status == m.LOADED
        return m.TableResult(
            target=self.plan.target,
            file=self.plan.scan.file.name,
            csv_rows=self.csv_rows if loaded else self.plan.scan.rows,
            inserted=self.inserted if loaded else 0,
            duplicates=self.duplicates if loaded else 0,
            rejected=self.rejected if loaded else 0,
            conflicts=self.conflicts if loaded else 0,
            conflicts_kept=self.kept if loaded else 0,
            updated=self.updated if loaded else 0,
            on_conflict=self.plan.on_conflict,
            kept=tuple((line, why) for _, line, why in self.kept_records) if loaded else (),
            kept_file=self.sinks.kept.written if loaded and self.sinks.kept else None,
            undo_file=self.sinks.undo.written if loaded and self.sinks.undo else None,
            ddl=self.ddl,
            accept_rejects=self.plan.accept_rejects,
            triggers_off=self.plan.triggers_off,
            triggers_switched_off=self.triggers_off if loaded else (),
            status=status,
            error=error,
            reject_file=self.writer.written if loaded else None,
            seconds=time.monotonic() - self.started,
            path=self.path,
            bytes=self.size,
            sequences_reset=self.sequences if loaded else (),
            notes=tuple(self.notes),
            indexes=self.indexes if loaded else (),
            constraints=self.constraints if loaded else (),
            conflict_records=self.conflict_records if loaded else (),
        )
