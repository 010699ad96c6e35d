"""Read the load journal, when there is one, for the reconciliation check.

Validation proves the cutover from the export folder and the live target alone; the journal only
adds "CSV records = inserted + duplicates + rejected" for a load aria-tui did itself. Nothing else
is asked of it, and a missing or unreadable journal simply means "load done by other means".

The loader writes an entry only after a table's transaction commits (aria_tui/load/journal.py),
so an entry means "loaded"; a table it failed or skipped has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aria_tui.pg.connect import Target


@dataclass(frozen=True)
class JournalEntry:
    status: str  # 'loaded' for every committed table; other values are never a pass
    inserted: int
    duplicates: int
    rejected: int
    error: str | None = None
    csv_rows: int | None = None  # records the load read
    size: int | None = None  # bytes of the file the load read
    mtime_ns: int | None = None  # and its modification time then
    sha256: str | None = None  # and its checksum
    reject_file: str | None = None  # where the load wrote the records it rejected
    rows_before: int | None = None  # rows the table held before the load (None: not recorded)


def read_entries(folder: Path, target: Target) -> dict[str, JournalEntry]:
    """Entries of the journal of `folder` loaded into `target`, by 'schema.table'."""
    try:
        from aria_tui.load.journal import Journal
    except ImportError:  # a build without the loader: every load was done by other means
        return {}
    try:
        journal = Journal(Path(folder), target.key, target.display)
    except (OSError, ValueError, TypeError):
        return {}
    return {
        name: JournalEntry(
            status="loaded",
            inserted=e.inserted,
            duplicates=e.duplicates,
            rejected=e.rejected,
            csv_rows=e.csv_rows,
            size=e.size,
            mtime_ns=e.mtime_ns,
            sha256=e.sha256 or None,
            reject_file=e.reject_file,
            rows_before=getattr(e, "rows_before", None),
        )
        for name, e in journal.entries.items()
    }
