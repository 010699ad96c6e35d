"""The wizard's long steps: one thread worker each, calling the core's Session as its subcommand does.

They are methods of the App (AriaApp inherits them from StepWorkers), never of a screen: popping a
screen cancels its workers, and a load must outlive the screen that asked for it. Each ends by
posting a typed past-tense message (ui.messages); it never touches a widget. A failure is left to
raise: the App's Worker.StateChanged handler turns it into an error dialog titled by the group.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.worker import get_current_worker

from aria_tui.errors import Cancelled
from aria_tui.ui import messages as msg
from aria_tui.ui import plan_file
from aria_tui.ui.state import Connection

if TYPE_CHECKING:
    from aria_tui.load.events import Event as LoadEvent
    from aria_tui.load.events import EventCallback
    from aria_tui.pg.connect import Target
    from aria_tui.scan.model import ScanProgress
    from aria_tui.ui.state import WizardState
    from aria_tui.validate.model import ValidateEvent

# progress ticks per second sent from a worker: enough for a smooth bar (≥ 4 repaints/s) without
# flooding the message queue of the UI thread while a fast table streams
PROGRESS_HZ = 10.0

# which worker group does what, for the error dialog's title
GROUP_TITLES = {
    "connect": "Cannot connect",
    "bootstrap": "Bootstrap failed",
    "scan": "Scan failed",
    "dryrun": "Dry run failed",
    "load": "Load failed",
    "validate": "Validation failed",
}


class StepWorkers(App[int]):
    """The workers of AriaApp; it sets `state` and `_cancel` in its __init__."""

    state: WizardState
    _cancel: threading.Event | None  # set by a cancel of the load or dry run in progress

    @work(thread=True, exclusive=True, exit_on_error=False, group="connect")
    def connect_target(self) -> None:
        from aria_tui.pg.connect import resolve

        target = resolve(self.state.dsn)  # may start the embedded server: seconds, not ms
        self.post_message(msg.TargetConnected(self._describe_target(target)))

    def _describe_target(self, target: Target) -> Connection:
        from aria_tui import profiles
        from aria_tui.pg.bootstrap import needs_bootstrap
        from aria_tui.pg.catalog import read_catalog

        session, export_error = self._open_session(target)
        profile = (
            session.settle_profile()
            if session is not None
            else profiles.resolve(self.state.profile_name, [])
        )
        with target.connect() as conn:
            catalog = read_catalog(conn)
            needs = needs_bootstrap(conn, profile) if profile is not None else False
        return Connection(
            target=target,
            catalog=catalog,
            profile=profile,
            needs_bootstrap=needs,
            export_files=len(session.files) if session is not None else 0,
            export_error=export_error,
            session=session,
        )

    def _open_session(self, target: Any) -> tuple[Any, str | None]:
        """The session over the export folder and this target, or why the folder is unusable."""
        if self.state.export_dir is None:
            return None, "No export folder chosen yet."
        from aria_tui.errors import ExportError
        from aria_tui.session import Session

        try:
            return Session(self.state.export_dir, target, self.state.profile_name), None
        except ExportError as exc:
            return None, str(exc)

    @work(thread=True, exclusive=True, exit_on_error=False, group="bootstrap")
    def bootstrap_target(self) -> None:
        from aria_tui.pg.bootstrap import bootstrap

        connection = self.state.connection
        if connection is None or connection.profile is None:
            return
        with connection.target.connect() as conn:
            result = bootstrap(conn, connection.profile)
        self.post_message(msg.SchemaBootstrapped(result))
        self.post_message(msg.TargetConnected(self._describe_target(connection.target)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan")
    def scan_export(self) -> None:
        state = self.state
        assert state.connection is not None and state.connection.session is not None
        worker = get_current_worker()
        session = state.connection.session

        def progress(event: ScanProgress) -> None:
            if worker.is_cancelled:  # a newer scan replaced this one: stop reading files
                raise Cancelled("The scan was replaced by a newer one.")
            self.post_message(
                msg.ScanProgressed(event.files_done, event.files_total, event.current_file or "")
            )

        try:
            inventory = session.scan(progress=progress)
        except Cancelled:
            return
        self.post_message(msg.InventoryScanned(inventory))
        cp = state.cutover
        if cp is not None:
            state.cutover = None  # a plan file is opened once, on the first scan
            self.post_message(plan_file.check(session, cp, inventory))

    @work(thread=True, exclusive=True, exit_on_error=False, group="dryrun")
    def dry_run(self) -> None:
        self._run_plan(dry_run=True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def run_load(self) -> None:
        self._run_plan(dry_run=False)

    def _run_plan(self, dry_run: bool) -> None:
        state = self.state
        assert state.connection is not None and state.plan is not None
        assert state.connection.session is not None
        plan = state.plan
        cancel = threading.Event()
        self._cancel = cancel
        if not dry_run:
            state.running = True
            state.run_cancelled = False
        on_event = self.event_relay(dry_run)
        try:
            result = state.connection.session.load(
                plan, dry_run=dry_run, on_event=on_event, cancel=cancel, jobs=state.jobs
            )
        except Cancelled:
            # the core stops at a table boundary and rolls the current one back; what finished
            # before is in the TableFinished events the screen already shows
            self.post_message(msg.LoadFinished(None, cancelled=True))
            return
        if dry_run:
            self.post_message(msg.DryRunFinished(result, plan))
        else:
            cancelled = bool(getattr(result, "cancelled", False)) or cancel.is_set()
            self.post_message(msg.LoadFinished(result, cancelled=cancelled))

    def event_relay(self, dry_run: bool) -> EventCallback:
        """The core's on_event callback: forwards events from the worker thread, throttling progress.

        Only post_message crosses threads here: call_from_thread would make the load wait for the UI.
        """
        from aria_tui.load.events import TableProgress

        last: dict[str, float] = {}
        interval = 1.0 / PROGRESS_HZ

        def relay(event: LoadEvent) -> None:
            if isinstance(event, TableProgress):
                now = time.monotonic()
                if now - last.get(event.target, 0.0) < interval and event.rows_done < event.rows_total:
                    return
                last[event.target] = now
                self.post_message(msg.LoadProgressed(event, dry_run))
            else:
                self.post_message(msg.LoadLogged(event, dry_run))

        return relay

    @work(thread=True, exclusive=True, exit_on_error=False, group="validate")
    def validate_load(self) -> None:
        state = self.state
        assert state.connection is not None and state.connection.session is not None
        # judged by the operator's decisions, as `validate --plan` judges a plan file's
        validation = state.connection.session.validate(
            state.selection(), on_event=self._validation_relay, choices=state.choices
        )
        self.post_message(msg.ValidationFinished(validation))

    def _validation_relay(self, event: ValidateEvent) -> None:
        self.post_message(msg.ValidationProgressed(event))
