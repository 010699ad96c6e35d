"""A structural problem in one export file, phrased as the one sentence the operator reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CsvProblem:
    file: str  # file name, not the full path: sentences stay short and paths stay private
    line: int | None  # 1-based physical line in the file; the header is line 1
    column: str | None
    reason: str  # short phrase, no final period: "unterminated quoted field"

    def sentence(self) -> str:
        """'memories.csv line 12, column content: unterminated quoted field.'"""
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        reason = self.reason.rstrip(".")
        return f"{where}: {reason}."
