"""Export a live PostgreSQL database to a verified export folder (one CSV per table + manifest.json)."""

from aria_tui.dump.model import (
    ExportedTable,
    ExportEvent,
    ExportPlanned,
    ExportProgressFn,
    ExportResult,
    TableExported,
    TableProgress,
    TableStarted,
)
from aria_tui.dump.run import DEFAULT_LOCK_TIMEOUT, export_database, prepare_out_dir
from aria_tui.dump.tables import file_name, select_tables

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "ExportEvent",
    "ExportPlanned",
    "ExportProgressFn",
    "ExportResult",
    "ExportedTable",
    "TableExported",
    "TableProgress",
    "TableStarted",
    "export_database",
    "file_name",
    "prepare_out_dir",
    "select_tables",
]
