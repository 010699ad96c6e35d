"""The wizard App: owns the wizard state, runs every long step in a thread worker, routes results.

Screens never start work themselves: popping a screen cancels its workers, and a load must outlive
the screen that asked for it. Each worker calls the same core function as its subcommand and ends
by posting a typed past-tense message; one Worker.StateChanged handler turns any failure into an
error dialog with one sentence.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.clock import Clock
from textual.worker import Worker, WorkerState, get_current_worker

from aria_tui.errors import AriaError, Cancelled
from aria_tui.selection import Selection
from aria_tui.ui import messages as msg
from aria_tui.ui.commands import WizardCommands
from aria_tui.ui.fmt import error_sentence
from aria_tui.ui.state import STEPS, Connection, WizardState

if TYPE_CHECKING:
    from aria_tui.load.cutover import CutoverPlan
    from aria_tui.load.events import Event as LoadEvent
    from aria_tui.load.events import EventCallback
    from aria_tui.pg.connect import Target
    from aria_tui.scan.model import Inventory, ScanProgress
    from aria_tui.validate.model import ValidateEvent

# progress ticks per second sent from a worker: enough for a smooth bar (≥ 4 repaints/s) without
# flooding the message queue of the UI thread while a fast table streams
PROGRESS_HZ = 10.0
ANSI_THEME = "ansi-dark"

# which worker group does what, for the error dialog's title
_GROUP_TITLES = {
    "connect": "Cannot connect",
    "bootstrap": "Bootstrap failed",
    "scan": "Scan failed",
    "dryrun": "Dry run failed",
    "load": "Load failed",
    "validate": "Validation failed",
}


class AriaApp(App[int]):
    """The cutover wizard: connect → inventory (→ diff) → plan → run → validate."""

    TITLE = "aria-tui"
    CSS_PATH = "aria.tcss"
    COMMANDS = App.COMMANDS | {WizardCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark,f1", "help", "Help", id="help", key_display="?"),
    ]

    def __init__(
        self,
        state: WizardState,
        *,
        ansi: bool = False,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(ansi_color=True if ansi else None)
        self.state = state
        self.ansi = ansi
        # rates and ETAs shown by the wizard use this clock, so tests can freeze time
        self.clock = clock or Clock()
        self._cancel: threading.Event | None = None
        self._quit_after_load = False
        self._screens: dict[str, Any] = {}

    # -- life cycle --------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.ansi:
            self.theme = ANSI_THEME
        from aria_tui.ui.screens.connect import ConnectScreen

        self.open_step("connect", ConnectScreen())
        self.connect_target()

    @property
    def blink(self) -> bool:
        """No blinking cursor in headless runs: screenshots and snapshots must be repeatable."""
        return not self.is_headless

    def open_step(self, step: str, screen: Any) -> None:
        self._screens[step] = screen
        self.push_screen(screen)

    def step_screen(self, step: str) -> Any | None:
        screen = self._screens.get(step)
        return screen if screen is not None and screen in self.screen_stack else None

    def sync_screens(self) -> None:
        """Repaint every step screen from the state (cheap: a handful of widgets each)."""
        for screen in self.screen_stack:
            sync = getattr(screen, "sync", None)
            if sync is not None:
                sync()
        self.refresh_bindings()

    # -- navigation ---------------------------------------------------------------------------

    def next_step(self, step: str) -> None:
        """Leave `step` forward; each step's screen is made fresh so it shows the current state."""
        if not self.state.can_leave(step):
            return
        if step == "connect":
            from aria_tui.ui.screens.inventory import InventoryScreen

            self.open_step("inventory", InventoryScreen())
            if self.state.inventory is None or self.state.inventory.export != self.state.export_dir:
                self.scan_export()
        elif step == "inventory":
            from aria_tui.ui.screens.plan import PlanScreen

            self.make_plan()
            self.open_step("plan", PlanScreen())
        elif step == "plan":
            self.confirm_load()
        elif step == "run":
            from aria_tui.ui.screens.validate import ValidateScreen

            self.open_step("validate", ValidateScreen())
            self.validate_load()

    def back_step(self) -> None:
        if self.state.running or len(self.screen_stack) <= 2:
            return
        self.pop_screen()
        self.call_after_refresh(self.sync_screens)

    def confirm_load(self) -> None:
        from aria_tui.ui import fmt
        from aria_tui.ui.screens.dialogs import ConfirmModal

        tables, records, size = self.state.totals()
        target = self.state.connection.target.display if self.state.connection else "the target"
        question = (
            f"Load {tables} tables ({fmt.count(records)} records, {fmt.size(size)}) into {target}? "
            "Each table commits on its own; a cancel rolls back only the table in progress."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                from aria_tui.ui.screens.run import RunScreen

                self.open_step("run", RunScreen())
                self.run_load()

        self.push_screen(ConfirmModal("Start the load?", question, yes="Load"), answered)

    # -- actions --------------------------------------------------------------------------------

    def action_help(self) -> None:
        from aria_tui.ui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    async def action_quit(self) -> None:
        if not self.state.running:
            self.exit(self.exit_code())
            return
        from aria_tui.ui.screens.dialogs import ConfirmModal

        def answered(yes: bool | None) -> None:
            if yes:
                self._quit_after_load = True
                self.cancel_load()

        self.push_screen(
            ConfirmModal(
                "Quit during the load?",
                "The table in progress rolls back, finished tables stay loaded; "
                "the wizard quits once the rollback is done.",
                yes="Cancel load and quit",
            ),
            answered,
        )

    def exit_code(self) -> int:
        """0 after a green validation (or before anything was loaded), 1 when the cutover is not proven."""
        validation = self.state.validation
        if validation is not None:
            return 0 if validation.ok else 1
        if self.state.run is not None or self.state.run_cancelled:
            return 1
        return 0

    def cancel_load(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
        screen = self.step_screen("run")
        if screen is not None:
            screen.cancelling()

    # -- workers (one core call each) ------------------------------------------------------------

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
            session.profile if session is not None else profiles.resolve(self.state.profile_name, [])
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
            self.post_message(self._open_plan_file(cp, inventory))

    def _open_plan_file(self, cp: CutoverPlan, inventory: Inventory) -> msg.PlanFileOpened:
        """The plan file's choices and tables, checked against the export and the target the way
        `load --plan` checks them (cutover.check); a misfit is the refusal's one sentence."""
        from aria_tui.load import cutover
        from aria_tui.load.choices import Choices

        state = self.state
        assert state.connection is not None and state.connection.session is not None
        session = state.connection.session
        files = {t.file for t in cp.tables}
        names = tuple(sorted(t.name for t in inventory.tables if t.file.name in files))
        choices = Choices.of_cutover(cp)
        try:
            plan = session.plan(Selection.of(names), inventory, choices)
            cutover.check(cp, plan, session.target)
        except AriaError as exc:
            return msg.PlanFileOpened(None, (), str(exc))
        return msg.PlanFileOpened(choices, names, None)

    def make_plan(self) -> None:
        """Planning is pure and fast (the live catalog is already in the inventory): no worker."""
        state = self.state
        if state.plan is not None or state.inventory is None or state.connection is None:
            return
        assert state.connection.session is not None
        try:
            # the scan as read, with the operator's choices applied by the core, as `load` does
            state.plan = state.connection.session.plan(
                state.selection(), state.scanned or state.inventory, state.choices
            )
        except AriaError as exc:
            self.show_error("Cannot plan the load", str(exc))

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
        on_event = self._event_relay(dry_run)
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

    def _event_relay(self, dry_run: bool) -> EventCallback:
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

    # -- results ----------------------------------------------------------------------------------

    def on_target_connected(self, message: msg.TargetConnected) -> None:
        previous = self.state.connection
        self.state.connection = message.connection
        if previous is not None and previous.target.key != message.connection.target.key:
            self.state.inventory = None
            self.state.invalidate_plan()
        self.sync_screens()

    def on_schema_bootstrapped(self, message: msg.SchemaBootstrapped) -> None:
        result = message.result
        self.notify(
            f"{result.profile}: {len(result.created)} tables created, {len(result.existing)} already there.",
            title="Bootstrapped",
        )

    def on_scan_progressed(self, message: msg.ScanProgressed) -> None:
        screen = self.step_screen("inventory")
        if screen is not None:
            screen.scan_progress(message.done, message.total, message.name)

    def on_inventory_scanned(self, message: msg.InventoryScanned) -> None:
        dropped = self.state.set_inventory(message.inventory)
        self.sync_screens()
        if dropped:
            self.notify(dropped, severity="warning")

    def on_plan_file_opened(self, message: msg.PlanFileOpened) -> None:
        state = self.state
        if message.refusal is not None or message.choices is None:
            self.show_error("Cannot open the plan", message.refusal or "The plan does not fit.")
            return
        why = state.set_choices(message.choices)
        if why is not None:
            self.show_error("Cannot open the plan", why)
            return
        state.selected = {n for n in message.names if n in {t.name for t in state.tables()}}
        state.overrides = set()
        if message.choices.jobs is not None:
            state.jobs = message.choices.jobs
        state.invalidate_plan()
        self.sync_screens()
        self.notify(
            f"{len(state.selected)} tables, {len(message.choices.decisions)} decisions and the "
            "conflict policies are the plan file's.",
            title="Plan opened",
        )

    def on_load_progressed(self, message: msg.LoadProgressed) -> None:
        screen = self.step_screen("plan" if message.dry_run else "run")
        if screen is not None:
            screen.load_event(message.event)

    def on_load_logged(self, message: msg.LoadLogged) -> None:
        screen = self.step_screen("plan" if message.dry_run else "run")
        if screen is not None:
            screen.load_event(message.event)

    def on_dry_run_finished(self, message: msg.DryRunFinished) -> None:
        if message.plan is not self.state.plan:
            return  # the ticks changed while it ran: its numbers describe another plan
        self.state.dry_run = message.result
        self.sync_screens()

    def on_load_finished(self, message: msg.LoadFinished) -> None:
        self.state.running = False
        self.state.run = message.result
        self.state.run_cancelled = message.cancelled
        self._cancel = None
        screen = self.step_screen("run")
        if screen is not None:
            screen.finished(message.result, message.cancelled)
        self.sync_screens()
        if self._quit_after_load:
            self.exit(self.exit_code())

    def on_validation_progressed(self, message: msg.ValidationProgressed) -> None:
        screen = self.step_screen("validate")
        if screen is not None:
            screen.validation_event(message.event)

    def on_validation_finished(self, message: msg.ValidationFinished) -> None:
        self.state.validation = message.validation
        self.sync_screens()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where a worker's failure becomes something the operator can read."""
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.error is not None:
            if worker.group == "load":
                self.state.running = False
                screen = self.step_screen("run")
                if screen is not None:
                    screen.failed(error_sentence(worker.error))
            error = worker.error
            self.show_error(_GROUP_TITLES.get(worker.group, "Error"), error_sentence(error))
            if self._quit_after_load and worker.group == "load":
                self.exit(self.exit_code())
        if event.state in (WorkerState.RUNNING, WorkerState.SUCCESS, WorkerState.ERROR):
            self.sync_screens()

    def show_error(self, title: str, sentence: str) -> None:
        from aria_tui.pg.dsn import redact
        from aria_tui.ui.screens.dialogs import ErrorModal

        # the core already redacts its sentences; an unexpected exception's text might not be
        conninfos = [self.state.dsn or ""]
        if self.state.connection is not None:
            conninfos.append(self.state.connection.target.conninfo)
        self.push_screen(ErrorModal(title, redact(sentence, *conninfos)))

    def busy(self, group: str) -> bool:
        """True while a worker of `group` runs; screens grey out actions that would race it."""
        return any(w.group == group and not w.is_finished for w in self.workers)


def create_app(
    export_dir: Path | None,
    dsn: str | None,
    profile: str | None,
    ansi: bool = False,
    *,
    clock: Clock | None = None,
    plan_file: Path | str | None = None,
) -> AriaApp:
    """The one way to build the wizard: the CLI, the tests and the screenshot script share it.

    `plan_file`: a cutover plan (`aria-tui plan`, or the wizard's `w`) whose tables, decisions,
    conflict policies and jobs the wizard starts from. One that is not a plan, or is for another
    export folder, raises AriaError here; one that no longer fits the export or the target is
    refused, in one sentence, once the scan has read them."""
    export = Path(export_dir).expanduser().resolve() if export_dir else None
    state = WizardState(export_dir=export, dsn=dsn, profile_name=profile)
    if plan_file is not None:
        from aria_tui.load import cutover

        if export is None:
            raise AriaError("--plan needs the export folder it was written for.")
        state.cutover = cutover.open_for(Path(plan_file), export)
        state.plan_file = str(plan_file)
    return AriaApp(state, ansi=ansi, clock=clock)


def run_wizard(args: argparse.Namespace) -> int:
    """`aria-tui [EXPORT_DIR] [--dsn ...] [--profile ...] [--plan FILE] [--inline] [--no-mouse]
    [--ansi]`."""
    app = create_app(
        Path(args.export_dir) if args.export_dir else None,
        args.dsn,
        args.profile,
        ansi=bool(getattr(args, "ansi", False)),
        plan_file=getattr(args, "plan", None),
    )
    result = app.run(inline=bool(args.inline), mouse=not bool(args.no_mouse))
    if app.return_code:  # Textual's own failure (an unhandled exception): never hide it behind 0
        return int(app.return_code)
    return int(result or 0)


__all__ = ["AriaApp", "STEPS", "create_app", "run_wizard"]
