"""The wizard App: owns the wizard state, its keys and step screens, and routes the workers' results.

Screens never start work themselves: the long steps are the App's thread workers (ui.workers,
inherited), so a load outlives the screen that asked for it. Each worker ends by posting a typed
past-tense message, handled here; one Worker.StateChanged handler turns any failure into an error
dialog with one sentence.
"""

from __future__ import annotations

import argparse
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.clock import Clock
from textual.worker import Worker, WorkerState

from aria_tui.errors import AriaError
from aria_tui.ui import messages as msg
from aria_tui.ui.commands import WizardCommands
from aria_tui.ui.fmt import error_sentence
from aria_tui.ui.plan_file import adopt as adopt_plan_file
from aria_tui.ui.plan_file import read as read_plan_file
from aria_tui.ui.state import STEPS, WizardState, why_blocked
from aria_tui.ui.workers import GROUP_TITLES, StepWorkers

ANSI_THEME = "ansi-dark"


class AriaApp(StepWorkers):
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

                # an earlier verdict is not this load's: until it is validated, the cutover is
                # not proven (the exit code says 1, not the last validation's 0)
                self.state.validation = None
                # nor is the dry run a prediction once the target holds this load's rows
                self.state.dry_run = None
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

    # -- planning ---------------------------------------------------------------------------------

    def make_plan(self) -> None:
        """Planning is pure and fast (the live catalog is already in the inventory): no worker."""
        state = self.state
        if state.plan is not None or state.inventory is None or state.connection is None:
            return
        assert state.connection.session is not None
        try:
            # the scan as read, with the operator's choices applied by the core, as `load` does;
            # a table decision (triggers off, rejects accepted) on a table no longer ticked, or
            # ticked but not loadable, stays recorded but is not this plan's (the core refuses
            # a flag on a table the load does not load)
            loaded = {t.target for t in state.selected_tables() if why_blocked(t) is None}
            loaded |= {t.target for t in state.selected_tables() if t.name in state.overrides}
            choices = replace(
                state.choices,
                triggers_off=state.choices.triggers_off & loaded,
                accept_rejects=state.choices.accept_rejects & loaded,
            )
            state.plan = state.connection.session.plan(
                state.selection(), state.scanned or state.inventory, choices
            )
        except AriaError as exc:
            self.show_error("Cannot plan the load", str(exc))

    # -- results ----------------------------------------------------------------------------------

    def on_target_connected(self, message: msg.TargetConnected) -> None:
        previous = self.state.connection
        self.state.connection = message.connection
        target = message.connection.target
        # an inventory read on another target (Connect's t sets the connection aside before the
        # new one arrives): its verdicts and catalog are that target's, so it is read again
        scanned_elsewhere = (
            self.state.inventory is not None and self.state.inventory.target_display != target.display
        )
        if scanned_elsewhere or (previous is not None and previous.target.key != target.key):
            self.state.inventory = None
            self.state.scanned = None
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
        refusal = adopt_plan_file(self.state, message)
        if refusal is not None:
            self.show_error("Cannot open the plan", refusal)
            return
        assert message.choices is not None
        self.sync_screens()
        self.notify(
            f"{len(self.state.selected)} tables, {len(message.choices.decisions)} decisions and the "
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
            self.show_error(GROUP_TITLES.get(worker.group, "Error"), error_sentence(error))
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
        read_plan_file(state, plan_file)
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
