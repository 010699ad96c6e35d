"""The load's commit records, when there are any, for the reconciliation check.

Validation proves the cutover from the export folder and the live target alone; the records only
add "CSV records = inserted + duplicates + rejected" for a load aria-tui did itself. Nothing else
is asked of them, and a target without records simply means "load done by other means".

The loader writes a table's record in the target, in the transaction that commits its rows
(aria_tui/pg/commits.py), so a record means "committed"; a table it failed or skipped has none.
Read through `aria_tui.pg.commits`, never through the loader (validate does not import load).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg

from aria_tui.pg import commits, pending
from aria_tui.pg.connect import Target
from aria_tui.status import KEEP_TARGET


@dataclass(frozen=True)
class JournalEntry:
    status: str  # 'loaded': every byte of the file committed; 'partial': some chunks only
    inserted: int
    duplicates: int
    rejected: int
    error: str | None = None
    csv_rows: int | None = None  # records the load read
    size: int | None = None  # bytes of the file the load read
    mtime_ns: int | None = None  # and its modification time then
    sha256: str | None = None  # and its checksum
    reject_file: str | None = None  # where the load wrote the records it rejected
    rows_before: int | None = None  # rows the table held before the load (None: not recorded)
    conflicts: int = 0  # records whose key the target holds with other content, left as they are
    updated: int = 0  # target rows the load replaced with the export's record (take-export)
    kept: tuple[int, ...] = ()  # record numbers of the conflicts kept by decision (keep-target)
    # the unique key each of `kept` was kept on ('' when the load did not record it)
    kept_on: tuple[str, ...] = ()
    accept_rejects: bool = False  # the load's plan accepted its rejected records on purpose
    on_conflict: str = "reject"  # the conflict policy the load ran under
    notes: tuple[str, ...] = ()  # what the operator's drift decisions did (added, dropped, widened)
    # indexes a chunked load took down and no transaction has built again (pg/pending.py)
    pending_indexes: tuple[str, ...] = ()
    # the load switched the table's user triggers off for its rows (load --triggers-off): None
    # when it did not decide so, else the triggers it switched off (and on again), described
    triggers_off: tuple[str, ...] | None = None


def _decided(records: tuple[commits.Commit, ...] | list[commits.Commit]) -> dict[str, Any]:
    """The conflicts' decisions the load recorded (commits.Commit.decided), summed."""
    conflicts = updated = 0
    kept: list[int] = []
    kept_on: list[str] = []
    notes: list[str] = []
    accept = bool(records)
    policy = "reject"
    triggers: list[str] | None = None
    for r in records:
        try:
            d = json.loads(r.decided) if r.decided else {}
        except ValueError:
            d = {}
        conflicts += int(d.get("conflicts", 0))
        updated += int(d.get("updated", 0))
        recs = [int(x) for x in d.get("kept", [])]
        keys = [str(k) for k in d.get("kept_on", [])]
        kept += recs
        kept_on += keys if len(keys) == len(recs) else [""] * len(recs)
        # every chunk must have been loaded under the acceptance for its rejects to be decided
        accept = accept and bool(d.get("accept_rejects", False))
        policy = str(d.get("on_conflict", policy))
        notes += [str(n) for n in d.get("notes", []) if str(n) not in notes]
        if isinstance(d.get("triggers_off"), list):
            triggers = (triggers or []) + [
                str(t) for t in d["triggers_off"] if str(t) not in (triggers or [])
            ]
    return {
        "triggers_off": tuple(triggers) if triggers is not None else None,
        "conflicts": conflicts,
        "updated": updated,
        "kept": tuple(kept),
        "kept_on": tuple(kept_on),
        "accept_rejects": accept,
        "on_conflict": policy,
        "notes": tuple(notes),
    }


def kept_on(entry: JournalEntry | None) -> dict[int, str]:
    """The unique key each record of decided_records() was kept on ('' when not recorded)."""
    if entry is None:
        return {}
    return dict(zip(entry.kept, entry.kept_on, strict=False))


def decided_records(entry: JournalEntry | None) -> frozenset[int]:
    """Records the operator decided away (a conflict kept by decision, `load --on-conflict
    keep-target`): their target row differs from the export on purpose, so the content check
    reports them as kept, not as a difference. Only a load under keep-target keeps any, and
    never more than the conflicts it counted: a record that says otherwise excuses nothing."""
    if entry is None or entry.on_conflict != KEEP_TARGET or len(entry.kept) > entry.conflicts:
        return frozenset()
    return frozenset(entry.kept)


def read_entries(
    folder: Path, target: Target, conn: psycopg.Connection | None = None
) -> dict[str, JournalEntry]:
    """What the target's commit records say of each table ('schema.table'): the file version
    committed last. `conn` is left as it was found (idle stays idle)."""
    idle = conn is not None and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    try:
        if conn is None:
            with target.connect() as own:
                records = commits.read(own)
                down = pending.tables(own)
        else:
            records = commits.read(conn)
            down = pending.tables(conn)
            if idle:
                conn.rollback()
    except psycopg.Error:
        if conn is not None and idle:
            conn.rollback()  # left as found: a failed read must not abort what follows
        return {}
    out: dict[str, JournalEntry] = {}
    for table in {r.target_table for r in records}:
        fc = commits.current(records, table)
        if fc is None:
            continue
        last = fc.latest
        out[table] = JournalEntry(
            status="loaded" if fc.complete else "partial",
            inserted=fc.total("inserted"),
            duplicates=fc.total("duplicates"),
            rejected=fc.total("rejected"),
            error=None
            if fc.complete
            else (
                f"only {len(fc.records)} chunks of {last.file_name} were committed; a re-run of "
                "the load finishes it"
            ),
            csv_rows=fc.total("csv_rows"),
            size=fc.file_bytes,
            mtime_ns=last.file_mtime_ns,
            sha256=fc.file_sha256,
            reject_file=next((r.reject_file for r in fc.records if r.reject_file), None),
            rows_before=fc.rows_before,  # counted by the record written first (FileCommits)
            **_decided(fc.records),
        )
    for table, names in down.items():  # a chunked load that never finished: not proven
        if table in out:
            out[table] = replace(out[table], pending_indexes=tuple(names))
        else:
            out[table] = JournalEntry(
                status="partial",
                inserted=0,
                duplicates=0,
                rejected=0,
                error="a chunked load took its indexes down and committed no chunk",
                pending_indexes=tuple(names),
            )
    return out
