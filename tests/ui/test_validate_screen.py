"""The validate screen's progress: tables are validated side by side, so the bar counts the
tables finished (`ValidateEvent.done`), not the position of the table an event speaks of."""

from __future__ import annotations

from textual.clock import MockClock
from textual.widgets import ProgressBar, Static

from aria_tui.ui.app import create_app
from aria_tui.ui.screens.validate import ValidateScreen
from aria_tui.validate import ValidateEvent


async def test_progress_counts_finished_tables_not_positions(empty_db):
    app = create_app(None, empty_db.conninfo, "none", clock=MockClock())
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        screen = ValidateScreen()
        await app.push_screen(screen)
        await pilot.pause()
        # the last of three tables starts while the first is still running: nothing finished yet
        screen.validation_event(ValidateEvent("public.c", 2, 3, None, "validating c.csv", done=0))
        await pilot.pause()
        bar = screen.query_one("#validate-bar", ProgressBar)
        label = screen.query_one("#validate-label", Static)
        assert bar.progress == 0 and bar.total == 3
        assert str(label.render()).startswith("0/3 done")
        screen.validation_event(ValidateEvent("public.a", 0, 3, "content", "content of a.csv", done=2))
        await pilot.pause()
        assert bar.progress == 2
        assert str(label.render()).startswith("2/3 done · public.a — content")
