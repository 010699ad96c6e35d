"""Inventory and schema diff of an export folder against the live target (issue 4).

`scan(folder, conn, profile=None, progress=None) -> Inventory`; the values it returns are in
`aria_tui.scan.model`.

The schema diff of one file is four steps, so the CSV work of many files can run in threads and
the target is asked once: `alignment` (the header against the table by name, renames proposed),
`sample` (the file streamed once: a bounded sample of values, NULLs and vector dimensions on
every row, whether extra columns hold anything), `server_check` (the target asked whether the
sampled values cast, one statement for the whole export) and `verdict` (renames whose values fit
kept as proposals, blockers as data, the verdict). `scanner` runs them.
"""

from aria_tui.scan.model import (
    BLOCKED,
    DRIFT,
    MATCH,
    MISSING,
    NO_TARGET,
    Diff,
    ExtraColumn,
    Inventory,
    MissingColumn,
    Rename,
    ScanProgress,
    TableScan,
    TypeIssue,
)
from aria_tui.scan.scanner import scan

__all__ = [
    "BLOCKED",
    "DRIFT",
    "MATCH",
    "MISSING",
    "NO_TARGET",
    "Diff",
    "ExtraColumn",
    "Inventory",
    "MissingColumn",
    "Rename",
    "ScanProgress",
    "TableScan",
    "TypeIssue",
    "scan",
]
