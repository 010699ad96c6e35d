"""Secondary indexes built after the data (issue 17): dropped and created again in the table's
transaction, exactly as they were; never a table left without them (failure, kill -9)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from cpu import needs_vector_math
from loadkit import index_defs, kill_9_during, load, query, sql, write

from aria_tui.load.events import TableProgress

ROOT = Path(__file__).resolve().parents[2]

DOCS_DDL = (
    "CREATE TABLE docs (id int PRIMARY KEY, slug text, body text, meta jsonb, n int)",
    "CREATE UNIQUE INDEX docs_slug_key ON docs (slug)",
    "CREATE INDEX docs_n_idx ON docs (n DESC)",
    "CREATE INDEX docs_pos ON docs (n) WHERE n > 0",
    "CREATE INDEX docs_meta_gin ON docs USING gin (meta jsonb_path_ops)",
    "CREATE INDEX docs_body_trgm ON docs USING gin (body gin_trgm_ops)",
    "COMMENT ON INDEX docs_n_idx IS 'newest first'",
    "ALTER TABLE docs CLUSTER ON docs_n_idx",
)
SECONDARY = {"docs_n_idx", "docs_pos", "docs_meta_gin", "docs_body_trgm"}


def _indexdefs(db, table: str = "docs") -> dict:
    return index_defs(db, table)


def _docs_csv(rows: int) -> str:
    lines = ["id,slug,body,meta,n"]
    for i in range(1, rows + 1):
        lines.append(f'{i},s{i},"body text {i}, ""quoted""","{{""k"": {i}}}",{i % 50}')
    return "\n".join(lines) + "\n"


def test_empty_table_indexes_built_after_the_data_exactly_as_they_were(empty_db, tmp_path):
    sql(empty_db, *DOCS_DDL)
    before = _indexdefs(empty_db)
    write(tmp_path, "docs.csv", _docs_csv(500))
    events: list = []
    result = load(empty_db, tmp_path, on_event=events.append)
    assert result.ok, result.to_json()
    table = result.tables[0]
    assert table.inserted == 500
    assert {b.name.split(".")[-1] for b in table.indexes} == SECONDARY
    assert all(b.reason == "after-load" for b in table.indexes)
    assert any("built after the data" in n for n in table.notes)
    assert table.to_json()["indexes"] and set(table.to_json()["indexes"][0]) == {
        "name",
        "method",
        "seconds",
        "reason",
    }
    # the same definitions, comment and CLUSTER mark; all valid; the keys were built after the
    # data too (test_load_constraints.py), the same
    assert _indexdefs(empty_db) == before
    assert all(valid for _, valid, _, _ in before.values())
    assert {c.name.split(".")[-1] for c in table.constraints} == {"docs_pkey", "docs_slug_key"}
    phases = [e for e in events if isinstance(e, TableProgress) and e.phase == "index"]
    assert phases and {e.index.split(".")[-1] for e in phases if e.index} == SECONDARY | {
        "docs_pkey",
        "docs_slug_key",
    }
    # the indexes work: the trigram one finds a body by substring
    assert query(empty_db, "SELECT count(*) FROM docs WHERE body LIKE '%text 499,%'") == [(1,)]


def test_table_with_rows_keeps_its_indexes_during_the_load(empty_db, tmp_path):
    sql(empty_db, *DOCS_DDL, "INSERT INTO docs VALUES (1, 's1', 'body text 1, \"quoted\"', "
        "'{\"k\": 1}', 1)")
    write(tmp_path, "docs.csv", _docs_csv(50))
    result = load(empty_db, tmp_path)
    assert result.ok, result.to_json()
    assert result.tables[0].indexes == ()  # no vector index: nothing rebuilt
    assert result.tables[0].inserted == 49 and result.tables[0].duplicates == 1


def test_a_failed_index_build_rolls_the_table_back_with_its_indexes(empty_db, tmp_path):
    # the index refuses one of the loaded rows only when it is built: the whole table rolls back
    sql(
        empty_db,
        *DOCS_DDL,
        "CREATE FUNCTION inv(x int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT 100 / x'",
        "CREATE INDEX docs_inv ON docs (inv(n))",
    )
    before = _indexdefs(empty_db)
    write(tmp_path, "docs.csv", _docs_csv(60))  # n = i % 50: row 50 has n = 0
    result = load(empty_db, tmp_path)
    table = result.tables[0]
    assert table.status == "failed" and "division by zero" in (table.error or "")
    assert query(empty_db, "SELECT count(*) FROM docs") == [(0,)]
    assert _indexdefs(empty_db) == before


def test_dry_run_leaves_the_indexes(empty_db, tmp_path):
    sql(empty_db, *DOCS_DDL)
    before = _indexdefs(empty_db)
    write(tmp_path, "docs.csv", _docs_csv(100))
    result = load(empty_db, tmp_path, dry_run=True)
    assert result.ok and len(result.tables[0].indexes) == 4
    assert _indexdefs(empty_db) == before
    assert query(empty_db, "SELECT count(*) FROM docs") == [(0,)]


@needs_vector_math
def test_ivfflat_on_a_table_with_rows_is_rebuilt_after_the_bulk_load(empty_db, tmp_path):
    sql(
        empty_db,
        "CREATE TABLE emb (id int PRIMARY KEY, e vector(8))",
        "CREATE INDEX emb_ivf ON emb USING ivfflat (e vector_l2_ops) WITH (lists = 2)",
        "INSERT INTO emb VALUES (0, '[0,0,0,0,0,0,0,0]')",
    )
    rows = ["id,e"] + [f'{i},"[{",".join(str((i * k) % 7) for k in range(8))}]"' for i in range(1, 200)]
    write(tmp_path, "emb.csv", "\n".join(rows) + "\n")
    result = load(empty_db, tmp_path)
    assert result.ok, result.to_json()
    builds = result.tables[0].indexes
    assert [(b.name.split(".")[-1], b.method, b.reason) for b in builds] == [
        ("emb_ivf", "ivfflat", "vector")
    ]
    assert any("rebuilt after the bulk load" in n for n in result.tables[0].notes)


# -- kill -9 during the index build ---------------------------------------------------------------


def test_kill_9_during_the_index_build_converges_with_every_index(empty_db, tmp_path):
    sql(
        empty_db,
        *DOCS_DDL,
        # a slow index expression: the build takes seconds, so the kill lands inside it
        "CREATE FUNCTION slow(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS "
        "'BEGIN PERFORM pg_sleep(0.01); RETURN x; END'",
        "CREATE INDEX docs_slow ON docs (slow(id))",
    )
    before = _indexdefs(empty_db)
    write(tmp_path / "export", "docs.csv", _docs_csv(400))
    argv = [sys.executable, "-m", "aria_tui", "load", str(tmp_path / "export"), "--dsn",
            empty_db.conninfo, "--yes", "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kill_9_during(empty_db, argv, env, 'CREATE INDEX%')
    assert query(empty_db, "SELECT count(*) FROM docs") == [(0,)]
    assert _indexdefs(empty_db) == before  # every index there, valid, as it was

    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["tables"][0]["inserted"] == 400
    assert query(empty_db, "SELECT count(*) FROM docs") == [(400,)]
    assert _indexdefs(empty_db) == before
    with psycopg.connect(empty_db.conninfo) as conn:  # the slow index is used and right
        conn.execute("SET enable_seqscan = off")
        assert conn.execute("SELECT count(*) FROM docs WHERE slow(id) = 7").fetchone() == (1,)
