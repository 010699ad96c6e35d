"""The general path: a session TEMP staging table, bad rows found in SQL, good rows inserted.

The staging table has one column per CSV column (`c1..cN`, so odd or duplicate header names never
matter), `text` except vector columns filled by the binary path (`vector(n)`: parsed and checked
on the client), plus `rec`, the record number in file order.

`settle()` moves staged rows into the target:
1. on an empty table, optimistically one plain `INSERT INTO target SELECT <casts> FROM stage` in a
   savepoint: clean data costs one statement;
2. otherwise, or when that meets a key it already holds, records whose key is taken are
   classified (conflicts.py): a duplicate (equal after casting through the target's types,
   counted positively) or a conflict (different content), which the table's policy decides;
3. if a value is bad, find the bad rows in SQL (bad_rows.py: NOT NULL filled, values loadable,
   vector shape and dimension, parents present); insert the rest;
4. if the insert still fails (a CHECK constraint, a partial or expression unique index, an
   exclusion constraint, a trigger...), bisect record ranges in savepoints until each failing
   record is alone, and reject it with the server's own message.
The insert has no `ON CONFLICT DO NOTHING`: without a conflict target it would skip a row that
collides with ANY unique constraint, index or exclusion constraint and hide conflicts as
duplicates. A table whose triggers or rules may swallow rows has every insert's row count
checked, and a record the target did not store is rejected with that reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from aria_tui.errors import first_line
from aria_tui.load import bad_rows, conflict_policy, conflicts
from aria_tui.load.model import TablePlan
from aria_tui.load.rejects import RejectWriter
from aria_tui.pg.catalog import Column
from aria_tui.pg.rows import one
from aria_tui.status import REJECT

STRING_TYPES = frozenset({"text", "varchar", "bpchar", "name", "citext"})
BIT_TYPES = frozenset({"bit", "varbit"})

# errors that mean "some value or row is bad", as opposed to a lost connection, a cancel, a lock
# timeout or a bug: only these make the loader look for bad rows instead of failing the table
DATA_ERRORS: tuple[type[Exception], ...] = (
    psycopg.errors.DataError,
    psycopg.errors.IntegrityError,
    psycopg.errors.RaiseException,
)


class _Swallowed(Exception):
    """An INSERT stored fewer rows than it was given (a trigger returning NULL, a rule)."""


_RANGE_STOPS: tuple[type[Exception], ...] = (*DATA_ERRORS, _Swallowed)


@dataclass(frozen=True)
class StageColumn:
    index: int  # position in the CSV header, 0-based
    csv_name: str
    ident: str  # staging column name: c1, c2, ...
    target: Column | None  # None: the column is dropped
    typed_vector: bool  # staged as vector(n) (binary path) rather than text


class Stage:
    """One table's staging table and the SQL that reads it."""

    def __init__(
        self, plan: TablePlan, name: str, typed_vectors: bool, with_line: bool = False
    ) -> None:
        self.plan = plan
        self.name = name
        self.with_line = with_line
        mapped = dict(plan.columns)
        cols = []
        for i, csv_name in enumerate(plan.csv_columns):
            target_name = mapped.get(csv_name) if _first(plan.csv_columns, csv_name, i) else None
            target = plan.table.column(target_name) if target_name else None
            cols.append(
                StageColumn(
                    index=i,
                    csv_name=csv_name,
                    ident=f"c{i + 1}",
                    target=target,
                    typed_vector=bool(typed_vectors and target is not None and target.is_vector),
                )
            )
        self.columns = tuple(cols)
        self.ident = sql.Identifier(name)
        self.rej = sql.Identifier(f"{name}_rej")
        self.cls = sql.Identifier(f"{name}_cls")
        self._rej_made = False
        self.policy = getattr(plan, "on_conflict", REJECT)
        self.tally = conflicts.Tally()
        self.sinks = conflicts.Sinks()
        self.swallowers: tuple[str, ...] = ()  # triggers/rules that may store fewer rows
        self._casts: dict[int, str] = {}  # type oid -> the type its text is cast to (value())

    # -- DDL -----------------------------------------------------------------------------------
    def _read_casts(self, conn: psycopg.Connection) -> None:
        """What each loaded column's text is cast to (see value): its type without a modifier."""
        oids = sorted({c.target.type_oid for c in self.loaded if c.target is not None})
        if not oids:
            return
        rows = conn.execute(
            "SELECT t.oid, CASE WHEN t.typtype = 'd' AND t.typtypmod <> -1 "
            "THEN format_type(t.typbasetype, NULL) ELSE format_type(t.oid, NULL) END "
            "FROM pg_type t WHERE t.oid = ANY(%s)",
            (oids,),
        ).fetchall()
        # re-read as SQL, a bare `bit` is bit(1): the unmodified bit type is `bit varying`
        self._casts = {oid: re.sub(r"^bit(?=\[|$)", "bit varying", cast) for oid, cast in rows}

    def create(self, conn: psycopg.Connection, *, identity_rec: bool) -> None:
        self._read_casts(conn)
        rec = "rec bigint GENERATED ALWAYS AS IDENTITY" if identity_rec else "rec bigint"
        parts: list[sql.Composable] = [sql.SQL(rec)]
        if self.with_line:
            parts.append(sql.SQL("line bigint"))
        for c in self.columns:
            # STORAGE EXTERNAL: a long value (a vector's text, a document) is moved out of line
            # but never compressed; the stage is read once, pglz would cost more than it saves
            typ = sql.SQL("text STORAGE EXTERNAL")
            if c.typed_vector and c.target is not None:
                # the client sends pgvector's float32 binary form; a halfvec column is staged as
                # vector(n) and cast on insert (what halfvec_in does too: strtof, then to half)
                dim = c.target.dimension
                typ = sql.SQL(f"vector({dim})" if dim else "vector")
            parts.append(sql.SQL("{} {}").format(sql.Identifier(c.ident), typ))
        conn.execute(
            sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
                self.ident, sql.SQL(", ").join(parts)
            )
        )

    @property
    def copy_columns(self) -> sql.Composable:
        return sql.SQL(", ").join(sql.Identifier(c.ident) for c in self.columns)

    def truncate(self, conn: psycopg.Connection) -> None:
        conn.execute(sql.SQL("TRUNCATE {}").format(self.ident))
        if self._rej_made:
            conn.execute(sql.SQL("TRUNCATE {}, {}").format(self.rej, self.cls))

    # -- expressions ---------------------------------------------------------------------------
    @property
    def loaded(self) -> tuple[StageColumn, ...]:
        return tuple(c for c in self.columns if c.target is not None)

    def value(self, c: StageColumn, alias: str = "s") -> sql.Composable:
        """The staged value as the target type, with COPY's semantics (no silent truncation)."""
        ref = sql.Identifier(alias, c.ident)
        col = c.target
        assert col is not None
        if (c.typed_vector and col.base_type == "vector") or col.base_type in STRING_TYPES:
            # an explicit cast to varchar(n) would truncate; assignment raises, as COPY does
            return ref
        if col.base_type in BIT_TYPES:
            return sql.SQL("{}::varbit").format(ref)
        # An explicit cast applies a type modifier the way explicit casts do: truncating
        # (varchar(3)[] takes {abcdef} as {abc}, a domain over varchar(3) 'abcdef' as 'abc')
        # or padding (bit(4)[] takes {101} as {1010}), where COPY's input function raises. So
        # the text is cast to the type without its modifier (for a domain whose base type has
        # one, to that base type), and the INSERT's assignment to the column applies the
        # modifier as input does: an error for what does not fit, rounding where input rounds.
        return sql.SQL("{}::{}").format(ref, sql.SQL(self._casts.get(col.type_oid, col.type)))

    def insert_sql(self, *, exclude_rejects: bool, rec_range: bool = False) -> sql.Composed:
        plan = self.plan
        overriding = any(c.target.identity == "always" for c in self.loaded if c.target)
        where: list[sql.Composable] = []
        if exclude_rejects:  # and every record classified as a duplicate or a conflict
            where.append(
                sql.SQL(
                    "NOT EXISTS (SELECT 1 FROM {} r WHERE r.rec = s.rec) "
                    "AND NOT EXISTS (SELECT 1 FROM {} c WHERE c.rec = s.rec)"
                ).format(self.rej, self.cls)
            )
        if rec_range:
            where.append(sql.SQL("s.rec BETWEEN %(lo)s AND %(hi)s"))
        # No ORDER BY: a TEMP table is scanned in physical order (never in parallel, never a
        # synchronized scan), which is file order. No ON CONFLICT: records whose key is taken
        # were classified (conflicts.py) and are excluded here.
        return sql.SQL(
            "INSERT INTO {table} ({cols}) {overriding}SELECT {values} FROM {stage} s {where}"
        ).format(
            table=plan.table.ident,
            cols=sql.SQL(", ").join(sql.Identifier(c.target.name) for c in self.loaded if c.target),
            overriding=sql.SQL("OVERRIDING SYSTEM VALUE " if overriding else ""),
            values=sql.SQL(", ").join(self.value(c) for c in self.loaded),
            stage=self.ident,
            where=sql.SQL("WHERE {} ").format(sql.SQL(" AND ").join(where))
            if where
            else sql.SQL(""),
        )

    # -- settling ------------------------------------------------------------------------------
    def settle(
        self,
        conn: psycopg.Connection,
        writer: RejectWriter,
        *,
        line_of: Callable[[list[int]], dict[int, int]] | None = None,
        header_lines: int = 1,
        skip_fk_to: Iterable[str] = (),
        on_phase: Callable[[str], None] | None = None,
        plain_first: bool = False,
    ) -> tuple[int, int]:
        """Insert the staged rows; returns (inserted, rejected). Rejects go to `writer`.

        `rejected` counts every record written to the reject file, rejected conflicts included;
        `self.tally` says how many of them were conflicts, and counts the duplicates, the kept
        conflicts and the rows replaced under `take-export`.

        `plain_first`: the table was empty, so a plain INSERT is tried first; a unique violation
        means the file repeats a key, and the records are classified instead.
        """
        bad = False
        if plain_first:
            try:
                with conn.transaction():
                    n = conn.execute(self.insert_sql(exclude_rejects=False)).rowcount
                    self._check_stored(conn, n, None)
                    return n, 0
            except (psycopg.errors.UniqueViolation, _Swallowed):
                pass
            except DATA_ERRORS:
                bad = True  # a bad value: classifying would cast it too
        self._make_rej(conn)

        def lines(recs: list[int]) -> dict[int, int]:
            return line_of(recs) if line_of else self._lines_in_sql(conn, recs, header_lines)

        if not bad:
            try:
                with conn.transaction():
                    conflicts.classify_target(conn, self)
            except DATA_ERRORS:
                bad = True
        if bad:
            if on_phase:
                on_phase("check")
            self._find_bad_rows(conn, set(skip_fk_to))
            conflicts.classify_target(conn, self)
        if on_phase:
            on_phase("insert")
        inserted = self._insert_rest(conn, bad, skip_fk_to)
        conflict_policy.decide(conn, self, self.policy, self.sinks, lines)
        rejected = self._write_rejects(conn, writer, line_of, header_lines)
        return inserted, rejected

    def _insert_rest(
        self, conn: psycopg.Connection, checked: bool, skip_fk_to: Iterable[str]
    ) -> int:
        """Insert the records nothing classified or rejected; returns how many were stored."""
        query = self.insert_sql(exclude_rejects=True)
        in_file = False
        while True:
            try:
                with conn.transaction():
                    n = conn.execute(query).rowcount
                    self._check_stored(conn, n, None)
                    return n
            except psycopg.errors.UniqueViolation:
                if in_file:
                    break
                # the file repeats a key: classify the later records against the earlier ones
                conflicts.classify_file(conn, self)
                in_file = True
            except DATA_ERRORS:
                if checked:
                    break
                self._find_bad_rows(conn, set(skip_fk_to))
                checked = True
            except _Swallowed:
                break
        return self._bisect(conn)

    def _check_stored(self, conn: psycopg.Connection, n: int, rng: tuple[int, int] | None) -> None:
        """Raise _Swallowed when a trigger or rule stored fewer rows than the INSERT was given."""
        if not self.swallowers:
            return
        where: list[sql.Composable] = [sql.SQL("true")]
        if self._rej_made:
            where.append(
                sql.SQL(
                    "NOT EXISTS (SELECT 1 FROM {} r WHERE r.rec = s.rec) "
                    "AND NOT EXISTS (SELECT 1 FROM {} c WHERE c.rec = s.rec)"
                ).format(self.rej, self.cls)
            )
        if rng is not None:
            where.append(
                sql.SQL("s.rec BETWEEN {} AND {}").format(sql.Literal(rng[0]), sql.Literal(rng[1]))
            )
        given = one(
            conn.execute(
                sql.SQL("SELECT count(*) FROM {} s WHERE {}").format(
                    self.ident, sql.SQL(" AND ").join(where)
                )
            )
        )[0]
        if n != given:
            raise _Swallowed()

    def _make_rej(self, conn: psycopg.Connection) -> None:
        if not self._rej_made:
            conn.execute(
                sql.SQL(
                    "CREATE TEMP TABLE {} (rec bigint PRIMARY KEY, reason text NOT NULL) ON COMMIT DROP"
                ).format(self.rej)
            )
            conflicts.create(conn, self)
            self._rej_made = True

    def _find_bad_rows(self, conn: psycopg.Connection, skip_fk_to: set[str]) -> None:
        self._make_rej(conn)
        bad_rows.find(conn, self, skip_fk_to)

    def _bisect(self, conn: psycopg.Connection) -> int:
        """Insert in ever smaller record ranges; a range of one failing record is a reject."""
        conn.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (rec)").format(
                sql.Identifier(f"{self.name}_rec"), self.ident
            )
        )
        lo, hi = one(conn.execute(sql.SQL("SELECT min(rec), max(rec) FROM {}").format(self.ident)))
        if lo is None:
            return 0
        query = self.insert_sql(exclude_rejects=True, rec_range=True)
        inserted = 0
        stack = [(lo, hi)]
        while stack:
            a, b = stack.pop()
            try:
                with conn.transaction():
                    n = conn.execute(query, {"lo": a, "hi": b}).rowcount
                    self._check_stored(conn, n, (a, b))
                    inserted += n
            except _RANGE_STOPS as exc:
                if a == b:
                    why = (
                        f"the target did not store this record although the INSERT succeeded "
                        f"({', '.join(self.swallowers)} on {self.plan.target} may drop or "
                        "redirect rows)"
                        if isinstance(exc, _Swallowed)
                        else _message(exc)
                    )
                    conn.execute(
                        sql.SQL(
                            "INSERT INTO {} (rec, reason) VALUES (%s, %s) ON CONFLICT DO NOTHING"
                        ).format(self.rej),
                        (a, why),
                    )
                    continue
                mid = (a + b) // 2
                stack.append((mid + 1, b))
                stack.append((a, mid))
        return inserted

    def _write_rejects(
        self,
        conn: psycopg.Connection,
        writer: RejectWriter,
        line_of: Callable[[list[int]], dict[int, int]] | None,
        header_lines: int,
    ) -> int:
        fields = sql.SQL(", ").join(
            sql.SQL("s.{}::text").format(sql.Identifier(c.ident)) for c in self.columns
        )
        rows = conn.execute(
            sql.SQL(
                "SELECT r.rec, r.reason, EXISTS (SELECT 1 FROM {cls} c WHERE c.rec = r.rec "
                "AND c.kind = 'conflict'), {fields} FROM {rej} r JOIN {stage} s ON s.rec = r.rec "
                "ORDER BY r.rec"
            ).format(fields=fields, rej=self.rej, stage=self.ident, cls=self.cls)
        ).fetchall()
        if not rows:
            return 0
        recs = [r[0] for r in rows]
        lines = line_of(recs) if line_of else self._lines_in_sql(conn, recs, header_lines)
        writer.write((lines.get(r[0], 0), r[1], r[3:]) for r in rows)
        self.tally.conflicts_rejected += sum(1 for r in rows if r[2])
        return len(rows)

    def _lines_in_sql(
        self, conn: psycopg.Connection, recs: list[int], header_lines: int
    ) -> dict[int, int]:
        """Physical start line of each record: header lines + records before + their embedded newlines."""
        if self.with_line:
            got = conn.execute(
                sql.SQL("SELECT rec, line FROM {} WHERE rec = ANY(%s)").format(self.ident), (recs,)
            ).fetchall()
            return dict(got)
        newlines = (
            sql.SQL(" + ").join(
                sql.SQL("coalesce(length({c}) - length(replace({c}, E'\\n', '')), 0)").format(
                    c=sql.SQL("{}::text").format(sql.Identifier(c.ident))
                )
                for c in self.columns
            )
            if self.columns
            else sql.SQL("0")
        )
        got = conn.execute(
            sql.SQL(
                "SELECT rec, line FROM (SELECT rec, {h} + rec + coalesce(sum(nl) OVER "
                "(ORDER BY rec ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS line "
                "FROM (SELECT rec, {nl} AS nl FROM {stage}) x) y WHERE rec = ANY(%s)"
            ).format(h=sql.Literal(header_lines), nl=newlines, stage=self.ident),
            (recs,),
        ).fetchall()
        return {r: int(line) for r, line in got}


def _first(names: tuple[str, ...], name: str, i: int) -> bool:
    """Only the first of duplicate header names is mapped (scan blocks such files anyway)."""
    return names.index(name) == i


def _message(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    primary = diag.message_primary if diag is not None else None
    text = primary.strip() if primary and primary.strip() else first_line(exc)
    detail = diag.message_detail if diag is not None else None
    return f"{text} ({detail})" if detail else text
