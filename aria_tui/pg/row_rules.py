"""The rules a CSV record must meet to be loaded into a target column, as SQL over its text.

Both the loader's stage (load/bad_rows.py, which names each bad record in the reject file) and
validate's (validate/staging/cast_sql.py, which proves which records could load) ask the server
through these, so the two cannot disagree on what is loadable; each words its own reasons.

- `missing()`: a NOT NULL column receives no value;
- `loadable()`: the text is accepted by the column type's input function (`pg_input_is_valid`,
  PG16+), for types whose input has soft errors (`soft_input()`; an extension's without them
  raises instead of answering);
- `vector_try_cast()`: pgvector's input has no soft errors, so a vector (or halfvec) is judged
  by its own input in an exception block: the value, or NULL when the text is no vector of that
  dimension (`dimension=NULL`: any).
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

from aria_tui.pg.catalog import Column

# a COPY that failed on the file's structure or encoding, not on a value: the loader then reads
# the file record by record (load/chain.py), validation stages it so (validate/staging/by_record.py)
COPY_STRUCTURE_ERRORS: tuple[type[psycopg.Error], ...] = (
    psycopg.errors.BadCopyFileFormat,
    psycopg.errors.CharacterNotInRepertoire,
    psycopg.errors.UntranslatableCharacter,
)

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


def missing(ref: sql.Composable) -> sql.Composable:
    """True when the value is absent (an empty unquoted CSV field is NULL)."""
    return sql.SQL("{} IS NULL").format(ref)


def loadable(ref: sql.Composable, type_name: str) -> sql.Composable:
    """True when the type's input accepts the text (NULL for NULL: say `missing` apart)."""
    return sql.SQL("pg_input_is_valid({}, {})").format(ref, sql.Literal(type_name))


def input_error(ref: sql.Composable, type_name: str) -> sql.Composable:
    """The type's input's own message for text it refuses."""
    return sql.SQL("(pg_input_error_info({}, {})).message").format(ref, sql.Literal(type_name))


def soft_input(conn: psycopg.Connection, type_name: str) -> bool:
    """Whether `loadable()` can judge values of this type: an input function without soft-error
    support (pgvector's sparsevec, many extensions') raises instead of answering, which would
    fail the statement for one bad value."""
    try:
        with conn.transaction():
            conn.execute("SELECT pg_input_is_valid(%s, %s)", ("\x01{[<(?", type_name))
        return True
    except psycopg.Error:
        return False


def vector_try_cast(conn: psycopg.Connection, col: Column) -> sql.Composable:
    """The try-cast function of a vector column's type, created in this session's pg_temp (in
    the caller's transaction): `fn(text, dimension)` is the vector, or NULL."""
    typ = re.sub(r"\(\d+\)$", "", col.type)
    name = "aria_try_" + re.sub(r"\W", "_", typ)
    conn.execute(_VECTOR_FN.format(name=name, typ=typ))
    return sql.SQL("pg_temp.{}").format(sql.Identifier(name))
