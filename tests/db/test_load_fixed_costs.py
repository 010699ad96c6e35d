"""What a load pays per table beyond its rows (issue 17's fixed costs), counted, never timed: a
table whose indexes are built after its rows opens the index-progress connection only when the
progress poller first asks, so a small table's quick build starts and ends no backend for it."""

from __future__ import annotations

import pytest
from loadkit import load, sql, write

from aria_tui.load import indexes
from aria_tui.pg.connect import Target

DDL = (
    "CREATE TABLE notes (id int PRIMARY KEY, body text, n int)",
    "CREATE INDEX notes_n_idx ON notes (n)",
    "CREATE INDEX notes_body_idx ON notes (body)",
)


@pytest.fixture
def progress_connections(monkeypatch):
    """The connections opened for the index-progress poller (the runner's connect_timeout=3)."""
    opened: list[int] = []
    real = Target.connect

    def connect(self, *, autocommit: bool = False, connect_timeout: int = 10):
        if connect_timeout == 3:
            opened.append(1)
        return real(self, autocommit=autocommit, connect_timeout=connect_timeout)

    monkeypatch.setattr(Target, "connect", connect)
    return opened


def _notes(tmp_path, rows: int) -> None:
    write(tmp_path, "notes.csv", "id,body,n\n" + "".join(f"{i},b{i},{i % 7}\n" for i in range(rows)))


def test_a_quick_index_build_opens_no_progress_connection(empty_db, tmp_path, progress_connections):
    sql(empty_db, *DDL)
    _notes(tmp_path, 200)
    result = load(empty_db, tmp_path)
    assert result.ok, result.to_json()
    (table,) = result.tables
    # the indexes were taken down and built again: the poller had something to watch
    assert {b.name.split(".")[-1] for b in table.indexes} == {"notes_n_idx", "notes_body_idx"}
    assert progress_connections == []


def test_the_poller_still_gets_its_connection_when_it_asks(
    empty_db, tmp_path, progress_connections, monkeypatch
):
    monkeypatch.setattr(indexes, "POLL_S", 0.0)  # asks at once: every build lasts longer
    sql(empty_db, *DDL)
    _notes(tmp_path, 200)
    result = load(empty_db, tmp_path)
    assert result.ok, result.to_json()
    assert len(result.tables[0].indexes) == 2
    assert progress_connections == [1]  # one connection for the table's whole build, closed


def test_a_reload_after_truncate_reads_its_file_only_to_load_it(empty_db, tmp_path, monkeypatch):
    """A table whose chunked load completed, emptied since: the chunked path declines it (no
    chunks left to finish) without hashing the whole file first, and the serial path loads it
    again in its one pass, which hashes the file as it reads it."""
    from loadkit import plan_for, query

    from aria_tui.csvio import files
    from aria_tui.load import run_plan

    monkeypatch.setenv("ARIA_TUI_CHUNK_BYTES", "4096")
    sql(empty_db, *DDL)
    _notes(tmp_path, 3000)
    first = run_plan(empty_db, plan_for(empty_db, tmp_path), jobs=2)
    assert first.tables[0].status == "loaded" and first.tables[0].chunks > 1
    sql(empty_db, "TRUNCATE notes")
    hashed: list[str] = []
    real = files.sha256_file

    def spy(path, *a, **k):
        hashed.append(str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(files, "sha256_file", spy)
    again = run_plan(empty_db, plan_for(empty_db, tmp_path), jobs=2)
    t = again.tables[0]
    assert (t.status, t.inserted, t.csv_rows) == ("loaded", 3000, 3000), t.error
    assert query(empty_db, "SELECT count(*) FROM notes") == [(3000,)]
    assert hashed == []


def test_a_small_empty_table_keeps_its_indexes_and_keys_during_the_load(
    empty_db, tmp_path, monkeypatch
):
    """Below deferred.MIN_ROWS records, taking an empty table's indexes and keys down and
    building them again costs more than maintaining them: they stay, the rows are the same,
    and every index and key is there after; at the threshold they are built after the rows."""
    from loadkit import query

    from aria_tui.load import deferred

    monkeypatch.delenv(deferred.MIN_ROWS_ENV)  # the shipped default (the tests' conftest sets 0)
    assert not deferred.worth_it(deferred.MIN_ROWS - 1) and deferred.worth_it(deferred.MIN_ROWS)
    sql(empty_db, *DDL)
    _notes(tmp_path, 200)
    shape = (
        "SELECT indexrelid::regclass::text, indisvalid, indisprimary FROM pg_index "
        "WHERE indrelid = 'notes'::regclass ORDER BY 1"
    )
    before = query(empty_db, shape)
    result = load(empty_db, tmp_path)
    (table,) = result.tables
    assert (table.status, table.inserted) == ("loaded", 200), table.error
    assert table.indexes == () and not any("built after" in n for n in table.notes)
    assert query(empty_db, shape) == before

    sql(empty_db, "TRUNCATE notes", "DROP SCHEMA aria_tui CASCADE")
    monkeypatch.setenv(deferred.MIN_ROWS_ENV, "200")  # the table is now large enough
    result = load(empty_db, tmp_path)
    (table,) = result.tables
    assert (table.status, table.inserted) == ("loaded", 200), table.error
    assert {b.name.split(".")[-1] for b in table.indexes} == {"notes_n_idx", "notes_body_idx"}
    assert query(empty_db, shape) == before
