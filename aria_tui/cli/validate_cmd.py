"""`aria-tui validate EXPORT_DIR`: prove the cutover from the export folder and the live target.

Exit 0 when every selected table passes every check, 1 when any fails, 2 for unusable input (a bad
folder, an unreachable target). The report path is printed either way.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aria_tui.cli.common import (
    TransientProgress,
    add_accept_changed_arg,
    add_accept_rejects_arg,
    add_decide_arg,
    add_selection_args,
    add_session_args,
    add_target_args,
    emit_json,
    split_list,
    stdout_console,
)
from aria_tui.errors import EXIT_FAILED, EXIT_OK
from aria_tui.selection import Selection
from aria_tui.session import Session
from aria_tui.status import CONFLICT_POLICIES
from aria_tui.validate import CHECK_NAMES, ValidateEvent, Validation
from aria_tui.validate.report import STATUS_TEXT, check_dir


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export_dir", metavar="EXPORT_DIR", help="the export folder (one CSV per table)")
    add_target_args(parser)
    add_selection_args(parser)
    # a file loaded with `load --accept-changed` is accepted again from the load journal when it
    # is the same file; this is for a file loaded by other means, or changed since
    add_accept_changed_arg(parser, "validate")
    add_accept_rejects_arg(parser, "validate")
    add_decide_arg(parser)
    parser.add_argument(
        "--on-conflict",
        choices=CONFLICT_POLICIES,
        default=None,
        help="the conflict policy the load ran under: keep-target makes the conflicts a "
        "keep-target load kept count as decided (listed), not as differences",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--report-dir",
        default=None,
        help="where to write the Markdown and JSON report (default: the user data dir's reports/)",
    )
    parser.add_argument(
        "--exact",
        action="store_true",
        help="every table must hold its file's records and nothing else (the default for tables "
        "the load journal shows empty before their load)",
    )
    parser.add_argument(
        "--plan",
        default=None,
        metavar="FILE",
        help="judge the cutover by a plan written by `aria-tui plan`: its tables, its renames "
        "and drops (a dropped column is not compared), its added and widened columns",
    )
    add_session_args(parser)


def run(args: argparse.Namespace) -> int:
    # the folder is checked before the target, so a typo fails at once, before a server starts
    session = Session(Path(args.export_dir), args.dsn, args.profile)
    check_dir(Path(args.report_dir) if args.report_dir else None)  # before a server starts too
    from aria_tui.load.choices import Choices, of_args

    choices = of_args(args.decide, args.on_conflict, split_list(args.accept_rejects))
    if args.plan:
        from aria_tui.load import cutover

        cp = cutover.open_for(Path(args.plan), session.export_dir)
        cutover.check_files(cp, session.export_dir)
        if not args.tables and not args.priority:
            args.tables = ",".join(cp.selection_names)
        choices = Choices.of_cutover(cp).merged(choices)

    selection = Selection.of(
        split_list(args.tables), split_list(args.priority), split_list(args.accept_changed)
    )
    with TransientProgress("validating", not args.json, _validate_tick) as tick:
        result = session.validate(
            selection,
            report_dir=Path(args.report_dir) if args.report_dir else None,
            on_event=tick,
            lock_timeout=args.lock_timeout,
            time_zone=args.time_zone,
            exact=args.exact,
            choices=choices,
        )
    if args.json:
        emit_json(result.to_json())
    else:
        print_validation(result)
    return EXIT_OK if result.ok else EXIT_FAILED


def _validate_tick(event: ValidateEvent) -> tuple[int, int, str]:
    # tables are validated side by side: progress is the number finished, not the position
    return event.total, event.done, event.message


# short headers keep the table inside 80 columns; the caption spells them out
_HEADS = {
    "reconciliation": "Cnt",
    "presence": "Key",
    "content": "Sum",
    "foreign_keys": "FK",
    "vectors": "Vec",
    "sequences": "Seq",
}
_LEGEND = "Cnt counts · Key keys present · Sum checksum · FK foreign keys · Vec vectors · Seq sequences"
_LEGEND_COMPACT = "counts, keys present, checksum, foreign keys, vectors, sequences (— does not apply)"


def print_validation(v: Validation) -> None:
    from rich.table import Table
    from rich.text import Text

    console = stdout_console()
    # one column per check when the terminal is wide; one compact column on an 80-column SSH
    wide = console.width >= 110
    table = Table(
        title=f"{v.export} → {v.target_display}",
        caption=_LEGEND if wide else "Checks: " + _LEGEND_COMPACT,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("Table", overflow="fold", min_width=12)
    table.add_column("CSV", justify="right", no_wrap=True)
    table.add_column("Target", justify="right", no_wrap=True)
    if wide:
        for name in CHECK_NAMES:
            table.add_column(_HEADS[name], justify="center", no_wrap=True)
    else:
        table.add_column("Checks", no_wrap=True)
    table.add_column("Result", no_wrap=True)
    for t in v.tables:
        marks = []
        for name in CHECK_NAMES:
            check = t.check(name)
            if check is None:
                # a table that could not be checked at all fails every column
                unchecked = t.check("status") is not None
                marks.append(Text("✗", style="bold red") if unchecked else Text("—", style="dim"))
            else:
                marks.append(Text("✓", style="green") if check.ok else Text("✗", style="bold red"))
        result = (
            Text("passed", style="green")
            if t.ok
            else Text(STATUS_TEXT.get(t.status, t.status), style="bold red")
        )
        cells = marks if wide else [Text(" ").join(marks)]
        table.add_row(t.target, f"{t.csv_rows:,}", f"{t.target_rows:,}", *cells, result)
    console.print(table)
    for t in v.tables:
        for c in t.failures:
            # details quote data ("[0.1, ...]"), which Rich would read as markup
            console.print(Text.assemble(("✗ ", "bold red"), f"{t.target} {c.name}: {c.detail}"))
    verdict = "[bold green]PASS[/]" if v.ok else "[bold red]FAIL[/]"
    console.print(Text(v.headline, style="bold green" if v.ok else "bold red"))
    for t in v.tables:
        if t.decisions:
            console.print(f"Decided for {t.target}: {'; '.join(t.decisions)}", markup=False)
        if t.reject_file and t.not_in_target:
            console.print(f"Rejected records of {t.target}: {t.reject_file}", markup=False)
    console.print(
        f"{verdict}: {v.passed} of {len(v.tables)} tables passed in {v.seconds:.1f} s; "
        f"{len(v.not_selected)} files not selected."
    )
    console.print(f"Report: {v.report_path}", markup=False)
    if v.json_path:
        console.print(f"        {v.json_path}", markup=False)
