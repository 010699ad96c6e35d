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
    # a type is guessed only when every value is already spelt as that type prints it, so the
    # column holds each value's text unchanged (007 is no bigint: it would come back as 7; a
    # JSON document is json, whose text is kept, not jsonb, which drops a repeated key and
    # respaces); anything else is text, and a stricter type is the operator's to name (add:TYPE)
    checks = (
        ("bigint", r"^(0|-?[1-9]\d{0,17})$"),
        ("numeric", r"^(0|-?[1-9]\d*|-?0\.\d*[1-9]\d*|-?[1-9]\d*\.\d+)$|^0\.\d+$"),
        ("boolean", r"^(t|f)$"),
        ("uuid", r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        (
            "timestamp with time zone",  # in UTC, as the load's session prints it
            r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{0,5}[1-9])?\+00$",
        ),
        ("date", r"^\d{4}-\d{2}-\d{2}$"),
        ("json", r"^[\[{]"),
    )
    for type_sql, pattern in checks:
        if bool(values.str.contains(pattern).all()):
            return type_sql, f"every one of its {values.len()} non-empty values reads as {type_sql}"
    return "text", f"its {values.len()} non-empty values are not all of one stricter type"


def non_empty(scan: TableScan, column: str) -> int | None:
    """How many values of an export column hold something (None: not countable)."""
    try:
        import polars as pl

        from aria_tui.scan.sample import is_empty

        return int(
            pl.scan_csv(scan.file.path, infer_schema=False)
            .select((~is_empty(column)).sum())
            .collect()
            .item()
        )
    except Exception:
        return None
