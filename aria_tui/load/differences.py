"""The differences the operator decides, one file against its target table: the export columns
the target lacks, the target columns the sampled values overflow, the target columns NOT NULL
without a default that the export does not supply, and the types offered for each.

The wizard's diff screen lists them, a key each; the plan file notes the narrow columns. What a
decision then does to the inventory and the target is load/decisions.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aria_tui.errors import AriaError
from aria_tui.load.decisions import (
    ADD,
    DROP,
    FILL,
    RENAME,
    WIDEN,
    base_type,
    widen_to,
    widenable,
)
from aria_tui.load.export_values import infer_type

if TYPE_CHECKING:
    from aria_tui.pg.catalog import Table
    from aria_tui.scan.model import Diff, TableScan, TypeIssue

_NARROW_REASONS = re.compile(
    r"out of range|too long|overflow|must round|value too large", re.IGNORECASE
)


@dataclass(frozen=True)
class Difference:
    """One difference the operator decides (the wizard's diff screen lists them, a key each).

    `extra`: a CSV column the target lacks (add / drop, or rename when a similar target column is
    proposed). `narrow`: a target column the sampled values overflow (widen, or leave it and let
    the load reject what does not fit). `missing`: a target column NOT NULL without a default
    that the file does not supply (fill it with a value, or the table stays blocked).
    """

    table: str  # 'schema.table'
    column: str  # the CSV column (extra) or the target column (narrow): what a Decision names
    kind: str  # 'extra' | 'narrow'
    detail: str  # what the diff found, in a few words
    actions: tuple[str, ...]
    rename_to: str | None = None  # the proposed target column of an extra one
    # what happens without a decision: 'blocks' (data would be lost), 'dropped' (every value
    # empty: nothing is lost), 'rejects' (the records that do not fit go to the reject file)
    undecided: str = "blocks"


EXTRA, NARROW, MISSING = "extra", "narrow", "missing"


def differences(scan: TableScan, table: Table | None) -> list[Difference]:
    """The decidable differences of one file against its target table, as the scan found them
    (before any decision): the CSV order for extra columns, then the narrow target columns, then
    the target columns nothing would fill."""
    from aria_tui.scan.model import BY_NONE

    if table is None or scan.target is None:
        return []
    diff = scan.diff
    proposals = {p.source: p for p in diff.proposals}
    out = []
    for e in diff.extra_columns:
        if e.all_empty:
            detail = "not in the table, every value empty"
        elif e.first_value_line:
            shown = (e.first_value or "")[:24]
            detail = f"not in the table, holds data (line {e.first_value_line}: {shown!r})"
        else:
            detail = "not in the table, holds data"
        p = proposals.get(e.name)
        actions: tuple[str, ...] = (ADD, DROP)
        if p is not None:  # the proposal first: it is what the operator may accept
            detail = f"maybe {p.target} ({p.why}); {detail}"
            actions = (ADD, DROP, RENAME)
        out.append(
            Difference(
                table.qualified,
                e.name,
                EXTRA,
                detail,
                actions,
                p.target if p else None,
                "dropped" if e.all_empty else "blocks",
            )
        )
    for name, p in proposals.items():  # a proposal whose column is not listed as extra
        if not any(d.column == name for d in out):
            out.append(
                Difference(
                    table.qualified, name, EXTRA, f"maybe {p.target} ({p.why})", (RENAME, DROP), p.target
                )
            )
    for target_col, typ, why in narrow_columns(diff, table):
        out.append(
            Difference(
                table.qualified, target_col, NARROW, f"{typ} too narrow: {why}", (WIDEN,), None, "rejects"
            )
        )
    for m in diff.missing_columns:
        col = table.column(m.name)
        if m.filled_by == BY_NONE and col is not None:
            out.append(
                Difference(
                    table.qualified,
                    m.name,
                    MISSING,
                    f"{col.type} NOT NULL without a default, not in the file",
                    (FILL,),
                )
            )
    return out


# the standard types offered beside the default when the operator picks one (add:TYPE,
# widen:TYPE); at most 8, so the default and they each have a digit key (1-9)
_ADD_TYPES = (
    "text", "bigint", "integer", "numeric", "boolean", "timestamp with time zone", "date", "uuid",
    "jsonb",
)  # fmt: skip
_WIDEN_TYPES = ("bigint", "numeric", "double precision", "text", "timestamp with time zone")


def type_choices(d: Difference, scan: TableScan, table: Table) -> list[tuple[str, str]]:
    """(type, why) the operator may give an `add` or a `widen`: the default first (the manifest's
    or the inferred type; the smallest wider standard type), then the common standard types."""
    rest: tuple[str, ...]
    if d.kind == EXTRA:
        default, why = infer_type(scan, d.column)
        rest = _ADD_TYPES
    else:
        col = table.column(d.column)
        if col is None:
            return []
        try:
            default, why = widen_to(col), f"the smallest standard type wider than {col.type}"
        except AriaError:
            default, why = "", ""
        rest = tuple(t for t in _WIDEN_TYPES if base_type(t) != col.base_type)
    out = [(default, f"default: {why}")] if default else []
    out += [(t, "") for t in rest if t != default]
    return out[:9]


def narrow_columns(diff: Diff, table: Table) -> list[tuple[str, str, str]]:
    """(target column, its type, one reason) for each column the sampled values overflow."""
    out = []
    mapping = dict(diff.mapping)
    seen = set()
    for issue in diff.type_issues:
        target = mapping.get(issue.column)
        if not target or target in seen or not (issue.kind == "loss" or _NARROW_REASONS.search(issue.reason)):
            continue
        col = table.column(target)
        if col is None or not widenable(col):
            continue
        seen.add(target)
        out.append((target, col.type, f"line {issue.line}: {issue.reason}"))
    return out


def refused_values(diff: Diff) -> list[str]:
    """One sentence per CSV column whose sampled values the target's type refuses: how many
    sampled records, the first of them, why. What the load does with those records (rejects
    them, each with its line) is the plan's decision to show, beside its ways out."""
    first: dict[str, TypeIssue] = {}
    for issue in diff.type_issues:
        if issue.kind == "value" and issue.column not in first:
            first[issue.column] = issue
    out = []
    for column, issue in first.items():
        n = diff.type_issue_counts.get(column, 1)
        line, value, reason = issue.line, issue.value, issue.reason
        out.append(
            f"{column}: {n:,} of {diff.sampled_rows:,} sampled record{'s' if diff.sampled_rows != 1 else ''}, "
            f"first line {line} ({value!r}): {reason}"
        )
    return out
