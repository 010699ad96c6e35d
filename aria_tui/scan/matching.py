"""Which target table a CSV file loads into.

`aria_data.memories.csv` names its table exactly. A bare `memories.csv` means the one table of that
name in the target, whatever its schema; two of them is ambiguous and the file is blocked rather
than guessed. A profile can say where a file goes (or that it goes nowhere, like LiteLLM's tables).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from aria_tui.pg.catalog import Catalog, Table
from aria_tui.profiles import Profile, TableEntry


@dataclass(frozen=True)
class TargetMatch:
    table: Table | None
    # set when there is no table: why, in one sentence; `ambiguous` makes the file blocked
    reason: str | None = None
    ambiguous: bool = False


def match_target(
    stem: str, catalog: Catalog, profile: Profile | None, entry: TableEntry | None
) -> TargetMatch:
    """The target table of the file with this stem, or why there is none."""
    if "." in stem:
        table = catalog.get(stem) or _composed(catalog, stem)
        if table is not None:
            return TargetMatch(table)
        return TargetMatch(None, f"The target has no table {stem}.")

    if entry is not None and profile is not None:
        if not entry.target:
            what = f"{entry.category} table" if entry.category else "table"
            return TargetMatch(
                None,
                f"The {profile.name} profile lists {entry.file} as a {what} with no target table.",
            )
        table = catalog.get(entry.target)
        if table is not None:
            return TargetMatch(table)
        # the profile's schema is not there (e.g. a target not bootstrapped yet): a table of the
        # same name elsewhere is still the operator's table, so look it up like generic mode does
        found = _by_name(entry.target.split(".", 1)[1], catalog)
        if found.table is not None or found.ambiguous:
            return found
        return TargetMatch(
            None,
            f"The target has no table {entry.target} (bootstrap it with the {profile.name} profile).",
        )

    return _by_name(stem, catalog)


def _by_name(name: str, catalog: Catalog) -> TargetMatch:
    hits = catalog.find(name)
    if not hits:
        # a file name decomposed on its way here (macOS and many zip tools write "café" as
        # e + U+0301): the same name as the table's, spelt with other code points
        hits = [t for t in catalog.tables.values() if _nfc(t.name) == _nfc(name)]
    if not hits:
        # exports written by tools that fold case (LiteLLM's "LiteLLM_DataTable") still match
        folded = [t for t in catalog.tables.values() if _nfc(t.name).lower() == _nfc(name).lower()]
        hits = folded
    if len(hits) == 1:
        return TargetMatch(hits[0])
    if not hits:
        return TargetMatch(None, f"The target has no table named {name} in any schema.")
    schemas = sorted(t.schema for t in hits)
    listed = ", ".join(schemas[:-1]) + f" and {schemas[-1]}"
    return TargetMatch(
        None,
        f"Table {name} exists in schemas {listed}; name the file {schemas[0]}.{name}.csv "
        f"(or choose a profile) to say which one.",
        ambiguous=True,
    )


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _composed(catalog: Catalog, qualified: str) -> Table | None:
    """The table whose 'schema.table' is `qualified` once both are composed alike (NFC)."""
    want = _nfc(qualified)
    return next((t for q, t in catalog.tables.items() if _nfc(q) == want), None)
