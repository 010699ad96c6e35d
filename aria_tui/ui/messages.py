"""What the App's workers report, as typed past-tense messages posted from their threads.

Workers never touch a widget; they post one of these to the App, whose handlers update the wizard
state and ask the visible screen to repaint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from aria_tui.load.choices import Choices
    from aria_tui.load.events import Event as LoadEvent
    from aria_tui.load.events import TableProgress
    from aria_tui.load.model import LoadPlan, RunResult
    from aria_tui.pg.bootstrap import BootstrapResult
    from aria_tui.scan.model import Inventory
    from aria_tui.ui.state import Connection
    from aria_tui.validate.model import ValidateEvent, Validation


class TargetConnected(Message):
    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection


class SchemaBootstrapped(Message):
    def __init__(self, result: BootstrapResult) -> None:
        super().__init__()
        self.result = result


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
    def __init__(self, inventory: Inventory) -> None:
        super().__init__()
        self.inventory = inventory


class LoadProgressed(Message):
    """Records/bytes done for one table; a newer tick of the same table replaces a queued one."""

    def __init__(self, event: TableProgress, dry_run: bool) -> None:
        super().__init__()
        self.event = event
        self.dry_run = dry_run

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, LoadProgressed)
            and message.dry_run == self.dry_run
            and message.event.target == self.event.target
        )


class LoadLogged(Message):
    """A load event that must not be dropped: a table started or finished, a log line."""

    def __init__(self, event: LoadEvent, dry_run: bool) -> None:
        super().__init__()
        self.event = event
        self.dry_run = dry_run


class DryRunFinished(Message):
    def __init__(self, result: RunResult, plan: LoadPlan) -> None:
        super().__init__()
        self.result = result
        self.plan = plan  # the LoadPlan it ran: a result for an older plan is dropped


class LoadFinished(Message):
    def __init__(self, result: RunResult | None, cancelled: bool) -> None:
        super().__init__()
        self.result = result  # None when cancelled before any result
        self.cancelled = cancelled


class ValidationFinished(Message):
    def __init__(self, validation: Validation) -> None:
        super().__init__()
        self.validation = validation


class ValidationProgressed(Message):
    def __init__(self, event: ValidateEvent) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ValidationProgressed)


class PlanFileOpened(Message):
    """The plan file given with --plan, checked against the first scan: its choices and the
    files it loads, or the one sentence refusing it."""

    def __init__(self, choices: Choices | None, names: tuple[str, ...], refusal: str | None) -> None:
        super().__init__()
        self.choices = choices
        self.names = names
        self.refusal = refusal
