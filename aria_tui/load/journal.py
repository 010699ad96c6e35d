"""The run journal: which tables of (export folder, target) are committed, from which file.

One JSON file per (export folder, target) under the state dir, mode 0600, written atomically.
It holds `Target.key` / `Target.display`, never a conninfo, so never a password.

An entry is written only AFTER its table's transaction commits. A crash between the commit and
the journal write leaves a committed but unjournaled table; the re-run loads it again through the
staging path, where ON CONFLICT DO NOTHING counts every row as a duplicate, so nothing is ever
inserted twice. That needs a unique key: a non-empty table without one is refused rather than
appended to (see run.py). We chose this over recording commits in a table inside the target
because a cutover target should hold exactly the application's schema, nothing of ours.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from aria_tui import paths

VERSION = 1


@dataclass(frozen=True)
class FileIdentity:
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class Entry:
    target: str
    file: str
    size: int
    mtime_ns: int
    sha256: str
    csv_rows: int
    inserted: int
    duplicates: int
    rejected: int
    reject_file: str | None
    path: str | None
    committed_at: float
    rows_before: int | None = None  # rows the table held when its load began (validate --exact)


def journal_path(export: Path, target_key: str) -> Path:
    key = paths.key_for(str(Path(export).resolve()), target_key)
    return paths.state_dir() / "journals" / f"{key}.json"


def run_key(export: Path, target_key: str) -> str:
    return paths.key_for(str(Path(export).resolve()), target_key)


class Journal:
    def __init__(self, export: Path, target_key: str, target_display: str) -> None:
        self.export = Path(export).resolve()
        self.target_key = target_key
        self.target_display = target_display
        self.path = journal_path(self.export, target_key)
        self.entries: dict[str, Entry] = {}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                for name, raw in data.get("tables", {}).items():
                    self.entries[name] = Entry(**raw)
            except (OSError, ValueError, TypeError):
                # an unreadable journal must not stop a load; the ON CONFLICT path keeps it safe
                self.entries = {}

    def get(self, target: str) -> Entry | None:
        return self.entries.get(target)

    def record(self, entry: Entry) -> None:
        self.entries[entry.target] = entry
        self._save()

    def _save(self) -> None:
        paths.private_dir(self.path.parent)
        data = {
            "version": VERSION,
            "export": str(self.export),
            "target": self.target_display,
            "updated_at": time.time(),
            "tables": {name: asdict(e) for name, e in sorted(self.entries.items())},
        }
        paths.write_private(self.path, json.dumps(data, indent=2, sort_keys=True))


def identity(path: Path, sha256: str | None = None) -> FileIdentity:
    from aria_tui.load.chunks import file_digest

    st = os.stat(path)
    return FileIdentity(st.st_size, st.st_mtime_ns, sha256 or file_digest(path))
