"""What an export column holds, read back from its file: the type its values fit, and how many
hold something. Decisions use them for an `add` without a type and for the note of a `drop`.

Both read the whole column with polars (a column is added or dropped once per table, and only on
the operator's word); a file polars cannot read answers `text` and "uncounted".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aria_tui.scan.model import TableScan


def infer_type(scan: TableScan, column: str) -> tuple[str, str]:
    """(type, why) for an export column to add: the manifest's source type, else from values."""
    source = scan.diff.source_types.get(column)
    if source:
        return source, "the export's manifest.json gives its source type"
    try:
        import polars as pl

        values = (
            pl.scan_csv(scan.file.path, infer_schema=False, quote_char='"')
            .select(pl.col(column))
            .filter(pl.col(column).is_not_null() & (pl.col(column) != ""))
            .collect()
            .get_column(column)
        )
    except Exception:  # an unreadable or compressed file: text holds anything
        return "text", "its values could not be read back to infer a type"
    if values.len() == 0:
        return "text", "it holds no value"
    checks = (
        ("bigint", r"^[+-]?\d{1,18}$"),
        ("numeric", r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"),
        ("boolean", r"^(?i)(true|false|t|f)$"),
        ("uuid", r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        (
            "timestamp with time zone",
            r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}(:?\d{2})?|Z)$",
        ),
        ("date", r"^\d{4}-\d{2}-\d{2}$"),
        ("jsonb", r"^\s*[\[{]"),
    )
    for type_sql, pattern in checks:
        if bool(values.str.contains(pattern).all()):
            return type_sql, f"every one of its {values.len()} non-empty values reads as {type_sql}"
    return "text", f"its {values.len()} non-empty values are not all of one stricter type"


def non_empty(scan: TableScan, column: str) -> int | None:
    """How many values of an export column hold something (None: not countable)."""
    try:
        import polars as pl

        return int(
            pl.scan_csv(scan.file.path, infer_schema=False)
            .select(
                (
                    pl.col(column).is_not_null()
                    & ~pl.col(column).is_in(["", "{}", "[]", "null"])
                ).sum()
            )
            .collect()
            .item()
        )
    except Exception:
        return None
