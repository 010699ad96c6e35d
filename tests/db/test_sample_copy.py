"""The sample exports against real bootstrapped targets.

The strongest check there is: every generated file loads with a plain
`COPY table (header) FROM STDIN (FORMAT csv, HEADER true)` in foreign-key order, and
PostgreSQL's own `COPY ... TO STDOUT (FORMAT csv)` of the loaded rows gives back the very same
records, byte for byte. That proves the types (uuids, JSON, timestamps, numerics, vector
dimensions), the foreign keys, the unique keys and the text formats in one go.
"""

from __future__ import annotations

import io
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from aria_tui import profiles
from aria_tui.pg.catalog import Catalog, read_catalog
from aria_tui.sample import write_sample

ARCHON_ROWS = {"archon_crawled_pages": 400, "archon_page_metadata": 8, "archon_code_examples": 60}


def raw_records(data: bytes) -> list[bytes]:
    """CSV bytes split into raw records: a newline inside quotes does not end a record."""
    records: list[bytes] = []
    pending: list[bytes] = []
    quotes = 0
    for line in data.split(b"\n")[:-1]:
        pending.append(line)
        quotes += line.count(b'"')
        if quotes % 2 == 0:
            records.append(b"\n".join(pending))
            pending, quotes = [], 0
    assert not pending, "unterminated quoted field"
    return records


def fk_order(catalog: Catalog, targets: list[str]) -> list[str]:
    """Parents before children (self-references aside)."""
    order: list[str] = []

    def visit(q: str) -> None:
        if q in order:
            return
        for fk in catalog.get(q).foreign_keys:
            if not fk.self_reference:
                visit(fk.ref_table)
        order.append(q)

    for q in targets:
        visit(q)
    return [q for q in order if q in targets]


def copy_out(conn: psycopg.Connection, query: sql.Composable) -> bytes:
    buf = io.BytesIO()
    with conn.cursor().copy(
        sql.SQL("COPY ({}) TO STDOUT (FORMAT csv, HEADER true)").format(query)
    ) as cp:
        for chunk in cp:
            buf.write(chunk)
    return buf.getvalue()


def load_and_round_trip(
    conn: psycopg.Connection, profile_name: str, folder: Path
) -> dict[str, int]:
    profile = profiles.load(profile_name)
    catalog = read_catalog(conn, list(profile.schemas))
    conn.execute("SET TimeZone = 'UTC'")
    entries = {e.target: e for e in profile.tables if e.target}
    # the bootstrap's seed rows would be duplicates; this test is about the plain COPY path
    conn.execute(
        sql.SQL("TRUNCATE {} CASCADE").format(
            sql.SQL(", ").join(catalog.get(q).ident for q in entries)
        )
    )
    loaded: dict[str, int] = {}
    for q in fk_order(catalog, list(entries)):
        entry, table = entries[q], catalog.get(q)
        data = (folder / f"{entry.file}.csv").read_bytes()
        header = data.split(b"\n", 1)[0].decode().split(",")
        assert header == list(table.column_names) + list(entry.extra_columns), entry.file
        dest: sql.Composable = table.ident
        if entry.extra_columns:
            # the v3 goals.csv has two columns v4 dropped: stage the file, insert the rest
            conn.execute(sql.SQL("CREATE TEMP TABLE staged (LIKE {})").format(table.ident))
            for extra in entry.extra_columns:
                conn.execute(
                    sql.SQL("ALTER TABLE staged ADD COLUMN {} text").format(sql.Identifier(extra))
                )
            dest = sql.Identifier("staged")
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in header)
        with conn.cursor().copy(
            sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(dest, cols)
        ) as cp:
            cp.write(data)
        select: sql.Composable = sql.SQL("SELECT * FROM {}").format(table.ident)
        if entry.extra_columns:
            names = sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
            conn.execute(
                sql.SQL("INSERT INTO {} ({}) SELECT {} FROM staged").format(
                    table.ident, names, names
                )
            )
            assert (
                conn.execute(
                    "SELECT count(*) FROM staged WHERE category IS NOT NULL OR metadata IS NOT NULL"
                ).fetchone()[0]
                == 0
            )
            conn.execute("DROP TABLE staged")
            select = sql.SQL("SELECT t.*, {} FROM {} t").format(
                sql.SQL(", ").join(
                    sql.SQL("NULL AS {}").format(sql.Identifier(x)) for x in entry.extra_columns
                ),
                table.ident,
            )
        back = copy_out(conn, select)
        # heap order may differ from file order; every record must come back byte-identical
        assert sorted(raw_records(back)) == sorted(raw_records(data)), (
            f"{entry.file} does not round-trip"
        )
        loaded[entry.file] = len(raw_records(data)) - 1
    conn.commit()
    return loaded


@pytest.fixture(scope="module")
def aria_sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("aria_sample")
    write_sample(out, "aria_v4", "small")
    return out


def test_aria_sample_seed_rows_are_the_bootstraps_rows(aria_db, aria_sample):
    """aria_identity, aria_birth, the awakening thought and system_init: same ids, same values."""
    profile = profiles.load("aria_v4")
    seeded = 0
    with aria_db.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        catalog = read_catalog(conn, list(profile.schemas))
        for entry in profile.tables:
            if not entry.target or entry.extra_columns:
                continue
            rows = raw_records(
                copy_out(conn, sql.SQL("SELECT * FROM {}").format(catalog.get(entry.target).ident))
            )[1:]
            ours = set(raw_records((aria_sample / f"{entry.file}.csv").read_bytes()))
            for row in rows:
                assert row in ours, (
                    f"{entry.file}: the bootstrap's row {row[:60]!r} is not in the export"
                )
            seeded += len(rows)
    assert seeded >= 4


def test_aria_sample_loads_with_plain_copy_and_round_trips(aria_db, aria_sample):
    with aria_db.connect() as conn:
        loaded = load_and_round_trip(conn, "aria_v4", aria_sample)
        assert len(loaded) == 30
        # foreign keys point at rows that exist, and some of them are NULL
        assert (
            conn.execute(
                "SELECT count(*) FROM aria_data.social_posts WHERE reply_to IS NOT NULL"
            ).fetchone()[0]
            > 10
        )
        nulls = conn.execute(
            "SELECT count(*) FILTER (WHERE session_id IS NULL), count(*) FROM aria_data.model_usage"
        ).fetchone()
        assert 0 < nulls[0] < nulls[1]
        assert (
            conn.execute(
                "SELECT vector_dims(embedding) FROM aria_data.semantic_memories LIMIT 1"
            ).fetchone()[0]
            == 768
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM aria_data.session_messages WHERE content = ''"
            ).fetchone()[0]
            == 1
        )


def test_archon_sample_loads_with_plain_copy_and_round_trips(archon_db, tmp_path):
    write_sample(tmp_path, "archon", "small", rows=ARCHON_ROWS)
    with archon_db.connect() as conn:
        loaded = load_and_round_trip(conn, "archon", tmp_path)
        assert loaded["archon_crawled_pages"] == 400
        dims, n = conn.execute(
            "SELECT min(vector_dims(embedding_1536)), count(*) FILTER (WHERE embedding_768 IS NULL AND embedding_dimension = 1536) "
            "FROM archon_crawled_pages"
        ).fetchone()
        assert dims == 1536 and n == 400
        # every chunk points at a source and a page that exist (no FK declares it, so check)
        orphans = conn.execute(
            "SELECT count(*) FROM archon_crawled_pages c LEFT JOIN archon_sources s ON s.source_id = c.source_id::text "
            "LEFT JOIN archon_page_metadata p ON p.id = c.page_id WHERE s.source_id IS NULL OR p.id IS NULL"
        ).fetchone()[0]
        assert orphans == 0
