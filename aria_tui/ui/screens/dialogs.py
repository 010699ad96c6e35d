"""Modal dialogs: an error in one sentence, a yes/no confirmation, a short pick list, one value."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option


class ErrorModal(ModalScreen[None]):
    """A worker failed: the sentence says what and where; closing returns to the step as it was."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,space", "dismiss", "Close", id="close", key_display="esc"),
    ]

    def __init__(self, title: str, sentence: str) -> None:
        super().__init__(classes="dialog -error")
        self.title_text = title
        self.sentence = sentence

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"✖ {self.title_text}", id="dialog-title")
            yield Static(self.sentence, id="dialog-body", markup=False)
            yield Static("esc / enter: close", id="dialog-keys")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """y / n, so a keypress is enough and no focus juggling between buttons is needed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="yes"),
        Binding("n,escape", "answer(False)", "No", id="no", key_display="n/esc"),
    ]

    def __init__(self, title: str, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="dialog-title")
            yield Static(self.question, id="dialog-body", markup=False)
            yield Static(f"y: {self.yes}    n / esc: {self.no}", id="dialog-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ChoiceModal(ModalScreen[str | None]):
    """A short list (e.g. categories): arrows + enter, or the digit shown in front of an entry."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Close", id="close"),
        *(Binding(str(i), f"pick({i})", show=False) for i in range(1, 10)),
    ]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        """`choices`: (value returned, label shown)."""
        super().__init__(classes="dialog")
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="dialog-title")
            yield OptionList(
                *(
                    Option(f"{i}  {label}", id=value)
                    for i, (value, label) in enumerate(self.choices, start=1)
                ),
                id="choices",
                compact=True,
            )
            yield Static("1-9 or arrows + enter: pick    esc: close", id="dialog-keys")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_pick(self, index: int) -> None:
        if 1 <= index <= len(self.choices):
            self.dismiss(self.choices[index - 1][0])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class InputModal(ModalScreen[str | None]):
    """One line of text (a value to fill a column with): enter takes it, escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Close", id="close"),
    ]

    def __init__(self, title: str, question: str, value: str = "") -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="dialog-title")
            yield Static(self.question, id="dialog-body", markup=False)
            yield Input(value=self.value, id="dialog-input", compact=True)
            yield Static("enter: take it    esc: close", id="dialog-keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
