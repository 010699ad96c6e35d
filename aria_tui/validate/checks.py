"""One function per question asked of a loaded table. Each runs in the server and returns a Check.

They work from the export file's staged copy (`_aria_cast`, see staging.py) and the live target
only; the load journal, when there is one, adds an arithmetic cross-check and nothing else, so a
load done by other means (`psql \\copy`) is verified the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import psycopg
from psycopg import sql

from aria_tui.pg.catalog import Table
from aria_tui.pg.rows import one
from aria_tui.validate import staging as st
from aria_tui.validate.journal import JournalEntry
from aria_tui.validate.model import (
    CONTENT,
    FOREIGN_KEYS,
    PRESENCE,
    RECONCILIATION,
    SEQUENCES,
    VECTORS,
    Check,
)

SAMPLES = 5  # keys named in a failing detail
# what the queries below name over and over, for `SQL.format(**NAMES, ...)`: the staged tables
# and their internal columns (staging.py), and how many samples a failing detail names
NAMES = {
    "rec": sql.Identifier(st.REC),
    "r": sql.Identifier(st.REASON),
    "h": sql.Identifier(st.HASH),
    "cast": sql.Identifier(st.CAST),
    "miss": sql.Identifier(st.MISSING),
    "n": sql.Literal(SAMPLES),
}


@dataclass(frozen=True)
class Staged:
    """What the staged file says, measured once per table and shared by the checks."""

    lay: st.Layout
    source: str  # the staged table (`_aria_typed` or `_aria_raw`)
    file: str
    csv_rows: int  # aria-tui's CSV reader
    records: int  # what the server's COPY read
    invalid: int  # records that cannot be cast into the target's types / break NOT NULL
    invalid_samples: tuple[tuple[int, str], ...]  # (record, reason)
    distinct_keys: int  # loadable records with distinct keys (= loadable when keyless)
    missing: int  # loadable records whose key the target lacks, unexplained
    missing_samples: tuple[tuple[int, str], ...]  # (record, key)
    duplicates: int  # missing by key, but the target has the row under another unique key
    orphans: int  # missing, and a foreign key has no parent: the load rejects them
    orphan_samples: tuple[tuple[int, str], ...]

    @property
    def loadable(self) -> int:
        return self.records - self.invalid

    @property
    def rejected(self) -> int:
        return self.invalid + self.orphans

    @property
    def in_file_duplicates(self) -> int:
        return self.loadable - self.distinct_keys


def _n(value: int) -> str:
    return f"{value:,}"


def _records(n: int) -> str:
    return f"{_n(n)} record" + ("" if n == 1 else "s")


def key_label(cols: tuple[str, ...], values: tuple[str | None, ...]) -> str:
    """`id=42` or `(category, key)=(a, b)`: how a row is named in a detail."""
    shown = tuple("NULL" if v is None else (v if len(v) <= 60 else v[:57] + "...") for v in values)
    if len(cols) == 1:
        return f"{cols[0]}={shown[0]}"
    return f"({', '.join(cols)})=({', '.join(shown)})"


def measure(
    conn: psycopg.Connection,
    lay: st.Layout,
    file: str,
    csv_rows: int,
    records: int,
    source: str = st.TYPED,
) -> Staged:
    """Count invalid, missing, duplicate and orphan records of the staged file (`source` is the
    staged table that still holds the text of the text-compared vectors)."""
    target = lay.table.ident
    key = lay.key
    if key:
        distinct = sql.SQL("count(DISTINCT ({})) FILTER (WHERE {} IS NULL)").format(
            sql.SQL(", ").join(map(sql.Identifier, key)) if len(key) > 1 else sql.Identifier(key[0]),
            sql.Identifier(st.REASON),
        )
    else:
        distinct = sql.SQL("count(*) FILTER (WHERE {} IS NULL)").format(sql.Identifier(st.REASON))
    invalid, distinct_keys = one(conn.execute(
        sql.SQL("SELECT count(*) FILTER (WHERE {r} IS NOT NULL), {d} FROM {cast}").format(
            **NAMES, d=distinct
        )
    ))
    invalid_samples: tuple[tuple[int, str], ...] = ()
    if invalid:
        invalid_samples = tuple(
            conn.execute(
                sql.SQL(
                    "SELECT {rec}, {r} FROM {cast} WHERE {r} IS NOT NULL ORDER BY {rec} LIMIT {n}"
                ).format(**NAMES)
            ).fetchall()
        )
    missing = duplicates = orphans = 0
    missing_samples: tuple[tuple[int, str], ...] = ()
    orphan_samples: tuple[tuple[int, str], ...] = ()
    if key:
        dup = sql.SQL(" OR ").join(
            sql.SQL("EXISTS (SELECT 1 FROM {t} AS t WHERE {m})").format(
                t=target, m=st.key_match(u, "t", "s")
            )
            for u in lay.uniques
        ) if lay.uniques else sql.SQL("false")
        orphan_parts = [
            sql.SQL(
                "CASE WHEN {nn} AND NOT EXISTS (SELECT 1 FROM {ref} AS p WHERE {m}) THEN {name} END"
            ).format(
                nn=st.not_null(cols, "s"),
                ref=st.qualified(ref),
                m=st.fk_match(cols, ref_cols, "s", "p"),
                name=sql.Literal(f"{', '.join(cols)} -> {ref} ({', '.join(ref_cols)})"),
            )
            for _name, cols, ref, ref_cols in lay.fks
        ]
        orphan = (
            sql.SQL("NULLIF(concat_ws('; ', {}), '')").format(sql.SQL(", ").join(orphan_parts))
            if orphan_parts
            else sql.SQL("NULL::text")
        )
        # a text-compared vector was not parsed when staged: a record the target lacks may be
        # one whose vector the load rejected, so parse those (and only those) now
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
        bad = (
            sql.SQL("NULLIF(concat_ws('; ', {}), '')").format(sql.SQL(", ").join(bad_parts))
            if bad_parts
            else sql.SQL("NULL::text")
        )
        join_source = (
            sql.SQL(" JOIN {} AS r ON r.{rec} = s.{rec}").format(sql.Identifier(source), **NAMES)
            if bad_parts
            else sql.SQL("")
        )
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(st.MISSING)))
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE {miss} AS SELECT s.{rec} AS {rec}, {ktext}, ({dup}) AS _dup, "
                "{orphan} AS _orphan, {bad} AS _bad FROM {cast} AS s{join} WHERE s.{r} IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM {t} AS t WHERE {m})"
            ).format(
                **NAMES,
                ktext=sql.SQL(", ").join(
                    sql.SQL("s.{}::text AS {}").format(sql.Identifier(c), sql.Identifier(f"k{i}"))
                    for i, c in enumerate(key)
                ),
                dup=dup,
                orphan=orphan,
                bad=bad,
                join=join_source,
                t=target,
                m=st.key_match(key, "t", "s"),
            )
        )
        duplicates, bad_vectors, orphans, missing = one(conn.execute(
            sql.SQL(
                "SELECT count(*) FILTER (WHERE _dup), "
                "count(*) FILTER (WHERE NOT _dup AND _bad IS NOT NULL), "
                "count(*) FILTER (WHERE NOT _dup AND _bad IS NULL AND _orphan IS NOT NULL), "
                "count(*) FILTER (WHERE NOT _dup AND _bad IS NULL AND _orphan IS NULL) FROM {}"
            ).format(sql.Identifier(st.MISSING))
        ))
        if bad_vectors:
            rows = conn.execute(
                sql.SQL(
                    "SELECT {rec}, _bad FROM {miss} WHERE NOT _dup AND _bad IS NOT NULL "
                    "ORDER BY {rec} LIMIT {n}"
                ).format(**NAMES)
            ).fetchall()
            invalid += bad_vectors
            distinct_keys -= bad_vectors
            invalid_samples = tuple(sorted(invalid_samples + tuple(rows)))[:SAMPLES]
        ks = sql.SQL(", ").join(sql.Identifier(f"k{i}") for i in range(len(key)))
        if missing:
            rows = conn.execute(
                sql.SQL(
                    "SELECT {rec}, {ks} FROM {miss} WHERE NOT _dup AND _bad IS NULL AND _orphan IS NULL "
                    "ORDER BY {rec} LIMIT {n}"
                ).format(**NAMES, ks=ks)
            ).fetchall()
            missing_samples = tuple((r[0], key_label(key, tuple(r[1:]))) for r in rows)
        if orphans:
            rows = conn.execute(
                sql.SQL(
                    "SELECT {rec}, _orphan, {ks} FROM {miss} WHERE NOT _dup AND _bad IS NULL "
                    "AND _orphan IS NOT NULL "
                    "ORDER BY {rec} LIMIT {n}"
                ).format(**NAMES, ks=ks)
            ).fetchall()
            orphan_samples = tuple(
                (r[0], f"{key_label(key, tuple(r[2:]))} ({r[1]})") for r in rows
            )
    return Staged(
        lay=lay,
        source=source,
        file=file,
        csv_rows=csv_rows,
        records=records,
        invalid=invalid,
        invalid_samples=invalid_samples,
        distinct_keys=distinct_keys,
        missing=missing,
        missing_samples=missing_samples,
        duplicates=duplicates,
        orphans=orphans,
        orphan_samples=orphan_samples,
    )


def reconciliation(
    s: Staged,
    target_rows: int,
    entry: JournalEntry | None,
    *,
    journal_found: bool = False,
    file_bytes: int | None = None,
) -> Check:
    """Counts: the file as two readers see it, what belongs in the target, and the journal's sum."""
    problems: list[str] = []
    parts: list[str] = []
    if s.records != s.csv_rows:
        problems.append(
            f"aria-tui's CSV reader counts {_records(s.csv_rows)} in {s.file} but PostgreSQL reads "
            f"{_n(s.records)}"
        )
    else:
        parts.append(f"{_records(s.csv_rows)} in {s.file} (PostgreSQL reads the same)")
    # what must be there: every loadable record, once per key, unless the target already had it
    # under another unique key (skipped as a duplicate) or its parent is absent (rejected)
    expected = s.distinct_keys - s.duplicates - s.orphans
    extras = []
    if s.rejected:
        extras.append(f"{_n(s.rejected)} not loadable")
    if s.in_file_duplicates:
        extras.append(f"{_n(s.in_file_duplicates)} repeat a key of the file")
    if s.duplicates:
        extras.append(f"{_n(s.duplicates)} already in the target under another unique key")
    sentence = f"at least {_n(expected)} belong in the target"
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
        total = entry.inserted + entry.duplicates + entry.rejected
        arithmetic = (
            f"journal of the load: inserted {_n(entry.inserted)} + duplicates "
            f"{_n(entry.duplicates)} + rejected {_n(entry.rejected)} = {_n(total)}"
        )
        if entry.status not in ("loaded", "resumed"):
            problems.append(
                f"the load journal says this table was {entry.status}"
                + (f": {entry.error}" if entry.error else "")
            )
        elif entry.size is not None and file_bytes is not None and entry.size != file_bytes:
            # the journal speaks of another version of the file: its numbers prove nothing here
            parts.append(
                f"the load journal is for an earlier version of {s.file} ({_n(entry.size)} bytes, "
                f"now {_n(file_bytes)}): its numbers are not compared"
            )
        elif total != s.csv_rows:
            problems.append(f"{arithmetic}, not the file's {_n(s.csv_rows)}")
        else:
            parts.append(arithmetic)
    if problems:
        return Check(RECONCILIATION, False, _join(problems + parts))
    return Check(RECONCILIATION, True, _join(parts))


def presence(s: Staged) -> Check:
    """Every loadable record's key is in the target."""
    key = s.lay.key
    if not key:
        return Check(
            PRESENCE,
            True,
            f"{s.lay.table.qualified} has no primary or unique key among the loaded columns: "
            "records are matched as whole rows by the content check",
        )
    label = ", ".join(key)
    notes = []
    if s.invalid:
        first = "; ".join(f"record {rec}: {why}" for rec, why in s.invalid_samples[:3])
        notes.append(f"{_n(s.invalid)} not loadable ({first})")
    if s.orphans:
        first = "; ".join(f"record {rec}: {k}" for rec, k in s.orphan_samples[:3])
        notes.append(f"{_n(s.orphans)} rejected for a missing parent ({first})")
    if s.duplicates:
        notes.append(f"{_n(s.duplicates)} skipped as duplicates of rows under another unique key")
    tail = f"; {'; '.join(notes)}" if notes else ""
    if s.missing:
        named = ", ".join(f"{k} (record {rec})" for rec, k in s.missing_samples)
        more = "" if s.missing <= len(s.missing_samples) else ", ..."
        return Check(
            PRESENCE,
            False,
            f"{_records(s.missing)} of {s.file} missing from {s.lay.table.qualified} "
            f"by {label}: {named}{more}{tail}",
        )
    present = s.loadable - s.duplicates - s.orphans
    return Check(PRESENCE, True, f"all {_n(present)} loadable records found by {label}{tail}")


def _bits(expr: sql.Composable) -> sql.Composable:
    # the first 60 bits of an md5 as a bigint: a sum of them is an order-independent checksum
    return sql.SQL("('x' || left({}, 15))::bit(60)::bigint").format(expr)


def _digest(count: int, total: object) -> str:
    return hashlib.md5(f"{count}:{total or 0}".encode()).hexdigest()[:12]


def content(conn: psycopg.Connection, s: Staged) -> Check:
    """Checksum of every loaded record, export side cast through the target's types."""
    lay = s.lay
    ncols = len(lay.pairs)
    if lay.key:
        return _content_keyed(conn, s, ncols)
    return _content_multiset(conn, s, ncols)


def _content_keyed(conn: psycopg.Connection, s: Staged, ncols: int) -> Check:
    lay = s.lay
    key = lay.key
    assert key
    join_source = (
        sql.SQL(" JOIN {} AS r ON r.{rec} = s.{rec}").format(sql.Identifier(s.source), **NAMES)
        if lay.text_vectors
        else sql.SQL("")
    )
    fmt = dict(
        NAMES,
        keys=sql.SQL(", ").join(map(sql.Identifier, key)),
        tkeys=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in key),
        th=st.target_hash(lay, "t"),
        veq=st.vectors_equal(conn, lay, "r", "t"),
        t=lay.table.ident,
        join=join_source,
        m=st.key_match(key, "t", "s"),
    )
    # each target row with its export twin; the inner OFFSET 0 hashes every target row once.
    # `_aria_v`: its vectors equal the export's (compared apart from the hash, see Layout)
    pairs = (
        "SELECT {tkeys}, {th} AS _aria_th, s.{h} AS _aria_sh, s.{rec} AS _aria_r, "
        "{veq} AS _aria_v FROM {t} AS t JOIN {cast} AS s ON {m}{join} WHERE s.{r} IS NULL OFFSET 0"
    )
    if s.in_file_duplicates:
        # a key repeated in the file can only load once: the row is right when it equals any of
        # the file's records with that key
        joined = sql.SQL(
            "SELECT {keys}, _aria_th, bool_or(_aria_sh = _aria_th AND _aria_v) AS _aria_same, "
            "min(_aria_r) AS _aria_r FROM (" + pairs + ") AS x "
            "GROUP BY {keys}, _aria_th"
        ).format(**fmt)
    else:
        joined = sql.SQL(
            "SELECT {keys}, _aria_th, _aria_sh = _aria_th AND _aria_v AS _aria_same, _aria_r "
            "FROM (" + pairs + ") AS x"
        ).format(**fmt)
    compared, differing, target_sum = one(conn.execute(
        sql.SQL(
            "SELECT count(*), count(*) FILTER (WHERE NOT _aria_same), sum({tb}) FROM ({j}) AS j"
        ).format(tb=_bits(sql.SQL("_aria_th")), j=joined)
    ))
    t_sum = _digest(compared, target_sum)
    if differing:
        rows = conn.execute(
            sql.SQL(
                "SELECT _aria_r, {ks} FROM ({j}) AS j WHERE NOT _aria_same ORDER BY _aria_r LIMIT {n}"
            ).format(
                ks=sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in key),
                j=joined,
                **NAMES,
            )
        ).fetchall()
        columns = _differing_columns(conn, s, [r[0] for r in rows])
        named = ", ".join(
            f"{key_label(key, tuple(r[1:]))} (record {r[0]}"
            + (f": {', '.join(columns[r[0]])}" if columns.get(r[0]) else "")
            + ")"
            for r in rows
        )
        more = "" if differing <= len(rows) else ", ..."
        return Check(
            CONTENT,
            False,
            f"{_n(differing)} of {_records(compared)} in {lay.table.qualified} "
            f"{'differs' if differing == 1 else 'differ'} from {s.file} after casting to the "
            f"target's types: {named}{more}",
        )
    vectors = (
        f", vectors ({', '.join(p.name for p in lay.text_vectors)}) value by value"
        if lay.text_vectors
        else ""
    )
    return Check(
        CONTENT,
        True,
        f"checksum {t_sum} over {_records(compared)} x {ncols} columns{vectors}, equal on both "
        f"sides after casting the export to the target's types{_dropped(lay)}",
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
            one = st.Layout(lay.table, lay.header, lay.stage_columns, (p,), key, (), (), ())
            same = st.vectors_equal(conn, one, "r", "t")
        else:
            if s.source == st.RAW:  # every record compared here cast cleanly when staged
                staged = sql.SQL("{}::{}").format(staged, sql.SQL(p.column.type))
            # record_send compares any type, json included (which has no = operator)
            same = sql.SQL("record_send(ROW({})) = record_send(ROW({}))").format(staged, target)
        tests.append(
            sql.SQL("CASE WHEN NOT ({}) THEN {} END").format(same, sql.Literal(p.name))
        )
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


def _content_multiset(conn: psycopg.Connection, s: Staged, ncols: int) -> Check:
    """No key: every export row hash must occur in the target at least as often as in the file."""
    lay = s.lay
    short, short_records, export_n, export_sum, recs = one(conn.execute(
        sql.SQL(
            "WITH s AS (SELECT {h} AS h, count(*) AS n, min({rec}) AS rec FROM {cast} "
            "WHERE {r} IS NULL GROUP BY {h}), "
            "t AS (SELECT {th} AS h, count(*) AS n FROM {t} AS t GROUP BY 1) "
            "SELECT count(*) FILTER (WHERE s.n > coalesce(t.n, 0)), "
            "coalesce(sum(s.n - coalesce(t.n, 0)) FILTER (WHERE s.n > coalesce(t.n, 0)), 0), "
            "coalesce(sum(s.n), 0), sum({bits} * s.n), "
            "(array_agg(s.rec ORDER BY s.rec) FILTER (WHERE s.n > coalesce(t.n, 0)))[1:{n}] "
            "FROM s LEFT JOIN t ON t.h = s.h"
        ).format(
            **NAMES,
            th=st.target_hash(lay, "t"),
            t=lay.table.ident,
            bits=_bits(sql.SQL("s.h")),
        )
    ))
    digest = _digest(export_n, export_sum)
    if short:
        named = ", ".join(f"record {r}" for r in recs or ())
        return Check(
            CONTENT,
            False,
            f"{_records(int(short_records))} of {s.file} have no identical row in "
            f"{lay.table.qualified} (no key: compared as whole rows): {named}",
        )
    return Check(
        CONTENT,
        True,
        f"all {_records(int(export_n))} found as identical rows (no key: multiset of row "
        f"checksums, export {digest}) over {ncols} columns{_dropped(lay)}",
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
