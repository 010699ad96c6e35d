"""Inventory and schema diff of an export folder against the live target (issue 4).

`scan(folder, conn, profile=None, progress=None) -> Inventory`; the values it returns are in
`aria_tui.scan.model`.
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
