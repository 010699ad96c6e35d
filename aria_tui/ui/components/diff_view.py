"""The schema diff of one file, column by column, as Rich renderables that read at 80 columns.

One row per CSV column (what it loads into, or why it is dropped), then the target columns the CSV
does not provide (what fills them), then the sampled values the target would refuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from aria_tui.status import ScanStatus
from aria_tui.ui import fmt
from aria_tui.ui.components.inventory_table import VERDICT_LABEL, VERDICT_STYLE

if TYPE_CHECKING:
    from aria_tui.pg.catalog import Table as TargetTable
    from aria_tui.scan.model import TableScan

FILLED_BY = {
    "default": ("filled by its default", "green"),
    "null": ("left NULL (nullable)", "yellow"),
    "none": ("BLOCKING: NOT NULL, no default", "bold red"),
    "fill": ("filled by decision", "green"),
}


def render_diff(scan: TableScan, table: TargetTable | None) -> RenderableType:
    diff = scan.diff
    parts: list[RenderableType] = []

    head = Text()
    head.append(scan.file.name, style="bold")
    head.append(f" → {scan.target or 'no target table'}   ")
    head.append(VERDICT_LABEL.get(diff.status, diff.status), style=VERDICT_STYLE.get(diff.status, ""))
    head.append(f"   {fmt.count(scan.rows)} records · {fmt.size(scan.file.bytes)}", style="dim")
    if scan.manifest:
        head.append(f" · manifest {scan.manifest}", style="dim")
    parts.append(head)
    if diff.reason:
        parts.append(Text(diff.reason, style="red" if diff.status in (ScanStatus.BLOCKED, ScanStatus.MISSING) else "yellow"))
    if scan.problem is not None and scan.problem.sentence() != diff.reason:
        parts.append(Text(scan.problem.sentence(), style="red"))

    counts = Text(style="dim")
    counts.append(
        f"{len(diff.matched)} matched · {len(diff.extra_columns)} extra · "
        f"{len(diff.missing_columns)} missing · {len(diff.renames)} renamed · "
        f"{sum(diff.type_issue_counts.values()) or len(diff.type_issues)} bad sampled values"
    )
    if diff.sampled_rows:
        counts.append(f" (of {fmt.count(diff.sampled_rows)} records sampled)")
    parts.append(counts)

    if diff.mapping or diff.missing_columns:
        parts.append(Text(""))
        parts.append(_columns_table(scan, table))
    if diff.type_issues:
        parts.append(Text(""))
        parts.append(_issues_table(scan))
    if diff.notes:
        parts.append(Text(""))
        for note in diff.notes:
            parts.append(Text(f"• {note}", style="dim"))
    return Group(*parts)


_SHORT_TYPES = (
    ("character varying", "varchar"),
    ("timestamp with time zone", "timestamptz"),
    ("timestamp without time zone", "timestamp"),
    ("time with time zone", "timetz"),
    ("double precision", "float8"),
    ("character", "char"),
)


def short_type(name: str) -> str:
    """PostgreSQL's long type names cost a line each at 80 columns; its own short forms do not."""
    for long, short in _SHORT_TYPES:
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def _columns_table(scan: TableScan, table: TargetTable | None) -> Table:
    """Columns that need a look first (dropped, renamed, missing, bad values), then the matches."""
    diff = scan.diff
    grid = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False, show_edge=False)
    grid.add_column("CSV column", ratio=3, overflow="fold")
    grid.add_column("→ target", ratio=3, overflow="fold")
    grid.add_column("type", ratio=3, no_wrap=True, overflow="ellipsis")
    grid.add_column("", ratio=4, overflow="fold")
    extras = {e.name: e for e in diff.extra_columns}
    renames = {r.source: r for r in diff.renames}
    bad = diff.type_issue_counts
    attention: list[tuple[Text, Text, Text, Text]] = []
    matched: list[tuple[Text, Text, Text, Text]] = []
    for source, target in diff.mapping:
        column = table.column(target) if table is not None and target else None
        col_type = short_type(column.type) if column is not None else ""
        src_type = short_type(diff.source_types[source]) if source in diff.source_types else ""
        type_text = Text(col_type)
        if src_type and col_type and src_type != col_type:
            type_text = Text(f"{src_type} → {col_type}", style="yellow")
        if target is None:
            extra = extras.get(source)
            if extra is not None and extra.all_empty:
                note = Text("dropped: every value empty, nothing lost", style="green")
            elif extra is not None:
                where = ""
                if extra.first_value_line:
                    where = f" (line {extra.first_value_line}: {fmt.clip(extra.first_value, 24)})"
                note = Text(f"dropped but HAS DATA{where}", style="bold red")
            else:
                note = Text("dropped", style="yellow")
            attention.append((Text(source, style="yellow"), Text("—", style="dim"), Text(src_type), note))
            continue
        row_note = Text("✓", style="green")
        needs_look = False
        if source in renames:
            row_note = Text(f"renamed ({renames[source].why})", style="yellow")
            needs_look = True
        if bad.get(source):
            row_note = Text(f"{bad[source]} bad sampled value{'s' if bad[source] != 1 else ''}", style="red")
            needs_look = True
        if type_text.style:
            needs_look = True
        row = (Text(source), Text(target), type_text, row_note)
        (attention if needs_look else matched).append(row)
    for missing in diff.missing_columns:
        column = table.column(missing.name) if table is not None else None
        label, style = FILLED_BY.get(missing.filled_by, (missing.filled_by, ""))
        if missing.value is not None:
            label = f"filled with {missing.value!r} by decision"
        attention.append(
            (
                Text("—", style="dim"),
                Text(missing.name, style=style),
                Text(short_type(column.type) if column is not None else ""),
                Text(label, style=style),
            )
        )
    for row in attention + matched:
        grid.add_row(*row)
    return grid


def _issues_table(scan: TableScan) -> Table:
    grid = Table(
        title="Sampled values the target would reject (the load writes them to a reject file)",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        expand=True,
        pad_edge=False,
        show_edge=False,
    )
    grid.add_column("line", justify="right", no_wrap=True)
    grid.add_column("column", ratio=2, overflow="fold")
    grid.add_column("value", ratio=3, overflow="fold")
    grid.add_column("reason", ratio=4, overflow="fold")
    for issue in scan.diff.type_issues:
        grid.add_row(str(issue.line), issue.column, Text(fmt.clip(issue.value, 60)), issue.reason)
    return grid
