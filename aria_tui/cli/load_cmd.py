"""`aria-tui load EXPORT_DIR`: load the selected tables in foreign-key order (issue 5).

Exit 0 when every table loaded with nothing rejected, 1 when the run finished with rejects,
failures or a cancel, 2 for unusable input (bad folder, bad DSN, no confirmation possible).
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from aria_tui.cli.common import (
    add_accept_changed_arg,
    add_accept_rejects_arg,
    add_selection_args,
    add_session_args,
    add_target_args,
    emit_json,
    split_list,
)
from aria_tui.errors import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, AriaError
from aria_tui.load import (
    LoadPlan,
    Log,
    RunResult,
    TableFinished,
    TableProgress,
    TableStarted,
)
from aria_tui.load.events import Event
from aria_tui.load.plan import manifest_overrides, with_policy
from aria_tui.pg.connect import Target
from aria_tui.selection import Selection
from aria_tui.session import Session
from aria_tui.timing import mark

if TYPE_CHECKING:
    from types import FrameType, TracebackType

    from rich.console import Console
    from rich.progress import Progress, TaskID

    from aria_tui.load.cutover import CutoverPlan
    from aria_tui.scan.model import Inventory


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "export_dir", metavar="EXPORT_DIR", help="the export folder (one CSV per table)"
    )
    add_target_args(parser)
    add_selection_args(parser)
    add_accept_changed_arg(parser, "load")
    parser.add_argument("--dry-run", action="store_true", help="run the real plan and roll it back")
    parser.add_argument(
        "--bootstrap", action="store_true", help="create the profile's schema first when missing"
    )
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--force-staging", action="store_true", help="load every table through the staging table"
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=0,
        metavar="N",
        help="load up to N tables side by side, parents before children (default: the machine's "
        "cores, capped by the target's free connections; 1 = one table at a time)",
    )
    add_session_args(parser)
    add_decision_args(parser)
    parser.add_argument(
        "--plan",
        default=None,
        metavar="FILE",
        help="follow a cutover plan written by `aria-tui plan` (refused when it no longer fits)",
    )


def add_decision_args(parser: argparse.ArgumentParser) -> None:
    """The decisions `plan` and `load` share (issue 15)."""
    from aria_tui.load.conflicts import POLICIES

    parser.add_argument(
        "--on-conflict",
        choices=POLICIES,
        default=None,
        help="what a record becomes when the target holds its key with other content: "
        "reject it (default), keep the target's row, or take the export's record",
    )
    parser.add_argument(
        "--decide",
        action="append",
        default=[],
        metavar="SCHEMA.TABLE.COLUMN=ACTION",
        help="a drift decision: add[:TYPE], drop, widen[:TYPE] or rename:TARGET_COLUMN "
        "(repeatable)",
    )
    add_accept_rejects_arg(parser, "the load")


def read_plan_file(args: argparse.Namespace, folder: Path) -> CutoverPlan | None:
    """`--plan FILE`, read; its tables become the selection unless --tables names some."""
    if not getattr(args, "plan", None):
        return None
    from aria_tui.load import cutover  # only with a plan file: the start-up budget (issue 17)
    cp = cutover.read(Path(args.plan))
    if cp.export and Path(cp.export).resolve() != folder.resolve():
        raise AriaError(
            f"The plan {args.plan} is for the export {cp.export}, not {folder.resolve()}."
        )
    if not args.tables and not args.priority:
        args.tables = ",".join(t.target for t in cp.tables)
    return cp


def apply_decisions(
    inventory: Inventory, args: argparse.Namespace, cp: CutoverPlan | None = None
) -> tuple[Inventory, dict]:
    """The inventory as the plan file and `--decide` make it, and what each table's decisions did."""
    if not args.decide and not (cp and cp.decisions):
        return inventory, {}  # what decide() gives for no decision, without importing it
    from aria_tui.load import decisions

    chosen = (cp.decisions if cp else []) + [decisions.parse(d) for d in args.decide or []]
    return decisions.decide(inventory, chosen)


def finish_plan(
    plan: LoadPlan, applied: dict, args: argparse.Namespace, cp: CutoverPlan | None = None
) -> LoadPlan:
    from dataclasses import replace

    if applied:  # finish() changes nothing without decisions, and need not be imported then
        from aria_tui.load import decisions

        plan = decisions.finish(plan, applied)
    if cp is not None:
        plan = with_policy(plan, {t.target: t.on_conflict for t in cp.tables})
    plan = with_policy(plan, args.on_conflict)
    accepted = set(split_list(args.accept_rejects) or [])
    if cp is not None:
        accepted |= {t.target for t in cp.tables if t.accept_rejects}
    unknown = accepted - {tp.target for tp in plan.tables}
    if unknown:
        raise AriaError(
            f"--accept-rejects names {', '.join(sorted(unknown))}, which this load does not load."
        )
    if accepted:
        plan = replace(
            plan,
            tables=tuple(
                replace(tp, accept_rejects=True) if tp.target in accepted else tp
                for tp in plan.tables
            ),
        )
    return plan


def open_for_load(args: argparse.Namespace) -> tuple[Session, Selection]:
    """The session and selection `load` and `plan` start from, bootstrapped first when asked.

    The bootstrap runs before the scan, which reads the catalog itself.
    """
    session = Session(Path(args.export_dir), args.dsn, args.profile)
    selection = Selection.of(
        split_list(args.tables), split_list(args.priority), split_list(args.accept_changed)
    )
    if args.bootstrap:
        result = session.bootstrap()
        if result is not None and not args.json:
            print(
                f"Bootstrapped {result.profile}: {len(result.created)} tables created.",
                file=sys.stderr,
            )
    return session, selection


def run(args: argparse.Namespace) -> int:
    mark("load: arguments parsed")
    # a bad folder or profile fails here, before any server starts
    session, selection = open_for_load(args)
    folder = session.export_dir
    cp = read_plan_file(args, folder)  # its tables are the selection unless --tables names some
    inventory, applied = apply_decisions(session.scan(for_load=selection), args, cp)
    plan = session.plan(selection, inventory)
    if not plan.tables and not plan.skipped:
        raise AriaError(f"Nothing to load from {folder}: no table is selected.")
    plan = finish_plan(plan, applied, args, cp)
    if cp is not None:
        check_fits(cp, plan, session.target)
    plan = dataclasses.replace(plan, time_zone=args.time_zone)
    _warn_overrides(plan)
    if not args.yes:
        _confirm(plan, session.target, args)
    mark("load: planned")
    cancel = threading.Event()
    with _Display(enabled=not args.json and sys.stderr.isatty()) as display, _ctrl_c(cancel):
        result = session.load(
            plan,
            dry_run=args.dry_run,
            on_event=display.on_event,
            cancel=cancel,
            force_staging=args.force_staging,
            lock_timeout=args.lock_timeout,
            jobs=args.jobs,
        )
    if args.json:
        emit_json(_result_json(result, plan))
    else:
        _print_result(result)
        for tp in manifest_overrides(plan):  # the warning above has scrolled away by now
            print(f"{tp.scan.file.name}: under a manifest override (--accept-changed).")
    return EXIT_OK if result.ok else EXIT_FAILED


def check_fits(cp: CutoverPlan, plan: LoadPlan, target: Target) -> None:
    """Refuse, in one sentence, a plan file that no longer fits the export or the target."""
    from aria_tui.load import cutover
    from aria_tui.pg import commits
    from aria_tui.pg.catalog import exact_row_count

    with target.connect() as conn:
        rows = {tp.target: exact_row_count(conn, tp.table) for tp in plan.tables}
        committed = {c.target_table for c in commits.read(conn)}
        conn.rollback()
    why = cutover.refusal(cp, plan, rows, committed)
    if why:
        raise AriaError(why)


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"--jobs takes a whole number of connections, not {text!r}")
    return n


def _warn_overrides(plan: LoadPlan) -> None:
    """Said before anything is loaded, on stderr, JSON or not: the operator overrode a proof."""
    for tp in manifest_overrides(plan):
        print(
            f"aria-tui: warning: loading {tp.scan.file.name} despite the export's manifest "
            f"(--accept-changed): {tp.scan.diff.reason}",
            file=sys.stderr,
        )


def _result_json(result: RunResult, plan: LoadPlan) -> dict:
    """The run's JSON, each table saying whether it was loaded under a manifest override."""
    overridden = {tp.scan.file.name: tp for tp in manifest_overrides(plan)}
    data = result.to_json()
    for table in data["tables"]:
        table["manifest_override"] = table["file"] in overridden
    data["manifest_overrides"] = [
        {
            "file": name,
            "target": tp.target,
            "manifest": tp.scan.manifest,
            "reason": tp.scan.diff.reason,
        }
        for name, tp in overridden.items()
    ]
    from aria_tui.csvio import native

    # 'native' (the C reader built at install) or 'polars' (no compiler then): same rows, slower
    data["csv_reader"] = native.name()
    return data


def _confirm(plan: LoadPlan, target: Target, args: argparse.Namespace) -> None:
    if not sys.stdin.isatty():
        raise AriaError(
            "Refusing to load without confirmation: stdin is not a terminal; pass --yes to load "
            "without asking.",
            exit_code=EXIT_UNUSABLE,
        )
    from rich.console import Console

    console = Console(stderr=True)
    _print_plan(plan, target, console, args.dry_run)
    answer = console.input("Proceed? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise AriaError("Nothing loaded: the plan was not confirmed.", exit_code=EXIT_FAILED)


def _print_plan(plan: LoadPlan, target: Target, console: Console, dry_run: bool) -> None:
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


class _ctrl_c:
    """Ctrl-C sets the cancel event (the current table rolls back) instead of killing the run."""

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.previous: signal._HANDLER = None

    def __enter__(self) -> _ctrl_c:
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


class _Display:
    """Live Rich progress on stderr (per table and overall: rows, rows/s, ETA) for people."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.overall: TaskID | None = None
        self.lock = threading.Lock()

    def __enter__(self) -> _Display:
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
                    + ("" if event.phase == "copy" else f" ({_phase_text(event)})"),
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
    return event.phase


def _print_result(result: RunResult) -> None:
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
            console.print(
                f"{t.target}: {t.rejected + t.conflicts_rejected} rejected rows in {t.reject_file}"
                + (f" ({t.conflicts_rejected} of them conflicts)" if t.conflicts_rejected else "")
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
            console.print(
                f"{t.target}: committed by an earlier run ({t.previously_inserted:,} inserted, "
                f"{t.previously_duplicates:,} duplicates, {t.previously_rejected:,} rejected); "
                "nothing inserted now."
            )
    from rich.markup import escape

    for note in result.notes:
        console.print(f"[yellow]{escape(note)}[/yellow]")
    if result.cancelled:
        console.print(
            "[yellow]Cancelled: finished tables are kept, the current one was rolled back.[/yellow]"
        )
    console.print("[green]OK[/green]" if result.ok else "[red]Not OK[/red]")
