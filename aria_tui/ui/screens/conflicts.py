"""The conflicting records of one table after a dry run, one at a time: the export's values beside
the target's, the differing columns first. The values are the load's own (TableResult.
conflict_records), never read back from a reject file."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from aria_tui.ui import fmt

if TYPE_CHECKING:
    from aria_tui.load.model import ConflictRecord, TableResult

_WHAT = {
    "rejected": ("rejected: goes to the reject file (policy reject)", "red"),
    "kept": ("kept: the target's row stays (policy keep-target)", "yellow"),
    "updated": ("updated: the target's row becomes the export's (take-export)", "green"),
}


class ConflictModal(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,v", "close", "Close", id="conflict-close", key_display="esc"),
        Binding("p,left", "step(-1)", "Previous", id="conflict-prev", key_display="p/←"),
        Binding("n,right", "step(1)", "Next", id="conflict-next", key_display="n/→"),
    ]

    def __init__(self, result: TableResult) -> None:
        super().__init__(classes="dialog", id="conflicts")
        self.result = result
        self.index = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(id="dialog-title")
            with VerticalScroll(id="conflict-body"):
                yield Static(id="conflict-view")
            yield Static(id="dialog-keys")

    def on_mount(self) -> None:
        self.show()

    @property
    def records(self) -> tuple[ConflictRecord, ...]:
        return self.result.conflict_records

    def show(self) -> None:
        r = self.result
        records = self.records
        if not records:
            self.query_one("#dialog-title", Static).update(f"{r.target}: no conflict")
            return
        c = records[self.index]
        more = r.conflicts + r.updated - len(records)
        title = Text.assemble(
            (f"Conflict {self.index + 1}/{len(records)}", "bold"),
            f" · {r.target} · {r.file} line {c.line}",
            (f" (+{more} in the files)" if more > 0 else "", "dim"),
        )
        self.query_one("#dialog-title", Static).update(title)
        what, style = _WHAT.get(c.action, (c.action, ""))
        grid = Table(expand=True, pad_edge=False, show_edge=False, box=None)
        grid.add_column("column", ratio=2, overflow="fold", style="bold")
        grid.add_column("export", ratio=3, overflow="fold")
        grid.add_column("target" if c.source == "target" else "earlier record", ratio=3, overflow="fold")
        differing = set(c.differing)
        ordered = sorted(c.values, key=lambda v: v[0] not in differing)  # what differs first
        for column, mine, theirs in ordered:
            differs = column in differing
            row_style = "bold yellow" if differs else "dim"
            other = "(see the reason)" if theirs is None and c.source == "file" else _shown(theirs)
            grid.add_row(
                Text(column, style=row_style),
                Text(_shown(mine), style=row_style),
                Text(other, style=row_style),
            )
        self.query_one("#conflict-view", Static).update(
            Group(Text(what, style=style), Text(c.reason, style="dim"), Text(""), grid)
        )
        self.query_one("#dialog-keys", Static).update(
            "p/← n/→: previous/next record    esc: close"
            + ("    (yellow: differs)" if differing else "")
        )

    def action_step(self, step: int) -> None:
        if self.records:
            self.index = (self.index + step) % len(self.records)
            self.show()

    def action_close(self) -> None:
        self.dismiss(None)


def _shown(value: str | None) -> str:
    if value is None:
        return "NULL"
    return fmt.clip(value, 120) if value else '""'  # an empty string is not NULL
