"""`aria-tui export`: a live database to one CSV per table plus manifest.json, in one snapshot."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from aria_tui.cli.common import emit_json, split_list, stderr_console
from aria_tui.dump import (
    DEFAULT_LOCK_TIMEOUT,
    ExportEvent,
    ExportPlanned,
    TableExported,
    TableProgress,
    TableStarted,
    export_database,
    prepare_out_dir,
)
from aria_tui.pg.connect import resolve

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        required=True,
        metavar="DSN",
        help="the database to export: a libpq URI or key=value string (PG* variables and .pgpass "
        "work too), or 'embedded:DIR'",
    )
    parser.add_argument(
        "out_dir", metavar="OUT_DIR", help="folder to write (created; must be empty)"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--schemas",
        default=None,
        help="comma-separated schemas to export (default: every user schema)",
    )
    group.add_argument(
        "--tables", default=None, help="comma-separated tables, schema.table or an unambiguous name"
    )
    parser.add_argument("--gzip", action="store_true", help="write .csv.gz files")
    parser.add_argument(
        "--force", action="store_true", help="export into a folder that is not empty"
    )
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=DEFAULT_LOCK_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for a table another session locked (default {DEFAULT_LOCK_TIMEOUT:g})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    requested = Path(args.out_dir).expanduser()
    created = not requested.exists()
    # refuse a non-empty folder before starting or connecting to anything
    out_dir = prepare_out_dir(requested, force=args.force)
    console = stderr_console()
    bars = _Bars(console)
    try:
        source = resolve(args.source)
        with source.connect() as conn, bars:
            result = export_database(
                conn,
                out_dir,
                schemas=split_list(args.schemas),
                tables=split_list(args.tables),
                compress=args.gzip,
                force=True,  # emptiness (or --force) was checked above, before connecting
                lock_timeout=args.lock_timeout,
                progress=bars,
            )
    except BaseException:
        if created:  # do not leave an empty folder that looks like an export was attempted here
            try:
                out_dir.rmdir()
            except OSError:
                pass
        raise
    for name in result.stale_files:
        console.print(
            f"[yellow]note:[/] {name} was already in {out_dir} and is not part of this export; "
            "scan will report it as unlisted."
        )
    if args.json:
        emit_json({"source": source.display, **result.to_json()})
    else:
        print(
            f"Exported {_plural(len(result.tables), 'table')}, {_records(result.records)}, "
            f"{_size(result.bytes)} from database {result.manifest.database} "
            f"(PostgreSQL {result.manifest.server_version}, snapshot {result.manifest.snapshot_time}) "
            f"in {result.seconds:.1f} s ({result.mb_per_second:.0f} MB/s); "
            f"manifest: {result.manifest_path}."
        )
    return 0


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _records(n: int) -> str:
    return _plural(n, "record")


def _size(n: int) -> str:
    if n < 1000:
        return f"{n:,} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:,.1f} {unit}"


class _Bars:
    """Rich progress on stderr: one bar for the table being read, one for the whole export.

    When stderr is not a terminal Rich draws no bars, and the per-table lines remain as a log.
    """

    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("records"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.overall: TaskID | None = None
        self.table: TaskID | None = None
        self.before = 0  # records of the tables already finished

    def __enter__(self) -> _Bars:
        return self  # drawing starts with the plan, so an early error prints only its sentence

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: ExportEvent) -> None:
        p = self.progress
        if isinstance(event, ExportPlanned):
            p.start()
            p.console.print(
                f"Snapshot of database {event.database} (PostgreSQL {event.server_version}) "
                f"at {event.snapshot_time}: {_plural(len(event.tables), 'table')}, "
                f"{_records(event.total_records)}."
            )
            self.overall = p.add_task("all tables", total=event.total_records)
        elif isinstance(event, TableStarted):
            self.table = p.add_task(event.table, total=event.records)
        elif isinstance(event, TableProgress):
            if self.table is not None:
                p.update(self.table, completed=event.records_done)
            if self.overall is not None:
                p.update(self.overall, completed=self.before + event.records_done)
        elif isinstance(event, TableExported):
            t = event.table
            if self.table is not None:
                p.remove_task(self.table)
                self.table = None
            self.before += t.records
            if self.overall is not None:
                p.update(self.overall, completed=self.before)
            p.console.print(
                f"  [green]✓[/] {t.file}  {_records(t.records)}  {_size(t.bytes)}  {t.seconds:.1f} s"
            )
