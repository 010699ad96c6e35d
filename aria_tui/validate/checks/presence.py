"""The presence check: every record of the file is in the target, and (when the target must hold
nothing else) nothing else is there.
"""

from __future__ import annotations

from aria_tui.validate.checks.staged import Staged
from aria_tui.validate.checks.wording import join_details, number, records_text, rows_text
from aria_tui.validate.model import PRESENCE, Check


def presence(
    s: Staged, reject_file: str | None = None, *, accepted: bool = False, load_accepted: bool = False
) -> Check:
    """Every record of the file is in the target (by key, or as an identical row when keyless),
    and, when the target must hold nothing else, nothing else is there.

    `accepted`: the operator accepted this table's unloadable records on purpose: they are
    listed as decided away, not missing. Records that could load and are absent stay missing.
    `load_accepted`: the load said it accepted them; the proof does only when asked to."""
    key = s.lay.key
    table = s.lay.table.qualified
    problems: list[str] = []
    notes: list[str] = []
    label = ", ".join(key) if key else ""
    if s.missing and key:
        named = ", ".join(f"{k} (record {rec})" for rec, k in s.missing_samples)
        more = "" if s.missing <= len(s.missing_samples) else ", ..."
        problems.append(f"{records_text(s.missing)} of {s.file} missing from {table} by {label}: {named}{more}")
    if s.rejected:
        samples = sorted(
            [(rec, why) for rec, why in s.invalid_samples]
            + [(rec, f"{k}: no parent") for rec, k in s.orphan_samples]
        )[:3]
        first = "; ".join(f"record {rec}: {why}" for rec, why in samples)
        where = f"; the load's reject file: {reject_file}" if reject_file else ""
        if accepted:
            notes.append(
                f"{records_text(s.rejected)} of {s.file} cannot be loaded and "
                f"{'was' if s.rejected == 1 else 'were'} accepted by decision, so {table} lacks "
                f"{'it' if s.rejected == 1 else 'them'} on purpose ({first}{where})"
            )
        else:
            asked = (
                f"; the load accepted them (--accept-rejects): to accept them in the proof too, "
                f"validate with --accept-rejects {table} or the plan file"
                if load_accepted
                else ""
            )
            problems.append(
                f"{records_text(s.rejected)} of {s.file} cannot be loaded, so {table} lacks "
                f"{'it' if s.rejected == 1 else 'them'} "
                f"({first}{where}){asked}"
            )
    if s.orphans:
        first = "; ".join(f"record {rec}: {k}" for rec, k in s.orphan_samples[:3])
        notes.append(f"{number(s.orphans)} of them for a parent absent from the export ({first})")
    if s.doubled:
        named = ", ".join(
            f"record {rec} ({n} {'copy' if n == 1 else 'copies'} too many)" for rec, n in s.doubled_samples
        )
        more = "" if s.doubled <= sum(n for _, n in s.doubled_samples) else ", ..."
        problems.append(
            f"{table} holds records of {s.file} more often than the file does: {rows_text(s.doubled)} "
            f"too many ({named}{more})"
        )
    if s.extras:
        if key:
            named = ", ".join(s.extra_samples)
            more = "" if s.extras <= len(s.extra_samples) else ", ..."
            what = (
                f"{rows_text(s.extras)} of {table} {'is' if s.extras == 1 else 'are'} no record of "
                f"{s.file}: {named}{more}"
            )
        else:
            what = f"{table} holds {rows_text(s.extras)} more than {s.file} (no key: compared as whole rows)"
        if s.exact:
            problems.append(what)
        else:
            notes.append(f"{what} (not judged: the table may have held them before the load)")
    if s.repeats:
        notes.append(f"{number(s.repeats)} repeat an earlier record of the file, key and content")
    tail = f"; {'; '.join(notes)}" if notes else ""
    if problems:
        return Check(PRESENCE, False, join_details(problems) + tail)
    if not key:
        return Check(
            PRESENCE,
            True,
            f"{table} has no primary or unique key among the loaded columns: records are matched "
            f"as whole rows by the content check{tail}",
        )
    both = ", and nothing else" if s.exact else ""
    if s.other_key:
        # found, but only through another of their unique keys (judged by the content check)
        by_key = s.loadable - s.other_key
        other = ", ".join(sorted({u for uk in s.lay.uniques for u in uk})) or "another unique key"
        return Check(
            PRESENCE,
            True,
            f"all {number(s.loadable)} records found: {number(by_key)} by {label}, "
            f"{number(s.other_key)} only by {other} (under another {label}){both}{tail}",
        )
    return Check(PRESENCE, True, f"all {number(s.loadable)} records found by {label}{both}{tail}")
