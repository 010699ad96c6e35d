"""Targets: DSN parsing and redaction, unreachable targets, the embedded server."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aria_tui.errors import TargetUnreachable
from aria_tui.pg import dsn
from aria_tui.pg.catalog import exact_row_count, read_catalog
from aria_tui.pg.connect import resolve


def test_spec_embedded_variants(tmp_path, monkeypatch):
    monkeypatch.delenv("ARIA_TUI_DSN", raising=False)
    assert dsn.parse_spec(None).is_embedded
    assert dsn.parse_spec("embedded").embedded_dir == dsn.default_embedded_dir()
    assert dsn.parse_spec(f"embedded:{tmp_path}").embedded_dir == tmp_path.resolve()
    assert not dsn.parse_spec("postgresql://u@h/db").is_embedded
    monkeypatch.setenv("ARIA_TUI_DSN", "host=h dbname=d")
    assert dsn.parse_spec(None).raw == "host=h dbname=d"


@pytest.mark.parametrize(
    "conninfo",
    ["postgresql://u:s3cret@127.0.0.1:5/db", "host=127.0.0.1 port=5 password=s3cret dbname=db user=u"],
)
def test_display_hides_password(conninfo):
    shown = dsn.display_dsn(conninfo)
    assert "s3cret" not in shown and "***" in shown
    assert "127.0.0.1" in shown and "db" in shown
    assert "s3cret" not in dsn.redact(f"error for {conninfo}: s3cret", conninfo)


def test_unreachable_target_one_sentence_without_password():
    target = resolve("postgresql://u:s3cret@127.0.0.1:1/db")
    with pytest.raises(TargetUnreachable) as err:
        target.connect()
    message = str(err.value)
    assert "s3cret" not in message
    assert "127.0.0.1:1" in message and "db" in message
    assert "\n" not in message


def test_cli_unreachable_exit_2_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "aria_tui", "bootstrap", "--dsn", "postgresql://u:s3cret@127.0.0.1:1/db"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "s3cret" not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


def test_catalog_reads_types_keys_and_fks(empty_db):
    with empty_db.connect() as conn:
        conn.execute(
            """
            CREATE SCHEMA s;
            CREATE TABLE s.parent (id serial PRIMARY KEY, code text UNIQUE NOT NULL, emb vector(3));
            CREATE TABLE s.child (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                parent_id int REFERENCES s.parent(id) ON DELETE CASCADE,
                reply_to bigint REFERENCES s.child(id) ON DELETE SET NULL,
                note text DEFAULT 'x');
            INSERT INTO s.parent (code) VALUES ('a'), ('b');
            """
        )
        cat = read_catalog(conn)
        parent, child = cat.get("s.parent"), cat.get("s.child")
        assert parent.column("emb").type == "vector(3)" and parent.column("emb").dimension == 3
        assert parent.primary_key == ("id",)
        assert [u.columns for u in parent.unique_keys] == [("id",), ("code",)]
        assert parent.column("id").sequence == "s.parent_id_seq"
        assert child.column("id").identity == "always" and child.column("id").sequence
        assert child.column("note").default == "'x'::text"
        fks = {fk.columns: fk for fk in child.foreign_keys}
        assert fks[("parent_id",)].ref_table == "s.parent" and fks[("parent_id",)].on_delete == "CASCADE"
        assert fks[("reply_to",)].self_reference and fks[("reply_to",)].on_delete == "SET NULL"
        assert cat.has_pgvector and "pg_trgm" in cat.extensions
        assert exact_row_count(conn, parent) == 2
        assert cat.find("child") == [child]
