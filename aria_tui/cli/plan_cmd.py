"""`aria-tui plan EXPORT_DIR`: write every decision of a cutover to a plan file (issue 15).

The tables in load order with their column mapping, renames, added / dropped / widened columns
with their DDL, conflict policy and accepted rejects, defaults filled in, each with a comment
saying why. `load --plan FILE` and `validate --plan FILE` follow it. Nothing is loaded. Exit 0
when every selected table is loadable under the plan, 1 when some are not (they are listed in the
file as comments), 2 for unusable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aria_tui.cli.common import (
    add_accept_changed_arg,
    add_selection_args,
    add_target_args,
    emit_json,
)
from aria_tui.cli.load_cmd import add_decision_args, add_jobs_arg, choices_of, open_for_load
from aria_tui.errors import EXIT_FAILED, EXIT_OK, AriaError
from aria_tui.load import cutover
from aria_tui.load.differences import refused_values


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "export_dir", metavar="EXPORT_DIR", help="the export folder (one CSV per table)"
    )
    add_target_args(parser)
    add_selection_args(parser)
    add_accept_changed_arg(parser, "plan")
    add_decision_args(parser)
    add_jobs_arg(parser)
    parser.add_argument(
        "--out", default=None, metavar="FILE", help="write the plan here (0600); default stdout"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--bootstrap", action="store_true", help="create the profile's schema first when missing"
    )


def run(args: argparse.Namespace) -> int:
    session, selection = open_for_load(args)
    folder = session.export_dir
    inventory = session.scan(for_load=selection, sample_values=True)
    choices = choices_of(args)
    plan = session.plan(selection, inventory, choices)
    if not plan.tables and not plan.skipped:
        raise AriaError(f"Nothing to plan in {folder}: no table is selected.")
    target = session.target
    from aria_tui.pg.catalog import exact_row_count

    with target.connect() as conn:
        rows = {tp.target: exact_row_count(conn, tp.table) for tp in plan.tables}
        conn.rollback()
    decisions = list(choices.decisions)
    text = cutover.render(
        plan, inventory, decisions, rows, target.display, args.on_conflict or "reject", jobs=args.jobs
    )
    out = Path(args.out) if args.out else None
    if out is not None:
        cutover.write(out, text)
    if args.json:
        emit_json(
            {
                "file": str(out) if out else None,
                "plan": plan.to_json(),
                "target_rows": rows,
                "decisions": [d.spec() for d in decisions],
                "text": None if out else text,
            }
        )
    elif out is None:
        sys.stdout.write(text)
    else:
        print(f"Plan written to {out} ({len(plan.tables)} tables, {len(plan.skipped)} not loadable).")
        for tp in plan.tables:
            for sentence in refused_values(tp.scan.diff):
                print(
                    f"{tp.target}: {sentence}; the load rejects such records"
                    + ("" if tp.accept_rejects else " and fails")
                    + f" unless decided (--accept-rejects {tp.target}, or --decide ...=widen)"
                )
    return EXIT_OK if not plan.skipped else EXIT_FAILED
