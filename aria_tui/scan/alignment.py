"""Step one of a file's schema diff: line the CSV header up with the target table by name, before
any value is read, and propose renames for what is left on both sides."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from aria_tui.pg.catalog import Table
from aria_tui.scan.model import Rename

RENAME_RATIO = 0.8


@dataclass(frozen=True)
class Alignment:
    """How the header lines up with the table, before any value is read."""

    mapping: dict[str, str | None]  # CSV column -> target column (None: no target column yet)
    matched: tuple[str, ...]
    renames: tuple[Rename, ...]  # from the profile: trusted
    candidates: tuple[Rename, ...]  # from name similarity: kept only if the values fit
    extras: tuple[str, ...]  # CSV columns with no target column (candidate sources included)
    generated: tuple[str, ...]  # CSV columns the target computes itself (GENERATED ALWAYS)


def align(header: Iterable[str], table: Table, renames: dict[str, str] | None = None) -> Alignment:
    """Match CSV columns to target columns by name (never by position), then by the profile's
    renames, and propose renames by name similarity for what is left on both sides."""
    cols = list(header)
    present = set(cols)
    target_names = set(table.column_names)
    mapping: dict[str, str | None] = {}
    matched: list[str] = []
    generated: list[str] = []
    used: set[str] = set()
    for name in cols:
        col = table.column(name)
        if col is None:
            continue
        if col.generated:
            generated.append(name)
            mapping[name] = None
        else:
            matched.append(name)
            mapping[name] = name
        used.add(name)

    profile_renames: list[Rename] = []
    for source, target in (renames or {}).items():
        col = table.column(target)
        # a rename only applies when the old name is in the file and the new one is not
        if source in present and source not in mapping and target not in present and col:
            if target in used or col.generated:
                continue
            profile_renames.append(Rename(source, target, "profile"))
            mapping[source] = target
            used.add(target)

    extras = [c for c in cols if c not in mapping]
    missing = [c for c in table.columns if c.name not in used and not c.generated]
    candidates = _similar(extras, [c.name for c in missing], target_names - used)
    return Alignment(
        # header order: the loader reads the file's fields in this order
        mapping={name: mapping.get(name) for name in cols},
        matched=tuple(matched),
        renames=tuple(profile_renames),
        candidates=tuple(candidates),
        extras=tuple(extras),
        generated=tuple(generated),
    )


def _similar(extras: list[str], missing: list[str], free: set[str]) -> list[Rename]:
    """Pair extra CSV columns with missing target columns whose names look like the same thing."""
    scored: list[tuple[float, str, str, str]] = []
    for source in extras:
        for target in missing:
            if target not in free:
                continue
            a, b = source.lower(), target.lower()
            if a == b:
                scored.append((1.0, source, target, "case"))
            elif a.removesuffix("_id") == b or b.removesuffix("_id") == a:
                scored.append((0.95, source, target, "same name without _id"))
            else:
                ratio = difflib.SequenceMatcher(None, a, b).ratio()
                if ratio >= RENAME_RATIO:
                    scored.append((ratio, source, target, "similar name"))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    taken_s: set[str] = set()
    taken_t: set[str] = set()
    out: list[Rename] = []
    for _, source, target, why in scored:
        if source in taken_s or target in taken_t:
            continue
        taken_s.add(source)
        taken_t.add(target)
        out.append(Rename(source, target, why))
    return out
