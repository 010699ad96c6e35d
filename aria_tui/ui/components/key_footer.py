"""The key footer: every binding of the current step, wrapped onto a second line when 80 columns
are not enough (Textual's Footer is one line that scrolls, so keys fell off the right edge).

Built from the screen's active bindings, like Textual's Footer: disabled actions (check_action
returning None) are dimmed, grouped keys share one label ("h/m/l Tick"), and each key is clickable.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static


class KeyFooter(Static):
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: auto;
        max-height: 3;
        padding: 0 1;
        color: $footer-foreground;
        background: $footer-background;
        link-style: none;
        link-background-hover: $footer-key-foreground 30%;
        link-style-hover: bold;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="keys", markup=False)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self.show_keys)

    def on_resize(self) -> None:
        self.call_after_refresh(self.show_keys)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self.show_keys)

    def entries(self) -> list[tuple[str, str, str, bool]]:
        """(keys shown, description, action, enabled) in the order Textual's Footer would use."""
        out: list[tuple[str, str, str, bool]] = []
        seen: set[str] = set()
        group: Binding.Group | None = None
        palette: tuple[str, str, str, bool] | None = None
        for active in self.screen.active_bindings.values():
            binding = active.binding
            key = binding.key_display or self.app.get_key_display(binding)
            if binding.action == "command_palette":
                palette = (key, "palette", binding.action, active.enabled)
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            if binding.group is not None and binding.group is group and out:
                keys, description, action, enabled = out[-1]
                out[-1] = (f"{keys}/{key}", description, action, enabled or active.enabled)
                continue
            group = binding.group
            description = group.description if group is not None else binding.description
            out.append((key, description, f"{_namespace(active.node)}.{binding.action}", active.enabled))
        if palette is not None:
            out.append(palette[:2] + ("app.command_palette", palette[3]))
        return out

    def show_keys(self) -> None:
        """Fill lines entry by entry, so a key never sits on one line and its label on the next."""
        if not self.is_attached:
            return
        width = max(self.content_size.width, 20)
        lines: list[list[Content]] = [[]]
        used = 0
        for keys, description, action, enabled in self.entries():
            key_style = "bold $footer-key-foreground" if enabled else "dim"
            part = Content.assemble((keys, key_style), (f" {description}", "" if enabled else "dim"))
            if enabled:
                part = part.stylize(f"@click={action}")
            need = len(part.plain) + (2 if lines[-1] else 0)
            if lines[-1] and used + need > width:
                lines.append([])
                used, need = 0, len(part.plain)
            lines[-1].append(part)
            used += need
        self.update(Content("\n").join(Content("  ").join(line) for line in lines))


def _namespace(node: object) -> str:
    from textual.app import App

    if isinstance(node, App):
        return "app"
    if isinstance(node, Screen):
        return "screen"
    return "focused"
