"""What the App's workers report, as typed past-tense messages posted from their threads.

Workers never touch a widget; they post one of these to the App, whose handlers update the wizard
state and ask the visible screen to repaint.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


class TargetConnected(Message):
    def __init__(self, connection: Any) -> None:
        super().__init__()
        self.connection = connection  # ui.state.Connection


class SchemaBootstrapped(Message):
    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result  # aria_tui.pg.bootstrap.BootstrapResult


class ScanProgressed(Message):
    """A file was scanned; only the newest matters, so a queued older one is dropped."""

    def __init__(self, done: int, total: int, name: str) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.name = name

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ScanProgressed)


class InventoryScanned(Message):
    def __init__(self, inventory: Any) -> None:
        super().__init__()
        self.inventory = inventory  # aria_tui.scan.model.Inventory


class LoadProgressed(Message):
    """Records/bytes done for one table; a newer tick of the same table replaces a queued one."""

    def __init__(self, event: Any, dry_run: bool) -> None:
        super().__init__()
        self.event = event  # aria_tui.load TableProgress
        self.dry_run = dry_run

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, LoadProgressed)
            and message.dry_run == self.dry_run
            and message.event.target == self.event.target
        )


class LoadLogged(Message):
    """A load event that must not be dropped: a table started or finished, a log line."""

    def __init__(self, event: Any, dry_run: bool) -> None:
        super().__init__()
        self.event = event
        self.dry_run = dry_run


class DryRunFinished(Message):
    def __init__(self, result: Any, plan: Any) -> None:
        super().__init__()
        self.result = result  # aria_tui.load RunResult
        self.plan = plan  # the LoadPlan it ran: a result for an older plan is dropped


class LoadFinished(Message):
    def __init__(self, result: Any, cancelled: bool) -> None:
        super().__init__()
        self.result = result  # aria_tui.load RunResult (None when cancelled before any result)
        self.cancelled = cancelled


class ValidationFinished(Message):
    def __init__(self, validation: Any) -> None:
        super().__init__()
        self.validation = validation  # aria_tui.validate Validation


class ValidationProgressed(Message):
    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ValidationProgressed)
