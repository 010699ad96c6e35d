"""`aria-tui scan EXPORT_DIR`: inventory and schema diff of an export folder against the target.

Blocked files are reported, not a failure of the scan: the exit code is 0 unless the folder or the
target is unusable (2).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from aria_tui.cli.common import TransientProgress, add_target_args, emit_json, stdout_console
from aria_tui.session import Session
from aria_tui.status import ScanStatus

if TYPE_CHECKING:  # the scan itself (polars) is imported by the session when it runs
    from aria_tui.scan import Inventory, ScanProgress, TableScan

STATUS_STYLE: dict[str, str] = {
    ScanStatus.MATCH: "green",
    ScanStatus.DRIFT: "yellow",
    ScanStatus.BLOCKED: "bold red",
    ScanStatus.NO_TARGET: "dim",
    ScanStatus.MISSING: "bold red",
}
PRIORITY_STYLE = {"HIGH": "bold", "MEDIUM": "", "LOW": "dim", "SKIP": "dim"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export_dir", metavar="EXPORT_DIR", help="the export folder (one CSV per table)")
    add_target_args(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    # the folder and the profile are checked before the target, so a typo fails at once instead
    # of after the embedded server has started
    session = Session(Path(args.export_dir), args.dsn, args.profile)
    with TransientProgress("scanning", not args.json, _scan_tick) as tick:
        inventory = session.scan(progress=tick)
    if args.json:
        emit_json(inventory.to_json())
    else:
        print_inventory(inventory)
    return 0


def _scan_tick(event: ScanProgress) -> tuple[int, int, str]:
    return event.files_total, event.files_done, event.current_file or ""


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def summary(t: TableScan) -> str:
    """What a person needs to know about the file's verdict, in a few words."""
    d = t.diff
    if not d.loadable:
        return d.reason or d.status
    parts = []
    if d.extra_columns:
        names = ", ".join(e.name for e in d.extra_columns)
        empty = all(e.all_empty for e in d.extra_columns)
        parts.append(f"drop {names}" + (" (all empty)" if empty else ""))
    if d.renames:
        parts.append(", ".join(f"{r.source}→{r.target}" for r in d.renames))
    if d.missing_columns:
        filled = {"default": "default", "null": "NULL", "none": "nothing", "fill": "decided"}
        parts.append(
            "missing "
            + ", ".join(
                f"{m.name} ({f'filled with {m.value!r}' if m.value is not None else filled[m.filled_by]})"
                for m in d.missing_columns
            )
        )
    if d.reordered:
        parts.append("columns reordered")
    if d.type_issues:
        first = d.type_issues[0]
        more = sum(d.type_issue_counts.values()) - 1
        parts.append(
            f"line {first.line} {first.column}: {first.reason}" + (f" (+{more} more)" if more > 0 else "")
        )
    parts += list(d.notes)
    return "; ".join(parts)


def _target_cell(t: TableScan) -> str:
    # the schema is what a person needs when the table is named like the file; spelling out
    # aria_data.activity_log next to activity_log would only eat the width of the terminal
    if t.target is None:
        return "—"
    schema, _, table = t.target.partition(".")
    return schema if t.name in (table, t.target) else t.target


def print_inventory(inv: Inventory) -> None:
    """A table that fits 100 columns, then one line per file a person has to look at."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = stdout_console()
    table = Table(
        title=f"{inv.export} → {inv.target_display}",
        title_justify="left",
        caption="Target: the schema holding the table named like the file, else schema.table.",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
    )
    table.add_column("", width=1, no_wrap=True)
    table.add_column("File", no_wrap=True, overflow="ellipsis", max_width=34)
    table.add_column("Target", no_wrap=True, overflow="ellipsis", max_width=30)
    table.add_column("Rows", justify="right", no_wrap=True, min_width=4)
    table.add_column("Size", justify="right", no_wrap=True, min_width=8)
    table.add_column("Priority", no_wrap=True, min_width=6)
    table.add_column("Status", no_wrap=True, min_width=9, overflow="ignore")
    for t in inv.tables:
        table.add_row(
            "✓" if t.selected else "",
            t.name,
            _target_cell(t),
            f"{t.rows:,}",
            human_bytes(t.file.bytes),
            Text(t.priority or "", style=PRIORITY_STYLE.get(t.priority or "", "")),
            Text(t.diff.status, style=STATUS_STYLE.get(t.diff.status, "")),
        )
    console.print(table)

    skipped_no_target = [
        t for t in inv.tables if t.diff.status == ScanStatus.NO_TARGET and t.priority == "SKIP"
    ]
    for t in inv.tables:
        if (t.diff.status == ScanStatus.MATCH and not t.diff.notes) or t in skipped_no_target:
            continue
        style = STATUS_STYLE.get(t.diff.status, "")
        line = Text.assemble((f"{t.name}", "bold"), (f" {t.diff.status}", style), ": ", summary(t))
        console.print(line, overflow="fold")
    if skipped_no_target:
        console.print(
            f"{len(skipped_no_target)} files have no target table and the {inv.profile} profile "
            "skips them (third-party or legacy).",
            style="dim",
        )
    for note in inv.notes:
        console.print(note, style="yellow")
    tot = inv.totals()
    console.print(
        f"{tot['files']} files, {tot['rows']:,} rows, {human_bytes(tot['bytes'])}; "
        f"{tot['selected']} selected ({tot['selected_rows']:,} rows); "
        f"{tot['match']} match, {tot['drift']} drift, {tot['blocked']} blocked, "
        f"{tot['no_target']} no target"
        + (f", {tot['missing']} missing" if tot.get("missing") else "")
        + f"; profile {inv.profile or 'none (generic)'}."
    )
