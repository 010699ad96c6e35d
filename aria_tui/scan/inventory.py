"""What the profile says about a file (category, priority, the reason) and the default selection.

The knowledge lives in the profile's catalog.toml; this module only applies it. Generic mode (no
profile) has no priorities: every file that can be loaded is selected.
"""

from __future__ import annotations

from dataclasses import dataclass

from aria_tui.profiles import Profile, TableEntry
from aria_tui.scan.model import Diff

DEFAULT_PRIORITIES = ("HIGH", "MEDIUM")


@dataclass(frozen=True)
class Classification:
    category: str | None
    priority: str | None
    reason: str | None


def classify(profile: Profile | None, entry: TableEntry | None) -> Classification:
    if profile is None:
        return Classification(None, None, None)
    if entry is None:
        # a file the profile does not know: shown, never ticked by default, and said so
        return Classification(
            None, None, f"Not in the {profile.name} profile's catalog; tick it to load it anyway."
        )
    return Classification(entry.category, entry.priority, entry.reason)


def default_selected(profile: Profile | None, priority: str | None, target: str | None, diff: Diff) -> bool:
    if target is None or not diff.loadable:
        return False
    if profile is None:
        return True
    return priority in DEFAULT_PRIORITIES
