"""The loader's exactly-once bookkeeping, around the target's commit records (aria_tui/pg/commits.py).

The truth is in the target: each table's transaction writes its `aria_tui.commits` record with
its rows, and a re-run resumes from those records. What is here:

- `commit_record()`: the record of one committed table (or chunk) of this run;
- `resume()`: what the records say about a table of the plan (loaded, changed, or nothing);
- `unmatchable()` / `null_key_sql()`: a table that already holds rows no record accounts for can
  only be loaded when the file's rows can be matched against them by a key the file supplies;
  otherwise the load is refused, never re-inserted;
- `SequenceGuard`: a dry run must not consume sequence values (nextval and setval are not
  transactional): each sequence a table's load can advance is rewritten in the dry run's
  transaction first (ALTER SEQUENCE, which is transactional), so its rollback restores it;
- `Journal`: a client-side MIRROR of the records (one JSON file per export folder and target,
  mode 0600) for people and scripts, keyed by the target's identity (system identifier,
  database, host, port), never by the DSN's spelling. Nothing reads it to decide anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from aria_tui import paths
from aria_tui.load import model as m
from aria_tui.pg import commits
from aria_tui.pg.rows import one

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
    decided: str | None = None,
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
        decided=decided,
    )


# -- resume --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resume:
    """What the records say of one table of the plan, for the file as it is now."""

    done: commits.FileCommits | None = None  # this very file, every byte committed
    changed: commits.FileCommits | None = None  # another version of the file was committed
    partial: commits.FileCommits | None = None  # this file, some chunks committed
    file: FileIdentity | None = None


def resume(records: list[commits.Commit], tp: m.TablePlan) -> Resume:
    """Compare the table's records with its file; hashes the file only when there are records.
    Raises OSError when the file cannot be read."""
    latest = commits.current(records, tp.target)
    if latest is None:
        return Resume()
    ident = identity(Path(tp.file))
    if latest.file_sha256 != ident.sha256:
        return Resume(changed=latest, file=ident)
    if latest.complete:
        return Resume(done=latest, file=ident)
    return Resume(partial=latest, file=ident)


def resumed_result(tp: m.TablePlan, done: commits.FileCommits) -> m.TableResult:
    """A table an earlier run committed: this run inserted nothing, the earlier numbers apart."""
    last = done.latest
    notes = []
    if any(r.plan_fingerprint != fingerprint(tp) for r in done.records):
        notes.append(
            f"{tp.target} was committed by run {last.run_id} under a plan that differs from this "
            "one (mapping, keys or decisions); it is kept as that run loaded it."
        )
    rejects = [r.reject_file for r in done.records if r.reject_file]
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
    """Every usable key has a nullable column: a record with a NULL there matches nothing."""
    cols = {c.name: c for c in tp.table.columns}
    return all(any(not cols[c].not_null for c in k if c in cols) for k in usable_keys(tp))


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


# -- a dry run consumes no sequence value --------------------------------------------------------

# qualified as pg_get_serial_sequence() spells them (TablePlan.sequences)
_SEQUENCES = """
SELECT format('%%I.%%I', n.nspname, s.relname)
FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
WHERE s.relkind = 'S' AND s.oid IN (
  SELECT d.refobjid FROM pg_attrdef ad
  JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
  WHERE ad.adrelid = %(t)s AND d.refclassid = 'pg_class'::regclass
  UNION
  SELECT d.objid FROM pg_depend d
  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
    AND d.refobjid = %(t)s AND d.deptype IN ('a', 'i'))
ORDER BY 1
"""


class SequenceGuard:
    """Makes a dry run's nextval/setval roll back with it.

    ALTER SEQUENCE gives the sequence new storage in the current transaction, so the values the
    dry run draws after it vanish at the rollback (other sessions' nextval wait meanwhile). A
    role that does not own a sequence cannot ALTER it: its state is noted and set back after
    the rollback, unless another session drew from it since (then it is left, and said)."""

    def __init__(self) -> None:
        self.protected: set[str] = set()
        self.saved: dict[str, tuple[int, bool]] = {}  # not ours to ALTER: state before
        self.seen: dict[str, tuple[int, bool]] = {}  # and at the end of the dry run

    def guard(self, conn: psycopg.Connection, tp: m.TablePlan) -> None:
        """Protect the sequences of `tp`, in its savepoint: again for every table, since a
        table whose savepoint rolled back took its ALTER SEQUENCE with it."""
        self.protected = set()
        for (seq,) in conn.execute(_SEQUENCES, {"t": tp.table.oid}).fetchall():
            if seq in self.saved:
                continue
            try:
                with conn.transaction():
                    state = _state(conn, seq)
            except psycopg.Error:  # not even readable by this role: nothing to set back
                continue
            try:
                with conn.transaction():
                    inc = one(
                        conn.execute(
                            "SELECT seqincrement FROM pg_sequence WHERE seqrelid = %s::regclass",
                            (seq,),
                        )
                    )[0]
                    conn.execute(
                        sql.SQL("ALTER SEQUENCE {} INCREMENT BY {}").format(
                            sql.SQL(seq), sql.Literal(inc)
                        )
                    )
                self.protected.add(seq)
            except psycopg.errors.InsufficientPrivilege:
                self.saved[seq] = state

    def may_setval(self, seq: str) -> bool:
        return seq in self.protected and seq not in self.saved

    def before_rollback(self, conn: psycopg.Connection) -> None:
        for seq in self.saved:
            self.seen[seq] = _state(conn, seq)

    def after_rollback(self, conn: psycopg.Connection) -> list[str]:
        """Set back what could not be protected; returns notes for what could not be."""
        notes = []
        for seq, (last, called) in self.saved.items():
            try:
                now = _state(conn, seq)
                if now == self.seen.get(seq) and now != (last, called):
                    conn.execute("SELECT setval(%s::regclass, %s, %s)", (seq, last, called))
                    now = (last, called)
                conn.commit()
            except psycopg.Error:
                conn.rollback()
            if now != (last, called):
                notes.append(
                    f"The dry run drew values from sequence {seq} and could not set it back "
                    "(this role does not own it, and another session used it meanwhile)."
                )
        return notes


def _state(conn: psycopg.Connection, seq: str) -> tuple[int, bool]:
    last, called = one(
        conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(seq)))
    )
    return int(last), bool(called)


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
