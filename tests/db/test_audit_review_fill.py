"""Adversarial review of the fill:VALUE decision and the plan's `refused = [...]` (commits
032c222, 13248c0, 982b6fc, ba807db). Each test failed on ba807db and asserts the honest outcome;
each docstring says the setup, what the tool did then, and where it came from."""

from __future__ import annotations

import json
import tomllib

import pytest
from loadkit import query, sql, write

FILL = ("--decide", "app.memory.agent_id=fill:main")


def _defaults(db) -> dict[str, str | None]:
    """relname -> agent_id's own default, for app.memory and every table under it."""
    rows = query(
        db,
        "SELECT c.relname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE n.nspname = 'app' AND a.attname = 'agent_id' AND c.relkind IN ('r', 'p')",
    )
    return dict(rows)


@pytest.mark.parametrize("kind", ["partition", "inheritance child"])
def test_a_fill_leaves_the_default_of_a_partition_or_child_table_as_it_was(
    empty_db, cli, tmp_path, kind
):
    """Setup: app.memory (agent_id text NOT NULL, no default) with a partition (or an
    inheritance child) that has its own DEFAULT on agent_id ('lo-own' / 'child-own'); the export
    lacks agent_id; `load --decide app.memory.agent_id=fill:main`.
    Did: exit 0, ddl shows only the parent's SET DEFAULT / DROP DEFAULT, and the partition's
    (child's) own default is gone after the load (both statements recurse: ALTER TABLE without
    ONLY). Measured: {'memory': None, 'memory_lo': "'lo-own'::text", ...} before,
    {'memory': None, 'memory_lo': None, ...} after.
    Truth: the fill's default exists only inside the load; every table's schema stays as it was.
    A schema change nobody decided, never shown (an app inserting straight into the partition
    now fails on NOT NULL).
    Cause: aria_tui/load/decisions.py:_fill (the restore puts back the parent's catalog default
    only, and ALTER TABLE recurses to partitions/children).
    Fix: SET DEFAULT / restore with ALTER TABLE ONLY (rows routed through the parent take the
    parent's default), or read and restore each partition's/child's own default."""
    if kind == "partition":
        sql(
            empty_db,
            "CREATE SCHEMA app",
            "CREATE TABLE app.memory (id int, note text, agent_id text NOT NULL, PRIMARY KEY (id)) "
            "PARTITION BY RANGE (id)",
            "CREATE TABLE app.memory_lo PARTITION OF app.memory (agent_id DEFAULT 'lo-own') "
            "FOR VALUES FROM (0) TO (100)",
            "CREATE TABLE app.memory_hi PARTITION OF app.memory FOR VALUES FROM (100) TO (1000)",
        )
        extra: tuple[str, ...] = ()
    else:
        sql(
            empty_db,
            "CREATE SCHEMA app",
            "CREATE TABLE app.memory (id int PRIMARY KEY, note text, agent_id text NOT NULL)",
            "CREATE TABLE app.child (extra int, agent_id text NOT NULL DEFAULT 'child-own') "
            "INHERITS (app.memory)",
        )
        extra = ("--tables", "app.memory")
    write(tmp_path, "app.memory.csv", "id,note\n1,a\n150,b\n")
    before = _defaults(empty_db)
    assert "'lo-own'::text" in before.values() or "'child-own'::text" in before.values(), before
    code, out, err = cli(
        "load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--json", *FILL, *extra
    )
    assert code == 0, (out, err)
    assert query(empty_db, "SELECT DISTINCT agent_id FROM app.memory") == [("main",)]
    assert _defaults(empty_db) == before, (before, _defaults(empty_db))


def test_the_plan_file_stays_valid_toml_with_a_refused_value_holding_a_delete_character(
    empty_db, cli, tmp_path
):
    """Setup: an enum column; one record holds 'me\\x7fh' (a DEL inside). `plan --out p.toml`.
    Did: exit 0, 'Plan written'; the refused = [...] string carries the server's reason with the
    raw U+007F (json.dumps(ensure_ascii=False) leaves it unescaped), which TOML forbids; `load
    --plan p.toml` then exits 2: "is not valid TOML: Illegal character '\\x7f' (at line 22 ...)".
    Truth: the file `plan` writes is one `load --plan` reads (a plan that cannot be replayed is a
    block with no way forward but rewriting it by hand).
    Cause: aria_tui/load/cutover.py:_q (JSON is not TOML: U+007F must be escaped in a TOML basic
    string; comments may not hold it either, e.g. the narrow-column comment's raw reason).
    Fix: escape U+007F (and every control char) as \\u007F in _q, and in _Writer.comment."""
    sql(
        empty_db,
        "CREATE SCHEMA app",
        "CREATE TYPE app.mood AS ENUM ('ok', 'bad')",
        "CREATE TABLE app.memory (id int PRIMARY KEY, mood app.mood)",
    )
    export = tmp_path / "export"
    write(export, "app.memory.csv", "id,mood\n1,ok\n2,me\x7fh\n")
    plan = tmp_path / "p.toml"
    code, out, err = cli("plan", export, "--dsn", empty_db.conninfo, "--out", plan)
    assert code == 0, (out, err)
    text = plan.read_text(encoding="utf-8")
    (table,) = tomllib.loads(text)["table"]  # raises TOMLDecodeError on HEAD
    assert any("mood" in r for r in table["refused"]), table


def test_the_plan_counts_every_sampled_record_an_empty_not_null_field_refuses(
    empty_db, cli, tmp_path
):
    """Setup: n int NOT NULL; 1,000 records, every second one with n empty (500 NULLs), all
    sampled (a small file is read whole). `plan --out p.toml`, then `load --plan`.
    Did: the plan says and writes 'n: 1 of 1,000 sampled records, first line 2 (''): empty field
    (NULL) but app.memory.n is NOT NULL'; the load then rejects 500 records.
    Truth: 500 of 1,000 sampled records are refused: the plan's number must be the records,
    as its sentence says ("N of M sampled records"), or the operator accepts 1 and gets 500.
    Cause: aria_tui/scan/verdict.py (the NULL issue is a BadValue with the default records=1;
    sample.py keeps only the first NULL's line, null_line, not a count).
    Fix: count the NULLs of NOT NULL columns in the sampled rows (and say when the first NULL
    lies outside the sample) and use that count for the NULL BadValue."""
    sql(empty_db, "CREATE SCHEMA app", "CREATE TABLE app.memory (id int PRIMARY KEY, n int NOT NULL)")
    export = tmp_path / "export"
    rows = "".join(f"{i},{'' if i % 2 else i}\n" for i in range(1, 1001))
    write(export, "app.memory.csv", "id,n\n" + rows)
    plan = tmp_path / "p.toml"
    code, out, err = cli("plan", export, "--dsn", empty_db.conninfo, "--out", plan)
    assert code == 0, (out, err)
    (table,) = tomllib.loads(plan.read_text(encoding="utf-8"))["table"]
    (refused,) = table["refused"]
    code, out, err = cli(
        "load", export, "--dsn", empty_db.conninfo, "--plan", plan, "--yes", "--json",
        "--accept-rejects", "app.memory",
    )  # fmt: skip
    (t,) = json.loads(out)["tables"]
    assert t["rejected"] == 500, t
    assert refused.startswith("n: 500 of 1,000 sampled records"), (refused, t["rejected"])


def test_validate_does_not_list_a_fill_value_no_row_holds(empty_db, cli, tmp_path):
    """Setup: load with --decide app.memory.agent_id=fill:A (2 rows, agent_id 'A'); a re-run
    with fill:B, then `validate --decide app.memory.agent_id=fill:B`.
    Did: the re-run processed the table again (another decisions key), inserted 0 and noted
    "agent_id filled with 'B' in every loaded record"; validate exits 0 and its decisions list
    "app.memory.agent_id filled with 'B' in every loaded record" while every row holds 'A'
    (no row was ever loaded with 'B').
    Truth: the proof's listing of what the operator decided must match the target: either the
    re-run / validate says the rows were loaded with 'A' (the commit record's decision), or the
    other value is refused in one sentence (empty the table to load it with 'B').
    Cause: aria_tui/validate/table.py lists the decision given on the command line, not the one
    the commit records were made under; aria_tui/load/decisions.py:_apply writes the note
    whatever the rows hold.
    Fix: record the fill value in the commit record (decided JSON) and have validate compare
    it with the decision it is given (list the applied one, or fail the table)."""
    sql(
        empty_db,
        "CREATE SCHEMA app",
        "CREATE TABLE app.memory (id int PRIMARY KEY, note text, agent_id text NOT NULL)",
    )
    export = tmp_path / "export"
    write(export, "app.memory.csv", "id,note\n1,a\n2,b\n")
    base = ("load", export, "--dsn", empty_db.conninfo, "--yes", "--json")
    code, out, err = cli(*base, "--decide", "app.memory.agent_id=fill:A")
    assert code == 0, (out, err)
    cli(*base, "--decide", "app.memory.agent_id=fill:B")
    assert query(empty_db, "SELECT DISTINCT agent_id FROM app.memory") == [("A",)]
    code, vout, err = cli(
        "validate", export, "--dsn", empty_db.conninfo, "--json", "--report-dir", tmp_path / "r",
        "--decide", "app.memory.agent_id=fill:B",
    )  # fmt: skip
    (vt,) = json.loads(vout)["tables"]
    claims_b = any("filled with 'B'" in d for d in vt["decisions"])
    assert not (code == 0 and claims_b), (code, vt["decisions"])
