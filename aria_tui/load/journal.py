"""The loader's exactly-once bookkeeping, around the target's commit records (aria_tui/pg/commits.py).

The truth is in the target: each table's transaction writes its `aria_tui.commits` record with
its rows, and a re-run resumes from those records (aria_tui/load/resume.py). What is here:

- `commit_record()`: the record of one committed table (or chunk) of this run, and `decided()`,
  the conflict decisions it carries;
- `Journal`: a client-side MIRROR of the records (one JSON file per export folder and target,
  mode 0600) for people and scripts, keyed by the target's identity (system identifier,
  database, host, port), never by the DSN's spelling. Nothing reads it to decide anything.
  Its `Entry` is derived from the commit record (`mirror()`), so the two cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aria_tui import paths
from aria_tui.load import model as m
from aria_tui.pg import commits

VERSION = 2


@dataclass(frozen=True)
class FileIdentity:
    size: int
    mtime_ns: int
    sha256: str


def identity(path: Path, sha256: str | None = None) -> FileIdentity:
    from aria_tui.csvio.files import sha256_file

    st = os.stat(path)
    return FileIdentity(st.st_size, st.st_mtime_ns, sha256 or sha256_file(path).hexdigest())


def fingerprint(tp: m.TablePlan) -> str:
    """The table's plan as decided (mapping, keys, decisions), without what a rescan changes."""
    data = {k: v for k, v in tp.to_json().items() if k not in ("order", "rows", "bytes", "group")}
    if not data.get("triggers_off"):
        data.pop("triggers_off", None)  # the default: records from before the decision still match
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def commit_record(
    *,
    run_id: str,
    tp: m.TablePlan,
    target_identity: str,
    export: str,
    sha256: str,
    size: int,
    mtime_ns: int | None,
    csv_rows: int,
    inserted: int,
    duplicates: int,
    rejected: int,
    reject_file: str | None,
    path: str | None,
    chunk: int = 0,
    byte_range: tuple[int, int] | None = None,
    first_record: int = 1,
    rows_before: int | None = None,
    conflicts: int = 0,
    updated: int = 0,
    kept: tuple[int, ...] = (),
    kept_on: tuple[str, ...] = (),
    triggers_off: tuple[str, ...] = (),
    xid: int | None = None,
) -> commits.Commit:
    """The record of a whole file (chunk 0, every byte) or of one chunk of it."""
    start, end = byte_range if byte_range is not None else (0, size)
    return commits.Commit(
        run_id=run_id,
        target_table=tp.target,
        chunk=chunk,
        byte_start=start,
        byte_end=end,
        first_record=first_record,
        last_record=first_record + csv_rows - 1,
        file_name=tp.scan.file.name,
        file_sha256=sha256,
        file_bytes=size,
        file_mtime_ns=mtime_ns,
        csv_rows=csv_rows,
        inserted=inserted,
        duplicates=duplicates,
        rejected=rejected,
        reject_file=reject_file,
        load_path=path,
        plan_fingerprint=fingerprint(tp),
        target_identity=target_identity,
        export=export,
        client=commits.client(),
        rows_before=rows_before,
        decided=json.dumps(
            {
                "on_conflict": tp.on_conflict,
                "decisions": tp.decisions_key,
                "conflicts": conflicts,
                "updated": updated,
                "kept": list(kept),
                # the unique key each was kept on (validate excuses it through that key only)
                "kept_on": list(kept_on),
                # a chunk's transaction id (mod 2^32, as xmin): its rows, told from others'
                **({"xid": xid} if xid is not None else {}),
                # what validate quotes on the certificate, and whether it may call the
                # records this load rejected "decided away" rather than missing
                "accept_rejects": tp.accept_rejects,
                "notes": list(tp.decision_notes),
                # the table's user triggers were switched off for the load (and which were)
                **({"triggers_off": list(triggers_off)} if tp.triggers_off else {}),
            }
        ),
    )


def decided(record: commits.Commit) -> dict[str, Any]:
    """The conflict decisions a record was committed under ({} for a record from before them)."""
    try:
        d = json.loads(record.decided) if record.decided else {}
    except ValueError:
        d = {}
    return d if isinstance(d, dict) else {}


# -- the client-side mirror ----------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    target: str
    file: str
    size: int
    mtime_ns: int
    sha256: str
    csv_rows: int
    inserted: int
    duplicates: int
    rejected: int
    reject_file: str | None
    path: str | None
    committed_at: float
    rows_before: int | None = None  # rows the table held when its load began (validate --exact)
    run_id: str = ""
    conflicts: int = 0
    conflicts_kept: int = 0
    updated: int = 0
    on_conflict: str = "reject"
    decisions: str | None = None  # TablePlan.decisions_key of the load: mapping and DDL
    # record numbers (1-based, file order) of the conflicts kept by decision (keep-target)
    kept_records: list[int] | None = None
    kept_file: str | None = None
    undo_file: str | None = None


def mirror(
    record: commits.Commit,
    *,
    conflicts_kept: int,
    kept_file: str | None,
    undo_file: str | None,
) -> Entry:
    """The journal's entry of a whole-file record just committed (its files on the side)."""
    d = decided(record)
    return Entry(
        target=record.target_table,
        file=record.file_name,
        size=record.file_bytes,
        mtime_ns=record.file_mtime_ns or 0,
        sha256=record.file_sha256,
        csv_rows=record.csv_rows,
        inserted=record.inserted,
        duplicates=record.duplicates,
        rejected=record.rejected,
        reject_file=record.reject_file,
        path=record.load_path,
        committed_at=time.time(),
        rows_before=record.rows_before,
        run_id=record.run_id,
        conflicts=d["conflicts"],
        conflicts_kept=conflicts_kept,
        updated=d["updated"],
        on_conflict=d["on_conflict"],
        decisions=d["decisions"],
        kept_records=list(d["kept"]),
        kept_file=kept_file,
        undo_file=undo_file,
    )


def journal_path(export: Path, target_identity: str) -> Path:
    return paths.state_dir() / "journals" / f"{run_key(export, target_identity)}.json"


def run_key(export: Path, target_identity: str) -> str:
    return paths.key_for(str(Path(export).resolve()), target_identity)


class Journal:
    """What this machine's runs committed into one target from one export folder, for reading.
    Written after each commit; losing it (or never writing it) loses nothing."""

    def __init__(self, export: Path, target_identity: str, target_display: str) -> None:
        self.export = Path(export).resolve()
        self.target_identity = target_identity
        self.target_display = target_display
        self.path = journal_path(self.export, target_identity)
        self.entries: dict[str, Entry] = {}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                for name, raw in data.get("tables", {}).items():
                    self.entries[name] = Entry(**raw)
            except (OSError, ValueError, TypeError):
                self.entries = {}  # a mirror: start it again

    def get(self, target: str) -> Entry | None:
        return self.entries.get(target)

    def record(self, entry: Entry) -> None:
        self.entries[entry.target] = entry
        self._save()

    def _save(self) -> None:
        paths.private_dir(self.path.parent)
        data = {
            "version": VERSION,
            "export": str(self.export),
            "target": self.target_display,
            "target_identity": self.target_identity,
            "updated_at": time.time(),
            "tables": {name: asdict(e) for name, e in sorted(self.entries.items())},
        }
        paths.write_private(self.path, json.dumps(data, indent=2, sort_keys=True))
