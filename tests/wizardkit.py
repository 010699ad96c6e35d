"""Helpers shared by the wizard's tests (a module of helpers, not tests): the app on a mock clock,
and waits on the app itself, never a sleep."""

from __future__ import annotations

from pathlib import Path

from textual.clock import MockClock
from textual.worker import WorkerFailed

from aria_tui.ui.app import AriaApp, create_app


def make_app(export: Path | None, dsn: str | None, profile: str | None = None) -> AriaApp:
    return create_app(export, dsn, profile, clock=MockClock())


async def settle(app: AriaApp, pilot) -> None:
    """Every worker finished (a failed one included: its error is the app's to show) and handled."""
    try:
        await app.workers.wait_for_complete()
    except WorkerFailed:
        pass
    await pilot.pause()


async def until(pilot, condition, what: str, rounds: int = 400) -> None:
    """Let the app process messages until `condition()` holds (bounded, no wall-clock sleeps)."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")
