"""Step 2: every file of the export, what it is, whether it fits the target, and what to load."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, ProgressBar, Static

from aria_tui.profiles import CATEGORIES
from aria_tui.selection import manifest_block
from aria_tui.ui import fmt
from aria_tui.ui.components.inventory_table import SORTS, VERDICT_LABEL, InventoryTable
from aria_tui.ui.screens.base import StepScreen
from aria_tui.ui.state import why_blocked

_TICK = Binding.Group("Tick priority")


class InventoryScreen(StepScreen):
    STEP = "inventory"
    HELP = (
        "Every CSV file of the export with its target table, records (counted as PostgreSQL's "
        "CSV COPY counts them), size, category, priority and the reason for it, and the schema "
        "verdict: match, drift (loadable with the mapping the diff shows), blocked (with the "
        "reason) or no target. HIGH and MEDIUM files are ticked by default; blocked files cannot "
        "be ticked. enter or d shows the column-by-column diff of the highlighted file. A file that "
        "differs from the export's manifest.json (changed after the export, or not written by it) "
        "is blocked too; when nothing else blocks it, o loads it anyway after a confirmation, and "
        "the override is recorded in the plan."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "tick", "Tick", id="tick"),
        Binding("h", "tick_priority('HIGH')", "HIGH", id="tick-high", group=_TICK),
        Binding("m", "tick_priority('MEDIUM')", "MEDIUM", id="tick-medium", group=_TICK),
        Binding("l", "tick_priority('LOW')", "LOW", id="tick-low", group=_TICK),
        Binding("c", "tick_category", "Category", id="tick-category"),
        Binding("s", "sort", "Sort", id="sort"),
        Binding("slash", "filter", "Filter", id="filter", key_display="/"),
        Binding("d", "diff", "Diff", id="diff"),
        Binding("o", "override", "Override manifest", id="override-manifest"),
        Binding("x", "leave_out", "Leave out unloadable", id="leave-out-unloadable"),
        Binding("r", "rescan", "Rescan", id="rescan"),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="scan-progress"):
            yield Static("Scanning…", id="scan-label")
            yield ProgressBar(id="scan-bar", show_eta=False, clock=self.wizard.clock)
        yield InventoryTable()
        yield Static(id="detail")
        yield Input(placeholder="filter: file, table, category, priority, verdict, reason", id="filter-input", compact=True)
        yield Static(id="totals")

    def __init__(self) -> None:
        super().__init__()
        self._announced: object = None

    def on_mount(self) -> None:
        field = self.query_one("#filter-input", Input)
        field.cursor_blink = self.wizard.blink
        field.display = False
        self.focus_main()
        super().on_mount()

    @property
    def grid(self) -> InventoryTable:
        return self.query_one(InventoryTable)

    def focus_main(self) -> None:
        self.grid.focus()

    # -- state → widgets ----------------------------------------------------------------------------

    def sync(self) -> None:
        scanning = self.wizard.busy("scan")
        self.query_one("#scan-progress").display = scanning
        inventory = self.state.inventory
        if inventory is None:
            self.grid.clear()
            self.grid.shown = []
            self.query_one("#detail", Static).update("")
            self.query_one("#totals", Static).update("")
            if not scanning:
                self.status("No inventory: r scans the export folder.")
            return
        self.query_one(InventoryTable).populate(inventory.tables, self.state.selected, self.state.overrides)
        self.show_totals()
        self.show_detail()
        if not scanning and inventory is not self._announced:
            # once per scan: later repaints (a closed dialog, a return from the diff) keep the
            # status line's last message, e.g. what a category tick just did
            self._announced = inventory
            self.status(self._summary(), error=bool(self.state.ticked_unloadable()))

    def _summary(self) -> str:
        tables = self.state.tables()
        doomed = self.state.ticked_unloadable()
        if doomed:
            # said first and plainly: these fail the run unless the operator leaves them out
            names = ", ".join(t.file.name for t in doomed[:2]) + (", ..." if len(doomed) > 2 else "")
            return (
                f"{len(doomed)} expected file{'s' if len(doomed) != 1 else ''} cannot be "
                f"loaded ({names}): the run fails for {'them' if len(doomed) != 1 else 'it'} "
                "unless you untick on purpose (space)."
            )
        counts: dict[str, int] = {}
        for t in tables:
            counts[t.diff.status] = counts.get(t.diff.status, 0) + 1
        parts = [f"{n} {VERDICT_LABEL.get(s, s)}" for s, n in sorted(counts.items())]
        return f"{len(tables)} files: " + ", ".join(parts) + ". space ticks, enter shows the diff."

    def scan_progress(self, done: int, total: int, name: str) -> None:
        self.query_one("#scan-progress").display = True
        self.query_one("#scan-bar", ProgressBar).update(total=total, progress=done)
        self.query_one("#scan-label", Static).update(f"Scanning {done}/{total} {fmt.clip(name, 30)}")
        self.status("Counting records and sampling values of every file…")

    def show_totals(self) -> None:
        tables, records, size = self.state.totals()
        grid = self.grid
        text = Text.assemble(
            ("Ticked ", "bold"),
            (f"{tables}", "bold"),
            (f"/{len(self.state.tables())} files · {fmt.count(records)} records · {fmt.size(size)}", ""),
            (f"  sort: {grid.sort_label}", "dim"),
        )
        if grid.filter_text:
            text.append(f"  /{fmt.clip(grid.filter_text, 12)}: {len(grid.shown)} shown", style="yellow")
        self.query_one("#totals", Static).update(text)

    def show_detail(self) -> None:
        current = self.grid.current()
        detail = self.query_one("#detail", Static)
        if current is None:
            detail.update("")
            return
        text = Text(no_wrap=False)
        text.append(current.file.name, style="bold")
        text.append(f" → {current.target or 'no target table'}")
        text.append(f"  {current.priority or '—'} · {current.category or '—'}", style="dim")
        blocked = why_blocked(current)
        if current.name in self.state.overrides:
            text.append(f"\nTicked despite the manifest (override): {blocked}", style="yellow")
        elif blocked:
            text.append("\n")
            if manifest_block(current) is not None:  # first: a long reason is clipped at 80
                text.append("o overrides · ", style="bold")
            text.append(blocked, style="red")
        elif current.reason:
            text.append(f"\n{current.reason}")
        detail.update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()
        self.refresh_bindings()  # `o` applies to the highlighted file only

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_diff()

    # -- actions ---------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        scanning = self.wizard.busy("scan")
        if action in ("tick", "tick_priority", "tick_category", "sort", "filter", "diff"):
            return None if scanning or self.state.inventory is None else True
        if action == "override":
            return self._can_override(scanning)
        if action == "leave_out":
            # shown only while a ticked file cannot be loaded: the one way past it on purpose
            return (None if scanning else True) if self.state.ticked_unloadable() else False
        if action == "rescan":
            return None if scanning else True
        if action == "next" and scanning:
            return None
        return super().check_action(action, parameters)

    def _can_override(self, scanning: bool) -> bool | None:
        """Hidden unless some file is blocked by the manifest alone (an export without a manifest,
        or an intact one, never shows the key); greyed out unless the highlighted one is."""
        inventory = self.state.inventory
        if inventory is None or not any(manifest_block(t) for t in inventory.tables):
            return False
        current = self.grid.current()
        if scanning or current is None or current.name in self.state.overrides:
            return None
        return True if manifest_block(current) is not None else None

    def action_tick(self) -> None:
        current = self.grid.current()
        if current is None:
            return
        refused = self.state.toggle(current)
        if refused:
            hint = " (o overrides the manifest check)" if manifest_block(current) else ""
            self.status(f"Cannot tick {current.file.name}{hint}: {refused}", error=True)
        else:
            ticked = current.name in self.state.selected
            left = " on purpose: listed as not selected, not loaded" if not ticked and why_blocked(current) else ""
            self.status(f"{'Ticked' if ticked else 'Unticked'} {current.file.name}{left}.")
        self._ticks_changed()

    def action_leave_out(self) -> None:
        """Untick every ticked file that cannot be loaded: the operator's decision, so they are
        listed as not selected instead of failing the run."""
        gone = self.state.ticked_unloadable()
        for t in gone:
            self.state.toggle(t)
        self.status(
            f"Left out {len(gone)} file{'s' if len(gone) != 1 else ''} that cannot be loaded, on "
            "purpose: the report lists them as not selected."
        )
        self._ticks_changed()

    def action_override(self) -> None:
        """Tick a file the manifest alone blocks, after the operator confirms it by name."""
        from aria_tui.ui.screens.dialogs import ConfirmModal

        current = self.grid.current()
        if current is None:
            return
        why = manifest_block(current)
        if why is None:
            refused = self.state.override(current)  # says why not, in one sentence
            self.status(f"Cannot override {current.file.name}: {refused}", error=True)
            return
        question = (
            f"{why}\n\nLoad {current.file.name} into {current.target} anyway? The file no longer "
            "proves the export: load it only if you know why it differs. The plan records the "
            "override, and validation still reports the file as not matching its manifest."
        )

        def answered(yes: bool | None) -> None:
            if not yes:
                self.status(f"{current.file.name} stays unticked: the manifest check stands.")
                return
            refused = self.state.override(current)
            if refused:
                self.status(f"Cannot override {current.file.name}: {refused}", error=True)
            else:
                self.status(
                    f"Ticked {current.file.name} despite the manifest (override); space unticks it."
                )
            self._ticks_changed()
            self.show_detail()

        self.app.push_screen(
            ConfirmModal("Override the manifest check?", question, yes="Load anyway"),
            answered,
        )

    def action_tick_priority(self, priority: str) -> None:
        group = [t for t in self.state.tables() if t.priority == priority]
        self._tick_group(group, priority)

    def action_tick_category(self) -> None:
        from aria_tui.ui.screens.dialogs import ChoiceModal

        tables = self.state.tables()
        present = [c for c in CATEGORIES if any(t.category == c for t in tables)]
        present += sorted({t.category for t in tables if t.category and t.category not in CATEGORIES})
        choices = []
        for category in present:
            members = [t for t in tables if t.category == category]
            ticked = sum(1 for t in members if t.name in self.state.selected)
            choices.append((category, f"{category:<15} {ticked:>3}/{len(members)} ticked"))
        if not choices:
            self.status("The profile gives these files no category (generic mode).")
            return

        def picked(category: str | None) -> None:
            if category:
                self._tick_group([t for t in tables if t.category == category], category)

        self.app.push_screen(ChoiceModal("Tick or untick a category", choices), picked)

    def _tick_group(self, group: list, label: str) -> None:
        if not group:
            self.status(f"No {label} files in this export.")
            return
        ticked, changed = self.state.tick_group(group)
        selected, overrides = self.state.selected, self.state.overrides
        unloadable = [t for t in group if why_blocked(t) is not None and t.name not in overrides]
        doomed = sum(1 for t in unloadable if t.name in selected)
        blocked = len(unloadable) - doomed
        verb = "Ticked" if ticked else "Unticked"
        notes = []
        if blocked and ticked:
            notes.append(f"{blocked} blocked, left unticked")
        if doomed:
            # expected files that cannot be loaded: a group key never leaves them out
            notes.append(f"{doomed} that cannot be loaded stay ticked, x leaves them out")
        note = f" ({'; '.join(notes)})" if notes else ""
        self.status(f"{verb} {changed} {label} files{note}; the same key again reverses it.")
        self._ticks_changed()

    def _ticks_changed(self) -> None:
        self.grid.refresh_ticks(self.state.selected, self.state.overrides)
        self.show_totals()
        self.refresh_bindings()

    def action_sort(self) -> None:
        grid = self.grid
        grid.sort_index = (grid.sort_index + 1) % len(SORTS)
        grid.populate(self.state.tables(), self.state.selected, self.state.overrides)
        self.show_totals()
        self.status(f"Sorted by {grid.sort_label}; s again for the next column.")

    def action_filter(self) -> None:
        field = self.query_one("#filter-input", Input)
        field.display = True
        field.value = self.grid.filter_text
        self.set_focus(field)  # at once: the next keys typed are the filter's
        self.status("Type to filter; enter keeps the filter, esc clears it.")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter-input":
            self.grid.filter_text = event.value.strip()
            self.grid.populate(self.state.tables(), self.state.selected, self.state.overrides)
            self.show_totals()
            self.show_detail()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter-input":
            event.input.display = bool(self.grid.filter_text)
            self.focus_main()

    def leave_input(self, field: Input) -> None:
        if field.id == "filter-input":
            field.value = ""  # fires Changed: the grid shows every file again
            field.display = False
        self.focus_main()

    def action_diff(self) -> None:
        current = self.grid.current()
        if current is None:
            return
        from aria_tui.ui.screens.diff import DiffScreen

        self.app.push_screen(DiffScreen([t.name for t in self.grid.shown], current.name))

    def action_rescan(self) -> None:
        self.state.inventory = None
        self.state.invalidate_plan()
        self.wizard.scan_export()
        self.sync()
