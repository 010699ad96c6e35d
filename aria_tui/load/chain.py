"""The load paths of one table, tried in order until one loads it.

Each path is an object with one method, `load(attempt)`: it loads the table (in a savepoint of
the table's transaction) and returns None, or returns the `Fallback` that hands the table to the
next path, its savepoint rolled back. In order:

- `FastCopy`: empty table, direct mapping, no vectors: the file's raw bytes COPY into the table;
- `BinaryDirect`: vector columns, empty table, every column with an exact client-side encoder:
  one binary COPY straight into the table (binary.py);
- `BinaryStaged`: vector columns: client-side parsing, binary COPY into a stage, INSERT ...
  SELECT (binary.py, staging.py);
- `TextStaging`: anything else, or when a path above hit a bad value: the raw CSV into a text
  stage (or, when COPY refuses a record, csvio's reading of every record), bad rows found in SQL.
  It never falls back: what it cannot load fails the table.

A path falls back only on the exceptions its `*_STOPS` list names (a bad value, a record COPY
refuses, an unencodable value); anything else (a lost connection, an unreadable file, a cancel)
ends the table as before the chain existed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import psycopg
from psycopg import sql

from aria_tui import csvio
from aria_tui.errors import first_line
from aria_tui.lazy import lazy
from aria_tui.load import model as m
from aria_tui.load import resume as resume_mod
from aria_tui.load.binary import Sink, load_direct, load_staged
from aria_tui.load.chunks import Hasher, new_hash
from aria_tui.load.encoders import Unencodable
from aria_tui.load.encoding import Encoding
from aria_tui.load.events import Emitter
from aria_tui.load.fastpath import EndMarker, copy_into_target, stream_file
from aria_tui.load.staging import DATA_ERRORS, Stage, _message
from aria_tui.load.work import TableFailed, Work
from aria_tui.pg import row_rules
from aria_tui.pg.rows import one

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy


def binary_stops() -> tuple[type[Exception], ...]:
    """What makes the binary COPY paths hand a table to the next path (the staging table). A
    function, not a constant: one of them is polars' error, and naming it imports polars, which
    a plain table's load (raw COPY) never needs (issue 17's start-up)."""
    return (*DATA_ERRORS, pl.exceptions.PolarsError, UnicodeError)


def direct_stops() -> tuple[type[Exception], ...]:
    return (*binary_stops(), Unencodable)


# what makes a raw-bytes COPY hand a table on (a bad value, or a record COPY refuses)
COPY_STOPS: tuple[type[Exception], ...] = (*DATA_ERRORS, EndMarker)


@dataclass(frozen=True)
class Fallback:
    """Why a path handed the table on: `stopped` says what stopped it once it had tried (a
    warning; the next path reads the file again), None when the path is not one for this table."""

    stopped: str | None = None


NOT_THIS_ONE = Fallback()


@dataclass
class Attempt:
    """One table on its way through the paths: what they read, and what one leaves the next."""

    conn: psycopg.Connection
    work: Work
    emitter: Emitter
    cancel: threading.Event | None
    swallowers: tuple[str, ...]  # triggers/rules that may store fewer rows than COPY read
    group_members: tuple[str, ...]  # the other tables of its FK cycle, in this transaction
    # what hashes the file as a path reads it; a new one for each reading
    hasher: Hasher | None = field(init=False)
    records: bool = False  # a record COPY refuses: the text stage reads record by record

    def __post_init__(self) -> None:
        self.hasher = self.fresh()

    @property
    def plan(self) -> m.TablePlan:
        return self.work.plan

    @property
    def file(self) -> Path:
        return Path(self.plan.file)

    @property
    def empty(self) -> bool:
        """The table held no row when its load began."""
        return self.work.empty_before

    @property
    def vectors(self) -> bool:
        return bool(self.plan.vector_columns)

    @property
    def null_keys(self) -> bool:
        """A nullable key in a non-empty table: records with NULLs in it are found in the text
        stage, before inserting."""
        return not self.empty and resume_mod.keys_may_be_null(self.plan)

    def fresh(self) -> Hasher | None:
        # inline hashing sees the bytes read, which are the file's only uncompressed
        return None if self.plan.scan.file.compressed else new_hash()

    def sink(self) -> Sink:
        return Sink(self.work.writer, self.emitter, self.cancel, self.hasher)


class LoadPath(Protocol):
    def load(self, a: Attempt) -> Fallback | None:
        """Load the table and return None, or return why the next path has to."""
        ...


def load(paths: tuple[LoadPath, ...], a: Attempt) -> None:
    """Walk `paths` until one loads the table; the last one (TextStaging) always does or raises."""
    for path in paths:
        fallback = path.load(a)
        if fallback is None:
            return
        if fallback.stopped:
            a.emitter.log(f"{a.plan.target}: {fallback.stopped}", "warning")
            a.hasher = a.fresh()
    raise AssertionError("no load path took the table")  # TextStaging ends every chain


class FastCopy:
    def load(self, a: Attempt) -> Fallback | None:
        tp, w = a.plan, a.work
        if a.vectors or not a.empty or not tp.direct or a.swallowers:
            return NOT_THIS_ONE
        try:
            with a.conn.transaction():
                n = copy_into_target(
                    a.conn,
                    tp.table.ident,
                    [t for _, t in tp.columns],
                    a.file,
                    a.emitter,
                    a.cancel,
                    a.hasher,
                )
        except COPY_STOPS as exc:
            a.records = _structural(exc)
            return Fallback(
                f"the direct COPY stopped ({short(exc)}); loading it through the staging table "
                "to find the bad rows."
            )
        w.csv_rows, w.inserted, w.rejected, w.path = n, n, 0, m.FAST
        return None


class BinaryDirect:
    def load(self, a: Attempt) -> Fallback | None:
        tp, w = a.plan, a.work
        if not (a.vectors and a.empty and not a.swallowers and Encoding.direct_possible(tp)):
            return NOT_THIS_ONE
        try:
            with a.conn.transaction():
                rows, ins, rej = load_direct(a.conn, tp, a.sink())
        except direct_stops() as exc:
            w.writer.discard()
            return Fallback(
                f"the direct binary COPY stopped ({short(exc)}); staging it to sort good rows "
                "from bad."
            )
        w.csv_rows, w.inserted, w.rejected, w.path = rows, ins, rej, m.BINARY
        return None


class BinaryStaged:
    def load(self, a: Attempt) -> Fallback | None:
        tp, w = a.plan, a.work
        if not a.vectors or a.null_keys:
            return NOT_THIS_ONE
        try:
            with a.conn.transaction():
                stage = Stage(
                    tp, f"aria_stage_{tp.order}", typed_vectors=True, with_line=bool(tp.self_fks)
                )
                stage.create(a.conn, identity_rec=False)
                stage.sinks, stage.swallowers = w.sinks, a.swallowers
                rows, ins, rej = load_staged(
                    a.conn, stage, a.sink(), a.group_members, plain_first=w.empty_before
                )
                _drop(a.conn, stage)
        except binary_stops() as exc:
            for writer in w.writers():
                writer.discard()
            return Fallback(
                f"the binary COPY stopped ({short(exc)}); loading it through the text staging "
                "table instead."
            )
        w.csv_rows, w.inserted, w.path = rows, ins, m.BINARY
        w.take(stage, rej)
        return None


class TextStaging:
    def load(self, a: Attempt) -> Fallback | None:
        conn, tp, w = a.conn, a.plan, a.work
        if not a.records:
            stage = Stage(tp, f"aria_stage_{tp.order}", typed_vectors=False)
            stage.create(conn, identity_rec=True)
            stage.sinks, stage.swallowers = w.sinks, a.swallowers
            statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(
                stage.ident, stage.copy_columns
            )
            try:
                with conn.transaction():
                    rows = stream_file(conn, statement, a.file, a.emitter, a.cancel, a.hasher)
            except COPY_STOPS as exc:
                # only the file's structure can fail a COPY into text columns: read it record
                # by record, and reject the records COPY refuses one by one
                a.emitter.log(
                    f"{tp.target}: {tp.scan.file.name} holds records COPY refuses "
                    f"({short(exc)}); reading it record by record to reject them alone.",
                    "warning",
                )
                _drop(conn, stage)
                a.records = True
                a.hasher = a.fresh()
        if a.records:
            self._records(a)
            return None
        _refuse_null_keys(a, stage)
        header = csvio.read_header(a.file)
        header_lines = header.lines if isinstance(header, csvio.Header) else 1
        # the table's heartbeat keeps ticking through the long INSERT
        a.emitter.progress(phase="insert", force=True)
        inserted, rejected = stage.settle(
            conn,
            w.writer,
            header_lines=header_lines,
            skip_fk_to=a.group_members,
            on_phase=lambda p: a.emitter.progress(phase=p, force=True),
            plain_first=w.empty_before,
        )
        _drop(conn, stage)
        w.csv_rows, w.inserted, w.path = rows, inserted, m.STAGING
        w.take(stage, rejected)
        return None

    def _records(self, a: Attempt) -> None:
        """The text stage filled from csvio's reading of every record (binary COPY of text)."""
        tp, w = a.plan, a.work
        null_keys = a.null_keys
        stage = Stage(
            tp,
            f"aria_stage_{tp.order}",
            typed_vectors=False,
            with_line=bool(tp.self_fks) or null_keys,  # staged whole: lines kept per record
        )
        stage.create(a.conn, identity_rec=False)
        stage.sinks, stage.swallowers = w.sinks, a.swallowers
        rows, ins, rej = load_staged(
            a.conn,
            stage,
            a.sink(),
            a.group_members,
            plain_first=w.empty_before,
            # records whose key may be NULL are judged on the whole file before any insert
            before_settle=(lambda st: _refuse_null_keys(a, st)) if null_keys else None,
        )
        _drop(a.conn, stage)
        w.csv_rows, w.inserted, w.path = rows, ins, m.STAGING
        w.take(stage, rej)


# the order the paths are tried in; --force-staging (tests, benchmarks) starts at the last one
CHAIN: tuple[LoadPath, ...] = (FastCopy(), BinaryDirect(), BinaryStaged(), TextStaging())
STAGING_ONLY: tuple[LoadPath, ...] = (TextStaging(),)
# after the loaded rows broke a key built after them (deferred.py): the direct COPYs would stop
# on the same records, so the table starts where they would hand it on
STAGED: tuple[LoadPath, ...] = (BinaryStaged(), TextStaging())


def _refuse_null_keys(a: Attempt, stage: Stage) -> None:
    """A non-empty table and records whose key is NULL: they cannot be matched (see resume)."""
    tp, w = a.plan, a.work
    if w.rows_before and resume_mod.keys_may_be_null(tp):
        by_target = {c.target.name: c.ident for c in stage.loaded if c.target}
        n = one(a.conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
                stage.ident, resume_mod.null_key_sql(tp, by_target)
            )
        ))[0]
        if n:
            raise TableFailed(resume_mod.null_key_refusal(tp, w.rows_before, n))


def _drop(conn: psycopg.Connection, stage: Stage) -> None:
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage.ident))


def _structural(exc: BaseException) -> bool:
    """A COPY failed on the file's structure or encoding, not on a value: reading it again as
    raw bytes would fail the same way."""
    return isinstance(exc, (EndMarker, *row_rules.COPY_STRUCTURE_ERRORS))


def short(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error):
        return _message(exc)
    text = first_line(exc)
    return text[:200]
