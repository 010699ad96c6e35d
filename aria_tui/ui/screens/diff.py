"""Inventory → Diff: one file's columns against the live target, left/right for the neighbours."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from aria_tui.ui.components.diff_view import render_diff
from aria_tui.ui.components.key_footer import KeyFooter
from aria_tui.ui.components.step_bar import StepBar
from aria_tui.ui.state import why_blocked


class DiffScreen(Screen[None]):
    """A detail of the Inventory step, not a step of its own: escape returns to the same row."""

    HELP = (
        "Column by column: what each CSV column loads into (matched, renamed, or dropped — and "
        "whether dropping it loses data), what fills the target columns the CSV lacks (a "
        "default, NULL, or nothing: blocking), and sampled values the target would reject, with "
        "their line numbers. left/right move to the previous/next file of the inventory."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,d", "close", "Back", id="diff-back", key_display="esc"),
        Binding("left", "move(-1)", "Prev file", id="diff-prev", key_display="←", priority=True),
        Binding("right", "move(1)", "Next file", id="diff-next", key_display="→", priority=True),
        Binding("space", "tick", "Tick", id="diff-tick"),
    ]

    def __init__(self, names: list[str], current: str) -> None:
        super().__init__(id="diff")
        self.names = names
        self.index = names.index(current) if current in names else 0

    def compose(self) -> ComposeResult:
        yield StepBar("inventory")
        with VerticalScroll(id="diff-body"):
            yield Static(id="diff-view")
        yield Static(id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#diff-body").focus()
        self.show()

    @property
    def current_name(self) -> str:
        return self.names[self.index]

    def show(self) -> None:
        state = self.app.state  # type: ignore[attr-defined]
        inventory = state.inventory
        scan = inventory.table(self.current_name) if inventory is not None else None
        if scan is None:
            scan = next((t for t in state.tables() if t.name == self.current_name), None)
        if scan is None:
            return
        table = inventory.catalog.get(scan.target) if scan.target else None
        self.query_one("#diff-view", Static).update(render_diff(scan, table))
        self.query_one(StepBar).show(f"diff {self.index + 1}/{len(self.names)}")
        ticked = scan.name in state.selected
        blocked = why_blocked(scan)
        status = self.query_one("#status", Static)
        status.set_class(blocked is not None, "-error")
        if blocked:
            status.update(f"Cannot be ticked: {blocked}")
        else:
            status.update(f"{'Ticked' if ticked else 'Not ticked'} for loading — space toggles.")
        self.query_one("#diff-body", VerticalScroll).scroll_home(animate=False)

    def action_move(self, step: int) -> None:
        self.index = (self.index + step) % len(self.names)
        self.show()

    def action_tick(self) -> None:
        state = self.app.state  # type: ignore[attr-defined]
        scan = next((t for t in state.tables() if t.name == self.current_name), None)
        if scan is not None:
            state.toggle(scan)
            self.show()

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
