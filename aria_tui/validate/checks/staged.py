"""What the staged file says against the target (Staged), measured once per table, and where the
export holds the parents of a table's foreign keys (Parent).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aria_tui.validate.staging.layout import Layout


@dataclass(frozen=True)
class ParentFile:
    path: Path
    lay: Layout | None  # None: the file cannot be read for its keys
    name: str


@dataclass(frozen=True)
class Parent:
    """Where the export holds the parent rows of a foreign key: the parent table's own file(s)
    (an export may split a table in parts).

    No files: the export has none for the parent table, so no parent key is in the export. A file
    that cannot be read for its keys (`lay` None) means a record whose parent the target lacks is
    never called an orphan: nothing proves the parent absent from the export.
    """

    files: tuple[ParentFile, ...] = ()


@dataclass(frozen=True)
class Staged:
    """What the staged file says against the target, measured once per table and shared by the
    checks. Counts are of export records unless they say target rows."""

    lay: Layout
    source: str  # the staged table (`_aria_typed` or `_aria_raw`)
    file: str
    csv_rows: int  # aria-tui's CSV reader
    records: int  # what the server's COPY read
    invalid: int  # records that cannot be cast into the target's types / break NOT NULL
    invalid_samples: tuple[tuple[int, str], ...]  # (record, reason)
    exact: bool = False  # the target must hold nothing but the export's records
    equal: int = 0  # loadable records with an identical row in the target
    differing: int = 0  # a row with the record's key but other content
    differing_samples: tuple[tuple[int, str], ...] = ()  # (record, key)
    other_key: int = 0  # no row with the record's key, but one with another of its unique keys
    other_key_samples: tuple[tuple[int, str], ...] = ()
    missing: int = 0  # loadable records the target lacks, unexplained
    missing_samples: tuple[tuple[int, str], ...] = ()  # (record, key)
    orphans: int = 0  # missing, and a parent is in neither the target nor the export
    orphan_samples: tuple[tuple[int, str], ...] = ()
    extras: int = 0  # target rows that are no loadable record of the file
    extra_samples: tuple[str, ...] = ()  # their keys (keyed tables)
    # target rows identical to a record of the file, beyond the times the file holds it: the
    # export's records doubled (a re-run that inserted again), whatever the target held before
    doubled: int = 0
    doubled_samples: tuple[tuple[int, int], ...] = ()  # (record, copies too many)
    repeats: int = 0  # loadable records repeating the key and content of an earlier one
    export_rows: int = 0  # loadable records (the export side of the checksum)
    export_sum: int = 0
    target_rows: int = 0  # rows of the target table (the target side of the checksum)
    target_sum: int = 0

    @property
    def loadable(self) -> int:
        return self.records - self.invalid

    @property
    def rejected(self) -> int:
        """Records that cannot be loaded: what a load rejects, by validation's own judgement."""
        return self.invalid + self.orphans

    @property
    def not_in_target(self) -> int:
        """Export records the target does not hold at all."""
        return self.rejected + self.missing

    @property
    def differ(self) -> int:
        """Export records the target holds with other content (or under another key)."""
        return self.differing + self.other_key

    @property
    def export_checksum(self) -> str:
        return _digest(self.export_rows, self.export_sum)

    @property
    def target_checksum(self) -> str:
        return _digest(self.target_rows, self.target_sum)


def _digest(count: int, total: object) -> str:
    return hashlib.md5(f"{count}:{int(str(total or 0))}".encode()).hexdigest()
