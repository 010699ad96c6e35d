"""One function per question asked of a loaded table. Each runs in the server and returns a Check.

They work from the export file's staged copy (`_aria_cast`, see staging.py) and the live target
only; the load journal, when there is one, adds cross-checks and decides nothing else, so a load
done by other means (`psql \\copy`) is verified the same way.

The rule (issue 14): the export is the truth. Every record of the file must be in the target with
equal content; a record that cannot be loaded is export data the target lacks (the table is
`incomplete`, never green); a record is excused as an orphan only when its parent is absent from
the export itself (the parent's own file), never because the target lacks the parent; and when the
table held nothing before the load (or the operator says `--exact`) the target must hold nothing
else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from aria_tui.pg.catalog import Table
from aria_tui.pg.rows import one
from aria_tui.validate import staging as st
from aria_tui.validate.journal import JournalEntry
from aria_tui.validate.model import CHECKSUM_METHOD as CHECKSUM_METHOD
from aria_tui.validate.model import (
    CONTENT,
    FOREIGN_KEYS,
    PRESENCE,
    RECONCILIATION,
    SEQUENCES,
    VECTORS,
    Check,
)

NOTHING = sql.SQL("")
SAMPLES = 5  # keys named in a failing detail
# what the queries below name over and over, for `SQL.format(**NAMES, ...)`: the staged tables
# and their internal columns (staging.py), and how many samples a failing detail names
NAMES = {
    "rec": sql.Identifier(st.REC),
    "r": sql.Identifier(st.REASON),
    "h": sql.Identifier(st.HASH),
    "cast": sql.Identifier(st.CAST),
    "miss": sql.Identifier(st.MISSING),
    "odd": sql.Identifier(st.ODD),
    "n": sql.Literal(SAMPLES),
}



@dataclass(frozen=True)
class ParentFile:
    path: Path
    lay: st.Layout | None  # None: the file cannot be read for its keys
    name: str


@dataclass(frozen=True)
class Parent:
    """Where the export holds the parent rows of a foreign key: the parent table's own file(s)
    (an export may split a table in parts).

    No files: the export has none for the parent table, so no parent key is in the export. A file
    that cannot be read for its keys (`lay` None) means a record whose parent the target lacks is
    never called an orphan: nothing proves the parent absent from the export.
    """

    files: tuple[ParentFile, ...] = ()


@dataclass(frozen=True)
class Staged:
    """What the staged file says against the target, measured once per table and shared by the
    checks. Counts are of export records unless they say target rows."""

    lay: st.Layout
    source: str  # the staged table (`_aria_typed` or `_aria_raw`)
    file: str
    csv_rows: int  # aria-tui's CSV reader
    records: int  # what the server's COPY read
    invalid: int  # records that cannot be cast into the target's types / break NOT NULL
    invalid_samples: tuple[tuple[int, str], ...]  # (record, reason)
    exact: bool = False  # the target must hold nothing but the export's records
    equal: int = 0  # loadable records with an identical row in the target
    differing: int = 0  # a row with the record's key but other content
    differing_samples: tuple[tuple[int, str], ...] = ()  # (record, key)
    other_key: int = 0  # no row with the record's key, but one with another of its unique keys
    other_key_samples: tuple[tuple[int, str], ...] = ()
    missing: int = 0  # loadable records the target lacks, unexplained
    missing_samples: tuple[tuple[int, str], ...] = ()  # (record, key)
    orphans: int = 0  # missing, and a parent is in neither the target nor the export
    orphan_samples: tuple[tuple[int, str], ...] = ()
    extras: int = 0  # target rows that are no loadable record of the file
    extra_samples: tuple[str, ...] = ()  # their keys (keyed tables)
    # target rows identical to a record of the file, beyond the times the file holds it: the
    # export's records doubled (a re-run that inserted again), whatever the target held before
    doubled: int = 0
    doubled_samples: tuple[tuple[int, int], ...] = ()  # (record, copies too many)
    repeats: int = 0  # loadable records repeating the key and content of an earlier one
    export_rows: int = 0  # loadable records (the export side of the checksum)
    export_sum: int = 0
    target_rows: int = 0  # rows of the target table (the target side of the checksum)
    target_sum: int = 0

    @property
    def loadable(self) -> int:
        return self.records - self.invalid

    @property
    def rejected(self) -> int:
        """Records that cannot be loaded: what a load rejects, by validation's own judgement."""
        return self.invalid + self.orphans

    @property
    def not_in_target(self) -> int:
        """Export records the target does not hold at all."""
        return self.rejected + self.missing

    @property
    def differ(self) -> int:
        """Export records the target holds with other content (or under another key)."""
        return self.differing + self.other_key

    @property
    def export_checksum(self) -> str:
        return _digest(self.export_rows, self.export_sum)

    @property
    def target_checksum(self) -> str:
        return _digest(self.target_rows, self.target_sum)


def _n(value: int) -> str:
    return f"{value:,}"


def _records(n: int) -> str:
    return f"{_n(n)} record" + ("" if n == 1 else "s")


def _rows(n: int) -> str:
    return f"{_n(n)} row" + ("" if n == 1 else "s")


def key_label(cols: tuple[str, ...], values: tuple[str | None, ...]) -> str:
    """`id=42` or `(category, key)=(a, b)`: how a row is named in a detail."""
    shown = tuple("NULL" if v is None else (v if len(v) <= 60 else v[:57] + "...") for v in values)
    if len(cols) == 1:
        return f"{cols[0]}={shown[0]}"
    return f"({', '.join(cols)})=({', '.join(shown)})"


def _bits(expr: sql.Composable) -> sql.Composable:
    # the first 60 bits of an md5 as a bigint: a sum of them is an order-independent checksum
    return sql.SQL("('x' || left({}, 15))::bit(60)::bigint").format(expr)


def _digest(count: int, total: object) -> str:
    return hashlib.md5(f"{count}:{int(str(total or 0))}".encode()).hexdigest()


def _short(digest: str) -> str:
    return digest[:12]


def _any(parts: list[sql.Composable], joiner: str = " OR ") -> sql.Composable:
    return sql.SQL(joiner).join(parts) if parts else sql.SQL("false")


def _exec_one(conn: psycopg.Connection, query: sql.Composed) -> tuple[Any, ...]:
    return tuple(one(conn.execute(query)))


def measure(
    conn: psycopg.Connection,
    lay: st.Layout,
    file: str,
    csv_rows: int,
    records: int,
    source: str = st.TYPED,
    *,
    exact: bool = False,
    parents: dict[str, Parent] | None = None,
    target_rows: int | None = None,
    check_cancel: Callable[[], None] | None = None,
) -> Staged:
    """Compare the staged file with the target, both ways, in a few passes of the server.

    Keyed tables: records and rows are paired by key (a full join): equal, differing, absent from
    the target, or target rows no record of the file has. A record with a NULL in a nullable key
    is compared with the target's rows with one, as a multiset. Keyless tables: the multiset of
    row checksums, both ways. An absent record is then explained when it can be: its vector
    cannot be loaded, another of its unique keys finds a target row (a difference: that row has
    another key), or a parent is in neither the target nor the export (an orphan: the load
    rejects it). `parents` says where the export holds each foreign key's parent table (see
    Parent); by default no parent file is known. `source` is the staged table that still holds
    the text of the text-compared vectors."""
    target = lay.table.ident
    invalid, export_rows, export_sum = _exec_one(
        conn,
        sql.SQL(
            "SELECT count(*) FILTER (WHERE {r} IS NOT NULL), count(*) FILTER (WHERE {r} IS NULL), "
            "sum({b}) FILTER (WHERE {r} IS NULL) FROM {cast}"
        ).format(**NAMES, b=_bits(sql.Identifier(st.HASH))),
    )
    invalid_samples: tuple[tuple[int, str], ...] = ()
    if invalid:
        invalid_samples = tuple(
            (int(r[0]), str(r[1]))
            for r in conn.execute(
                sql.SQL(
                    "SELECT {rec}, {r} FROM {cast} WHERE {r} IS NOT NULL ORDER BY {rec} LIMIT {n}"
                ).format(**NAMES)
            ).fetchall()
        )
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(st.ODD)))
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} (kind text, rec bigint, n bigint, k text[])").format(
            sql.Identifier(st.ODD)
        )
    )
    if target_rows is None:
        target_rows = int(_exec_one(conn, sql.SQL("SELECT count(*) FROM {}").format(target))[0])
    repeats = 0
    if lay.key:
        paired = _pair_by_key(conn, lay, source)
        equal, differing, absent, extras = (
            paired.equal, paired.differing, paired.absent, paired.extras
        )
        null = Multi(0, 0, 0, 0, 0)
        if paired.nullable:
            null = _null_keyed(conn, lay, source)
            equal, absent, extras = equal + null.equal, absent + null.short, extras + null.extras
        # a target row paired with k records of the file (a key the file repeats) is one row
        keyed_rows = target_rows - null.t_rows
        repeats = max(0, paired.tp_rows - keyed_rows)
        keyed_sum = paired.tp_sum
        if repeats:
            keyed_sum = int(
                _exec_one(
                    conn,
                    sql.SQL("SELECT sum({b}) FROM {t} AS t{w}").format(
                        b=_bits(st.target_hash(lay, "t")), t=target, w=paired.t_where
                    ),
                )[0]
                or 0
            )
        target_sum = keyed_sum + null.t_sum
    else:
        multi = _multiset(
            conn, lay, sql.SQL("s.{}").format(sql.Identifier(st.HASH)), st.target_hash(lay, "t")
        )
        equal, differing, absent, extras = multi.equal, 0, multi.short, multi.extras
        target_sum = multi.t_sum
        if multi.t_rows != target_rows:  # rows came or went between two statements: impossible
            target_rows = multi.t_rows  # in one snapshot, but say what was hashed
    if check_cancel:
        check_cancel()
    result = Staged(
        lay=lay,
        source=source,
        file=file,
        csv_rows=csv_rows,
        records=records,
        invalid=int(invalid),
        invalid_samples=invalid_samples,
        exact=exact,
        equal=int(equal),
        differing=int(differing),
        extras=int(extras),
        repeats=int(repeats),
        export_rows=int(export_rows),
        export_sum=int(export_sum or 0),
        target_rows=int(target_rows),
        target_sum=int(target_sum or 0),
    )
    if differing:
        rows = conn.execute(
            sql.SQL(
                "SELECT o.rec, {ks} FROM {odd} AS o JOIN {cast} AS s ON s.{rec} = o.rec "
                "WHERE o.kind = 'd' ORDER BY o.rec LIMIT {n}"
            ).format(**NAMES, ks=st.key_text(lay.key or (), "s"))
        ).fetchall()
        result = _with(result, differing_samples=_labelled(lay.key or (), rows))
    if extras and lay.key:
        rows = conn.execute(
            sql.SQL(
                "SELECT k FROM {odd} WHERE kind = 'x' AND k IS NOT NULL ORDER BY k LIMIT {n}"
            ).format(**NAMES)
        ).fetchall()
        result = _with(
            result, extra_samples=tuple(key_label(lay.key, tuple(r[0])) for r in rows)
        )
    if extras:  # some may be records of the file, doubled (multiset parts only)
        rows = conn.execute(
            sql.SQL(
                "SELECT rec, n, sum(n) OVER () FROM {odd} WHERE kind = 'x' AND rec IS NOT NULL "
                "ORDER BY rec LIMIT {n}"
            ).format(**NAMES)
        ).fetchall()
        if rows:
            result = _with(
                result,
                doubled=int(rows[0][2]),
                doubled_samples=tuple((int(r[0]), int(r[1])) for r in rows),
            )
    if absent:
        result = _explain_absent(conn, result, source, parents, check_cancel)
    return result


def _with(s: Staged, **changes: Any) -> Staged:
    from dataclasses import replace

    return replace(s, **changes)


def _labelled(key: tuple[str, ...], rows: list[tuple[Any, ...]]) -> tuple[tuple[int, str], ...]:
    return tuple((int(r[0]), key_label(key, tuple(r[1:]))) for r in rows)


def _key_cols(key: tuple[str, ...], prefix: str = "_aria_k") -> list[sql.Identifier]:
    return [sql.Identifier(f"{prefix}{i}") for i in range(len(key))]


@dataclass(frozen=True)
class Paired:
    equal: int  # records whose target row (same key) is identical
    tp_rows: int  # rows of the join holding a target row: a row paired with k records counts k
    tp_sum: int  # the checksum sum over those
    paired: int  # records paired with a target row
    differing: int
    absent: int
    extras: int
    nullable: bool  # the key has a nullable column: NULL-keyed rows were left to the multiset
    t_where: sql.Composable  # the filter that left them out on the target side


def _pair_by_key(conn: psycopg.Connection, lay: st.Layout, source: str) -> Paired:
    """Keyed tables: every loadable record with its target row by key, and every target row with
    its records (a full join), in one pass; what is not an equal pair goes to `_aria_odd`."""
    key = lay.key
    assert key
    table = lay.table
    nullable = any(not (c := table.column(k)) or not c.not_null for k in key)
    ks = _key_cols(key)
    vec = lay.text_vectors
    vs = [sql.Identifier(f"_aria_v{i}") for i in range(len(vec))]
    ws = [sql.Identifier(f"_aria_w{i}") for i in range(len(vec))]
    s_cols: list[sql.Composable] = [
        sql.SQL("s.{} AS _aria_sr").format(sql.Identifier(st.REC)),
        sql.SQL("s.{} AS _aria_sh").format(sql.Identifier(st.HASH)),
    ]
    s_cols += [sql.SQL("s.{} AS {}").format(sql.Identifier(c), k) for c, k in zip(key, ks, strict=True)]
    s_cols += [sql.SQL("r.{} AS {}").format(sql.Identifier(p.stage), v) for p, v in zip(vec, vs, strict=True)]
    t_cols: list[sql.Composable] = [
        sql.SQL("t.{} AS {}").format(sql.Identifier(c), k) for c, k in zip(key, ks, strict=True)
    ]
    t_cols.append(sql.SQL("{} AS _aria_th").format(st.target_hash(lay, "t")))
    t_cols += [sql.SQL("t.{} AS {}").format(sql.Identifier(p.name), w) for p, w in zip(vec, ws, strict=True)]
    t_cols.append(sql.SQL("true AS _aria_tp"))
    same: list[sql.Composable] = [sql.SQL("s._aria_sh = t._aria_th")]
    same += [
        st.vector_same(conn, p.column, sql.SQL("s.{}").format(v), sql.SQL("t.{}").format(w))
        for p, v, w in zip(vec, vs, ws, strict=True)
    ]
    join_source = (
        sql.SQL(" JOIN {} AS r ON r.{rec} = s.{rec}").format(sql.Identifier(source), **NAMES)
        if vec
        else sql.SQL("")
    )
    s_where = sql.SQL(" AND {}").format(st.not_null(key, "s")) if nullable else sql.SQL("")
    t_where = sql.SQL(" WHERE {}").format(st.not_null(key, "t")) if nullable else sql.SQL("")
    on = sql.SQL(" AND ").join(sql.SQL("s.{k} = t.{k}").format(k=k) for k in ks)
    row = _exec_one(
        conn,
        sql.SQL(
            "WITH s AS (SELECT {s_cols} FROM {cast} AS s{join} WHERE s.{r} IS NULL{s_where}), "
            "t AS (SELECT {t_cols} FROM {t} AS t{t_where}), "
            "j AS MATERIALIZED (SELECT s._aria_sr AS rec, t._aria_tp AS tp, t._aria_th AS th, "
            "CASE WHEN s._aria_sr IS NULL THEN 'x' WHEN t._aria_tp IS NULL THEN 'a' "
            "WHEN {same} THEN NULL ELSE 'd' END AS kind, {kk} "
            "FROM s FULL JOIN t ON {on}), "
            "odd AS (INSERT INTO {odd} SELECT kind, rec, 1, "
            "CASE WHEN kind = 'x' THEN ARRAY[{ktext}] END FROM j WHERE kind IS NOT NULL "
            "RETURNING kind) "
            "SELECT count(*) FILTER (WHERE kind IS NULL), count(*) FILTER (WHERE tp), "
            "sum({tb}) FILTER (WHERE tp), count(*) FILTER (WHERE tp AND rec IS NOT NULL), "
            "(SELECT count(*) FILTER (WHERE kind = 'd') FROM odd), "
            "(SELECT count(*) FILTER (WHERE kind = 'a') FROM odd), "
            "(SELECT count(*) FILTER (WHERE kind = 'x') FROM odd) FROM j"
        ).format(
            **NAMES,
            s_cols=sql.SQL(", ").join(s_cols),
            t_cols=sql.SQL(", ").join(t_cols),
            join=join_source,
            s_where=s_where,
            t_where=t_where,
            t=table.ident,
            same=sql.SQL(" AND ").join(same),
            kk=sql.SQL(", ").join(
                sql.SQL("coalesce(s.{k}, t.{k}) AS {k}").format(k=k) for k in ks
            ),
            on=on,
            ktext=sql.SQL(", ").join(sql.SQL("{}::text").format(k) for k in ks),
            tb=_bits(sql.SQL("th")),
        ),
    )
    equal, tp_rows, tp_sum, paired, differing, absent, extras = (int(v or 0) for v in row)
    return Paired(equal, tp_rows, tp_sum, paired, differing, absent, extras, nullable, t_where)


@dataclass(frozen=True)
class Multi:
    equal: int  # records with an identical row
    t_rows: int  # target rows compared
    t_sum: int  # their checksum sum
    short: int  # records without an identical row
    extras: int  # target rows without an identical record


def _multiset(
    conn: psycopg.Connection,
    lay: st.Layout,
    s_hash: sql.Composable,
    t_hash: sql.Composable,
    s_filter: sql.Composable = NOTHING,
    t_filter: sql.Composable = NOTHING,
    join: sql.Composable = NOTHING,
) -> Multi:
    """Records and rows compared as multisets of row checksums, both ways, sums in numeric (a row
    repeated any number of times cannot overflow them). A checksum the two sides hold a different
    number of times goes to `_aria_odd`: 'a' (the export has more; `rec` its first record) or 'x'
    (the target has more), with how many more."""
    row = _exec_one(
        conn,
        sql.SQL(
            "WITH s AS (SELECT {sh} AS h, count(*) AS n, min(s.{rec}) AS rec FROM {cast} AS s{join} "
            "WHERE s.{r} IS NULL{sf} GROUP BY 1), "
            "t AS (SELECT {th} AS h, count(*) AS n, sum({tb}) AS b FROM {t} AS t{tf} GROUP BY 1), "
            "j AS MATERIALIZED (SELECT s.rec, coalesce(s.n, 0) AS sn, coalesce(t.n, 0) AS tn, t.b "
            "FROM s FULL JOIN t ON s.h = t.h), "
            "odd AS (INSERT INTO {odd} SELECT CASE WHEN sn > tn THEN 'a' ELSE 'x' END, rec, "
            "abs(sn - tn), NULL FROM j WHERE sn <> tn RETURNING kind, n) "
            "SELECT sum(least(sn, tn)), sum(tn), sum(b), "
            "(SELECT sum(n) FILTER (WHERE kind = 'a') FROM odd), "
            "(SELECT sum(n) FILTER (WHERE kind = 'x') FROM odd) FROM j"
        ).format(
            **NAMES,
            sh=s_hash,
            th=t_hash,
            tb=_bits(st.target_hash(lay, "t")),
            t=lay.table.ident,
            sf=s_filter,
            tf=t_filter,
            join=join,
        ),
    )
    return Multi(*(int(v or 0) for v in row))


def _null_keyed(conn: psycopg.Connection, lay: st.Layout, source: str) -> Multi:
    """Records with a NULL in a nullable key, against the target's rows with one: a multiset,
    vectors included (parsed, so two spellings of one vector are equal)."""
    key = lay.key
    assert key
    vec = lay.text_vectors
    s_hash: sql.Composable = sql.SQL("s.{}").format(sql.Identifier(st.HASH))
    t_hash: sql.Composable = st.target_hash(lay, "t")
    join: sql.Composable = sql.SQL("")
    if vec:
        s_hash = sql.SQL("md5(concat_ws('|', {}, {}))").format(
            s_hash,
            sql.SQL(", ").join(
                sql.SQL("coalesce({}(r.{}, {})::text, '')").format(
                    st.vector_function(conn, p.column), sql.Identifier(p.stage), sql.Literal(p.column.dimension)
                )
                for p in vec
            ),
        )
        t_hash = sql.SQL("md5(concat_ws('|', {}, {}))").format(
            t_hash,
            sql.SQL(", ").join(sql.SQL("coalesce(t.{}::text, '')").format(sql.Identifier(p.name)) for p in vec),
        )
        join = sql.SQL(" JOIN {} AS r ON r.{rec} = s.{rec}").format(sql.Identifier(source), **NAMES)
    return _multiset(
        conn,
        lay,
        s_hash,
        t_hash,
        sql.SQL(" AND NOT ({})").format(st.not_null(key, "s")),
        sql.SQL(" WHERE NOT ({})").format(st.not_null(key, "t")),
        join,
    )


def _sql_label(cols: tuple[str, ...], alias: str) -> sql.Composable:
    """key_label() in SQL: `id=42` or `(a, b)=(x, y)` from the columns of `alias`."""
    values = [
        sql.SQL("coalesce({}.{}::text, 'NULL')").format(sql.Identifier(alias), sql.Identifier(c))
        for c in cols
    ]
    if len(cols) == 1:
        return sql.SQL("concat({}, {})").format(sql.Literal(f"{cols[0]}="), values[0])
    return sql.SQL("concat({}, concat_ws(', ', {}), ')')").format(
        sql.Literal(f"({', '.join(cols)})=("), sql.SQL(", ").join(values)
    )


def _explain_absent(
    conn: psycopg.Connection,
    s: Staged,
    source: str,
    parents: dict[str, Parent] | None,
    check_cancel: Callable[[], None] | None,
) -> Staged:
    """Sort the records the target lacks ('a' in `_aria_odd`): a vector the load cannot take
    (not loadable), another unique key finding a target row (a difference), a parent in neither
    the target nor the export (an orphan: not loadable), or else missing."""
    lay = s.lay
    table = lay.table
    key = lay.key or ()
    target = table.ident
    cols: list[sql.Composable] = [
        sql.SQL("o.rec AS {}").format(sql.Identifier(st.REC)),
        sql.SQL("o.n AS _n"),
        sql.SQL("s.{} AS _h").format(sql.Identifier(st.HASH)),
    ]
    cols += [
        sql.SQL("s.{}::text AS {}").format(sql.Identifier(c), sql.Identifier(f"k{i}"))
        for i, c in enumerate(key)
    ]
    other = [
        sql.SQL(
            "(SELECT concat({ul}, ' matches the target row ', {tl}) FROM {t} AS t WHERE {m} LIMIT 1)"
        ).format(ul=_sql_label(u, "s"), tl=_sql_label(key, "t"), t=target, m=st.key_match(u, "t", "s"))
        for u in lay.uniques
    ] if key else []
    cols.append(
        sql.SQL("coalesce({}) AS _other").format(sql.SQL(", ").join(other))
        if other
        else sql.SQL("NULL::text AS _other")
    )
    bad_parts = [
        st.vector_reason(
            sql.SQL("r.{}").format(sql.Identifier(p.stage)),
            sql.SQL("{}(r.{}, {})").format(
                st.vector_function(conn, p.column), sql.Identifier(p.stage), sql.Literal(p.column.dimension)
            ),
            p.column,
        )
        for p in lay.text_vectors
    ]
    cols.append(
        sql.SQL("NULLIF(concat_ws('; ', {}), '') AS _bad").format(sql.SQL(", ").join(bad_parts))
        if bad_parts
        else sql.SQL("NULL::text AS _bad")
    )
    for i, (_name, fcols, ref, ref_cols) in enumerate(lay.fks):
        cols.append(
            sql.SQL("({nn} AND NOT EXISTS (SELECT 1 FROM {ref} AS p WHERE {m})) AS {f}").format(
                nn=st.not_null(fcols, "s"),
                ref=st.qualified(ref),
                m=st.fk_match(fcols, ref_cols, "s", "p"),
                f=sql.Identifier(f"_fk{i}"),
            )
        )
    join_source = (
        sql.SQL(" JOIN {} AS r ON r.{rec} = s.{rec}").format(sql.Identifier(source), **NAMES)
        if bad_parts
        else sql.SQL("")
    )
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {miss}").format(**NAMES))
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {miss} AS SELECT {cols} FROM {odd} AS o "
            "JOIN {cast} AS s ON s.{rec} = o.rec{join} WHERE o.kind = 'a'"
        ).format(**NAMES, cols=sql.SQL(", ").join(cols), join=join_source)
    )
    # a parent the target lacks excuses nothing unless the export lacks it too
    labels: list[sql.Composable] = []
    for i, (_name, fcols, ref, ref_cols) in enumerate(lay.fks):
        flag = sql.Identifier(f"_fk{i}")
        pending = _exec_one(
            conn,
            sql.SQL(
                "SELECT count(*) FROM {miss} WHERE {f} AND _other IS NULL AND _bad IS NULL"
            ).format(**NAMES, f=flag),
        )[0]
        where = f"{', '.join(fcols)} -> {ref} ({', '.join(ref_cols)})"
        if not pending:
            continue
        if check_cancel:
            check_cancel()
        found: sql.Composable | None = None  # the export's parent keys: a table with ref_cols
        known = True
        if ref == table.qualified:
            if all(c in lay.kept for c in ref_cols):
                found = sql.SQL("(SELECT {} FROM {cast}) AS p").format(
                    sql.SQL(", ").join(map(sql.Identifier, ref_cols)), **NAMES
                )
            else:
                known = False
            what = f"{s.file} itself"
        else:
            parent = (parents or {}).get(ref, Parent())
            if not parent.files:
                what = f"the export (it has no file for {ref})"
            else:
                name = f"{st.PARENT_KEYS}{i}"
                what = ", ".join(f.name for f in parent.files)
                for j, pf in enumerate(parent.files):
                    known = known and pf.lay is not None and st.stage_parent_keys(
                        conn, pf.path, pf.lay, ref_cols, name, append=j > 0, check_cancel=check_cancel
                    )
                if known:
                    found = sql.SQL("{} AS p").format(sql.Identifier(name))
        if not known:
            # the parent's file cannot be read for its keys: nothing proves the parent absent
            conn.execute(sql.SQL("UPDATE {miss} SET {f} = false").format(**NAMES, f=flag))
            continue
        if found is not None:
            conn.execute(
                sql.SQL(
                    "UPDATE {miss} AS m SET {f} = false FROM {cast} AS s WHERE s.{rec} = m.{rec} "
                    "AND m.{f} AND EXISTS (SELECT 1 FROM {found} WHERE {match})"
                ).format(**NAMES, f=flag, found=found, match=st.fk_match(fcols, ref_cols, "s", "p"))
            )
        labels.append(
            sql.SQL("CASE WHEN {} THEN {} END").format(
                flag, sql.Literal(f"{where}: the parent is in neither the target nor {what}")
            )
        )
    orphan = (
        sql.SQL("NULLIF(concat_ws('; ', {}), '')").format(sql.SQL(", ").join(labels))
        if labels
        else sql.SQL("NULL::text")
    )
    conn.execute(sql.SQL("ALTER TABLE {miss} ADD COLUMN _orphan text").format(**NAMES))
    conn.execute(sql.SQL("UPDATE {miss} SET _orphan = {o}").format(**NAMES, o=orphan))
    bad, bad_sum, other_n, orphans, missing = (
        int(v or 0)
        for v in _exec_one(
            conn,
            sql.SQL(
                "SELECT sum(_n) FILTER (WHERE _bad IS NOT NULL), "
                "sum({b} * _n) FILTER (WHERE _bad IS NOT NULL), "
                "sum(_n) FILTER (WHERE _bad IS NULL AND _other IS NOT NULL), "
                "sum(_n) FILTER (WHERE _bad IS NULL AND _other IS NULL AND _orphan IS NOT NULL), "
                "sum(_n) FILTER (WHERE _bad IS NULL AND _other IS NULL AND _orphan IS NULL) "
                "FROM {miss}"
            ).format(**NAMES, b=_bits(sql.SQL("_h"))),
        )
    )
    ks = sql.SQL(", ").join(sql.Identifier(f"k{i}") for i in range(len(key))) if key else sql.SQL("NULL")

    def named(row: tuple[Any, ...]) -> str:
        rec = int(row[0])
        return key_label(key, tuple(row[2:])) if key else f"record {rec}"

    def sample(where: str, extra: str) -> list[tuple[Any, ...]]:
        return conn.execute(
            sql.SQL("SELECT {rec}, {e}, {ks} FROM {miss} WHERE {w} ORDER BY {rec} LIMIT {n}").format(
                **NAMES, e=sql.SQL(extra), ks=ks, w=sql.SQL(where)
            )
        ).fetchall()

    changes: dict[str, Any] = {"missing": missing, "orphans": orphans, "other_key": other_n}
    if bad:
        rows = sample("_bad IS NOT NULL", "_bad")
        changes["invalid"] = s.invalid + bad
        changes["invalid_samples"] = tuple(
            sorted(s.invalid_samples + tuple((int(r[0]), str(r[1])) for r in rows))
        )[:SAMPLES]
        changes["export_rows"] = s.export_rows - bad
        changes["export_sum"] = s.export_sum - bad_sum
    if other_n:
        rows = sample("_bad IS NULL AND _other IS NOT NULL", "_other")
        changes["other_key_samples"] = tuple(
            (int(r[0]), f"{named(r)} is not in the target, but {r[1]}") for r in rows
        )
    if orphans:
        rows = sample("_bad IS NULL AND _other IS NULL AND _orphan IS NOT NULL", "_orphan")
        changes["orphan_samples"] = tuple((int(r[0]), f"{named(r)} ({r[1]})") for r in rows)
    if missing:
        rows = sample("_bad IS NULL AND _other IS NULL AND _orphan IS NULL", "NULL")
        changes["missing_samples"] = tuple((int(r[0]), named(r)) for r in rows)
    return _with(s, **changes)


def journal_applies(entry: JournalEntry | None, file_bytes: int | None, sha256: str | None) -> bool:
    """The journal entry speaks of these very bytes (same size, and the same sha256 when both
    sides know it): only then are its numbers compared with the file's."""
    if entry is None or entry.status not in ("loaded", "resumed"):
        return False
    if entry.size is not None and file_bytes is not None and entry.size != file_bytes:
        return False
    if entry.sha256 and sha256 and entry.sha256 != sha256:
        return False
    return True


def reconciliation(
    s: Staged,
    target_rows: int,
    entry: JournalEntry | None,
    *,
    journal_found: bool = False,
    file_bytes: int | None = None,
    sha256: str | None = None,
) -> Check:
    """Counts: the file as two readers see it, what belongs in the target, and the journal's sums
    (its rejects against validation's own count of records that cannot be loaded, its inserts
    against the rows the target holds now)."""
    problems: list[str] = []
    parts: list[str] = []
    if s.records != s.csv_rows:
        problems.append(
            f"aria-tui's CSV reader counts {_records(s.csv_rows)} in {s.file} but PostgreSQL reads "
            f"{_n(s.records)}"
        )
    elif s.source == st.RECORDS:
        # the server's COPY refuses the file's structure: its records were split by aria-tui's
        # reader (as the load splits them), their values still parsed by the server
        parts.append(
            f"{_records(s.csv_rows)} in {s.file} (PostgreSQL's CSV COPY cannot read its structure: "
            "records split by aria-tui's reader, values parsed by the server)"
        )
    else:
        parts.append(f"{_records(s.csv_rows)} in {s.file} (PostgreSQL reads the same)")
    # what must be there: every loadable record, once per key
    expected = s.loadable - s.orphans - s.repeats
    extras = []
    if s.rejected:
        extras.append(f"{_n(s.rejected)} cannot be loaded")
    if s.repeats:
        extras.append(f"{_n(s.repeats)} repeat a key of the file")
    sentence = f"{_n(expected)} belong in the target"
    if extras:
        sentence = f"{'; '.join(extras)}, so {sentence}"
    if target_rows >= expected:
        parts.append(f"{sentence}, which holds {_n(target_rows)}")
    else:
        problems.append(f"{sentence}, but it holds only {_n(target_rows)}")
    if entry is None:
        parts.append(
            "the load journal has no entry for this table: not loaded by aria-tui's last run, "
            "or loaded by other means"
            if journal_found
            else "no journal: load done by other means"
        )
    else:
        total = entry.inserted + entry.updated + entry.duplicates + entry.conflicts + entry.rejected
        decided = "".join(
            f" + {label} {_n(n)}"
            for label, n in (("updated", entry.updated), ("conflicts", entry.conflicts))
            if n
        )
        arithmetic = (
            f"journal of the load: inserted {_n(entry.inserted)}{decided} + duplicates "
            f"{_n(entry.duplicates)} + rejected {_n(entry.rejected)} = {_n(total)}"
        )
        if entry.status not in ("loaded", "resumed"):
            problems.append(
                f"the load journal says this table was {entry.status}"
                + (f": {entry.error}" if entry.error else "")
            )
        elif not journal_applies(entry, file_bytes, sha256):
            # the journal speaks of another version of the file: its numbers prove nothing here
            size = (
                f" ({_n(entry.size)} bytes, now {_n(file_bytes)})"
                if entry.size is not None and file_bytes is not None and entry.size != file_bytes
                else ""
            )
            parts.append(
                f"the load journal is for an earlier version of {s.file}{size}: its numbers are "
                "not compared"
            )
        else:
            if total != s.csv_rows:
                problems.append(f"{arithmetic}, not the file's {_n(s.csv_rows)}")
            else:
                parts.append(arithmetic)
            if entry.rejected != s.rejected:
                # values the load truncated or zeroed, or records it refused for reasons the file
                # does not show: either way nobody has checked them
                n = abs(entry.rejected - s.rejected)
                problems.append(
                    f"{_records(n)} unverified: validation finds {_n(s.rejected)} "
                    f"{'record' if s.rejected == 1 else 'records'} of {s.file} that cannot be "
                    f"loaded, the load rejected {_n(entry.rejected)}"
                )
            if entry.rows_before is not None:
                left = entry.rows_before + entry.inserted
                if target_rows > left:
                    problems.append(
                        f"{s.lay.table.qualified} holds {_n(target_rows)} rows, "
                        f"{_n(target_rows - left)} more than the load left ({_n(entry.rows_before)} "
                        f"before it + {_n(entry.inserted)} inserted): rows were added after the load"
                    )
    if problems:
        return Check(RECONCILIATION, False, _join(problems + parts))
    return Check(RECONCILIATION, True, _join(parts))


def presence(s: Staged, reject_file: str | None = None, *, accepted: bool = False) -> Check:
    """Every record of the file is in the target (by key, or as an identical row when keyless),
    and, when the target must hold nothing else, nothing else is there.

    `accepted`: the operator accepted this table's unloadable records on purpose: they are
    listed as decided away, not missing. Records that could load and are absent stay missing."""
    key = s.lay.key
    table = s.lay.table.qualified
    problems: list[str] = []
    notes: list[str] = []
    label = ", ".join(key) if key else ""
    if s.missing and key:
        named = ", ".join(f"{k} (record {rec})" for rec, k in s.missing_samples)
        more = "" if s.missing <= len(s.missing_samples) else ", ..."
        problems.append(f"{_records(s.missing)} of {s.file} missing from {table} by {label}: {named}{more}")
    if s.rejected:
        samples = sorted(
            [(rec, why) for rec, why in s.invalid_samples]
            + [(rec, f"{k}: no parent") for rec, k in s.orphan_samples]
        )[:3]
        first = "; ".join(f"record {rec}: {why}" for rec, why in samples)
        where = f"; the load's reject file: {reject_file}" if reject_file else ""
        if accepted:
            notes.append(
                f"{_records(s.rejected)} of {s.file} cannot be loaded and "
                f"{'was' if s.rejected == 1 else 'were'} accepted by decision, so {table} lacks "
                f"{'it' if s.rejected == 1 else 'them'} on purpose ({first}{where})"
            )
        else:
            problems.append(
                f"{_records(s.rejected)} of {s.file} cannot be loaded, so {table} lacks "
                f"{'it' if s.rejected == 1 else 'them'} "
                f"({first}{where})"
            )
    if s.orphans:
        first = "; ".join(f"record {rec}: {k}" for rec, k in s.orphan_samples[:3])
        notes.append(f"{_n(s.orphans)} of them for a parent absent from the export ({first})")
    if s.doubled:
        named = ", ".join(
            f"record {rec} ({n} {'copy' if n == 1 else 'copies'} too many)" for rec, n in s.doubled_samples
        )
        more = "" if s.doubled <= sum(n for _, n in s.doubled_samples) else ", ..."
        problems.append(
            f"{table} holds records of {s.file} more often than the file does: {_rows(s.doubled)} "
            f"too many ({named}{more})"
        )
    if s.extras:
        if key:
            named = ", ".join(s.extra_samples)
            more = "" if s.extras <= len(s.extra_samples) else ", ..."
            what = (
                f"{_rows(s.extras)} of {table} {'is' if s.extras == 1 else 'are'} no record of "
                f"{s.file}: {named}{more}"
            )
        else:
            what = f"{table} holds {_rows(s.extras)} more than {s.file} (no key: compared as whole rows)"
        if s.exact:
            problems.append(what)
        else:
            notes.append(f"{what} (not judged: the table may have held them before the load)")
    if s.repeats:
        notes.append(f"{_n(s.repeats)} repeat an earlier record of the file, key and content")
    tail = f"; {'; '.join(notes)}" if notes else ""
    if problems:
        return Check(PRESENCE, False, _join(problems) + tail)
    if not key:
        return Check(
            PRESENCE,
            True,
            f"{table} has no primary or unique key among the loaded columns: records are matched "
            f"as whole rows by the content check{tail}",
        )
    both = ", and nothing else" if s.exact else ""
    return Check(PRESENCE, True, f"all {_n(s.loadable)} records found by {label}{both}{tail}")


def kept_conflicts(conn: psycopg.Connection, s: Staged, decided: frozenset[int]) -> int:
    """How many of the `decided` records (conflicts kept by decision) do differ from their
    target row: exactly those are taken off the differing count, never more."""
    if not decided or not s.differing or not s.lay.key:
        return 0
    return sum(1 for cols in _differing_columns(conn, s, sorted(decided)).values() if cols)


def content(
    conn: psycopg.Connection, s: Staged, decided: frozenset[int] = frozenset(), kept: int | None = None
) -> Check:
    """Every record found is equal to its row, export side cast through the target's types.

    `decided`: records whose target row the operator kept on purpose (a conflict kept by
    decision, journal.decided_records): reported as kept, never as a difference; `kept` is
    kept_conflicts() of them when the caller has it already."""
    lay = s.lay
    ncols = len(lay.pairs)
    if not lay.key:
        return _content_multiset(s, ncols)
    problems: list[str] = []
    if kept is None:
        kept = kept_conflicts(conn, s, decided)
    if kept:
        s = _with(
            s,
            differing=s.differing - kept,
            differing_samples=tuple(x for x in s.differing_samples if x[0] not in decided),
        )
    tail = f"; {kept} conflict{'s' if kept != 1 else ''} kept by decision" if kept else ""
    if s.differing:
        columns = _differing_columns(conn, s, [rec for rec, _ in s.differing_samples])
        named = ", ".join(
            f"{k} (record {rec}" + (f": {', '.join(columns[rec])}" if columns.get(rec) else "") + ")"
            for rec, k in s.differing_samples
        )
        more = "" if s.differing <= len(s.differing_samples) else ", ..."
        compared = s.equal + s.differing
        problems.append(
            f"{_n(s.differing)} of {_records(compared)} in {lay.table.qualified} "
            f"{'differs' if s.differing == 1 else 'differ'} from {s.file} after casting to the "
            f"target's types: {named}{more}"
        )
    if s.other_key:
        named = "; ".join(f"record {rec}: {why}" for rec, why in s.other_key_samples)
        more = "" if s.other_key <= len(s.other_key_samples) else "; ..."
        problems.append(
            f"{_records(s.other_key)} of {s.file} found in {lay.table.qualified} only through "
            f"another unique key, with another {', '.join(lay.key)}: {named}{more}"
        )
    if problems:
        return Check(CONTENT, False, _join(problems) + tail)
    vectors = (
        f", vectors ({', '.join(p.name for p in lay.text_vectors)}) value by value"
        if lay.text_vectors
        else ""
    )
    return Check(
        CONTENT,
        True,
        f"checksum {_short(s.export_checksum)} over {_records(s.equal)} x {ncols} columns"
        f"{vectors}, equal on both sides after casting the export to the target's types"
        f"{_dropped(lay)}{tail}",
    )


def _dropped(lay: st.Layout) -> str:
    dropped = lay.dropped
    if not dropped:
        return ""
    return f" ({', '.join(dropped)} not loaded, so not compared)"


def _differing_columns(conn: psycopg.Connection, s: Staged, recs: list[int]) -> dict[int, list[str]]:
    """For a few differing records, which loaded columns differ: what an operator looks at first."""
    lay = s.lay
    key = lay.key
    if not recs or not key:
        return {}
    text_vectors = {p.stage for p in lay.text_vectors}
    tests: list[sql.Composable] = []
    for p in lay.pairs:
        staged = sql.SQL("r.{}").format(sql.Identifier(p.stage))
        target = sql.SQL("t.{}").format(sql.Identifier(p.name))
        if p.stage in text_vectors:
            same = st.vector_same(conn, p.column, staged, target)
        else:
            if s.source in (st.RAW, st.RECORDS):  # every record compared here cast cleanly when staged
                staged = sql.SQL("{}::{}").format(staged, sql.SQL(p.column.type))
            # record_send compares any type, json included (which has no = operator)
            same = sql.SQL("record_send(ROW({})) = record_send(ROW({}))").format(staged, target)
        tests.append(sql.SQL("CASE WHEN NOT ({}) THEN {} END").format(same, sql.Literal(p.name)))
    rows = conn.execute(
        sql.SQL(
            "SELECT s.{rec}, array_remove(ARRAY[{tests}]::text[], NULL) FROM {cast} AS s "
            "JOIN {src} AS r ON r.{rec} = s.{rec} JOIN {t} AS t ON {m} WHERE s.{rec} = ANY({recs})"
        ).format(
            **NAMES,
            tests=sql.SQL(", ").join(tests),
            src=sql.Identifier(s.source),
            t=lay.table.ident,
            m=st.key_match(key, "t", "s"),
            recs=sql.Literal(recs),
        )
    ).fetchall()
    return {rec: list(cols) for rec, cols in rows}


def _content_multiset(s: Staged, ncols: int) -> Check:
    """No key: every export row checksum occurs in the target at least as often as in the file."""
    lay = s.lay
    if s.missing:
        named = ", ".join(f"record {rec}" for rec, _ in s.missing_samples)
        return Check(
            CONTENT,
            False,
            f"{_records(s.missing)} of {s.file} have no identical row in "
            f"{lay.table.qualified} (no key: compared as whole rows): {named}",
        )
    return Check(
        CONTENT,
        True,
        f"all {_records(s.equal)} found as identical rows (no key: multiset of row "
        f"checksums, export {_short(s.export_checksum)}) over {ncols} columns{_dropped(lay)}",
    )


def foreign_keys(conn: psycopg.Connection, table: Table, lay: st.Layout | None) -> Check | None:
    """No loaded row points at a parent the target does not have (self-references included)."""
    if not table.foreign_keys:
        return None
    loaded: sql.Composable = sql.SQL("")
    scope = "rows"
    if lay is not None and lay.key:
        scope = "loaded rows"
        loaded = sql.SQL(" AND EXISTS (SELECT 1 FROM {cast} AS s WHERE {m})").format(
            **NAMES, m=st.key_match(lay.key, "s", "t")
        )
    problems, fine = [], []
    name_cols = lay.key if lay is not None and lay.key else None
    for fk in table.foreign_keys:
        cols, ref_cols = tuple(fk.columns), tuple(fk.ref_columns)
        where = sql.SQL("{nn} AND NOT EXISTS (SELECT 1 FROM {ref} AS p WHERE {m}){loaded}").format(
            nn=st.not_null(cols, "t"),
            ref=st.qualified(fk.ref_table),
            m=st.fk_match(cols, ref_cols, "t", "p"),
            loaded=loaded,
        )
        what = f"{', '.join(cols)} -> {fk.ref_table} ({', '.join(ref_cols)})"
        n = one(conn.execute(
            sql.SQL("SELECT count(*) FROM {t} AS t WHERE {w}").format(t=table.ident, w=where)
        ))[0]
        if not n:
            fine.append(what)
            continue
        shown = name_cols or cols
        rows = conn.execute(
            sql.SQL("SELECT {k}, {v} FROM {t} AS t WHERE {w} ORDER BY 1 LIMIT {n}").format(
                k=st.key_text(shown, "t"),
                v=st.key_text(cols, "t"),
                t=table.ident,
                w=where,
                **NAMES,
            )
        ).fetchall()
        named = ", ".join(
            f"{key_label(shown, tuple(r[: len(shown)]))} -> {', '.join(str(v) for v in r[len(shown):])}"
            for r in rows
        )
        problems.append(f"{_n(n)} orphan{'s' if n != 1 else ''} of {what}: {named}")
    if problems:
        return Check(FOREIGN_KEYS, False, _join(problems))
    return Check(FOREIGN_KEYS, True, f"no orphans among the {scope}: {'; '.join(fine)}")


def vectors(conn: psycopg.Connection, table: Table) -> Check | None:
    """Every non-null vector has the column's dimension (the most common one when undeclared)."""
    cols = table.vector_columns
    if not cols:
        return None
    key = table.key
    problems, fine = [], []
    for col in cols:
        c = sql.Identifier(col.name)
        dims = conn.execute(
            sql.SQL(
                "SELECT vector_dims({c}), count(*) FROM {t} WHERE {c} IS NOT NULL "
                "GROUP BY 1 ORDER BY 2 DESC, 1"
            ).format(c=c, t=table.ident)
        ).fetchall()
        total = sum(n for _, n in dims)
        expected = col.dimension or (dims[0][0] if dims else None)
        wrong = [(d, n) for d, n in dims if d != expected]
        if not wrong:
            how = "declared" if col.dimension else "undeclared, all equal"
            fine.append(f"{col.name}: {_n(total)} vectors of {expected} dimensions ({how})" if total else f"{col.name}: no vectors")
            continue
        bad = sum(n for _, n in wrong)
        named = ""
        if key:
            rows = conn.execute(
                sql.SQL(
                    "SELECT {k}, vector_dims({c}) FROM {t} AS t WHERE {c} IS NOT NULL "
                    "AND vector_dims({c}) <> {d} ORDER BY 1 LIMIT {n}"
                ).format(
                    k=st.key_text(key, "t"), c=c, t=table.ident, d=sql.Literal(expected),
                    **NAMES,
                )
            ).fetchall()
            named = ": " + ", ".join(
                f"{key_label(key, tuple(r[:-1]))} has {r[-1]}" for r in rows
            )
        problems.append(
            f"{col.name}: {_n(bad)} of {_n(total)} vectors are not {expected}-dimensional{named}"
        )
    if problems:
        return Check(VECTORS, False, _join(problems + fine))
    return Check(VECTORS, True, _join(fine))


def sequences(conn: psycopg.Connection, table: Table) -> Check | None:
    """Each serial/identity sequence hands out a value past the column's current extreme."""
    cols = [c for c in table.columns if c.sequence]
    if not cols:
        return None
    problems, fine = [], []
    for col in cols:
        seq = col.sequence
        assert seq
        increment, last_value, is_called = one(conn.execute(
            sql.SQL(
                "SELECT (SELECT seqincrement FROM pg_sequence WHERE seqrelid = {lit}::regclass), "
                "last_value, is_called FROM {seq}"
            ).format(lit=sql.Literal(seq), seq=sql.SQL(seq))
        ))
        extreme_fn = "max" if increment > 0 else "min"
        extreme = one(conn.execute(
            sql.SQL("SELECT {f}({c}) FROM {t}").format(
                f=sql.SQL(extreme_fn), c=sql.Identifier(col.name), t=table.ident
            )
        ))[0]
        # nextval returns last_value itself until the sequence has been called once
        next_value = last_value + increment if is_called else last_value
        if extreme is None:
            fine.append(f"{seq}: next value {_n(next_value)} (table empty)")
            continue
        ok = next_value > extreme if increment > 0 else next_value < extreme
        text = f"{seq}: next value {_n(next_value)}, {extreme_fn}({col.name}) = {_n(extreme)}"
        if ok:
            fine.append(text)
        else:
            problems.append(
                f"{text}: the next insert would reuse an existing {col.name}; reset it with "
                f"SELECT setval('{seq}', {extreme})"
            )
    if problems:
        return Check(SEQUENCES, False, _join(problems + fine))
    return Check(SEQUENCES, True, _join(fine))


def _join(parts: list[str]) -> str:
    # details start with identifiers and numbers as often as with words: no capitalising
    return "; ".join(p.rstrip(".") for p in parts if p)
