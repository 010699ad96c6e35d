"""`measure()`: the staged file against the target, both ways, in a few passes of the server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import psycopg
from psycopg import sql

from aria_tui.validate.checks.absent import explain_absent
from aria_tui.validate.checks.pairing import Multi, multiset, null_keyed, pair_by_key
from aria_tui.validate.checks.queries import NAMES, checksum_bits, one_row
from aria_tui.validate.checks.staged import Parent, Staged
from aria_tui.validate.checks.wording import key_label
from aria_tui.validate.staging.cast_sql import target_hash
from aria_tui.validate.staging.key_sql import key_text
from aria_tui.validate.staging.layout import HASH, ODD, TYPED, Layout


def measure(
    conn: psycopg.Connection,
    lay: Layout,
    file: str,
    csv_rows: int,
    records: int,
    source: str = TYPED,
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
    target = lay.table.own_rows
    invalid, export_rows, export_sum = one_row(
        conn,
        sql.SQL(
            "SELECT count(*) FILTER (WHERE {r} IS NOT NULL), count(*) FILTER (WHERE {r} IS NULL), "
            "sum({b}) FILTER (WHERE {r} IS NULL) FROM {cast}"
        ).format(**NAMES, b=checksum_bits(sql.Identifier(HASH))),
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
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(ODD)))
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} (kind text, rec bigint, n bigint, k text[])").format(
            sql.Identifier(ODD)
        )
    )
    if target_rows is None:
        target_rows = int(one_row(conn, sql.SQL("SELECT count(*) FROM {}").format(target))[0])
    repeats = 0
    if lay.key:
        paired = pair_by_key(conn, lay, source)
        equal, differing, absent, extras = (
            paired.equal, paired.differing, paired.absent, paired.extras
        )
        null = Multi(0, 0, 0, 0, 0)
        if paired.nullable:
            null = null_keyed(conn, lay, source)
            equal, absent, extras = equal + null.equal, absent + null.short, extras + null.extras
        # a target row paired with k records of the file (a key the file repeats) is one row
        keyed_rows = target_rows - null.t_rows
        repeats = max(0, paired.tp_rows - keyed_rows)
        keyed_sum = paired.tp_sum
        if repeats:
            keyed_sum = int(
                one_row(
                    conn,
                    sql.SQL("SELECT sum({b}) FROM {t} AS t{w}").format(
                        b=checksum_bits(target_hash(lay, "t")), t=target, w=paired.t_where
                    ),
                )[0]
                or 0
            )
        target_sum = keyed_sum + null.t_sum
    else:
        multi = multiset(
            conn, lay, sql.SQL("s.{}").format(sql.Identifier(HASH)), target_hash(lay, "t")
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
            ).format(**NAMES, ks=key_text(lay.key or (), "s"))
        ).fetchall()
        result = replace(result, differing_samples=_labelled(lay.key or (), rows))
    if extras and lay.key:
        rows = conn.execute(
            sql.SQL(
                "SELECT k FROM {odd} WHERE kind = 'x' AND k IS NOT NULL ORDER BY k LIMIT {n}"
            ).format(**NAMES)
        ).fetchall()
        result = replace(
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
            result = replace(
                result,
                doubled=int(rows[0][2]),
                doubled_samples=tuple((int(r[0]), int(r[1])) for r in rows),
            )
    if absent:
        result = explain_absent(conn, result, source, parents, check_cancel)
    return result


def _labelled(key: tuple[str, ...], rows: list[tuple[Any, ...]]) -> tuple[tuple[int, str], ...]:
    return tuple((int(r[0]), key_label(key, tuple(r[1:]))) for r in rows)
