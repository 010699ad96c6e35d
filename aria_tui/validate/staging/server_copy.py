"""The file sent to the server byte for byte (COPY ... FORMAT csv, as `psql \\copy` reads it):
`stage()` builds `_aria_cast` from it, falling back to text and then to the loader's own record
split (by_record.py) only as far as the file forces; the parent keys a parent's own file holds;
and the clean-up of every temporary table.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from aria_tui import csvio
from aria_tui.csvio.files import Sha256
from aria_tui.pg import row_rules
from aria_tui.validate.staging.by_record import copy_records
from aria_tui.validate.staging.cast_sql import (
    ANY_TEXT,
    careful_columns,
    create_cast,
    literal_type,
    typed_columns,
)
from aria_tui.validate.staging.layout import (
    CAST,
    CHUNK,
    MISSING,
    ODD,
    PARENT_KEYS,
    PARENT_RAW,
    RAW,
    REC,
    RECORDS,
    TYPED,
    Layout,
)


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
        records = copy_records(conn, path, lay, check_cancel=check_cancel, digest=digest)
        create_cast(conn, lay, RECORDS, *careful_columns(conn, lay, broken=True))
        conn.execute("RELEASE SAVEPOINT aria_stage")
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(CAST)))
        return records, RECORDS
    conn.execute("SAVEPOINT aria_stage")
    try:
        records = _copy(
            conn, path, lay, TYPED, typed=True, check_cancel=check_cancel, digest=digest
        )
        create_cast(conn, lay, TYPED, *typed_columns(lay))
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
            records = copy_records(conn, path, lay, check_cancel=check_cancel, digest=digest)
        source = RECORDS if broken else RAW
        create_cast(conn, lay, source, *careful_columns(conn, lay, broken=broken))
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
    # vectors compared as text, and columns compared without their narrowing type (Layout.wide),
    # stay text: their values are judged and cast in the cast table
    as_text = {p.stage for p in lay.text_vectors} | set(lay.wide)
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
    return isinstance(exc, row_rules.COPY_STRUCTURE_ERRORS) or "end-of-copy marker" in str(exc)


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
            if p.column.type in ANY_TEXT:
                values.append(sql.SQL("{}::{} AS {}").format(c, literal_type(p.column), sql.Identifier(p.name)))
            else:
                values.append(
                    sql.SQL("CASE WHEN pg_input_is_valid({c}, {lit}) THEN {c}::{t} END AS {n}").format(
                        c=c, lit=sql.Literal(p.column.type), t=literal_type(p.column), n=sql.Identifier(p.name)
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
