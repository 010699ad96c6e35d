#!/usr/bin/env python3
"""Regenerate screenshots/*.svg: every wizard screen, driven with the keyboard through the real app
on sample_export, against an embedded PostgreSQL in a temporary directory.

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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# a fixed scratch path (emptied before and after) so the paths the screens show are the same each run
SCRATCH = Path("/tmp/aria-tui-screenshots")


async def capture(out: Path, size: tuple[int, int], dsn: str) -> list[Path]:
    from textual.clock import MockClock

    from aria_tui.ui.app import create_app
    from aria_tui.ui.screens.dialogs import ConfirmModal
    from aria_tui.ui.screens.run import RunScreen
    from aria_tui.ui.screens.validate import ValidateScreen

    app = create_app(ROOT / "sample_export", dsn, None, clock=MockClock())
    written: list[Path] = []

    def shot(name: str) -> None:
        written.append(Path(app.save_screenshot(f"{name}.svg", str(out))))

    async with app.run_test(size=size) as pilot:

        async def settle() -> None:
            await app.workers.wait_for_complete()
            await pilot.pause()

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
