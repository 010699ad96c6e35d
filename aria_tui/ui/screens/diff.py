"""Inventory → Diff: one file's columns against the live target, left/right for the neighbours.

The differences the operator decides (an export column the target lacks, a target column too
narrow, a proposed rename) are listed on top, one key per decision; the DDL shown under them is
the statements the load will run, as aria_tui.load.decisions writes them (never built here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from aria_tui.ui.components.diff_view import render_diff
from aria_tui.ui.components.key_footer import KeyFooter
from aria_tui.ui.components.step_bar import StepBar
from aria_tui.ui.state import why_blocked

if TYPE_CHECKING:
    from aria_tui.load.decisions import Decision
    from aria_tui.load.differences import Difference
    from aria_tui.scan.model import TableScan
    from aria_tui.ui.state import WizardState

_DECIDE = Binding.Group("Decide", compact=True)

# how each decision reads in the list of differences
_SAID = {
    "add": ("add", "green"),
    "drop": ("drop", "yellow"),
    "widen": ("widen", "green"),
    "rename": ("rename", "green"),
    "fill": ("fill", "green"),
}

# what an undecided difference does (differences.Difference.undecided)
_UNDECIDED = {
    "blocks": ("undecided: blocks", "bold red"),
    "dropped": ("dropped, nothing lost", "green"),
    "rejects": ("undecided: rejects", "yellow"),
}


class DiffScreen(Screen[None]):
    """A detail of the Inventory step, not a step of its own: escape returns to the same row."""

    HELP = (
        "Column by column: what each CSV column loads into (matched, renamed, or dropped — and "
        "whether dropping it loses data), what fills the target columns the CSV lacks (a "
        "default, NULL, or nothing: blocking), and sampled values the target would reject, with "
        "their line numbers. left/right move to the previous/next file of the inventory.\n"
        "The differences to decide are listed on top (up/down, or j/k): a add the export "
        "column to the target table, x drop it (knowingly left behind), w widen a target column "
        "too narrow for the export's values, t add or widen with a type picked from a list (the "
        "default is the manifest's or inferred type, or the smallest wider one), r accept a "
        "proposed rename, f fill a target column the export does not supply (NOT NULL "
        "without a default) with a value every loaded record gets, u undo the decision (a "
        "narrow column then rejects what does not fit), s skip the table (untick it). The DDL "
        "shown is "
        "what the load runs inside the table's own transaction (a dry run rolls it back); the "
        "decisions go into the plan, the dry run, the load and the saved plan file (w on the "
        "plan step)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,d", "close", "Back", id="diff-back", key_display="esc"),
        Binding("left", "move(-1)", "Prev file", id="diff-prev", key_display="←", priority=True),
        Binding("right", "move(1)", "Next file", id="diff-next", key_display="→", priority=True),
        Binding("space", "tick", "Tick", id="diff-tick"),
        Binding("a", "decide('add')", "Add column", id="diff-add", group=_DECIDE),
        Binding("x", "decide('drop')", "Drop column", id="diff-drop", group=_DECIDE),
        Binding("w", "decide('widen')", "Widen column", id="diff-widen", group=_DECIDE),
        Binding("r", "decide('rename')", "Accept rename", id="diff-rename", group=_DECIDE),
        Binding("t", "pick_type", "Choose type", id="diff-type", group=_DECIDE),
        Binding("f", "fill", "Fill column", id="diff-fill", group=_DECIDE),
        Binding("u", "undecide", "Undo decision", id="diff-undo", group=_DECIDE),
        Binding("s", "skip", "Skip table", id="diff-skip"),
        # letters too for the list of differences: some SSH clients garble the arrow keys
        Binding("j", "pick(1)", "Next difference", id="diff-down", show=False),
        Binding("k", "pick(-1)", "Previous difference", id="diff-up", show=False),
    ]

    def __init__(self, names: list[str], current: str) -> None:
        super().__init__(id="diff")
        self.names = names
        self.index = names.index(current) if current in names else 0
        self.differences: list[Difference] = []

    def compose(self) -> ComposeResult:
        yield StepBar("inventory")
        yield Static(
            "Decide ↑↓/jk: a add · x drop · w widen · t type · r rename · f fill · u undo",
            id="diff-choices-title",
        )
        yield OptionList(id="diff-choices", compact=True)
        yield Static(id="diff-ddl")
        with VerticalScroll(id="diff-body"):
            yield Static(id="diff-view")
        yield Static(id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show()

    @property
    def state(self) -> WizardState:
        return self.app.state  # type: ignore[attr-defined]

    @property
    def current_name(self) -> str:
        return self.names[self.index]

    def _scan(self, scanned: bool = False) -> TableScan | None:
        state = self.state
        inventory = state.scanned if scanned and state.scanned is not None else state.inventory
        scan = inventory.table(self.current_name) if inventory is not None else None
        if scan is None:
            scan = next((t for t in state.tables() if t.name == self.current_name), None)
        return scan

    def show(self, keep: int | None = None) -> None:
        state = self.state
        inventory = state.inventory
        scan = self._scan()
        if scan is None or inventory is None:
            return
        table = inventory.catalog.get(scan.target) if scan.target else None
        self.query_one("#diff-view", Static).update(render_diff(scan, table))
        self.query_one(StepBar).show(f"diff {self.index + 1}/{len(self.names)}")
        self._show_differences(keep)
        ticked = scan.name in state.selected
        blocked = why_blocked(scan)
        status = self.query_one("#status", Static)
        status.set_class(blocked is not None, "-error")
        if blocked:
            status.update(f"Cannot be ticked: {blocked}")
        else:
            status.update(f"{'Ticked' if ticked else 'Not ticked'} for loading — space toggles.")
        self.query_one("#diff-body", VerticalScroll).scroll_home(animate=False)
        self.refresh_bindings()

    def _show_differences(self, keep: int | None) -> None:
        """The decidable differences of the scan as read, each with its decision, and the DDL."""
        from aria_tui.load.differences import differences

        state = self.state
        raw = self._scan(scanned=True)
        catalog = state.scanned.catalog if state.scanned is not None else None
        table = catalog.get(raw.target) if raw is not None and raw.target and catalog else None
        self.differences = differences(raw, table) if raw is not None else []
        choices = self.query_one("#diff-choices", OptionList)
        choices.clear_options()
        choices.add_options(
            [
                Option(self._label(d, state.choices.decision(d.table, d.column)))
                for d in self.differences
            ]
        )
        choices.display = bool(self.differences)
        self.query_one("#diff-choices-title").display = bool(self.differences)
        if self.differences:
            choices.highlighted = min(keep or 0, len(self.differences) - 1)
            choices.focus()
        else:
            self.query_one("#diff-body").focus()
        ddl = self.query_one("#diff-ddl", Static)
        target = raw.target if raw is not None else None
        applied = state.applied.get(target) if target else None
        ddl.display = bool(self.differences) or applied is not None
        if applied is not None and applied.ddl:
            text = Text("DDL the load runs first, in the table's transaction:\n", style="dim")
            text.append("\n".join(f"{s};" for s in applied.ddl), style="bold")
            if applied.after:
                text.append("\nand after its rows, before the commit:\n", style="dim")
                text.append("\n".join(f"{s};" for s in applied.after), style="bold")
        elif applied is not None:
            text = Text("No DDL: " + " ".join(applied.notes), style="dim")
        else:
            text = Text(
                "Nothing decided: extra columns holding data and target columns nothing fills "
                "block the table, narrow ones reject what does not fit.",
                style="dim",
            )
        ddl.update(text)

    @staticmethod
    def _label(d: Difference, decision: Decision | None) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{d.column} ", style="bold")
        if decision is None:
            word, style = _UNDECIDED.get(d.undecided, (d.undecided, "yellow"))
            text.append(word, style=style)
        else:
            word, style = _SAID[decision.action]
            text.append(word + (f" {decision.arg}" if decision.arg else ""), style=f"bold {style}")
        text.append(f" · {d.detail}", style="dim")
        return text

    @property
    def highlighted(self) -> Difference | None:
        index = self.query_one("#diff-choices", OptionList).highlighted
        if index is None or not (0 <= index < len(self.differences)):
            return None
        return self.differences[index]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None = shown dimmed: the key exists, the highlighted difference does not take it
        if action == "decide":
            d = self.highlighted
            return True if d is not None and parameters and parameters[0] in d.actions else None
        if action == "fill":
            d = self.highlighted
            return True if d is not None and "fill" in d.actions else None
        if action == "pick_type":
            d = self.highlighted
            return True if d is not None and ({"add", "widen"} & set(d.actions)) else None
        if action == "undecide":
            d = self.highlighted
            decided = d is not None and self.state.choices.decision(d.table, d.column) is not None
            return True if decided else None
        return True

    def action_decide(self, action: str) -> None:
        from aria_tui.load.decisions import RENAME, Decision

        d = self.highlighted
        if d is None or action not in d.actions:
            return
        arg = d.rename_to if action == RENAME else None
        why = self.state.decide(Decision(d.table, d.column, action, arg))
        self._after(why, f"{d.table}.{d.column}: {action} decided.")

    def action_pick_type(self) -> None:
        """t: add or widen with a type the operator picks (the default is the core's)."""
        from aria_tui.load.decisions import ADD, WIDEN, Decision
        from aria_tui.load.differences import type_choices
        from aria_tui.ui.screens.dialogs import ChoiceModal

        d = self.highlighted
        raw = self._scan(scanned=True)
        state = self.state
        catalog = state.scanned.catalog if state.scanned is not None else None
        table = catalog.get(d.table) if d is not None and catalog is not None else None
        if d is None or raw is None or table is None:
            return
        action = ADD if ADD in d.actions else WIDEN
        types = type_choices(d, raw, table)
        if not types:
            return

        def picked(type_sql: str | None) -> None:
            if type_sql and d is not None:
                why = self.state.decide(Decision(d.table, d.column, action, type_sql))
                self._after(why, f"{d.table}.{d.column}: {action} as {type_sql} decided.")

        self.app.push_screen(
            ChoiceModal(
                f"{action} {d.column} as",
                [(t, f"{t}  {why}".rstrip()) for t, why in types],
            ),
            picked,
        )

    def action_fill(self) -> None:
        """f: the value every loaded record gets in a target column the export does not supply,
        checked by the target's own input function for the column's type."""
        from aria_tui.load.decisions import FILL, Decision
        from aria_tui.ui.screens.dialogs import InputModal

        d = self.highlighted
        if d is None or FILL not in d.actions:
            return
        before = self.state.choices.decision(d.table, d.column)

        def given(value: str | None) -> None:
            if d is None or value is None:
                return
            if not value:
                self._after("fill takes a value: the column is NOT NULL.", "")
                return
            decision = Decision(d.table, d.column, FILL, value)
            why = self._check(decision)
            if why is None:
                why = self.state.decide(decision)
            self._after(why, f"{d.table}.{d.column}: fill with {value!r} decided.")

        self.app.push_screen(
            InputModal(
                f"fill {d.column}",
                f"{d.table}.{d.column} ({d.detail}): the value every loaded record gets, as a "
                "CSV value would be read. The table's schema stays as it is.",
                before.arg or "" if before is not None and before.action == FILL else "",
            ),
            given,
        )

    def _check(self, decision: Decision) -> str | None:
        """Why the target refuses the decision's value, or None."""
        from aria_tui.errors import AriaError

        state = self.state
        session = state.connection.session if state.connection is not None else None
        if session is None or state.scanned is None:
            return None  # the plan asks again
        try:
            session.check_values(state.scanned, [decision])
        except AriaError as exc:
            return str(exc)
        return None

    def action_undecide(self) -> None:
        d = self.highlighted
        if d is None:
            return
        why = self.state.undecide(d.table, d.column)
        self._after(why, f"{d.table}.{d.column}: back to undecided.")

    def _after(self, why: str | None, done: str) -> None:
        keep = self.query_one("#diff-choices", OptionList).highlighted
        self.show(keep)
        status = self.query_one("#status", Static)
        if why is not None:
            status.set_class(True, "-error")
            status.update(why)
        elif not status.has_class("-error"):
            status.update(done)

    def action_skip(self) -> None:
        """s: the table is left out of this cutover (unticked); its decisions stay recorded."""
        scan = self._scan()
        if scan is None:
            return
        if scan.name in self.state.selected:
            self.state.toggle(scan)
        self.show(self.query_one("#diff-choices", OptionList).highlighted)
        self.query_one("#status", Static).update(f"{scan.file.name} skipped: it is not loaded.")

    def action_pick(self, step: int) -> None:
        choices = self.query_one("#diff-choices", OptionList)
        if self.differences:
            now = choices.highlighted or 0
            choices.highlighted = max(0, min(len(self.differences) - 1, now + step))

    def action_move(self, step: int) -> None:
        self.index = (self.index + step) % len(self.names)
        self.show()

    def action_tick(self) -> None:
        scan = self._scan()
        if scan is not None:
            self.state.toggle(scan)
            self.show(self.query_one("#diff-choices", OptionList).highlighted)

    def action_close(self) -> None:
        self.app.pop_screen()
        inventory = self.app.screen
        grid = getattr(inventory, "grid", None)
        if grid is not None:
            sync = getattr(inventory, "sync", None)
            if sync is not None:
                sync()
            if self.current_name in [t.name for t in grid.shown]:
                grid.move_cursor(row=grid.get_row_index(self.current_name), animate=False)
