"""The client's vector parsing against the server's own: every float the C readers vouch for is
the float32 pgvector's vector input stores for that text (bit for bit, -0 and subnormals
included), every text the server refuses is deferred by them and refused by the loader's tiers,
and the loader's fields equal the server's for every text it accepts."""

from __future__ import annotations

import random

import polars as pl
import psycopg
import pytest
from vectortexts import PAD, edge, element, midpoint, windowed

from aria_tui.csvio import vectors

native = pytest.importorskip(
    "aria_tui.csvio._native", reason="the C extension was not built (no compiler at install)"
)

TRY = """
CREATE FUNCTION pg_temp.vec(t text) RETURNS bytea LANGUAGE plpgsql AS $$
BEGIN RETURN vector_send(t::vector); EXCEPTION WHEN others THEN RETURN NULL; END $$
"""


def server_fields(conn: psycopg.Connection, rows: list[str]) -> list[bytes | None]:
    """vector_send of each text's vector (dim, unused, big-endian floats), None where the
    server's vector input refuses the text."""
    conn.execute(TRY)
    got = conn.execute(
        "SELECT pg_temp.vec(t) FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, i) ORDER BY i",
        (rows,),
    ).fetchall()
    return [None if b is None else bytes(b) for (b,) in got]


@pytest.fixture
def conn(empty_db):
    with psycopg.connect(empty_db.conninfo, autocommit=True) as c:
        yield c


def texts() -> list[str]:
    rng = random.Random(17)
    out = [element(rng) for _ in range(6000)]
    out += [windowed(rng) for _ in range(3000)] + [midpoint(rng) for _ in range(500)]
    out += [edge(rng) for _ in range(300)]
    return out


@pytest.mark.parametrize("padded", [False, True], ids=["short-row", "long-row"])
def test_the_client_parses_as_the_server(conn, padded: bool) -> None:
    """Short rows are read by the careful reader only; padded ones give the fast readers the room
    they want after the element (the row's other elements are zeros)."""
    rows = [f"[{t}{PAD if padded else ''}]" for t in texts()]
    server = server_fields(conn, rows)
    fields, deferred = native.copy_fields(rows, 0)
    skip = set(deferred)
    vouched = 0
    for i, (row, want) in enumerate(zip(rows, server, strict=True)):
        if i in skip:
            continue
        vouched += 1
        assert want is not None, f"the server refuses {row!r}, the C reader read it"
        assert fields[i][4:] == want, row
    assert vouched > len(rows) // 2  # most of these are meant to be read, not deferred
    refused = {i for i, want in enumerate(server) if want is None}
    assert len(refused) > 100 and refused <= skip
    # the loader's whole answer (the C reader, then the exact tiers for what it deferred)
    loaded = vectors.vector_copy_fields(pl.Series(rows, dtype=pl.String), None)
    assert set(loaded.bad) == refused
    for i, want in enumerate(server):
        if want is not None:
            assert loaded.fields[i][4:] == want, rows[i]
