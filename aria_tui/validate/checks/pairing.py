"""Records and target rows paired: by key (a full join) for keyed tables, as multisets of row
checksums for keyless ones and for records with a NULL in a nullable key.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from aria_tui.validate.checks.queries import NAMES, NOTHING, checksum_bits, one_row
from aria_tui.validate.staging.cast_sql import target_hash, vector_function, vector_same
from aria_tui.validate.staging.key_sql import not_null
from aria_tui.validate.staging.layout import HASH, REC, Layout


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


def pair_by_key(conn: psycopg.Connection, lay: Layout, source: str) -> Paired:
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
        sql.SQL("s.{} AS _aria_sr").format(sql.Identifier(REC)),
        sql.SQL("s.{} AS _aria_sh").format(sql.Identifier(HASH)),
    ]
    s_cols += [sql.SQL("s.{} AS {}").format(sql.Identifier(c), k) for c, k in zip(key, ks, strict=True)]
    s_cols += [sql.SQL("r.{} AS {}").format(sql.Identifier(p.stage), v) for p, v in zip(vec, vs, strict=True)]
    t_cols: list[sql.Composable] = [
        sql.SQL("t.{} AS {}").format(sql.Identifier(c), k) for c, k in zip(key, ks, strict=True)
    ]
    t_cols.append(sql.SQL("{} AS _aria_th").format(target_hash(lay, "t")))
    t_cols += [sql.SQL("t.{} AS {}").format(sql.Identifier(p.name), w) for p, w in zip(vec, ws, strict=True)]
    t_cols.append(sql.SQL("true AS _aria_tp"))
    same: list[sql.Composable] = [sql.SQL("s._aria_sh = t._aria_th")]
    same += [
        vector_same(conn, p.column, sql.SQL("s.{}").format(v), sql.SQL("t.{}").format(w))
        for p, v, w in zip(vec, vs, ws, strict=True)
    ]
    join_source = (
        sql.SQL(" JOIN {} AS r ON r.{rec} = s.{rec}").format(sql.Identifier(source), **NAMES)
        if vec
        else sql.SQL("")
    )
    s_where = sql.SQL(" AND {}").format(not_null(key, "s")) if nullable else sql.SQL("")
    t_where = sql.SQL(" WHERE {}").format(not_null(key, "t")) if nullable else sql.SQL("")
    on = sql.SQL(" AND ").join(sql.SQL("s.{k} = t.{k}").format(k=k) for k in ks)
    row = one_row(
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
            t=table.own_rows,
            same=sql.SQL(" AND ").join(same),
            kk=sql.SQL(", ").join(
                sql.SQL("coalesce(s.{k}, t.{k}) AS {k}").format(k=k) for k in ks
            ),
            on=on,
            ktext=sql.SQL(", ").join(sql.SQL("{}::text").format(k) for k in ks),
            tb=checksum_bits(sql.SQL("th")),
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


def multiset(
    conn: psycopg.Connection,
    lay: Layout,
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
    row = one_row(
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
            tb=checksum_bits(target_hash(lay, "t")),
            t=lay.table.own_rows,
            sf=s_filter,
            tf=t_filter,
            join=join,
        ),
    )
    return Multi(*(int(v or 0) for v in row))


def null_keyed(conn: psycopg.Connection, lay: Layout, source: str) -> Multi:
    """Records with a NULL in a nullable key, against the target's rows with one: a multiset,
    vectors included (parsed, so two spellings of one vector are equal)."""
    key = lay.key
    assert key
    vec = lay.text_vectors
    s_hash: sql.Composable = sql.SQL("s.{}").format(sql.Identifier(HASH))
    t_hash: sql.Composable = target_hash(lay, "t")
    join: sql.Composable = sql.SQL("")
    if vec:
        s_hash = sql.SQL("md5(concat_ws('|', {}, {}))").format(
            s_hash,
            sql.SQL(", ").join(
                sql.SQL("coalesce({}(r.{}, {})::text, '')").format(
                    vector_function(conn, p.column), sql.Identifier(p.stage), sql.Literal(p.column.dimension)
                )
                for p in vec
            ),
        )
        t_hash = sql.SQL("md5(concat_ws('|', {}, {}))").format(
            t_hash,
            sql.SQL(", ").join(sql.SQL("coalesce(t.{}::text, '')").format(sql.Identifier(p.name)) for p in vec),
        )
        join = sql.SQL(" JOIN {} AS r ON r.{rec} = s.{rec}").format(sql.Identifier(source), **NAMES)
    return multiset(
        conn,
        lay,
        s_hash,
        t_hash,
        sql.SQL(" AND NOT ({})").format(not_null(key, "s")),
        sql.SQL(" WHERE NOT ({})").format(not_null(key, "t")),
        join,
    )
