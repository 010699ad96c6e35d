"""The one wizard-state value the App owns: what each step produced and what the operator ticked.

Screens read it and never keep their own copy, so going back and forth between steps cannot show
stale numbers. No Textual here: the state is plain data that tests can inspect directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aria_tui.errors import AriaError
from aria_tui.selection import Selection
from aria_tui.status import ScanStatus

if TYPE_CHECKING:
    from aria_tui.load.choices import Choices
    from aria_tui.load.cutover import CutoverPlan
    from aria_tui.load.decisions import Applied, Decision
    from aria_tui.load.model import LoadPlan, RunResult
    from aria_tui.pg.catalog import Catalog
    from aria_tui.pg.connect import Target
    from aria_tui.profiles import Profile
    from aria_tui.scan.model import Inventory, TableScan
    from aria_tui.session import Session
    from aria_tui.validate.model import Validation

STEPS = ("connect", "inventory", "plan", "run", "validate")
STEP_TITLES = {
    "connect": "Connect",
    "inventory": "Inventory",
    "plan": "Plan",
    "run": "Run",
    "validate": "Validate",
}


@dataclass
class Connection:
    """What the Connect step learned about the target."""

    target: Target
    catalog: Catalog
    profile: Profile | None
    needs_bootstrap: bool
    export_files: int = 0  # CSV files found in the export folder
    export_error: str | None = None  # why the export folder is unusable, one sentence
    session: Session | None = None  # the export folder, target and profile, opened once

    @property
    def missing_schemas(self) -> list[str]:
        if self.profile is None:
            return []
        return [s for s in self.profile.schemas if s not in self.catalog.schemas]


@dataclass
class WizardState:
    export_dir: Path | None
    dsn: str | None
    profile_name: str | None
    connection: Connection | None = None
    # the scan with the operator's decisions applied (what every screen shows and plans from)
    inventory: Inventory | None = None
    scanned: Inventory | None = None  # the scan as read, before any decision
    # drift decisions, conflict policies, accepted rejects: what the saved plan file holds
    choices: Choices = field(default_factory=lambda: _choices())
    applied: dict[str, Applied] = field(default_factory=dict)  # DDL and notes per table
    cutover: CutoverPlan | None = None  # a plan file given with --plan, applied to the first scan
    selected: set[str] = field(default_factory=set)  # TableScan.name of every ticked file
    # ticked files the operator loads although they differ from the export's manifest (issue 10):
    # always a subset of `selected`, passed to make_plan as accept_changed
    overrides: set[str] = field(default_factory=set)
    plan: LoadPlan | None = None  # of the current selection
    plan_file: str | None = None  # where the plan screen saved the plan (w)
    dry_run: RunResult | None = None  # the last dry run of `plan`
    run: RunResult | None = None  # the real run
    run_cancelled: bool = False
    running: bool = False  # a real load is in progress: leaving the Run step is not allowed
    jobs: int = 0  # tables loaded side by side (0: the cores, capped by the target's free connections)
    validation: Validation | None = None

    # -- selection ---------------------------------------------------------------------------

    def tables(self) -> tuple[TableScan, ...]:
        return self.inventory.tables if self.inventory is not None else ()

    def set_inventory(self, inventory: Inventory) -> str | None:
        """A new scan resets everything downstream: old plans and results describe other files.

        The operator's decisions stay when they still apply to the new scan; otherwise they are
        dropped and the sentence saying why is returned."""
        self.scanned = inventory
        dropped = None
        try:
            self.inventory, self.applied = self.choices.decided(inventory)
        except AriaError as exc:
            dropped = f"The decisions were dropped: {exc}"
            self.choices = _choices(policies=self.choices.policies, jobs=self.choices.jobs)
            self.inventory, self.applied = inventory, {}
        self.selected = default_ticks(self.inventory)
        self.overrides = set()  # an override answers one scan's verdict, never the next one's
        self.invalidate_plan()
        return dropped

    def set_choices(self, choices: Choices) -> str | None:
        """New decisions: the inventory as they make it, a file they make loadable ticked as the
        default selection would tick it. Returns why they cannot apply (nothing changes then),
        or None."""
        if self.scanned is None:
            self.choices = choices
            return None
        try:
            decided, applied = choices.decided(self.scanned)
        except AriaError as exc:
            return str(exc)
        before = {t.name: why_blocked(t) is None for t in self.tables()}
        self.choices, self.inventory, self.applied = choices, decided, applied
        # a file the decisions made loadable is ticked when the default selection takes it; one
        # they block again stays as the operator left it (ticked, it fails the run by name)
        default = default_ticks(decided)
        for t in decided.tables:
            if why_blocked(t) is None and not before.get(t.name, False) and t.name in default:
                self.selected.add(t.name)
        self.invalidate_plan()
        return None

    def decide(self, decision: Decision) -> str | None:
        return self.set_choices(self.choices.with_decision(decision))

    def undecide(self, table: str, column: str) -> str | None:
        return self.set_choices(self.choices.without_decision(table, column))

    def invalidate_plan(self) -> None:
        self.plan = None
        self.dry_run = None
        # a verdict on other ticks or decisions proves nothing about these (nor is the exit code's)
        self.validation = None

    def toggle(self, table: TableScan) -> str | None:
        """Tick or untick one file; returns why it cannot be ticked, or None when done."""
        if table.name in self.selected:
            self._untick(table.name)
            return None
        reason = why_blocked(table)
        if reason is not None:
            return reason
        self.selected.add(table.name)
        self.invalidate_plan()
        return None

    def override(self, table: TableScan) -> str | None:
        """Tick a file the manifest alone blocks, recording the override; returns why it cannot
        be overridden, or None when done. Unticking it forgets the override."""
        from aria_tui.selection import manifest_block

        if manifest_block(table) is None:
            reason = why_blocked(table)
            if reason is None:
                return f"{table.file.name} is not blocked by the manifest; space ticks it."
            return f"only a file blocked by the manifest alone can be overridden: {reason}"
        self.selected.add(table.name)
        self.overrides.add(table.name)
        self.invalidate_plan()
        return None

    def _untick(self, name: str) -> None:
        self.selected.discard(name)
        self.overrides.discard(name)
        self.invalidate_plan()

    def tick_group(self, tables: list[TableScan]) -> tuple[bool, int]:
        """Tick every loadable file of a group, or untick them all when they are all ticked already.

        Only what a group tick can tick back is unticked, so that the same key again reverses it:
        a file that cannot be loaded but is ticked (expected by the profile or the manifest, it
        fails the run by name) is left out one by one (space) or all together (x), on purpose,
        and a file ticked by a manifest override stays as its confirmation left it (space
        unticks it). A group tick never overrides anything.
        Returns (ticked, how many files changed) so the status line can say what happened.
        """
        loadable = [t for t in tables if why_blocked(t) is None]
        if loadable and all(t.name in self.selected for t in loadable):
            for t in loadable:
                self._untick(t.name)
            return False, len(loadable)
        changed = [t for t in loadable if t.name not in self.selected]
        self.selected.update(t.name for t in changed)
        if changed:
            self.invalidate_plan()
        return True, len(changed)

    def selection(self) -> Selection:
        """What the operator ticked, as the one Selection the load and the validation take."""
        return Selection(tables=tuple(sorted(self.selected)), accept_changed=tuple(sorted(self.overrides)))

    def selected_tables(self) -> list[TableScan]:
        return [t for t in self.tables() if t.name in self.selected]

    def ticked_unloadable(self) -> list[TableScan]:
        """Ticked files that cannot be loaded (missing from the folder, blocked): the load and
        the validation fail for each of them until the operator unticks it on purpose."""
        return [
            t for t in self.selected_tables() if why_blocked(t) is not None and t.name not in self.overrides
        ]

    def totals(self) -> tuple[int, int, int]:
        """(tables, records, bytes) of what is ticked."""
        chosen = self.selected_tables()
        return len(chosen), sum(t.rows for t in chosen), sum(t.file.bytes for t in chosen)

    # -- step validity (drives check_action on "Next") -----------------------------------------

    def can_leave(self, step: str) -> bool:
        if step == "connect":
            return (
                self.connection is not None
                and not self.connection.needs_bootstrap
                and self.export_dir is not None
                and self.connection.export_error is None
                and self.connection.export_files > 0
            )
        if step == "inventory":
            return self.inventory is not None and bool(self.selected)
        if step == "plan":
            return self.plan is not None
        if step == "run":
            return self.run is not None and not self.running
        return False


def _choices(**fields: object) -> Choices:
    # imported when the state is made, not when the wizard's modules are: psycopg comes with it
    from aria_tui.load.choices import Choices

    return Choices(**fields)  # type: ignore[arg-type]


def default_ticks(inventory: Inventory) -> set[str]:
    """The CLI's default selection, by the same rule: a missing or blocked file the profile or
    the manifest expects is ticked too, so the run fails for it unless the operator unticks it
    on purpose (then it is listed as not selected), never left out in silence."""
    return {t.name for t in Selection().resolve(inventory).picked}


def why_blocked(table: TableScan) -> str | None:
    """One sentence saying why a file cannot be loaded, or None when it can be ticked.

    The scan already decided (a broken CSV, a blocking column, a file that differs from its
    manifest are all `blocked`); the wizard only puts it in words.
    """
    if table.diff.loadable and table.target is not None:
        return None
    if table.diff.reason:
        return table.diff.reason
    if table.problem is not None:
        return table.problem.sentence()
    if table.diff.status == ScanStatus.NO_TARGET:
        return f"{table.file.name} has no table on the target."
    return f"{table.file.name} is blocked by the schema diff."
