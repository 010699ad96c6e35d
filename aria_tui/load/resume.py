"""Resume: what a table's commit records (aria_tui/pg/commits.py) say this run must do with it.

- `decide()`: resumed (committed earlier, file unchanged, its rows still there), blocked (another
  version of the file was committed), or loaded (never committed, emptied since, committed
  under another decision, or only some chunks committed);
- `unmatchable()` / `null_key_sql()`: a table that already holds rows no record accounts for can
  only be loaded when the file's rows can be matched against them by a key the file supplies;
  otherwise the load is refused, never re-inserted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from psycopg import sql

from aria_tui.load import journal
from aria_tui.load import model as m
from aria_tui.pg import commits


def decide(
    records: list[commits.Commit],
    tp: m.TablePlan,
    holds: Callable[[], int | None],
    log: Callable[[str, str], None],
) -> m.TableResult | None:
    """The table's commit records against its file: resumed, blocked, or None (load it).
    `holds()` counts the table's rows now (None when it cannot); `log(text, level)` says why a
    committed table is loaded again."""
    latest = commits.current(records, tp.target)
    if latest is None:  # never committed by aria-tui: no need to read the file
        return None
    # the records are the truth of what was committed, the table is the truth of what is
    # there now: a table emptied since (TRUNCATE) is loaded again, without hashing its file
    now = holds()
    expected = latest.total("inserted") + latest.total("duplicates")

    def reloading() -> None:
        log(
            f"{tp.target}: the commit records say {expected} rows of {tp.scan.file.name} were "
            f"loaded, but the table now holds {now}; loading it again (rows still there count "
            "as duplicates).",
            "warning",
        )

    if now == 0 and expected:
        reloading()
        return None
    try:
        state = resume(records, tp)
    except OSError as exc:
        return blocked(
            tp,
            f"Cannot read {tp.scan.file.name} to check it against the commit records of "
            f"{tp.target}: {exc.strerror or exc}.",
        )
    if state.done is not None and _decided_otherwise(state.done.latest, tp):
        log(
            f"{tp.target} was committed under another decision than this run's "
            f"({_decision_text(tp)}): processing it again (equal rows count as duplicates).",
            "info",
        )
        return None
    if state.done is not None:
        if now is None or now < expected:
            reloading()
            return None
        return resumed_result(tp, state.done, _policy_note(state.done.latest, tp))
    if state.changed is not None:
        old = state.changed.latest
        size = state.file.size if state.file else "?"
        return blocked(
            tp,
            f"{tp.target} was already loaded from {old.file_name} by an earlier run "
            f"({old.run_id}), and {tp.scan.file.name} has changed since (size "
            f"{old.file_bytes} -> {size} bytes, different checksum); aria-tui will not mix "
            "two versions of a table: empty the table to load the new file.",
        )
    return None  # some chunks of this very file committed: the load finishes it


def blocked(tp: m.TablePlan, why: str) -> m.TableResult:
    return m.TableResult(
        target=tp.target,
        file=tp.scan.file.name,
        csv_rows=tp.scan.rows,
        inserted=0,
        duplicates=0,
        rejected=0,
        status=m.BLOCKED,
        error=why,
    )


def _decided_otherwise(record: commits.Commit, tp: m.TablePlan) -> bool:
    """The table was committed under another conflict policy, other DDL, another decision
    about its rejects or about its triggers (switched off or not) than `tp` says: re-processed, so the commit record (which validate reads)
    always states the decision of the latest run. Not for the conflict policy alone of a table
    without any key, which it cannot change (`_policy_note`)."""
    d = journal.decided(record)
    return (
        (_policy_changed(record, tp) and bool(tp.conflict_keys))
        or d.get("decisions", "") != tp.decisions_key
        or bool(d.get("accept_rejects", False)) != tp.accept_rejects
        or ("triggers_off" in d) != tp.triggers_off
    )


def _decision_text(tp: m.TablePlan) -> str:
    return tp.on_conflict + (", its user triggers switched off" if tp.triggers_off else "")


def _policy_changed(record: commits.Commit, tp: m.TablePlan) -> bool:
    return str(journal.decided(record).get("on_conflict", "reject")) != tp.on_conflict


def _policy_note(record: commits.Commit, tp: m.TablePlan) -> str | None:
    """Why another conflict policy leaves a table without any key as it was: none of its rows
    can conflict with a record (a conflict is a key the target holds with other content), so
    processing it again would change nothing, and a table without a key cannot be processed
    again at all (its rows cannot be matched against the file's: resume.unmatchable)."""
    if tp.conflict_keys or not _policy_changed(record, tp):
        return None
    was = journal.decided(record).get("on_conflict", "reject")
    return (
        f"{tp.target} was committed under the conflict policy {was} and this run asks for "
        f"{tp.on_conflict}; it has no primary key or unique constraint, so no record can "
        "conflict with its rows and the policy changes nothing: it is kept as it was loaded."
    )


@dataclass(frozen=True)
class Resume:
    """What the records say of one table of the plan, for the file as it is now."""

    done: commits.FileCommits | None = None  # this very file, every byte committed
    changed: commits.FileCommits | None = None  # another version of the file was committed
    partial: commits.FileCommits | None = None  # this file, some chunks committed
    file: journal.FileIdentity | None = None


def resume(records: list[commits.Commit], tp: m.TablePlan) -> Resume:
    """Compare the table's records with its file; hashes the file only when there are records.
    Raises OSError when the file cannot be read."""
    latest = commits.current(records, tp.target)
    if latest is None:
        return Resume()
    ident = journal.identity(Path(tp.file))
    if latest.file_sha256 != ident.sha256:
        return Resume(changed=latest, file=ident)
    if latest.complete:
        return Resume(done=latest, file=ident)
    return Resume(partial=latest, file=ident)


def resumed_result(
    tp: m.TablePlan, done: commits.FileCommits, note: str | None = None
) -> m.TableResult:
    """A table an earlier run committed: this run inserted nothing, the earlier numbers apart."""
    last = done.latest
    notes = [note] if note else []
    # the plan as the records were committed under it, when a note already says how it differs
    # (the conflict policy of a table without a key): its difference is not said twice
    was = replace(tp, on_conflict=journal.decided(last).get("on_conflict", "reject"))
    if any(r.plan_fingerprint != journal.fingerprint(was if note else tp) for r in done.records):
        notes.append(
            f"{tp.target} was committed by run {last.run_id} under a plan that differs from this "
            "one (mapping, keys or decisions); it is kept as that run loaded it."
        )
    rejects = [r.reject_file for r in done.records if r.reject_file]
    decided = [journal.decided(r) for r in done.records]
    return m.TableResult(
        target=tp.target,
        file=tp.scan.file.name,
        csv_rows=done.total("csv_rows"),
        inserted=0,
        duplicates=0,
        rejected=0,
        status=m.RESUMED,
        error=None,
        reject_file=rejects[0] if rejects else None,
        seconds=0.0,
        path=last.load_path,
        bytes=done.file_bytes,
        notes=tuple(notes),
        previously_inserted=done.total("inserted"),
        previously_duplicates=done.total("duplicates"),
        previously_rejected=done.total("rejected"),
        previously_conflicts=sum(int(d.get("conflicts", 0)) for d in decided),
        previously_conflicts_kept=sum(len(d.get("kept", ())) for d in decided),
        previously_updated=sum(int(d.get("updated", 0)) for d in decided),
        on_conflict=str(journal.decided(last).get("on_conflict", tp.on_conflict)),
        triggers_off=tp.triggers_off,
    )


# -- rows the file cannot be matched against -----------------------------------------------------


def usable_keys(tp: m.TablePlan) -> tuple[tuple[str, ...], ...]:
    """The table's unique keys whose every column the file supplies."""
    loaded = {t for _, t in tp.columns}
    return tuple(k for k in tp.conflict_keys if all(c in loaded for c in k))


def unmatchable(tp: m.TablePlan, before: int) -> str | None:
    """Why the rows of a non-empty table cannot be matched against the file's, or None."""
    if not tp.conflict_keys:
        return (
            f"{tp.target} already holds {before} rows and has no primary key or unique "
            "constraint, so aria-tui cannot tell which of them the file repeats; loading would "
            "duplicate rows. Empty the table (or add a unique key) and run again."
        )
    if not usable_keys(tp):
        keys = " / ".join(", ".join(k) for k in tp.conflict_keys)
        return (
            f"{tp.target} already holds {before} rows that no aria-tui commit record accounts "
            f"for, and {tp.scan.file.name} does not supply its key ({keys}: filled by the "
            "target), so aria-tui cannot tell which of them the file repeats and will not insert "
            "them again; empty the table to load it."
        )
    return None


def keys_may_be_null(tp: m.TablePlan) -> bool:
    """Every usable key has a nullable column: a record with a NULL there matches nothing. (A
    NULLS NOT DISTINCT key matches a NULL as a value: the one row that may hold it.)"""
    cols = {c.name: c for c in tp.table.columns}
    return all(
        k not in tp.table.nulls_equal_keys and any(not cols[c].not_null for c in k if c in cols)
        for k in usable_keys(tp)
    )


def null_key_sql(tp: m.TablePlan, stage_column: dict[str, str]) -> sql.Composed:
    """count(*), min(rec) of the staged records with a NULL in every usable key.
    `stage_column`: target column -> staging column."""
    conds = [
        sql.SQL("({})").format(
            sql.SQL(" OR ").join(
                sql.SQL("{} IS NULL").format(sql.Identifier(stage_column[c])) for c in k
            )
        )
        for k in usable_keys(tp)
    ]
    return sql.SQL(" AND ").join(conds)


def null_key_refusal(tp: m.TablePlan, before: int, n: int) -> str:
    keys = " / ".join(", ".join(k) for k in usable_keys(tp))
    return (
        f"{tp.target} already holds {before} rows that no aria-tui commit record accounts for, "
        f"and {n} records of {tp.scan.file.name} have no value in its unique key ({keys}), so "
        "aria-tui cannot tell whether they are already there and will not insert them again; "
        "empty the table to load it."
    )
