"""The export file as the server sees it: a staging copy, its values cast through the target's own
types.

Validation must not trust aria-tui's own CSV reader or the loader, so the file goes to the server
byte for byte (COPY ... FORMAT csv, as `psql \\copy` would read it) and every comparison afterwards
happens in SQL. Temporary tables per file:

- `_aria_typed` (one column per CSV column, of the target column's type; vectors stay text, see
  `Layout.text_vectors`) or, when some value does not fit its type, `_aria_raw` (all text), each
  with `_aria_rec`, the record number in the file;
- `_aria_cast`: per record `_aria_rec`, `_aria_reason` (why the record cannot be loaded, NULL when
  it can), the typed values of the key, unique-key and foreign-key columns under their target
  names, and `_aria_h`, an md5 over the binary form (`record_send`) of the loaded columns. Binary,
  so timestamps compare as instants whatever the session's TimeZone, JSON as jsonb normalises it,
  numbers by value;
- `_aria_missing` (checks.measure): loadable records whose key the target lacks, and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from aria_tui import csvio
from aria_tui.csvio.files import Sha256
from aria_tui.csvio.header import scan_header
from aria_tui.pg.catalog import Column, Table

RAW = "_aria_raw"
RECORDS = "_aria_records"  # as RAW, for a file whose structure the server's COPY refuses
TYPED = "_aria_typed"
CAST = "_aria_cast"
MISSING = "_aria_missing"
ODD = "_aria_odd"  # checks.measure: records and target rows that are not equal twins
PARENT_RAW = "_aria_praw"
PARENT_KEYS = "_aria_pkeys"  # + a number: the keys a parent's own export file holds
# internal column names nobody's table is likely to use for its own
REC = "_aria_rec"
REASON = "_aria_reason"
BROKEN = "_aria_broken"  # why the record's structure cannot be read (records mode only)
HASH = "_aria_h"
CHUNK = 1 << 20

# types whose input function accepts any text: no need to ask pg_input_is_valid
_ANY_TEXT = {"text", "character varying"}


@dataclass(frozen=True)
class Pair:
    """One loaded column: CSV column `csv` (staged as `stage`) into target column `column`."""

    stage: str
    csv: str
    column: Column

    @property
    def name(self) -> str:
        return self.column.name


@dataclass(frozen=True)
class Layout:
    """How one file lines up with its target table."""

    table: Table
    header: tuple[str, ...]  # the CSV header
    stage_columns: tuple[str, ...]  # c1..cn, one per CSV header column
    pairs: tuple[Pair, ...]  # mapped, non-generated columns, in CSV order
    key: tuple[str, ...] | None  # target columns identifying a row; None = keyless table
    uniques: tuple[tuple[str, ...], ...]  # other unique keys whose columns are all loaded
    fks: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...]  # (name, cols, ref, ref cols)
    kept: tuple[str, ...]  # target columns kept typed in the cast table

    @property
    def dropped(self) -> tuple[str, ...]:
        """CSV columns the mapping does not load."""
        loaded = {p.csv for p in self.pairs}
        return tuple(h for h in self.header if h not in loaded)

    @property
    def text_vectors(self) -> tuple[Pair, ...]:
        """Vector columns compared as text against the target's output, row by row (keyed tables).

        The export's vectors are the source server's own output, so the text of a loaded vector
        is, byte for byte, what the target prints for it: printing the stored vector is about
        twice as cheap as parsing the text, and text that differs is still parsed and compared by
        value, so a non-canonical spelling of the same vector is equal too. Keyless tables compare
        whole rows as a multiset and parse their vectors instead."""
        if not self.key:
            return ()
        return tuple(p for p in self.pairs if p.column.is_vector)

    @property
    def hashed(self) -> tuple[Pair, ...]:
        """The columns `_aria_h` covers: every loaded column but the text-compared vectors."""
        skip = {p.stage for p in self.text_vectors}
        return tuple(p for p in self.pairs if p.stage not in skip)

    def pair(self, column: str) -> Pair | None:
        for p in self.pairs:
            if p.column.name == column:
                return p
        return None


def layout(table: Table, header: tuple[str, ...], mapping: tuple[tuple[str, str | None], ...]) -> Layout:
    """Pair the CSV header with the target columns through the scan's mapping."""
    stage_columns = tuple(f"c{i + 1}" for i in range(len(header)))
    mapped = dict(mapping)
    pairs: list[Pair] = []
    seen: set[str] = set()
    for i, csv_col in enumerate(header):
        target_col = mapped.get(csv_col)
        col = table.column(target_col) if target_col else None
        # a generated column cannot be loaded, and two CSV columns into one target column would
        # make the loader pick one: compare the first, as the mapping lists it
        if col is None or col.generated or col.name in seen:
            continue
        seen.add(col.name)
        pairs.append(Pair(stage_columns[i], csv_col, col))
    loaded = {p.column.name for p in pairs}

    def all_loaded(cols: tuple[str, ...]) -> bool:
        return bool(cols) and all(c in loaded for c in cols)

    key: tuple[str, ...] | None = None
    if table.primary_key and all_loaded(table.primary_key):
        key = tuple(table.primary_key)
    else:
        for uk in table.unique_keys:
            if all_loaded(uk.columns):
                key = tuple(uk.columns)
                break
    uniques = tuple(
        tuple(uk.columns)
        for uk in table.unique_keys
        if all_loaded(uk.columns) and tuple(uk.columns) != key
    )
    fks = tuple(
        (fk.name, tuple(fk.columns), fk.ref_table, tuple(fk.ref_columns))
        for fk in table.foreign_keys
        if all_loaded(fk.columns)
    )
    kept: list[str] = []
    for cols in [key or ()] + [u for u in uniques] + [f[1] for f in fks]:
        for c in cols:
            if c not in kept:
                kept.append(c)
    return Layout(table, tuple(header), stage_columns, tuple(pairs), key, uniques, fks, tuple(kept))


def stage(
    conn: psycopg.Connection,
    path: Path,
    lay: Layout,
    *,
    check_cancel: Callable[[], None] | None = None,
    digest: Sha256 | None = None,
) -> tuple[int, str]:
    """Build `_aria_cast` from the file; returns (records the server's COPY read, the staged
    table still holding the text of `lay.text_vectors`).

    A clean file (the usual case) is COPYed straight into columns of the target's types, so each
    value is parsed once, by the same input functions `psql \\copy` would use. Only when that
    fails on some value is the file staged again as text and cast value by value through
    pg_input_is_valid, so the bad records are named instead of failing the table. Raises
    psycopg.Error when the server cannot read the file as CSV at all.
    """
    if len(lay.stage_columns) == 1 and _marker_line(path):
        # a one-column file's lone `\.` line: the loader rejects it (PostgreSQL 16's COPY ends
        # the data there in silence), while a newer server's COPY reads it as a value. Split the
        # records as the loader does, or the two would disagree on what the file holds.
        conn.execute("SAVEPOINT aria_stage")
        records = _copy_records(conn, path, lay, check_cancel=check_cancel, digest=digest)
        _create_cast(conn, lay, RECORDS, *_careful_columns(conn, lay, broken=True))
        conn.execute("RELEASE SAVEPOINT aria_stage")
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(CAST)))
        return records, RECORDS
    conn.execute("SAVEPOINT aria_stage")
    try:
        records = _copy(
            conn, path, lay, TYPED, typed=True, check_cancel=check_cancel, digest=digest
        )
        _create_cast(conn, lay, TYPED, *_typed_columns(lay))
        source = TYPED
    except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as first:
        conn.execute("ROLLBACK TO SAVEPOINT aria_stage")
        if digest is not None:  # sent again from the start: hash it again
            digest.reset()
        broken = structural(first)
        if not broken:
            conn.execute("SAVEPOINT aria_raw")
            try:
                records = _copy(
                    conn, path, lay, RAW, typed=False, check_cancel=check_cancel, digest=digest
                )
            except psycopg.Error as exc:
                if not structural(exc):
                    raise
                conn.execute("ROLLBACK TO SAVEPOINT aria_raw")
                broken = True
            conn.execute("RELEASE SAVEPOINT aria_raw")
        if broken:
            # a record the server's CSV reader cannot split (ragged, a NUL, bad UTF-8, a lone
            # `\.`): the loader rejects it alone and loads the rest, so the rest must be proven
            # too. The records are split as the loader's reader splits them; their values are
            # still parsed by the server's input functions, and the broken ones are counted as
            # records that cannot be loaded, with the reader's reason.
            if digest is not None:
                digest.reset()
            records = _copy_records(conn, path, lay, check_cancel=check_cancel, digest=digest)
        source = RECORDS if broken else RAW
        _create_cast(conn, lay, source, *_careful_columns(conn, lay, broken=broken))
    conn.execute("RELEASE SAVEPOINT aria_stage")
    # temporary tables are never auto-analyzed; the joins that follow need real row counts
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(CAST)))
    return records, source


def _copy(
    conn: psycopg.Connection,
    path: Path,
    lay: Layout,
    name: str,
    *,
    typed: bool,
    check_cancel: Callable[[], None] | None,
    digest: Sha256 | None = None,
) -> int:
    """COPY the file byte for byte into temporary table `name`: one column per CSV column, of
    the target column's type (`typed`) or text, after `_aria_rec`, the record number."""
    as_text = {p.stage for p in lay.text_vectors}
    types = {p.stage: p.column.type for p in lay.pairs if p.stage not in as_text} if typed else {}
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(types.get(c, "text")))
        for c in lay.stage_columns
    )
    table = sql.Identifier(name)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} ({} bigint GENERATED ALWAYS AS IDENTITY, {})").format(
            table, sql.Identifier(REC), cols
        )
    )
    # compressing long values only to decompress them a moment later costs more than it saves
    external = [
        r[0]
        for r in conn.execute(
            "SELECT a.attname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 1 AND t.typstorage <> 'p'",
            (f"pg_temp.{name}",),
        )
    ]
    if external:
        conn.execute(
            sql.SQL("ALTER TABLE {} {}").format(
                table,
                sql.SQL(", ").join(
                    sql.SQL("ALTER COLUMN {} SET STORAGE EXTERNAL").format(sql.Identifier(c))
                    for c in external
                ),
            )
        )
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true, ENCODING 'UTF8')").format(
        table, sql.SQL(", ").join(map(sql.Identifier, lay.stage_columns))
    )
    with conn.cursor() as cur:
        # a .csv.gz goes to the server decompressed, as `psql \copy` of the gunzipped file would
        with cur.copy(statement) as copy, csvio.open_bytes(path) as fh:
            while chunk := fh.read(CHUNK):
                if check_cancel:
                    check_cancel()
                if digest is not None:
                    digest.update(chunk)
                copy.write(chunk)
        return max(cur.rowcount, 0)


def _marker_line(path: Path) -> bool:
    """Whether a line of the file may hold only a backslash-period (csvio's over-approximation, chunk by
    chunk, with the tail of the previous chunk so a line cut between chunks is still seen)."""
    tail = b""
    with csvio.open_bytes(path) as fh:
        while chunk := fh.read(CHUNK):
            if csvio.has_marker(tail + chunk):
                return True
            tail = chunk[-4:]
    return False


def structural(exc: BaseException) -> bool:
    """The server's COPY failed on the file's structure or encoding, not on a value."""
    return isinstance(
        exc,
        psycopg.errors.BadCopyFileFormat
        | psycopg.errors.CharacterNotInRepertoire
        | psycopg.errors.UntranslatableCharacter,
    ) or "end-of-copy marker" in str(exc)


def _copy_records(
    conn: psycopg.Connection,
    path: Path,
    lay: Layout,
    *,
    check_cancel: Callable[[], None] | None,
    digest: Sha256 | None = None,
) -> int:
    """`_aria_records` from the file's records as aria-tui's CSV reader splits them (csvio), each
    with its position in the file; a record the reader finds broken keeps its place with its
    reason in `_aria_broken`. Returns the records read, broken ones included."""
    header, problem = scan_header(path)
    if header is None:
        raise psycopg.errors.BadCopyFileFormat(
            problem.sentence() if problem is not None else f"{path.name} has no header"
        )
    cols = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in lay.stage_columns)
    table = sql.Identifier(RECORDS)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} ({} bigint, {} text, {})").format(
            table, sql.Identifier(REC), sql.Identifier(BROKEN), cols
        )
    )
    statement = sql.SQL("COPY {} ({}, {}, {}) FROM STDIN").format(
        table,
        sql.Identifier(REC),
        sql.Identifier(BROKEN),
        sql.SQL(", ").join(map(sql.Identifier, lay.stage_columns)),
    )
    # the stage columns are the header's columns in order (Layout.stage_columns)
    width = len(lay.stage_columns)
    records = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for batch in csvio.iter_batches(path, header, keep_bad=True):
            if check_cancel:
                check_cancel()
            bad = {b.index: b.reject_reason() for b in batch.bad}
            for i, row in enumerate(batch.frame.iter_rows()):
                rec = batch.start_record + i + 1
                if i in bad:
                    copy.write_row((rec, bad[i], *([None] * width)))
                else:
                    copy.write_row((rec, None, *row[:width]))
            records = batch.start_record + batch.frame.height
    if digest is not None:  # what was compared: the file's own bytes, read once more
        with csvio.open_bytes(path) as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    return records


_VECTOR_FN = """
CREATE OR REPLACE FUNCTION pg_temp.{name}(t text, dim integer) RETURNS {typ}
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE v {typ};
BEGIN
  -- not STRICT: an undeclared dimension is a NULL `dim`, and the text must still be parsed
  IF t IS NULL THEN RETURN NULL; END IF;
  v := t::{typ};
  IF dim IS NOT NULL AND vector_dims(v) <> dim THEN RETURN NULL; END IF;
  RETURN v;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $fn$
"""


def vector_function(conn: psycopg.Connection, col: Column) -> sql.Composable:
    """A try-cast for a vector type: pgvector's input has no soft errors, so pg_input_is_valid
    raises on a bad vector instead of answering; an exception block turns that into NULL."""
    typ = re.sub(r"\(\d+\)$", "", col.type)
    name = "aria_try_" + re.sub(r"\W", "_", typ)
    conn.execute(_VECTOR_FN.format(name=name, typ=typ))
    return sql.SQL("pg_temp.{}").format(sql.Identifier(name))


def _literal_type(col: Column) -> sql.Composable:
    # format_type() output is the server's own spelling of the type, safe to splice as SQL
    return sql.SQL(col.type)


Columns = tuple[list[sql.Composable], list[sql.Composable], list[sql.Composable]]


def _typed_columns(lay: Layout) -> Columns:
    """(inner, typed, reasons) over `_aria_typed`: the values are already of the target's types."""
    inner: list[sql.Composable] = [sql.Identifier(REC)]
    typed: list[sql.Composable] = []
    hashed = {p.stage for p in lay.hashed}
    for i, p in enumerate(lay.pairs):
        c = sql.Identifier(p.stage)
        inner.append(c)
        if p.stage in hashed:
            typed.append(sql.SQL("{} AS {}").format(c, sql.Identifier(f"x{i}")))
    return inner, typed, _null_reasons(lay)


def _careful_columns(conn: psycopg.Connection, lay: Layout, broken: bool = False) -> Columns:
    """(inner, typed, reasons) over `_aria_raw`: each value checked before it is cast, so a bad one
    becomes a reason, not an error. `broken`: the table was staged by records (_copy_records)
    and a broken record's reason comes first."""
    inner: list[sql.Composable] = [sql.Identifier(REC)]
    typed: list[sql.Composable] = []
    reasons: list[sql.Composable] = []
    if broken:
        inner.append(sql.Identifier(BROKEN))
    hashed = {p.stage for p in lay.hashed}
    for i, p in enumerate(lay.pairs):
        c = sql.Identifier(p.stage)
        v = sql.Identifier(f"v{i}")
        x = sql.Identifier(f"x{i}")
        col = p.column
        label = sql.Literal(col.name)
        inner.append(c)
        if col.type in _ANY_TEXT:
            typed.append(sql.SQL("{}::{} AS {}").format(c, _literal_type(col), x))
        elif col.is_vector:
            fn = vector_function(conn, col)
            inner.append(sql.SQL("{}({}, {}) AS {}").format(fn, c, sql.Literal(col.dimension), v))
            if p.stage in hashed:
                typed.append(sql.SQL("{} AS {}").format(v, x))
            reasons.append(vector_reason(c, v, col))
        else:
            inner.append(
                sql.SQL("pg_input_is_valid({}, {}) AS {}").format(c, sql.Literal(col.type), v)
            )
            # the CASE's own type would be a domain's base type, and record_send writes type
            # oids: cast its result back so the hash matches the target's domain-typed column
            typed.append(
                sql.SQL("(CASE WHEN {v} THEN {c}::{t} END)::{t} AS {x}").format(
                    v=v, c=c, t=_literal_type(col), x=x
                )
            )
            reasons.append(
                sql.SQL(
                    "CASE WHEN {c} IS NOT NULL AND NOT {v} THEN "
                    "format('%s is not a valid %s: %s', {label}, {typ}, quote_literal(left({c}, 40))) END"
                ).format(c=c, v=v, label=label, typ=sql.Literal(col.type))
            )
    reasons += _null_reasons(lay)
    if broken:
        # a broken record has no values to judge: its one reason is the reader's
        b = sql.Identifier(BROKEN)
        reasons = [b] + [sql.SQL("CASE WHEN {} IS NULL THEN {} END").format(b, r) for r in reasons]
    return inner, typed, reasons


def vector_reason(c: sql.Composable, v: sql.Composable, col: Column) -> sql.Composable:
    """Why text `c` whose try-cast `v` is NULL is not a vector of `col`; NULL when it is one."""
    # say which: a wrong dimension is the common case and the one an operator can act on
    return sql.SQL(
        "CASE WHEN {c} IS NOT NULL AND {v} IS NULL THEN CASE WHEN {dim}::int IS NOT NULL "
        r"AND {c} ~ '^\s*\[.*\]\s*$' "
        "AND length({c}) - length(replace({c}, ',', '')) + 1 <> {dim}::int "
        "THEN format('%s has %s dimensions, not %s', {label}, "
        "length({c}) - length(replace({c}, ',', '')) + 1, {dim}) "
        "ELSE format('%s is not a valid %s: %s', {label}, {typ}, quote_literal(left({c}, 40))) "
        "END END"
    ).format(
        c=c,
        v=v,
        dim=sql.Literal(col.dimension),
        label=sql.Literal(col.name),
        typ=sql.Literal(col.type),
    )


def _null_reasons(lay: Layout) -> list[sql.Composable]:
    """An empty value where the target needs one: the load rejects the record. A NULL in a
    nullable unique key is loadable (unique constraints let NULLs through): such records are
    compared as a multiset, not set aside."""
    reasons: list[sql.Composable] = []
    for p in lay.pairs:
        col = p.column
        in_key = col.name in (lay.key or ())
        if col.not_null:
            why = "is empty but the key" if in_key else "is empty but NOT NULL"
            reasons.append(
                sql.SQL("CASE WHEN {c} IS NULL THEN {msg} END").format(
                    c=sql.Identifier(p.stage), msg=sql.Literal(f"{col.name} {why}")
                )
            )
    return reasons


def _create_cast(
    conn: psycopg.Connection,
    lay: Layout,
    source: str,
    inner: list[sql.Composable],
    typed: list[sql.Composable],
    reasons: list[sql.Composable],
) -> None:
    """`_aria_cast` from a staged table: the reason a record cannot load, its kept typed columns
    and the hash of its loaded values (`lay.hashed`)."""
    index = {p.column.name: i for i, p in enumerate(lay.pairs)}
    reason = (
        sql.SQL("NULLIF(concat_ws('; ', {}), '')").format(sql.SQL(", ").join(reasons))
        if reasons
        else sql.SQL("NULL::text")
    )
    middle = [sql.Identifier(REC), sql.SQL("{} AS {}").format(reason, sql.Identifier(REASON))]
    middle += typed
    outer: list[sql.Composable] = [sql.Identifier(REC), sql.Identifier(REASON)]
    for name in lay.kept:
        outer.append(
            sql.SQL("{} AS {}").format(sql.Identifier(f"x{index[name]}"), sql.Identifier(name))
        )
    row = sql.SQL(", ").join(
        sql.Identifier(f"x{index[p.column.name]}") for p in lay.hashed
    )
    outer.append(
        sql.SQL("CASE WHEN {r} IS NULL THEN md5(record_send(ROW({row}))) END AS {h}").format(
            r=sql.Identifier(REASON), row=row, h=sql.Identifier(HASH)
        )
    )
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(CAST)))
    # OFFSET 0 keeps each level a separate subquery, so a value is parsed once and reused
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {cast} AS SELECT {outer} FROM ("
            "SELECT {middle} FROM (SELECT {inner} FROM {src} OFFSET 0) AS r OFFSET 0) AS m"
        ).format(
            cast=sql.Identifier(CAST),
            outer=sql.SQL(", ").join(outer),
            middle=sql.SQL(", ").join(middle),
            inner=sql.SQL(", ").join(inner),
            src=sql.Identifier(source),
        )
    )


def target_hash(lay: Layout, alias: str = "t") -> sql.Composable:
    """The target-side twin of `_h`: the same columns, in the same order, from the live table."""
    a = sql.Identifier(alias)
    row = sql.SQL(", ").join(sql.SQL("{}.{}").format(a, sql.Identifier(p.name)) for p in lay.hashed)
    return sql.SQL("md5(record_send(ROW({})))").format(row)


def vectors_equal(conn: psycopg.Connection, lay: Layout, staged: str, target: str) -> sql.Composable:
    """True when every text-compared vector of staged row `staged` equals the target row's:
    the same text as the target prints, or else the same value once parsed."""
    parts: list[sql.Composable] = []
    for p in lay.text_vectors:
        fn = vector_function(conn, p.column)
        c = sql.SQL("{}.{}").format(sql.Identifier(staged), sql.Identifier(p.stage))
        t = sql.SQL("{}.{}").format(sql.Identifier(target), sql.Identifier(p.name))
        parts.append(
            sql.SQL(
                "CASE WHEN {c} IS NULL THEN {t} IS NULL WHEN {c} = {t}::text THEN true "
                "ELSE coalesce({fn}({c}, {dim}) = {t}, false) END"
            ).format(c=c, t=t, fn=fn, dim=sql.Literal(p.column.dimension))
        )
    return sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")


def vector_same(conn: psycopg.Connection, col: Column, staged: sql.Composable, target: sql.Composable) -> sql.Composable:
    """True when staged vector text `staged` equals target vector `target`: the same text as the
    target prints, or else the same value once parsed."""
    return sql.SQL(
        "CASE WHEN {c} IS NULL THEN {t} IS NULL WHEN {c} = {t}::text THEN true "
        "ELSE coalesce({fn}({c}, {dim}) = {t}, false) END"
    ).format(c=staged, t=target, fn=vector_function(conn, col), dim=sql.Literal(col.dimension))


def stage_parent_keys(
    conn: psycopg.Connection,
    path: Path,
    lay: Layout,
    cols: tuple[str, ...],
    name: str,
    *,
    append: bool = False,
    check_cancel: Callable[[], None] | None = None,
) -> bool:
    """Temporary table `name` with the distinct values of target columns `cols` in the parent's
    export file `path` (laid out by `lay`), cast through the target's types; False when the file
    does not hold them all or cannot be read (the caller then cannot say a parent is absent)."""
    pairs = [lay.pair(c) for c in cols]
    if any(p is None for p in pairs):
        return False
    conn.execute("SAVEPOINT aria_parent")
    try:
        _copy(conn, path, lay, PARENT_RAW, typed=False, check_cancel=check_cancel)
        values: list[sql.Composable] = []
        for p in pairs:
            assert p is not None
            c = sql.Identifier(p.stage)
            if p.column.type in _ANY_TEXT:
                values.append(sql.SQL("{}::{} AS {}").format(c, _literal_type(p.column), sql.Identifier(p.name)))
            else:
                values.append(
                    sql.SQL("CASE WHEN pg_input_is_valid({c}, {lit}) THEN {c}::{t} END AS {n}").format(
                        c=c, lit=sql.Literal(p.column.type), t=_literal_type(p.column), n=sql.Identifier(p.name)
                    )
                )
        select = sql.SQL("SELECT DISTINCT {} FROM {}").format(
            sql.SQL(", ").join(values), sql.Identifier(PARENT_RAW)
        )
        if append:  # another part of the same parent table
            conn.execute(sql.SQL("INSERT INTO {} {}").format(sql.Identifier(name), select))
        else:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE TEMP TABLE {} AS {}").format(sql.Identifier(name), select))
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(PARENT_RAW)))
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(name)))
    except psycopg.errors.LockNotAvailable:
        raise
    except psycopg.Error:
        conn.execute("ROLLBACK TO SAVEPOINT aria_parent")
        conn.execute("RELEASE SAVEPOINT aria_parent")
        return False
    except (OSError, EOFError, ValueError):
        conn.execute("ROLLBACK TO SAVEPOINT aria_parent")
        conn.execute("RELEASE SAVEPOINT aria_parent")
        return False
    conn.execute("RELEASE SAVEPOINT aria_parent")
    return True


def key_match(cols: tuple[str, ...], left: str, right: str) -> sql.Composable:
    """`left.k1 = right.k1 AND ...`."""
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(left), sql.Identifier(c), sql.Identifier(right), sql.Identifier(c)
        )
        for c in cols
    )


def fk_match(cols: tuple[str, ...], ref_cols: tuple[str, ...], left: str, right: str) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(right), sql.Identifier(rc), sql.Identifier(left), sql.Identifier(c)
        )
        for c, rc in zip(cols, ref_cols, strict=True)
    )


def not_null(cols: tuple[str, ...], alias: str) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} IS NOT NULL").format(sql.Identifier(alias), sql.Identifier(c)) for c in cols
    )


def key_text(cols: tuple[str, ...], alias: str) -> sql.Composable:
    """The key's values as text columns, for naming a row in a detail."""
    return sql.SQL(", ").join(
        sql.SQL("{}.{}::text").format(sql.Identifier(alias), sql.Identifier(c)) for c in cols
    )


def qualified(name: str) -> sql.Composable:
    schema, _, table = name.partition(".")
    return sql.Identifier(schema, table) if table else sql.Identifier(schema)


def drop_all(conn: psycopg.Connection) -> None:
    names = [RAW, TYPED, CAST, MISSING, ODD, PARENT_RAW]
    names += [
        r[0]
        for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema() "
            "AND relkind = 'r' AND relname LIKE %s",
            (PARENT_KEYS + "%",),
        )
    ]
    for name in names:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
