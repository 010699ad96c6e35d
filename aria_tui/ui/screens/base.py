"""What every step screen shares: the breadcrumb, a status line, the Footer, Next/Back keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input, Static

from aria_tui.ui.components.key_footer import KeyFooter
from aria_tui.ui.components.step_bar import StepBar

if TYPE_CHECKING:
    from aria_tui.ui.app import AriaApp
    from aria_tui.ui.state import WizardState


class StepScreen(Screen[None]):
    STEP: ClassVar[str] = ""
    HELP: ClassVar[str] = ""  # shown on the help screen above the keys

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next", "Next", id="next"),
        Binding("escape", "back", "Back", id="back"),
    ]

    @property
    def wizard(self) -> AriaApp:
        return self.app  # type: ignore[return-value]

    @property
    def state(self) -> WizardState:
        return self.wizard.state

    def compose_body(self) -> ComposeResult:
        yield from ()

    def compose(self) -> ComposeResult:
        yield StepBar(self.STEP)
        yield from self.compose_body()
        yield Static("", id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sync()

    def on_screen_resume(self) -> None:
        self.sync()

    def sync(self) -> None:
        """Repaint from the wizard state; called after every result and on return to this step."""

    def status(self, text: str, *, error: bool = False) -> None:
        widget = self.query_one("#status", Static)
        widget.set_class(error, "-error")
        widget.update(text)

    def can_next(self) -> bool:
        return self.state.can_leave(self.STEP)

    def can_back(self) -> bool:
        return not self.state.running and len(self.app.screen_stack) > 2

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None = visible but greyed out: the operator sees the key exists and is not ready yet
        if action == "next":
            return True if self.can_next() else None
        if action == "back":
            if isinstance(self.focused, Input):
                return True
            return True if self.can_back() else False
        return True

    def action_next(self) -> None:
        self.wizard.next_step(self.STEP)

    def action_back(self) -> None:
        # escape in a text field leaves the field, never the step: typing must not cost a screen
        if isinstance(self.focused, Input):
            self.leave_input(self.focused)
            return
        self.wizard.back_step()

    def leave_input(self, field: Input) -> None:
        self.focus_main()

    def focus_main(self) -> None:
        """Give the keyboard back to the step's main widget."""
