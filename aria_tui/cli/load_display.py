"""What `aria-tui load` shows a person in a terminal: the plan to confirm, live progress per
table and overall, Ctrl-C as a cancel, and the result table. `--json` shows none of it."""

from __future__ import annotations

import signal
import sys
import threading
from typing import TYPE_CHECKING

from aria_tui.load import (
    LoadPlan,
    Log,
    RunResult,
    TableFinished,
    TableProgress,
    TableStarted,
)
from aria_tui.load.events import Event
from aria_tui.load.plan import manifest_overrides
from aria_tui.pg.connect import Target

if TYPE_CHECKING:
    from types import FrameType, TracebackType

    from rich.console import Console
    from rich.progress import Progress, TaskID


def print_plan(plan: LoadPlan, target: Target, console: Console, dry_run: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title=f"{'Dry run' if dry_run else 'Load'} into {target.display}", show_lines=False
    )
    for col in ("#", "file", "target", "rows", "MB", "mapping", "sequences"):
        table.add_column(col, justify="right" if col in ("#", "rows", "MB") else "left")
    for tp in plan.tables:
        dropped = [c for c in tp.csv_columns if c not in {s for s, _ in tp.columns}]
        renamed = [f"{s}->{t}" for s, t in tp.columns if s != t]
        mapping = (
            "direct"
            if tp.direct
            else ", ".join(([f"drop {', '.join(dropped)}"] if dropped else []) + renamed)
        )
        table.add_row(
            str(tp.order),
            tp.scan.file.name,
            tp.target + (f" (cycle group {tp.group})" if tp.group else ""),
            f"~{tp.scan.rows:,}" if tp.scan.rows_estimated else f"{tp.scan.rows:,}",
            f"{tp.scan.file.bytes / 1e6:.1f}",
            mapping,
            ", ".join(s for _, s in tp.sequences),
        )
    console.print(table)
    for tp in manifest_overrides(plan):
        console.print(
            f"[yellow]manifest override[/yellow] {escape(tp.scan.file.name)}: "
            f"{escape(tp.scan.diff.reason or '')}"
        )
    for skipped in plan.skipped:
        console.print(
            f"[red]not loadable[/red] {escape(skipped.scan.file.name)}: {escape(skipped.reason)}"
        )


class CancelOnCtrlC:
    """Ctrl-C sets the cancel event (the current table rolls back) instead of killing the run."""

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.previous: signal._HANDLER = None

    def __enter__(self) -> CancelOnCtrlC:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.cancel.is_set():  # a second Ctrl-C: the operator really means it
            raise KeyboardInterrupt
        self.cancel.set()
        print("\naria-tui: cancelling: rolling back the current table...", file=sys.stderr)

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


class Display:
    """Live Rich progress on stderr (per table and overall: rows, rows/s, ETA) for people."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.overall: TaskID | None = None
        self.lock = threading.Lock()

    def __enter__(self) -> Display:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            self.progress = progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rows]}"),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            progress.__enter__()
        return self

    def on_event(self, event: Event) -> None:
        if self.progress is None:
            if isinstance(event, Log) and event.level != "info":
                print(f"aria-tui: {event.message}", file=sys.stderr)
            return
        with self.lock:
            p = self.progress
            if isinstance(event, TableStarted):
                if self.overall is None:
                    self.overall = p.add_task(
                        f"overall ({event.count} tables)", total=event.count, rows="", rate=""
                    )
                self.tasks[event.target] = p.add_task(
                    f"{event.index}/{event.count} {event.target}",
                    total=max(event.bytes_total, 1),
                    rows=f"0/{event.rows_total:,} rows",
                    rate="",
                )
            elif isinstance(event, TableProgress) and event.target in self.tasks:
                p.update(
                    self.tasks[event.target],
                    completed=event.bytes_done,
                    rows=f"{event.rows_done:,}/{event.rows_total:,} rows"
                    + (f" ({_phase_text(event)})" if event.phase != "copy" or event.chunks_total
                       or event.chunks_done else ""),
                    rate=f"{event.rows_per_s:,.0f} rows/s",
                )
            elif isinstance(event, TableFinished):
                r = event.result
                task = self.tasks.get(r.target)
                if task is not None:
                    p.update(
                        task,
                        completed=p.tasks[task].total,
                        rows=f"{r.status}: {r.inserted:,} new, {r.duplicates:,} dup, "
                        + (f"{r.conflicts:,} conflicts, " if r.conflicts else "")
                        + (f"{r.updated:,} updated, " if r.updated else "")
                        + f"{r.rejected:,} rejected",
                    )
                if self.overall is not None:
                    p.advance(self.overall)
            elif isinstance(event, Log):
                p.console.print(
                    f"[{'yellow' if event.level == 'warning' else 'red'}]{event.message}"
                )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.progress is not None:
            self.progress.__exit__(exc_type, exc, tb)


def _phase_text(event: TableProgress) -> str:
    if event.phase == "index" and event.index:
        text = f"index {event.index_number}/{event.index_count} {event.index}"
        if event.index_total:
            text += f" {100 * event.index_done // event.index_total}%"
        return text
    if event.phase == "copy":  # a file in chunks over several connections
        return f"chunks {event.chunks_done}/{event.chunks_total or '?'}"
    return event.phase


def print_result(result: RunResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="Dry run (rolled back)" if result.dry_run else "Load")
    cols = ["target", "status", "csv rows", "inserted", "duplicates", "conflicts", "updated"]
    for col in (*cols, "rejected", "s"):
        table.add_column(col, justify="left" if col in ("target", "status") else "right")
    style = {
        "loaded": "green",
        "resumed": "cyan",
        "failed": "bold red",
        "blocked": "red",
        "no_target": "red",
        "skipped": "yellow",
    }
    for t in result.tables:
        table.add_row(
            t.target,
            f"[{style.get(t.status, '')}]{t.status}[/]",
            f"{t.csv_rows:,}",
            f"{t.inserted:,}",
            f"{t.duplicates:,}",
            f"{t.conflicts:,}",
            f"{t.updated:,}",
            f"{t.rejected:,}",
            f"{t.seconds:.1f}",
        )
    console.print(table)
    for t in result.tables:
        if t.error:
            console.print(f"[red]{t.target}[/red]: {t.error}")
        for note in t.notes:
            console.print(f"{t.target}: {note}", markup=False, highlight=False)
        if t.reject_file:
            if t.status == "resumed":  # the earlier run's rejects, in the file it wrote
                conflicts = t.previously_conflicts - t.previously_conflicts_kept
                rejected = t.previously_rejected + conflicts
            else:
                conflicts, rejected = t.conflicts_rejected, t.rejected + t.conflicts_rejected
            console.print(
                f"{t.target}: {rejected} rejected rows in {t.reject_file}"
                + (f" ({conflicts} of them conflicts)" if conflicts else "")
            )
            if conflicts and t.accept_rejects:
                console.print(
                    f"{t.target}: --accept-rejects accepts records the table refuses, not "
                    "conflicts with its rows: decide those with --on-conflict keep-target or "
                    "take-export"
                )
        if t.conflicts_kept:
            console.print(
                f"{t.target}: {t.conflicts_kept} conflict{'s' if t.conflicts_kept != 1 else ''} "
                f"kept by decision (keep-target), listed in {t.kept_file}"
            )
            for line, why in t.kept:
                console.print(f"  line {line}: {why}", markup=False)
        if t.updated:
            console.print(
                f"{t.target}: {t.updated} row{'s' if t.updated != 1 else ''} replaced by the "
                f"export's record (take-export); the old values are in {t.undo_file}"
            )
    for t in result.tables:
        if t.status == "resumed":
            earlier = ""
            if t.previously_conflicts:
                kept = t.previously_conflicts_kept
                earlier = f", {t.previously_conflicts:,} conflicts" + (
                    f" ({kept:,} kept by decision)" if kept else " (rejected)"
                )
            if t.previously_updated:
                earlier += f", {t.previously_updated:,} rows replaced (take-export)"
            console.print(
                f"{t.target}: committed by an earlier run ({t.previously_inserted:,} inserted, "
                f"{t.previously_duplicates:,} duplicates, {t.previously_rejected:,} rejected"
                f"{earlier}); nothing inserted now."
            )
    from rich.markup import escape

    for note in result.notes:
        console.print(f"[yellow]{escape(note)}[/yellow]")
    if result.cancelled:
        console.print(
            "[yellow]Cancelled: finished tables are kept, the current one was rolled back.[/yellow]"
        )
    console.print("[green]OK[/green]" if result.ok else "[red]Not OK[/red]")
