"""`?` / F1: what this step is for and every key it answers to, read from the live bindings."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,f1,q", "close", "Close", id="close-help", key_display="esc"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__(classes="dialog", id="help")
        self.for_screen = screen

    def compose(self) -> ComposeResult:
        about = getattr(self.for_screen, "HELP", "") or ""
        with VerticalScroll(id="dialog"):
            yield Static("Help", id="dialog-title")
            if about:
                yield Static(about, id="help-about")
            yield Static(self.keys_table(), id="help-keys")
            yield Static("esc: close", id="dialog-keys")

    def keys_table(self) -> Table:
        """The step's own keys first, then the app's, then cursor movement (Footer-hidden ones)."""
        rows: dict[str, tuple[list[str], str, bool, bool]] = {}  # action -> keys, text, shown, on
        for active in self.for_screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system:
                continue
            key = binding.key_display or self.app.get_key_display(binding)
            description = binding.description
            if binding.group is not None and binding.group.description:
                description = f"{binding.group.description}: {description}"
            action = f"{id(active.node)}:{binding.action}"
            if action in rows:
                keys_, text_, shown_, enabled_ = rows[action]
                if key not in keys_:
                    keys_.append(key)
                rows[action] = (keys_, text_, shown_ or binding.show, enabled_ or active.enabled)
                continue
            rows[action] = ([key], description, binding.show, active.enabled)
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        ordered = sorted(rows.values(), key=lambda r: not r[2])  # stable: Footer order first
        for key_list, description, shown, enabled in ordered:
            style = "" if enabled else "dim"
            if not shown:
                style = "dim"
            keys.add_row(" ".join(sorted(key_list, key=len)), Text(description, style=style))
        keys.add_row("ctrl+p", "Command palette: every action above, by name")
        return keys

    def action_close(self) -> None:
        self.dismiss(None)
