"""The SQL that casts a staged file through the target's types: per record why it cannot load,
its typed key columns, and the checksum of its loaded values (`_aria_cast`); vectors through a
try-cast; the target-side twin of the checksum. What is loadable is asked through
aria_tui/pg/row_rules.py, as the loader's stage asks it (load/bad_rows.py).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from aria_tui.pg import row_rules
from aria_tui.pg.catalog import Column
from aria_tui.validate.staging.layout import BROKEN, CAST, HASH, REASON, REC, Layout, Pair

# types whose input function accepts any text: no need to ask pg_input_is_valid
ANY_TEXT = {"text", "character varying"}

vector_function = row_rules.vector_try_cast  # a vector's try-cast, as the loader's stage has it


def literal_type(col: Column) -> sql.Composable:
    # format_type() output is the server's own spelling of the type, safe to splice as SQL
    return sql.SQL(col.type)


Columns = tuple[list[sql.Composable], list[sql.Composable], list[sql.Composable]]


def typed_columns(lay: Layout) -> Columns:
    """(inner, typed, reasons) over `_aria_typed`: the values are already of the target's types,
    but for the columns compared without their narrowing (Layout.wide), staged as text."""
    inner: list[sql.Composable] = [sql.Identifier(REC)]
    typed: list[sql.Composable] = []
    reasons: list[sql.Composable] = []
    hashed = {p.stage for p in lay.hashed}
    wide = lay.wide
    for i, p in enumerate(lay.pairs):
        c = sql.Identifier(p.stage)
        inner.append(c)
        if p.stage in wide:
            v = sql.Identifier(f"v{i}")
            inner.append(sql.SQL("{} AS {}").format(row_rules.loadable(c, p.column.type), v))
            typed += _wide_values(lay, p, c, v, i)
            reasons.append(_invalid_reason(c, v, p.column))
        elif p.stage in hashed:
            typed.append(sql.SQL("{} AS {}").format(c, sql.Identifier(f"x{i}")))
    return inner, typed, reasons + _null_reasons(lay)


def _wide_values(
    lay: Layout, p: Pair, c: sql.Composable, v: sql.Composable, i: int
) -> list[sql.Composable]:
    """The export's text through the type that keeps it whole, when the target takes it (`w<i>`,
    hashed); for a key column (kept: rows are matched by it) its typed value too (`x<i>`)."""
    out: list[sql.Composable] = [
        sql.SQL("CASE WHEN {v} THEN {w} END AS {x}").format(
            v=v, w=sql.SQL(lay.wide[p.stage].export).format(c), x=sql.Identifier(f"w{i}")
        )
    ]
    if p.column.name in lay.kept:
        out.append(
            sql.SQL("(CASE WHEN {v} THEN {c}::{t} END)::{t} AS {x}").format(
                v=v, c=c, t=literal_type(p.column), x=sql.Identifier(f"x{i}")
            )
        )
    return out


def _invalid_reason(c: sql.Composable, v: sql.Composable, col: Column) -> sql.Composable:
    return sql.SQL(
        "CASE WHEN {c} IS NOT NULL AND NOT {v} THEN "
        "format('%s is not a valid %s: %s', {label}, {typ}, quote_literal(left({c}, 40))) END"
    ).format(c=c, v=v, label=sql.Literal(col.name), typ=sql.Literal(col.type))


def careful_columns(conn: psycopg.Connection, lay: Layout, broken: bool = False) -> Columns:
    """(inner, typed, reasons) over `_aria_raw`: each value checked before it is cast, so a bad one
    becomes a reason, not an error. `broken`: the table was staged by records (_copy_records)
    and a broken record's reason comes first."""
    inner: list[sql.Composable] = [sql.Identifier(REC)]
    typed: list[sql.Composable] = []
    reasons: list[sql.Composable] = []
    if broken:
        inner.append(sql.Identifier(BROKEN))
    hashed = {p.stage for p in lay.hashed}
    wide = lay.wide
    for i, p in enumerate(lay.pairs):
        c = sql.Identifier(p.stage)
        v = sql.Identifier(f"v{i}")
        x = sql.Identifier(f"x{i}")
        col = p.column
        inner.append(c)
        if p.stage in wide:
            inner.append(sql.SQL("{} AS {}").format(row_rules.loadable(c, col.type), v))
            typed += _wide_values(lay, p, c, v, i)
            reasons.append(_invalid_reason(c, v, col))
        elif col.type in ANY_TEXT:
            typed.append(sql.SQL("{}::{} AS {}").format(c, literal_type(col), x))
        elif col.is_vector:
            fn = vector_function(conn, col)
            inner.append(sql.SQL("{}({}, {}) AS {}").format(fn, c, sql.Literal(col.dimension), v))
            if p.stage in hashed:
                typed.append(sql.SQL("{} AS {}").format(v, x))
            reasons.append(vector_reason(c, v, col))
        else:
            inner.append(
                sql.SQL("{} AS {}").format(row_rules.loadable(c, col.type), v)
            )
            # the CASE's own type would be a domain's base type, and record_send writes type
            # oids: cast its result back so the hash matches the target's domain-typed column
            typed.append(
                sql.SQL("(CASE WHEN {v} THEN {c}::{t} END)::{t} AS {x}").format(
                    v=v, c=c, t=literal_type(col), x=x
                )
            )
            reasons.append(_invalid_reason(c, v, col))
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
                sql.SQL("CASE WHEN {missing} THEN {msg} END").format(
                    missing=row_rules.missing(sql.Identifier(p.stage)),
                    msg=sql.Literal(f"{col.name} {why}"),
                )
            )
    return reasons


def create_cast(
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
    wide = lay.wide
    row = sql.SQL(", ").join(
        sql.Identifier(f"{'w' if p.stage in wide else 'x'}{index[p.column.name]}")
        for p in lay.hashed
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
    wide = lay.wide
    values = []
    for p in lay.hashed:
        value = sql.SQL("{}.{}").format(a, sql.Identifier(p.name))
        values.append(sql.SQL(wide[p.stage].target).format(value) if p.stage in wide else value)
    return sql.SQL("md5(record_send(ROW({})))").format(sql.SQL(", ").join(values))


def vector_same(conn: psycopg.Connection, col: Column, staged: sql.Composable, target: sql.Composable) -> sql.Composable:
    """True when staged vector text `staged` equals target vector `target`: the same text as the
    target prints, or else the same numbers, element by element, as exact decimals: parsing the
    export's text into the target's type would round it the way the target did (a float32 or a
    float16, an underflow to zero) and agree with it. Text that is no plain decimal list (hex
    floats) is parsed by pgvector."""
    # as numbers -0 and 0 are one value, as vectors not (COPY keeps the sign): the elements'
    # signed zeros are compared too, and a parsed vector by its text, not pgvector's `=`
    signed_zeros = (
        "(SELECT array_agg(e ~ '^\\s*-' AND e::numeric = 0 ORDER BY i) "
        "FROM unnest(string_to_array(btrim({}, ' []'), ',')) WITH ORDINALITY AS z(e, i))"
    )
    return sql.SQL(
        "CASE WHEN {c} IS NULL THEN {t} IS NULL WHEN {c} = {t}::text THEN true "
        r"WHEN {c} ~ '^\s*\[[-+0-9.eE,\s]*\]\s*$' THEN coalesce("
        "string_to_array(btrim({c}, ' []'), ',')::numeric[] = "
        "string_to_array(btrim({t}::text, '[]'), ',')::numeric[] AND {cz} = {tz}, false) "
        "ELSE coalesce({fn}({c}, {dim})::text = {t}::text, false) END"
    ).format(
        c=staged,
        t=target,
        cz=sql.SQL(signed_zeros).format(staged),
        tz=sql.SQL(signed_zeros).format(sql.SQL("{}::text").format(target)),
        fn=vector_function(conn, col),
        dim=sql.Literal(col.dimension),
    )
