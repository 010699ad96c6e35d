"""Reject files: one CSV per table, `line,reason,<the record's fields>`, mode 0600.

The line is the physical line where the record starts in the ORIGINAL file (header = line 1), so
an operator can open the export at that line. Fields are written the way PostgreSQL reads CSV:
NULL as an empty unquoted field, an empty string as "".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from aria_tui import paths


def _field(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return '"' + text.replace('"', '""') + '"'


class RejectWriter:
    """Opens its file on the first reject, so a clean table leaves no empty file behind."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path = path
        self.columns = tuple(columns)
        self.count = 0
        self._fh: IO[str] | None = None

    def write(self, rows: Iterable[tuple[int, str, Sequence[object]]]) -> None:
        """rows: (line, reason, fields in CSV header order)."""
        for line, reason, fields in rows:
            if self._fh is None:
                paths.private_dir(self.path.parent)
                self._fh = paths.open_private(self.path, "w", encoding="utf-8", newline="")
                self._fh.write(
                    ",".join(["line", "reason", *(_field(c) for c in self.columns)]) + "\n"
                )
            self._fh.write(
                ",".join([str(line), _field(reason), *(_field(v) for v in fields)]) + "\n"
            )
            self.count += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    @property
    def written(self) -> str | None:
        return str(self.path) if self.count else None

    def discard(self) -> None:
        """Drop what was written (the table's transaction rolled back: its rejects never happened)."""
        self.close()
        if self.count:
            self.path.unlink(missing_ok=True)
        self.count = 0


def reject_path(run_key: str, target: str) -> Path:
    return paths.state_dir() / "rejects" / run_key / f"{target}.csv"
