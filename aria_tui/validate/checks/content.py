"""The content check: every record found equals its row once cast through the target's types;
conflicts kept by decision are counted as kept.
"""

from __future__ import annotations

from dataclasses import replace

import psycopg
from psycopg import sql

from aria_tui.validate.checks.queries import NAMES, one_row
from aria_tui.validate.checks.staged import Staged
from aria_tui.validate.checks.wording import join_details, number, records_text, short_digest
from aria_tui.validate.model import CONTENT, Check
from aria_tui.validate.staging.cast_sql import vector_same
from aria_tui.validate.staging.key_sql import key_match
from aria_tui.validate.staging.layout import RAW, RECORDS, Layout


def kept_conflicts(
    conn: psycopg.Connection, s: Staged, decided: frozenset[int], on: dict[int, str] | None = None
) -> tuple[int, int]:
    """Of the `decided` records (conflicts kept by decision), those the target does hold
    otherwise, which alone are taken off the differences, never more: (records whose key holds
    other content, records found only through another unique key). Each is excused through the
    key it was kept on (`on`: record -> the constraint or index the load found it on): one kept
    on the layout's key only when a row holds that key (a seed row under the record's key), one
    kept on another unique key only when it is found through another key (another entity
    holding one of its other unique keys). A record the load did not say the key of counts as
    kept on the layout's key."""
    if not decided or not s.lay.key:
        return 0, 0
    on = on or {}
    own = {uk.name for uk in s.lay.table.unique_keys if tuple(uk.columns) == tuple(s.lay.key)}
    by_key = sorted(r for r in decided if not on.get(r) or on[r] in own)
    by_other = sorted(r for r in decided if on.get(r) and on[r] not in own)
    differing = (
        sum(1 for cols in _differing_columns(conn, s, by_key).values() if cols)
        if s.differing and by_key
        else 0
    )
    other = 0
    if s.other_key and by_other:
        (n,) = one_row(
            conn,
            sql.SQL(
                "SELECT coalesce(sum(_n), 0) FROM {miss} "
                "WHERE _bad IS NULL AND _other IS NOT NULL AND {rec} = ANY({d})"
            ).format(**NAMES, d=sql.Literal(by_other)),
        )
        other = int(n)
    return differing, other


def content(
    conn: psycopg.Connection,
    s: Staged,
    decided: frozenset[int] = frozenset(),
    kept: tuple[int, int] | None = None,
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
    kept_differing, kept_other = kept_conflicts(conn, s, decided) if kept is None else kept
    if kept_differing or kept_other:
        s = replace(
            s,
            differing=s.differing - kept_differing,
            differing_samples=tuple(x for x in s.differing_samples if x[0] not in decided),
            other_key=s.other_key - kept_other,
            other_key_samples=tuple(x for x in s.other_key_samples if x[0] not in decided),
        )
    n_kept = kept_differing + kept_other
    tail = f"; {n_kept} conflict{'s' if n_kept != 1 else ''} kept by decision" if n_kept else ""
    if s.differing:
        columns = _differing_columns(conn, s, [rec for rec, _ in s.differing_samples])
        named = ", ".join(
            f"{k} (record {rec}" + (f": {', '.join(columns[rec])}" if columns.get(rec) else "") + ")"
            for rec, k in s.differing_samples
        )
        more = "" if s.differing <= len(s.differing_samples) else ", ..."
        compared = s.equal + s.differing
        problems.append(
            f"{number(s.differing)} of {records_text(compared)} in {lay.table.qualified} "
            f"{'differs' if s.differing == 1 else 'differ'} from {s.file} after casting to the "
            f"target's types: {named}{more}"
        )
    if s.other_key:
        named = "; ".join(f"record {rec}: {why}" for rec, why in s.other_key_samples)
        more = "" if s.other_key <= len(s.other_key_samples) else "; ..."
        problems.append(
            f"{records_text(s.other_key)} of {s.file} found in {lay.table.qualified} only through "
            f"another unique key, with another {', '.join(lay.key)}: {named}{more}"
        )
    if problems:
        return Check(CONTENT, False, join_details(problems) + tail)
    vectors = (
        f", vectors ({', '.join(p.name for p in lay.text_vectors)}) value by value"
        if lay.text_vectors
        else ""
    )
    return Check(
        CONTENT,
        True,
        f"checksum {short_digest(s.export_checksum)} over {records_text(s.equal)} x {ncols} columns"
        f"{vectors}, equal on both sides after casting the export to the target's types"
        f"{_dropped(lay)}{tail}",
    )


def _dropped(lay: Layout) -> str:
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
            same = vector_same(conn, p.column, staged, target)
        elif p.stage in lay.wide:  # the export's text against the stored value, both kept whole
            w = lay.wide[p.stage]
            same = sql.SQL("({}) IS NOT DISTINCT FROM ({})").format(
                sql.SQL(w.export).format(staged), sql.SQL(w.target).format(target)
            )
        else:
            if s.source in (RAW, RECORDS):  # every record compared here cast cleanly when staged
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
            t=lay.table.own_rows,
            m=key_match(key, "t", "s"),
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
            f"{records_text(s.missing)} of {s.file} have no identical row in "
            f"{lay.table.qualified} (no key: compared as whole rows): {named}",
        )
    return Check(
        CONTENT,
        True,
        f"all {records_text(s.equal)} found as identical rows (no key: multiset of row "
        f"checksums, export {short_digest(s.export_checksum)}) over {ncols} columns{_dropped(lay)}",
    )
