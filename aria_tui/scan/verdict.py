"""Step four of a file's schema diff: keep the likely renames whose values fit as proposals (only
profile renames and exact case folds are applied by themselves: a similar name is a guess the
operator must accept) and give the verdict, with every blocker as data."""

from __future__ import annotations

from aria_tui import spelling
from aria_tui.pg.catalog import Column, Table
from aria_tui.scan.model import (
    BLOCKED,
    BY_DEFAULT,
    BY_NONE,
    BY_NULL,
    DRIFT,
    MATCH,
    Diff,
    ExtraColumn,
    MissingColumn,
    TypeIssue,
)
from aria_tui.scan.sample import ISSUES_PER_COLUMN, BadValue, FileSample
from aria_tui.status import Blocker, BlockerKind, sentence_of


def judge(sample: FileSample, table: Table) -> Diff:
    """The verdict for one file, once `check_samples` has asked the target about its values."""
    al = sample.alignment
    bad = _bad_values(sample)

    # a similar name is proposed only if every sampled value fits the target column's type, and
    # applied by itself only when it is the same name up to case: `duration_ms` -> `duration_s`
    # or `is_active` -> `is_inactive` look alike and mean other things
    fitting = [c for c in al.candidates if not bad.get(c.source)]
    accepted = [c for c in fitting if c.why == "case"]
    proposals = [c for c in fitting if c.why != "case"]
    proposed = {p.source: p for p in proposals}
    renames = list(al.renames) + accepted
    mapping = dict(al.mapping)
    for r in accepted:
        mapping[r.source] = r.target
    used = {t for t in mapping.values() if t is not None}

    extras: list[ExtraColumn] = []
    for name in al.extras:
        if mapping.get(name) is not None:
            continue
        first = sample.extra_values.get(name)
        extras.append(
            ExtraColumn(
                name=name,
                all_empty=first is None,
                first_value_line=first[0] if first else None,
                first_value=first[1] if first else None,
            )
        )

    missing = [
        MissingColumn(c.name, _filled_by(c))
        for c in table.columns
        if c.name not in used and not c.generated
    ]

    issues: list[TypeIssue] = []
    counts: dict[str, int] = {}
    for source, target in mapping.items():
        if target is None:
            continue
        col_bad = bad.get(source, [])
        smp = sample.columns.get(source)
        if smp is not None and smp.target.not_null and smp.null_line is not None:
            col_bad = [
                BadValue(
                    smp.null_line,
                    "",
                    f"empty field (NULL) but {table.qualified}.{target} is NOT NULL",
                    max(smp.null_sampled, 1),
                ),
                *col_bad,
            ]
        if col_bad:
            col_bad.sort(key=lambda b: b.line)
            counts[source] = sum(b.records for b in col_bad)  # sampled records, not values
            issues += [TypeIssue(source, b.line, b.value, b.reason) for b in col_bad[:ISSUES_PER_COLUMN]]
    for source, target in mapping.items():
        smp = sample.columns.get(source)
        if target is not None and smp is not None and smp.lost is not None:
            line, value, what = smp.lost
            col = table.column(target)
            typ = col.type if col is not None else "its type"
            issues.append(loss_issue(source, line, value, f"{typ} would {what}"))
    issues.sort(key=lambda i: (i.line, i.column))

    loaded = [t for t in (mapping[c] for c in mapping) if t is not None]
    positions = [c.position for t in loaded if (c := table.column(t)) is not None]
    reordered = positions != sorted(positions)

    blockers: list[Blocker] = []
    if sample.problem is not None:
        blockers.append(Blocker(BlockerKind.CSV, sample.problem.sentence()))
    for e in extras:
        if not e.all_empty:
            guess = proposed.get(e.name)
            hint = (
                f" (it may be {guess.target}: accept with --decide "
                f"{spelling.spell(table.qualified, e.name)}=rename:{guess.target})"
                if guess
                else f" (decide: --decide {spelling.spell(table.qualified, e.name)}=add or =drop)"
            )
            blockers.append(
                Blocker(
                    BlockerKind.SCHEMA,
                    f"Column {e.name} is not in {table.qualified} and holds data (line "
                    f"{e.first_value_line}: {e.first_value!r}), which loading would lose{hint}",
                )
            )
    blockers += [unfilled_blocker(table, m.name) for m in missing if m.filled_by == BY_NONE]
    if not loaded:
        blockers.append(
            Blocker(BlockerKind.SCHEMA, f"No column of the file matches a column of {table.qualified}")
        )
    blockers += loss_blockers(issues, mapping, table)

    # the columns' own verdict, whatever blocks the file: an operator's decision that lifts a
    # blocker (the manifest override) loads it by this verdict
    drift = extras or renames or missing or reordered or issues or al.generated
    verdict = DRIFT if drift else MATCH
    status = BLOCKED if blockers else verdict
    reason = sentence_of(blockers)

    notes = list(sample.notes) + [
        f"{table.qualified}.{name} is computed by the target; the file's values are not loaded"
        for name in al.generated
    ]
    for csv_name, smp in sample.columns.items():
        if smp.zoneless is not None:
            line, value = smp.zoneless
            notes.append(
                f"Column {csv_name} holds timestamps without a time zone (line {line}: "
                f"{value!r}) for {table.qualified}.{smp.target.name} (timestamptz): the load reads "
                "them in UTC, whatever the shell's PGTZ says (--time-zone to choose another)"
            )

    notes += trigger_notes(table)

    return Diff(
        triggers=table.load_triggers,
        status=status,
        matched=al.matched,
        extra_columns=tuple(extras),
        missing_columns=tuple(missing),
        renames=tuple(renames),
        type_issues=tuple(issues),
        reason=reason,
        mapping=tuple(mapping.items()),
        reordered=reordered,
        sampled_rows=sample.sampled_rows,
        type_issue_counts=counts,
        notes=tuple(notes),
        proposals=tuple(proposals),
        blockers=tuple(blockers),
        verdict=verdict,
    )


def trigger_notes(table: Table) -> list[str]:
    """The table's user triggers that fire on the load, as a difference the operator decides:
    kept (they run on every row), or switched off for the load (`--triggers-off`)."""
    fire = table.load_triggers
    if not fire:
        return []
    changing = [t for t in fire if t.changes_rows]
    other = [t for t in fire if not t.changes_rows]
    parts = []
    if changing:
        parts.append(
            ", ".join(t.describe() for t in changing)
            + " may change the export's values on each row (an updated_at = now() makes every "
            "record differ from the export, and validate red)"
        )
    if other:
        parts.append(", ".join(t.describe() for t in other) + " also fire on the load")
    return [
        f"{table.qualified} has user triggers that fire on the load: "
        + "; ".join(parts)
        + f". Decide: keep them, or load with them switched off (--triggers-off "
        f"{table.qualified}, the plan file's triggers_off, g on the wizard's plan step); switched on again as they "
        "were before the table commits"
    ]


LOSS = "loss"  # TypeIssue.kind of a value the target would take and silently change


def loss_issue(source: str, line: int, value: str, why: str) -> TypeIssue:
    """A value the target column's input function would change without a word (scan/losses.py);
    `line` 0 when the export's manifest says so rather than a value."""
    return TypeIssue(source, line, value, why, LOSS)


def unfilled_blocker(table: Table, column: str) -> Blocker:
    """A target column the file does not supply, NOT NULL without a default: every record would
    fail. The way forward is the operator's value for it (load/decisions.py's fill)."""
    return Blocker(
        BlockerKind.SCHEMA,
        f"Target column {table.qualified}.{column} is NOT NULL without a default and the file "
        f"has no such column (decide: --decide {spelling.spell(table.qualified, column)}=fill:VALUE)",
    )


def loss_blockers(
    issues: list[TypeIssue] | tuple[TypeIssue, ...], mapping: dict[str, str | None], table: Table
) -> list[Blocker]:
    """A file whose values the target would silently change is blocked, never loaded altered:
    the operator widens the column (a decision) or leaves the file out."""
    out = []
    for issue in issues:
        target = mapping.get(issue.column)
        if issue.kind != LOSS or target is None:
            continue
        where = f"line {issue.line}: {issue.value!r}" if issue.line else "the export's manifest"
        out.append(
            Blocker(
                BlockerKind.SCHEMA,
                f"Column {issue.column} holds values that {table.qualified}.{target} would change "
                f"without a word ({where}: {issue.reason}) (decide: "
                f"--decide {spelling.spell(table.qualified, target)}=widen[:TYPE], or leave the file out)",
            )
        )
    return out


def _filled_by(col: Column) -> str:
    if col.has_default:
        return BY_DEFAULT
    return BY_NONE if col.not_null else BY_NULL


def _bad_values(sample: FileSample) -> dict[str, list[BadValue]]:
    return {source: list(smp.bad) for source, smp in sample.columns.items() if smp.bad}
