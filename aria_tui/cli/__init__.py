"""Command line: `aria-tui [EXPORT_DIR]` opens the wizard; `aria-tui SUBCOMMAND ...` runs one step headless.

Each subcommand lives in its own module with `configure(parser)` and `run(args) -> int`; the wizard
and the subcommands call the same core functions.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys

from aria_tui import __version__
from aria_tui.errors import EXIT_FAILED, AriaError

# name -> (module, one-line help); modules are imported only when their command runs
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("aria_tui.cli.scan_cmd", "inventory and schema diff of an export folder"),
    "plan": ("aria_tui.cli.plan_cmd", "write every decision of a cutover to a plan file (cutover.toml)"),
    "load": ("aria_tui.cli.load_cmd", "load the selected tables in foreign-key order"),
    "validate": ("aria_tui.cli.validate_cmd", "prove the cutover: counts, keys, checksums, FKs, vectors"),
    "bootstrap": ("aria_tui.cli.bootstrap_cmd", "create a profile's schema on the target"),
    "sample": ("aria_tui.cli.sample_cmd", "write a realistic sample export (Aria v3 or Archon)"),
    "export": ("aria_tui.cli.export_cmd", "export a live database to CSV files with a manifest"),
}


def _imported() -> None:
    """The modules are loaded: what they made is kept for good (gc.freeze: later collections do
    not walk it), and the collector runs again for what the command makes."""
    gc.freeze()
    gc.enable()


def build_parser() -> argparse.ArgumentParser:
    """Top-level help; lists the commands without importing them (a broken one can't hide the rest)."""
    parser = argparse.ArgumentParser(
        prog="aria-tui",
        description="Cut a PostgreSQL CSV export over into PostgreSQL 16+ / pgvector, with proof. "
        "Without a subcommand, opens the wizard: aria-tui [EXPORT_DIR] [--dsn DSN].",
    )
    parser.add_argument("--version", action="version", version=f"aria-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def build_command_parser(name: str) -> argparse.ArgumentParser:
    module, help_text = COMMANDS[name]
    parser = argparse.ArgumentParser(prog=f"aria-tui {name}", description=help_text)
    importlib.import_module(module).configure(parser)
    return parser


def build_wizard_parser() -> argparse.ArgumentParser:
    from aria_tui.cli.common import add_target_args

    parser = argparse.ArgumentParser(
        prog="aria-tui",
        description="The cutover wizard: connect, inventory, diff, plan, run, validate. "
        f"Subcommands for scripts: {', '.join(COMMANDS)} (aria-tui COMMAND --help).",
    )
    parser.add_argument("export_dir", nargs="?", help="the export folder (one CSV per table)")
    add_target_args(parser)
    parser.add_argument(
        "--plan",
        default=None,
        metavar="FILE",
        help="start from a cutover plan (its tables, decisions, conflict policies and jobs); "
        "refused when it no longer fits",
    )
    parser.add_argument("--inline", action="store_true", help="run inline, below the prompt")
    parser.add_argument("--no-mouse", action="store_true", help="ignore the mouse")
    parser.add_argument("--ansi", action="store_true", help="use the terminal's own 16 ANSI colours")
    parser.add_argument("--version", action="version", version=f"aria-tui {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    whole_process = argv is None  # the program itself (console script, python -m), not a caller
    argv = list(sys.argv[1:] if argv is None else argv)
    from aria_tui.timing import mark

    mark("main")
    if whole_process:
        # no cyclic garbage collection while the modules load: a start-up makes few cycles, and
        # the collector walked every new module's objects again and again (5 to 18 % of the
        # CPU before a load's first COPY byte in alternated runs here, benchmarks/startup.py)
        gc.disable()
    from aria_tui.pg.dsn import scrub_process_title

    scrub_process_title()
    try:
        if argv and argv[0] in COMMANDS:
            name = argv[0]
            parser = build_command_parser(name)
            mark("command imported")
            if whole_process:
                _imported()
            args = parser.parse_args(argv[1:])
            args.command = name
            try:
                return int(importlib.import_module(COMMANDS[name][0]).run(args) or 0)
            finally:
                if whole_process:
                    # the process ends now: the interpreter's last garbage collection would walk
                    # every object the command made (a tenth of a second after a load) only to
                    # free what the exit frees anyway; objects are still freed by their counts
                    gc.freeze()
        if argv and argv[0] in ("-h", "--help"):
            build_parser().print_help()
            return 0
        args = build_wizard_parser().parse_args(argv)
        from aria_tui.ui.app import run_wizard

        if whole_process:
            _imported()
        return int(run_wizard(args) or 0)
    except AriaError as exc:
        print(f"aria-tui: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("aria-tui: cancelled.", file=sys.stderr)
        return EXIT_FAILED
