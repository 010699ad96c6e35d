"""The breadcrumb at the top of every step: where the operator is and what is already done."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from aria_tui.ui.state import STEP_TITLES, STEPS


class StepBar(Static):
    def __init__(self, step: str, detail: str = "") -> None:
        super().__init__(id="step-bar")
        self.step = step
        self.detail = detail

    def on_mount(self) -> None:
        self.show(self.detail)

    def show(self, detail: str) -> None:
        self.detail = detail
        current = STEPS.index(self.step)
        text = Text(no_wrap=True, overflow="ellipsis")
        for index, step in enumerate(STEPS):
            if index:
                text.append(" › ", style="dim")
            label = f"{index + 1} {STEP_TITLES[step]}"
            if index == current:
                text.append(f" {label} ", style="bold reverse")
            elif index < current:
                text.append(label, style="bold")
            else:
                text.append(label, style="dim")
        if detail:
            text.append("  ")
            text.append(detail, style="italic")
        self.update(text)
