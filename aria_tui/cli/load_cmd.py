"""`aria-tui load EXPORT_DIR`: load the selected tables in foreign-key order (issue 5).

Exit 0 when every table loaded with nothing rejected, 1 when the run finished with rejects,
failures or a cancel, 2 for unusable input (bad folder, bad DSN, no confirmation possible).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from aria_tui.cli.common import (
    add_accept_changed_arg,
    add_accept_rejects_arg,
    add_decide_arg,
    add_selection_args,
    add_session_args,
    add_target_args,
    emit_json,
    split_list,
)
from aria_tui.cli.load_display import CancelOnCtrlC, Display, print_plan, print_result
from aria_tui.errors import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, AriaError
from aria_tui.load import LoadPlan, RunResult
from aria_tui.load.plan import manifest_overrides
from aria_tui.pg.connect import Target
from aria_tui.selection import Selection
from aria_tui.session import Session
from aria_tui.timing import mark

if TYPE_CHECKING:
    from aria_tui.load.choices import Choices
    from aria_tui.load.cutover import CutoverPlan


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
    add_jobs_arg(parser)
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
    add_decide_arg(parser)
    add_accept_rejects_arg(parser, "the load")
    parser.add_argument(
        "--triggers-off",
        action="append",
        default=[],
        metavar="SCHEMA.TABLE[,...]",
        help="load these tables with their user triggers switched off (an updated_at trigger "
        "would replace the export's values), in each table's own transaction, and on again as "
        "they were before it commits (repeatable)",
    )


def add_jobs_arg(parser: argparse.ArgumentParser) -> None:
    """One spelling for load and plan: a plan file carries the jobs its load runs with."""
    parser.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=None,
        metavar="N",
        help="load up to N tables side by side, parents before children (default: the plan "
        "file's, else the machine's cores capped by the target's free connections (0); 1 = one "
        "table at a time)",
    )


def jobs_of(args: argparse.Namespace, cp: CutoverPlan | None) -> int:
    """--jobs, else the plan file's, else 0 (auto)."""
    if args.jobs is not None:
        return int(args.jobs)
    return cp.jobs if cp is not None and cp.jobs is not None else 0


def read_plan_file(args: argparse.Namespace, folder: Path) -> CutoverPlan | None:
    """`--plan FILE`, read; its tables become the selection unless --tables names some."""
    if not getattr(args, "plan", None):
        return None
    from aria_tui.load import cutover  # only with a plan file: the start-up budget (issue 17)

    cp = cutover.open_for(Path(args.plan), folder)
    if not args.tables and not args.priority:
        args.tables = ",".join(cp.selection_names)
    return cp


def choices_of(args: argparse.Namespace, cp: CutoverPlan | None = None) -> Choices:
    """The plan file's decisions with the command line's on top (what Session.plan applies)."""
    from aria_tui.load.choices import Choices, of_args

    given = of_args(
        args.decide,
        args.on_conflict,
        split_list(args.accept_rejects),
        [t for v in getattr(args, "triggers_off", None) or [] for t in split_list(v) or []],
    )
    return Choices.of_cutover(cp).merged(given) if cp is not None else given


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
    # its tables are the selection unless --tables names some: read before the selection is
    cp = read_plan_file(args, Path(args.export_dir))
    session, selection = open_for_load(args)
    folder = session.export_dir
    plan = session.plan(selection, session.scan(for_load=selection), choices_of(args, cp))
    if not plan.tables and not plan.skipped:
        raise AriaError(f"Nothing to load from {folder}: no table is selected.")
    if cp is not None:
        check_fits(cp, plan, session.target)
    plan = dataclasses.replace(plan, time_zone=args.time_zone)
    _warn_overrides(plan)
    if not args.yes:
        _confirm(plan, session.target, args)
    mark("load: planned")
    cancel = threading.Event()
    with (
        Display(enabled=not args.json and sys.stderr.isatty()) as display,
        CancelOnCtrlC(cancel),
    ):
        result = session.load(
            plan,
            dry_run=args.dry_run,
            on_event=display.on_event,
            cancel=cancel,
            force_staging=args.force_staging,
            lock_timeout=args.lock_timeout,
            jobs=jobs_of(args, cp),
        )
    mark("load: done")
    if args.json:
        emit_json(_result_json(result, plan))
    else:
        print_result(result)
        for tp in manifest_overrides(plan):  # the warning above has scrolled away by now
            print(f"{tp.scan.file.name}: under a manifest override (--accept-changed).")
    return EXIT_OK if result.ok else EXIT_FAILED


def check_fits(cp: CutoverPlan, plan: LoadPlan, target: Target) -> None:
    """Refuse, in one sentence, a plan file that no longer fits the export or the target."""
    from aria_tui.load import cutover

    cutover.check(cp, plan, target)


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
    print_plan(plan, target, console, args.dry_run)
    answer = console.input("Proceed? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise AriaError("Nothing loaded: the plan was not confirmed.", exit_code=EXIT_FAILED)
