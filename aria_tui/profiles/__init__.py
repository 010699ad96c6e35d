"""Profiles: what aria-tui knows about a particular system, as data files next to this module.

Each profile folder holds `catalog.toml` (tables, categories, priorities, reasons, renames) and
`schema.sql` (the target schema to bootstrap an empty database with). Generic mode is no profile.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from aria_tui.errors import AriaError

HERE = Path(__file__).parent
NONE = "none"
PRIORITIES = ("HIGH", "MEDIUM", "LOW", "SKIP")
CATEGORIES = ("domain", "infrastructure", "third-party", "legacy")


@dataclass(frozen=True)
class TableEntry:
    file: str  # CSV stem in the export
    target: str | None  # qualified target table, None when the target has no such table
    category: str | None
    priority: str | None
    reason: str | None
    rows_full: int | None = None
    renames: dict[str, str] = field(default_factory=dict)  # CSV column -> target column
    extra_columns: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()  # header for files with no target table (sample generator)


@dataclass(frozen=True)
class Pattern:
    match: str
    category: str
    priority: str
    reason: str


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    schemas: tuple[str, ...]
    detect: tuple[str, ...]
    tables: tuple[TableEntry, ...]
    patterns: tuple[Pattern, ...]
    folder: Path

    def entry(self, stem: str) -> TableEntry | None:
        """The catalog entry for a file stem (`memories` or `aria_data.memories`), or a pattern's."""
        bare = stem.split(".")[-1]
        for entry in self.tables:
            if entry.file in (stem, bare) or (entry.target and entry.target == stem):
                return entry
        for pat in self.patterns:
            if fnmatch.fnmatchcase(bare, pat.match):
                return TableEntry(bare, None, pat.category, pat.priority, pat.reason)
        return None

    @property
    def schema_sql(self) -> str:
        return (self.folder / "schema.sql").read_text(encoding="utf-8")

    def renames_for(self, stem: str) -> dict[str, str]:
        entry = self.entry(stem)
        return dict(entry.renames) if entry else {}


def available() -> list[str]:
    return sorted(p.name for p in HERE.iterdir() if (p / "catalog.toml").is_file())


@cache
def load(name: str) -> Profile:
    folder = HERE / name
    if not (folder / "catalog.toml").is_file():
        raise AriaError(
            f"Unknown profile '{name}'; choose one of: {', '.join(available() + [NONE])}."
        )
    data = tomllib.loads((folder / "catalog.toml").read_text(encoding="utf-8"))
    head = data.get("profile", {})
    tables = tuple(
        TableEntry(
            file=t["file"],
            target=t.get("target") or None,
            category=t.get("category"),
            priority=t.get("priority"),
            reason=t.get("reason"),
            rows_full=t.get("rows_full"),
            renames=dict(t.get("renames", {})),
            extra_columns=tuple(t.get("extra_columns", ())),
            columns=tuple(t.get("columns", ())),
        )
        for t in data.get("tables", [])
    )
    patterns = tuple(
        Pattern(p["match"], p["category"], p["priority"], p["reason"]) for p in data.get("patterns", [])
    )
    return Profile(
        name=head.get("name", name),
        title=head.get("title", name),
        schemas=tuple(head.get("schemas", ())),
        detect=tuple(head.get("detect", ())),
        tables=tables,
        patterns=patterns,
        folder=folder,
    )


def detect(stems: list[str]) -> Profile | None:
    """The profile whose identifying tables are most present among the export's file stems."""
    bare = {s.split(".")[-1] for s in stems}
    best, best_hits = None, 0
    for name in available():
        prof = load(name)
        hits = sum(1 for t in prof.detect if t in bare)
        if prof.detect and hits * 2 >= len(prof.detect) and hits > best_hits:
            best, best_hits = prof, hits
    return best


def detect_in_target(relations: set[str]) -> Profile | None:
    """The profile whose identifying tables ALL exist in the target ('schema.table' names):
    when the export's files no longer say which system it is (its identifying files are the
    ones gone missing), the target its init scripts built still does."""
    for name in available():
        prof = load(name)
        wanted = [e.target for t in prof.detect if (e := prof.entry(t)) is not None and e.target]
        if wanted and all(w in relations for w in wanted):
            return prof
    return None


def resolve(name: str | None, stems: list[str] | None = None) -> Profile | None:
    """`--profile NAME`, `none` for generic mode, or detection from the export's table names."""
    if name == NONE:
        return None
    if name:
        return load(name)
    return detect(stems or [])
