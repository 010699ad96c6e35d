"""The inventory grid: one row per export file, ticks, sort and filter.

Rows are rebuilt from the wizard state on every change (88 files is nothing); the cursor stays on
the same file across a sort or a filter so the operator never loses their place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

from aria_tui.status import ScanStatus
from aria_tui.ui import fmt
from aria_tui.ui.state import why_blocked

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

    from aria_tui.scan.model import TableScan

PRIORITY_ORDER = {"HIGH": 0, "MEDIUM": 1, "LOW": 2, "SKIP": 3}
PRIORITY_STYLE = {"HIGH": "bold", "MEDIUM": "", "LOW": "dim", "SKIP": "dim italic"}
VERDICT_STYLE: dict[str, str] = {
    ScanStatus.MATCH: "green",
    ScanStatus.DRIFT: "yellow",
    ScanStatus.BLOCKED: "bold red",
    ScanStatus.NO_TARGET: "dim",
    ScanStatus.MISSING: "bold red",
}
VERDICT_LABEL: dict[str, str] = {
    ScanStatus.MATCH: "match",
    ScanStatus.DRIFT: "drift",
    ScanStatus.BLOCKED: "blocked",
    ScanStatus.NO_TARGET: "no target",
    ScanStatus.MISSING: "missing",
}
CATEGORY_SHORT = {"infrastructure": "infra", "third-party": "3rd-party"}

# (label shown in the totals line, sort key); the first is the export's own order
SORTS: tuple[tuple[str, Callable[[TableScan], SupportsRichComparison] | None], ...] = (
    ("export order", None),
    ("file", lambda t: t.file.name.lower()),
    ("records ↓", lambda t: -t.rows),
    ("size ↓", lambda t: -t.file.bytes),
    ("priority", lambda t: (PRIORITY_ORDER.get(t.priority or "", 9), t.file.name.lower())),
    ("category", lambda t: (t.category or "~", t.file.name.lower())),
    ("verdict", lambda t: (t.diff.status, t.file.name.lower())),
)

FILE_WIDTH = 22
REASON_WIDTH = 60


def tick_cell(table: TableScan, ticked: bool, overridden: bool = False) -> Text:
    if ticked and not overridden and why_blocked(table) is not None:
        # ticked by default but not loadable: the run will fail for it until it is unticked
        return Text("[!]", style="bold red")
    if ticked:
        return Text("[x]", style="bold green")
    if why_blocked(table) is not None:
        return Text("[-]", style="red")
    return Text("[ ]")


def matches(table: TableScan, needle: str) -> bool:
    if not needle:
        return True
    hay = " ".join(
        str(x)
        for x in (
            table.file.name,
            table.target,
            table.category,
            table.priority,
            VERDICT_LABEL.get(table.diff.status, table.diff.status),
            table.reason,
        )
        if x
    ).lower()
    return needle.lower() in hay


class InventoryTable(DataTable):
    def __init__(self) -> None:
        super().__init__(id="inventory", cursor_type="row", zebra_stripes=True)
        self.sort_index = 0
        self.filter_text = ""
        self.shown: list[TableScan] = []
        self.overrides: set[str] = set()  # ticked despite the manifest: loadable on purpose

    def on_mount(self) -> None:
        self._ensure_columns()

    def _ensure_columns(self) -> None:
        if self.columns:
            return
        self.add_column(Text("✓"), key="tick", width=3)
        self.add_column("File", key="file", width=FILE_WIDTH)
        self.add_column(Text("Records", justify="right"), key="rows", width=8)
        self.add_column(Text("Size", justify="right"), key="size", width=8)
        self.add_column("Prio", key="priority", width=6)
        self.add_column("Category", key="category", width=9)
        self.add_column("Verdict", key="verdict", width=9)
        self.add_column("Target", key="target")
        self.add_column("Reason", key="reason", width=REASON_WIDTH)

    @property
    def sort_label(self) -> str:
        return SORTS[self.sort_index][0]

    def populate(
        self, tables: tuple[TableScan, ...], selected: set[str], overrides: set[str] | None = None
    ) -> None:
        self.overrides = overrides or set()
        self._ensure_columns()
        keep = self.current_name()
        rows = [t for t in tables if matches(t, self.filter_text)]
        key = SORTS[self.sort_index][1]
        if key is not None:
            rows.sort(key=key)
        self.shown = rows
        self.clear()
        for t in rows:
            self.add_row(*self._cells(t, t.name in selected, t.name in self.overrides), key=t.name)
        if keep is not None and any(t.name == keep for t in rows):
            self.move_cursor(row=self.get_row_index(keep), animate=False)

    def refresh_ticks(self, selected: set[str], overrides: set[str] | None = None) -> None:
        """Only the tick column changes when ticking: update cells, keep scroll and cursor."""
        self.overrides = overrides or set()
        for t in self.shown:
            self.update_cell(t.name, "tick", tick_cell(t, t.name in selected, t.name in self.overrides))

    def current(self) -> TableScan | None:
        if not self.shown or self.cursor_row < 0 or self.cursor_row >= len(self.shown):
            return None
        return self.shown[self.cursor_row]

    def current_name(self) -> str | None:
        current = self.current()
        return current.name if current is not None else None

    @staticmethod
    def _cells(t: TableScan, ticked: bool, overridden: bool = False) -> list[object]:
        status = t.diff.status
        return [
            tick_cell(t, ticked, overridden),
            Text(fmt.clip(t.file.name, FILE_WIDTH)),
            Text(fmt.count(t.rows), justify="right"),
            Text(fmt.size(t.file.bytes), justify="right"),
            Text(t.priority or "—", style=PRIORITY_STYLE.get(t.priority or "", "")),
            Text(CATEGORY_SHORT.get(t.category or "", t.category or "—")),
            Text(VERDICT_LABEL.get(status, status), style=VERDICT_STYLE.get(status, "")),
            Text(t.target or "—", style="" if t.target else "dim"),
            Text(fmt.clip(t.reason or (why_blocked(t) or ""), REASON_WIDTH), style="dim"),
        ]
