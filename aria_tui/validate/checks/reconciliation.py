"""The reconciliation check: the file's counts as two readers see them, what belongs in the
target, and the load journal's sums.
"""

from __future__ import annotations

from aria_tui.validate.checks.staged import Staged
from aria_tui.validate.checks.wording import join_details, number, records_text
from aria_tui.validate.journal import JournalEntry
from aria_tui.validate.model import RECONCILIATION, Check
from aria_tui.validate.staging.layout import RECORDS


def journal_applies(entry: JournalEntry | None, file_bytes: int | None, sha256: str | None) -> bool:
    """The journal entry speaks of these very bytes (same size, and the same sha256 when both
    sides know it): only then are its numbers compared with the file's."""
    if entry is None or entry.status not in ("loaded", "resumed"):
        return False
    if entry.size is not None and file_bytes is not None and entry.size != file_bytes:
        return False
    if entry.sha256 and sha256 and entry.sha256 != sha256:
        return False
    return True


def reconciliation(
    s: Staged,
    target_rows: int,
    entry: JournalEntry | None,
    *,
    journal_found: bool = False,
    file_bytes: int | None = None,
    sha256: str | None = None,
) -> Check:
    """Counts: the file as two readers see it, what belongs in the target, and the journal's sums
    (its rejects against validation's own count of records that cannot be loaded, its inserts
    against the rows the target holds now)."""
    problems: list[str] = []
    parts: list[str] = []
    if s.records != s.csv_rows:
        problems.append(
            f"aria-tui's CSV reader counts {records_text(s.csv_rows)} in {s.file} but PostgreSQL reads "
            f"{number(s.records)}"
        )
    elif s.source == RECORDS:
        # the server's COPY refuses the file's structure: its records were split by aria-tui's
        # reader (as the load splits them), their values still parsed by the server
        parts.append(
            f"{records_text(s.csv_rows)} in {s.file} (PostgreSQL's CSV COPY cannot read its structure: "
            "records split by aria-tui's reader, values parsed by the server)"
        )
    else:
        parts.append(f"{records_text(s.csv_rows)} in {s.file} (PostgreSQL reads the same)")
    # what must be there: every loadable record, once per key
    expected = s.loadable - s.orphans - s.repeats
    extras = []
    if s.rejected:
        extras.append(f"{number(s.rejected)} cannot be loaded")
    if s.repeats:
        extras.append(f"{number(s.repeats)} repeat a key of the file")
    sentence = f"{number(expected)} belong in the target"
    if extras:
        sentence = f"{'; '.join(extras)}, so {sentence}"
    if target_rows >= expected:
        parts.append(f"{sentence}, which holds {number(target_rows)}")
    else:
        problems.append(f"{sentence}, but it holds only {number(target_rows)}")
    if entry is None:
        parts.append(
            "the load journal has no entry for this table: not loaded by aria-tui's last run, "
            "or loaded by other means"
            if journal_found
            else "no journal: load done by other means"
        )
    else:
        total = entry.inserted + entry.updated + entry.duplicates + entry.conflicts + entry.rejected
        decided = "".join(
            f" + {label} {number(n)}"
            for label, n in (("updated", entry.updated), ("conflicts", entry.conflicts))
            if n
        )
        arithmetic = (
            f"journal of the load: inserted {number(entry.inserted)}{decided} + duplicates "
            f"{number(entry.duplicates)} + rejected {number(entry.rejected)} = {number(total)}"
        )
        if entry.status not in ("loaded", "resumed"):
            problems.append(
                f"the load journal says this table was {entry.status}"
                + (f": {entry.error}" if entry.error else "")
            )
        elif not journal_applies(entry, file_bytes, sha256):
            # the commit records say the table was loaded from another version of the file: the
            # file was edited or replaced since, and the load refuses to mix the two (resume.py).
            # Its rows came from bytes nobody is validating now: a record changed or dropped in
            # the file and in the table alike would pass, so nothing is proven
            size = (
                f"{number(entry.size)} bytes, now {number(file_bytes)}"
                if entry.size is not None and file_bytes is not None and entry.size != file_bytes
                else "another checksum"
            )
            problems.append(
                f"the commit records say {s.lay.table.qualified} was loaded from another version "
                f"of {s.file} ({size}): the file changed after its load, so the target's rows are "
                "not proven to be its records; validate the file that was loaded, or load this "
                "one (the load asks to empty the table first)"
            )
        else:
            if total != s.csv_rows:
                problems.append(f"{arithmetic}, not the file's {number(s.csv_rows)}")
            else:
                parts.append(arithmetic)
            if entry.rejected != s.rejected:
                # values the load truncated or zeroed, or records it refused for reasons the file
                # does not show: either way nobody has checked them
                n = abs(entry.rejected - s.rejected)
                problems.append(
                    f"{records_text(n)} unverified: validation finds {number(s.rejected)} "
                    f"{'record' if s.rejected == 1 else 'records'} of {s.file} that cannot be "
                    f"loaded, the load rejected {number(entry.rejected)}"
                )
            if entry.rows_before is not None:
                # rows_before: the count of the record written first, which holds no row of the
                # load's own (commits.FileCommits.rows_before): none is counted twice here
                left = entry.rows_before + entry.inserted
                if target_rows > left:
                    problems.append(
                        f"{s.lay.table.qualified} holds {number(target_rows)} rows, "
                        f"{number(target_rows - left)} more than the load left ({number(entry.rows_before)} "
                        f"before it + {number(entry.inserted)} inserted): rows were added after the load"
                    )
    if problems:
        return Check(RECONCILIATION, False, join_details(problems + parts))
    return Check(RECONCILIATION, True, join_details(parts))
