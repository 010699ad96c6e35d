"""Command palette (ctrl+p): every key binding of the current step, searchable by its name.

Built from the calling screen's active bindings, so the palette and the Footer can never disagree
and a new binding needs no second registration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# actions the palette itself or Textual already offers
_HIDDEN = {"command_palette", "help_quit"}


class WizardCommands(Provider):
    def _commands(self, shown_only: bool = False) -> Iterator[tuple[str, str, Callable[[], object]]]:
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action in _HIDDEN:
                continue
            if shown_only and not binding.show:
                continue  # cursor keys: searchable, but not what the palette opens with
            if binding.action in seen:
                continue
            seen.add(binding.action)
            key = binding.key_display or self.app.get_key_display(binding)
            name = binding.description
            if binding.group is not None and binding.group.description:
                name = f"{binding.group.description}: {binding.description}"
            callback = partial(self.app.run_action, binding.action, active.node)
            yield name, f"key: {key}", callback

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands(shown_only=True):
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
