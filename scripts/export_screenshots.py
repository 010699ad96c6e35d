#!/usr/bin/env python3
"""Regenerate screenshots/*.svg: every wizard screen, driven with the keyboard through the real app
on sample_export, against an embedded PostgreSQL in a temporary directory; then the drift
decisions and the conflict view on a small drifted target made here (08, 09).

    python scripts/export_screenshots.py [--out screenshots] [--size 100x30]

The clock is frozen (rates and ETAs read "—") and the cursor does not blink, so a re-run on
unchanged code gives the same pictures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# a fixed scratch path (emptied before and after) so the paths the screens show are the same each run
SCRATCH = Path("/tmp/aria-tui-screenshots")


def _shooter(app: Any, out: Path, written: list[Path]) -> Callable[[str], None]:
    """`shot(name)`: the app's screen as out/name.svg, remembered in `written`."""

    def shot(name: str) -> None:
        written.append(Path(app.save_screenshot(f"{name}.svg", str(out))))

    return shot


def _settler(app: Any, pilot: Any) -> Callable[[], Awaitable[None]]:
    """`await settle()`: every worker finished and its messages handled."""

    async def settle() -> None:
        await app.workers.wait_for_complete()
        await pilot.pause()

    return settle


async def capture(out: Path, size: tuple[int, int], dsn: str) -> list[Path]:
    from textual.clock import MockClock

    from aria_tui.ui.app import create_app
    from aria_tui.ui.screens.dialogs import ConfirmModal
    from aria_tui.ui.screens.run import RunScreen
    from aria_tui.ui.screens.validate import ValidateScreen

    app = create_app(ROOT / "sample_export", dsn, None, clock=MockClock())
    written: list[Path] = []
    shot = _shooter(app, out, written)

    async with app.run_test(size=size) as pilot:
        settle = _settler(app, pilot)

        await settle()
        if app.state.connection is not None and app.state.connection.needs_bootstrap:
            shot("01-connect-bootstrap")
            await pilot.press("b")
            await settle()
        shot("01-connect")

        await pilot.press("n")
        await settle()
        screen = app.screen
        grid = screen.grid  # type: ignore[attr-defined]
        shot("02-inventory")

        # the diff of a drifted table (goals: extra all-empty columns) is the instructive one
        target = next((t.name for t in grid.shown if t.diff.status == "drift"), grid.shown[0].name)
        grid.move_cursor(row=grid.get_row_index(target), animate=False)
        await pilot.press("d")
        await pilot.pause()
        shot("03-diff")
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("question_mark")
        await pilot.pause()
        shot("07-help")
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("n")
        await pilot.pause()
        await pilot.press("r")
        await settle()
        shot("04-plan-dry-run")

        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle()
        assert isinstance(app.screen, RunScreen)
        shot("05-run")

        await pilot.press("n")
        await settle()
        assert isinstance(app.screen, ValidateScreen)
        shot("06-validate")
    return written


# a target whose schema drifted from the export and whose init script seeded a row production
# changed: what the diff screen's decisions and the plan screen's conflict view are for
DRIFT_DDL = (
    "CREATE SCHEMA app",
    "CREATE TABLE app.events (id int PRIMARY KEY, ts_ms integer, duration_s integer, note text)",
    "CREATE TABLE app.settings (key text PRIMARY KEY, value text)",
    "INSERT INTO app.settings VALUES ('theme', 'dark'), ('lang', 'en')",
)
DRIFT_FILES = {
    "app.events.csv": "id,ts_ms,duration_ms,note,source\n"
    "1,1733000000000,120,first,web\n2,1733000000001,30,second,cli\n3,1733000000002,5,third,web\n",
    "app.settings.csv": "key,value\ntheme,light\nlang,en\nunits,metric\n",
}


async def capture_decisions(out: Path, size: tuple[int, int]) -> list[Path]:
    """The diff screen with drift decided (and the DDL it will run), the plan screen's
    side-by-side view of a conflicting record after a dry run."""
    import psycopg
    from textual.clock import MockClock

    from aria_tui.pg import embedded
    from aria_tui.ui.app import create_app
    from aria_tui.ui.screens.conflicts import ConflictModal
    from aria_tui.ui.screens.diff import DiffScreen

    server = embedded.start(SCRATCH / "pg")  # the one the journey started
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE drift")
    with psycopg.connect(server.get_uri("drift"), autocommit=True) as conn:
        for statement in DRIFT_DDL:
            conn.execute(statement)
    export = SCRATCH / "drift-export"
    export.mkdir(parents=True)
    for name, text in DRIFT_FILES.items():
        (export / name).write_text(text, encoding="utf-8")
    app = create_app(export, server.get_uri("drift"), None, clock=MockClock())
    written: list[Path] = []
    shot = _shooter(app, out, written)

    async with app.run_test(size=size) as pilot:
        settle = _settler(app, pilot)

        await settle()
        await pilot.press("n")
        await settle()
        grid = app.screen.grid  # type: ignore[attr-defined]
        grid.move_cursor(row=grid.get_row_index("app.events"), animate=False)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        # duration_ms: accept the proposed rename; source: add; ts_ms: widen
        await pilot.press("r", "down", "a", "down", "w")
        await pilot.pause()
        shot("08-diff-decisions")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("r")
        await settle()
        await pilot.press("down", "v")
        await pilot.pause()
        assert isinstance(app.screen, ConflictModal)
        shot("09-plan-conflict")
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    parser.add_argument("--size", default="100x30", help="COLUMNSxROWS")
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.lower().split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(SCRATCH, ignore_errors=True)
    try:
        # journals, reports and the embedded database of this run stay out of the user's dirs
        os.environ["ARIA_TUI_DATA_DIR"] = str(SCRATCH / "data")
        os.environ["ARIA_TUI_STATE_DIR"] = str(SCRATCH / "state")
        written = asyncio.run(capture(out, (width, height), f"embedded:{SCRATCH / 'pg'}"))
        written += asyncio.run(capture_decisions(out, (width, height)))
    finally:
        from aria_tui.pg import embedded

        if (SCRATCH / "pg").is_dir():
            # stop the server before its directory goes (start() returns the running one)
            embedded.start(SCRATCH / "pg").cleanup()
        shutil.rmtree(SCRATCH, ignore_errors=True)
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
