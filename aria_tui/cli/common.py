"""Arguments and output shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aria_tui.errors import AriaError, first_line
from aria_tui.pg.locks import DEFAULT_LOCK_TIMEOUT

if TYPE_CHECKING:
    from types import TracebackType

    from rich.console import Console
    from rich.progress import Progress, TaskID

    from aria_tui.pg.connect import Target


def add_target_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dsn",
        default=None,
        help="target: 'embedded' (default), 'embedded:DIR', or a libpq URI / key=value string "
        "(ARIA_TUI_DSN; PG* variables and .pgpass work too)",
    )
    parser.add_argument(
        "--profile",
        default=None,
        help="aria_v4, archon, or none (generic); detected from the table names when omitted",
    )


def add_selection_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--tables", default=None, help="comma-separated tables (file stems or schema.table)")
    group.add_argument("--priority", default=None, help="comma-separated priorities, e.g. HIGH,MEDIUM")


def add_accept_changed_arg(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument(
        "--accept-changed",
        default=None,
        metavar="FILE[,FILE...]",
        help=f"{verb} these files although they differ from the export's manifest.json (changed "
        "or unlisted); file names, stems or schema.table, or 'all'. Only a file blocked by the "
        "manifest alone can be accepted; it does not select the file",
    )


def add_accept_rejects_arg(parser: argparse.ArgumentParser, verb: str) -> None:
    """One decision for load and validate: the load then does not fail on these tables'
    rejects, and validate lists them as decided away instead of missing."""
    parser.add_argument(
        "--accept-rejects",
        default=None,
        metavar="SCHEMA.TABLE[,...]",
        help=f"tables whose rejected records are accepted on purpose ({verb} does not fail on "
        "them; the report lists them as decided away)",
    )


def add_decide_arg(parser: argparse.ArgumentParser) -> None:
    """One spelling of the drift decisions for load, plan and validate: validate judges the
    loaded columns by the same decisions (a renamed column compared under its new name)."""
    parser.add_argument(
        "--decide",
        action="append",
        default=[],
        metavar="SCHEMA.TABLE.COLUMN=ACTION",
        help="a drift decision: add[:TYPE], drop, widen[:TYPE], rename:TARGET_COLUMN, or "
        "fill:VALUE for a target column the export lacks (repeatable)",
    )


def add_session_args(parser: argparse.ArgumentParser) -> None:
    """The server-session settings that load and validate must share to agree on the data."""
    parser.add_argument(
        "--lock-timeout",
        default=DEFAULT_LOCK_TIMEOUT,
        help="how long to wait for a table another session has locked (a PostgreSQL duration)",
    )
    parser.add_argument(
        "--time-zone",
        default="UTC",
        metavar="ZONE",
        help="the time zone a timestamp without one is read in, for timestamptz columns "
        "(default UTC, whatever PGTZ says; load and validate must agree)",
    )


def split_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def emit_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def target_failed(target: Target, doing: str, exc: BaseException) -> AriaError:
    """The one sentence for a server error in the middle of a command, password redacted:
    'The target failed during the scan: <first line of the server's message>.'"""
    return AriaError(target.redact(f"The target failed {doing}: {first_line(exc).rstrip('.')}."))


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def stdout_console() -> Console:
    """Where a command prints its tables for a person (numbers not colour-highlighted)."""
    from rich.console import Console

    return Console(highlight=False)


class TransientProgress:
    """A transient "label [bar] done/total what" line on stderr while a person watches; silent
    otherwise. `with TransientProgress("scanning", enabled, read) as tick:` gives the callback
    to hand the core (None when silent); `read(event)` says (total, done, what) of an event."""

    def __init__(
        self, label: str, enabled: bool, read: Callable[[Any], tuple[int | None, int, str]]
    ) -> None:
        self.label = label
        self.enabled = enabled and sys.stderr.isatty()
        self.read = read
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __enter__(self) -> Callable[[Any], None] | None:
        if not self.enabled:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = bar = Progress(
            TextColumn(self.label),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            transient=True,
            console=stderr_console(),
        )
        bar.__enter__()
        self.task = bar.add_task("", total=None)
        return self.tick

    def tick(self, event: Any) -> None:
        total, done, what = self.read(event)
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, total=total, completed=done, description=what)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(exc_type, exc, tb)
