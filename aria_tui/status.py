"""The words every stage shares: statuses, priorities, and why a file cannot be loaded.

One small module with no heavy imports (no polars, no psycopg, no Textual), so scan, load,
validate, the CLI and the wizard all import the same spelling of `blocked` instead of re-spelling
it to keep polars out of their import graph. Each enum is a `StrEnum`: its members compare equal
to, and serialise as, the plain strings the `--json` outputs have always carried.

A file that cannot be loaded carries its reasons as data: a tuple of `Blocker(kind, sentence)`.
"Blocked by the manifest alone" is then a comparison of kinds, never a sentence parsed back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ScanStatus(StrEnum):
    """`Diff.status` / `TableScan.status`: the scan's verdict for one file."""

    MATCH = "match"  # the file's columns are the target table's
    DRIFT = "drift"  # loadable, with differences the plan handles (drop empty, rename, ...)
    BLOCKED = "blocked"  # cannot be loaded: see the blockers
    NO_TARGET = "no_target"  # the target has no table for it
    MISSING = "missing"  # the manifest or the profile expects the file; it is not in the folder


LOADABLE = (ScanStatus.MATCH, ScanStatus.DRIFT)


class LoadStatus(StrEnum):
    """`TableResult.status`: what the load did with one file."""

    LOADED = "loaded"
    RESUMED = "resumed"  # a previous run committed it: nothing inserted again
    FAILED = "failed"  # tried and rolled back
    SKIPPED = "skipped"  # not attempted (cancelled before it, ...)
    BLOCKED = "blocked"  # selected, but it cannot be loaded: the error says why
    NO_TARGET = "no_target"  # selected, but the target has no table for it


class CheckStatus(StrEnum):
    """`TableValidation.status`: validate's verdict for one file."""

    PASSED = "passed"
    FAILED = "failed"
    INCOMPLETE = "incomplete"  # the checks hold, but records of the file were rejected at load
    NO_TARGET = "no_target"  # the target has no table for the file
    BLOCKED = "blocked"  # the scan found the file unloadable (missing column, broken CSV, ...)
    MISSING = "missing"  # the export expects the file and the folder lacks it
    SKIPPED = "skipped"  # the load journal says the load skipped or failed this table
    ERROR = "error"  # a check could not run (the server refused the file, ...)


class ManifestState(StrEnum):
    """`TableScan.manifest`: the file against the export's manifest.json (None without one)."""

    OK = "ok"
    MISSING = "missing"
    CHANGED = "changed"
    UNLISTED = "unlisted"


class Priority(StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    SKIP = "SKIP"


# what a profile ticks by default, and what must not be absent from the folder
IMPORTANT = (Priority.HIGH, Priority.MEDIUM)


# what a record whose key the target holds with other content becomes (load/conflicts.py):
# plain strings, spelt once, for the CLI's choices, the plan file and validation alike
REJECT, KEEP_TARGET, TAKE_EXPORT = "reject", "keep-target", "take-export"
CONFLICT_POLICIES = (REJECT, KEEP_TARGET, TAKE_EXPORT)

# the words of a fill decision's note on the load's record (load/decisions.py): validation lists
# a filled column with the values the target's rows hold instead, and leaves that note out
FILLED_WITH = " filled with "


class BlockerKind(StrEnum):
    """Why a file cannot be loaded, as a kind a program can compare."""

    CSV = "csv"  # the file's structure cannot be read (or recovered)
    NO_TARGET = "no_target"  # the target has no table for it
    AMBIGUOUS = "ambiguous"  # its bare name is a table in several schemas
    SCHEMA = "schema"  # a column holds data the target lacks, a NOT NULL nothing fills, ...
    MANIFEST = "manifest"  # it differs from manifest.json (changed, or unlisted)
    MISSING_FILE = "missing_file"  # listed (manifest, or the profile's HIGH/MEDIUM) but absent
    NOT_READ = "not_read"  # the caller asked scan not to read it (outside a load's selection)
    SERVER = "server"  # the target failed while judging it
    DUPLICATE_TARGET = "duplicate_target"  # another selected file loads the same table
    CYCLE = "cycle"  # a foreign-key cycle no load order satisfies


@dataclass(frozen=True)
class Blocker:
    """One reason a file cannot be loaded: a kind and the sentence a person reads."""

    kind: BlockerKind
    sentence: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "sentence": self.sentence}


def sentence_of(blockers: Iterable[Blocker]) -> str | None:
    """Several blockers as one sentence (the CLI and the wizard show it on one line)."""
    parts = [b.sentence.strip() for b in blockers if b.sentence.strip()]
    if not parts:
        return None
    text = parts[0].rstrip(".")
    for part in parts[1:]:
        part = part.rstrip(".")
        # 'Column x ...' continues as '; column x ...', an acronym or a name stays as it is
        if part[:1].isupper() and part[1:2].islower():
            part = part[0].lower() + part[1:]
        text += "; " + part
    return text + "."


def only(blockers: Iterable[Blocker], *kinds: BlockerKind) -> bool:
    """True when there is at least one blocker and every one is of `kinds`."""
    found = [b.kind for b in blockers]
    return bool(found) and all(k in kinds for k in found)
