"""Adversarial review of 9e779e2..0f730d8 (--triggers-off, kept_on, chunked undo by count).
Each test failed on 0f730d8 and asserts the honest outcome; each docstring says the setup, what
the tool did then, and where it came from."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from auditkit import export, load, query, sql, table, validate

ROOT = Path(__file__).resolve().parents[2]

STAMP = (
    "CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$"
)
ITEMS = "id,name,updated_at\n1,a,2020-01-01 00:00:00+00\n150,b,2020-01-01 00:00:00+00\n"


def _modes(db) -> list[tuple]:
    return query(
        db,
        "SELECT tgrelid::regclass::text, tgname, tgenabled::text FROM pg_trigger "
        "WHERE NOT tgisinternal ORDER BY 1, 2",
    )


def _partitioned(db, *extra: str) -> None:
    sql(
        db,
        STAMP,
        "CREATE TABLE items (id int PRIMARY KEY, name text, updated_at timestamptz) "
        "PARTITION BY RANGE (id)",
        "CREATE TABLE items_a PARTITION OF items FOR VALUES FROM (0) TO (100)",
        "CREATE TABLE items_b PARTITION OF items FOR VALUES FROM (100) TO (1000)",
        "CREATE TRIGGER items_stamp BEFORE INSERT OR UPDATE ON items "
        "FOR EACH ROW EXECUTE FUNCTION stamp()",
        *extra,
    )


# -- a load that leaves the target changed in a way nobody decided --------------------------------


def test_triggers_off_on_a_partitioned_table_leaves_each_partitions_trigger_mode_as_it_was(
    empty_db, cli, tmp_path
):
    """Setup: a partitioned `items` with `items_stamp` on the parent; its owner disabled the
    clone on partition items_b (DISABLE TRIGGER on the partition) and made the clone on items_a
    ENABLE ALWAYS. `load --triggers-off public.items`.
    Did: exit 0, but afterwards items_b's trigger is enabled ('O', was 'D') and items_a's is
    'O' (was 'A'): the target's triggers changed, which nobody decided.
    Truth: every trigger in the mode it had (the commit's own promise).
    Cause: load/triggers.py switch_off/switch_on: `ALTER TABLE parent DISABLE/ENABLE TRIGGER`
    recurses to the partitions' clones (PG 15+), and switch_on re-enables all of them in the
    parent's mode; enabled() reads only the parent's pg_trigger rows.
    Fix: read the modes of the parent's and every partition's triggers (pg_partition_tree,
    tgparentid) before, and put each relation's trigger back in its own mode with ALTER TABLE
    ONLY / per partition (or switch per partition with ONLY)."""
    _partitioned(
        empty_db,
        "ALTER TABLE items_b DISABLE TRIGGER items_stamp",
        "ALTER TABLE items_a ENABLE ALWAYS TRIGGER items_stamp",
    )
    before = _modes(empty_db)
    folder = export(tmp_path, {"items.csv": ITEMS})
    code, loaded = load(cli, empty_db, folder, "--triggers-off", "public.items")
    assert code == 0, loaded
    assert _modes(empty_db) == before


def test_undoing_chunks_never_deletes_a_row_written_after_a_kill_that_keeps_the_count(
    templates, tmp_path, cli
):
    """Setup: a chunked load (ARIA_TUI_CHUNK_BYTES, --jobs 2) of docs, killed -9 after its 3rd
    chunk commit, its primary key down (aria_tui.pending). The application then deletes one
    row (id 10) and writes one of its own (id 5, 'app'): the table holds as many rows as the
    chunk records say they inserted. Re-run.
    Did: the key refuses id 5, the undo counts rows == inserted and TRUNCATEs: after the
    re-run the application's row is gone (the file loaded again over the emptied table).
    Truth: 'an undo never deletes a row no commit record accounts for' (679a249): the app's
    row is such a row; the table must be refused, nothing deleted.
    Cause: load/chunked.py _unaccounted compares count(*) with the chunks' inserted only.
    Fix: also compare what the rows are, e.g. the chunk records' per-chunk hash / key ranges
    over the rows, or xmin of the rows against the xids of the chunk transactions (record
    txid_current() in each chunk's commit record and require every row's xmin to be one)."""
    from test_chunked_resume_proof import DOCS, _chunks, _folder, _load

    folder = _folder(tmp_path)
    db = templates.fresh(None)
    sql(db, *DOCS)
    _load(db, folder, kill_after=3)
    committed = sum(r[2] for r in _chunks(db))
    assert 10 < committed < 3000 and query(db, "SELECT count(*) FROM docs WHERE id = 10") == [(1,)]
    sql(
        db,
        "DELETE FROM docs WHERE id = 10",
        "INSERT INTO docs VALUES (5, 'app', 'written by the application', 1)",
    )
    assert query(db, "SELECT count(*) FROM docs") == [(committed,)]
    _load(db, folder)
    assert query(db, "SELECT count(*) FROM docs WHERE slug = 'app'") == [(1,)]


# -- a decided load that fails, or a proof red for ever ---------------------------------------------


def test_triggers_off_on_a_table_with_a_deferred_foreign_key_loads(empty_db, cli, tmp_path):
    """Setup: items has a DEFERRABLE INITIALLY DEFERRED foreign key (common in ORM schemas) and
    already a row (so its foreign key stays up during the load), plus an updated_at trigger.
    `load --triggers-off public.items`.
    Did: the table fails: 'cannot ALTER TABLE "items" because it has pending trigger events'.
    Truth: the decision is a supported one; the rows load, the triggers go back on.
    Cause: load/runner.py _load calls triggers.switch_on after the rows, while the deferred
    RI checks of the inserted rows are still queued on the table (ALTER TABLE refuses then).
    Fix: `SET CONSTRAINTS ALL IMMEDIATE` (fires the queued checks) before switch_on, then back
    to the default (SET CONSTRAINTS ALL DEFERRED only inside a group), or switch on after the
    group's IMMEDIATE; at least a sentence that says so."""
    sql(
        empty_db,
        STAMP,
        "CREATE TABLE p (id int PRIMARY KEY)",
        "INSERT INTO p VALUES (1), (2)",
        "CREATE TABLE items (id int PRIMARY KEY, p int REFERENCES p DEFERRABLE INITIALLY DEFERRED, "
        "updated_at timestamptz)",
        "INSERT INTO items VALUES (100, 1, '2019-01-01')",
        "CREATE TRIGGER items_stamp BEFORE INSERT OR UPDATE ON items "
        "FOR EACH ROW EXECUTE FUNCTION stamp()",
    )
    folder = export(tmp_path, {"items.csv": "id,p,updated_at\n1,1,2020-01-01 00:00:00+00\n"})
    code, loaded = load(cli, empty_db, folder, "--triggers-off", "public.items")
    (t,) = table(loaded, "public.items")
    assert code == 0 and t["status"] == "loaded", t["error"]


def test_triggers_off_on_a_member_of_a_foreign_key_cycle_loads(empty_db, cli, tmp_path):
    """Setup: a and b reference each other (DEFERRABLE INITIALLY DEFERRED: loadable as one
    group); a has an updated_at trigger. `load --triggers-off public.a`.
    Did: a fails with 'cannot ALTER TABLE "a" because it has pending trigger events', and b is
    skipped with 'Not loaded: the run stopped after None failed.' ('None': no table named).
    Truth: both load with a's triggers off; a skipped table names the one that failed.
    Cause: load/runner.py unit(): SET CONSTRAINTS ALL DEFERRED for the group queues the RI
    checks, _load's triggers.switch_on then meets them; load/run.py names state.stopped_at,
    which _fail_all does not set for a TableFailed/psycopg error that did not lose the
    connection.
    Fix: switch the group's triggers on after SET CONSTRAINTS ALL IMMEDIATE (before the
    commit records); name the failed table in the skip sentence."""
    sql(
        empty_db,
        STAMP,
        "CREATE TABLE a (id int PRIMARY KEY, b int, updated_at timestamptz)",
        "CREATE TABLE b (id int PRIMARY KEY, a int REFERENCES a DEFERRABLE INITIALLY DEFERRED)",
        "ALTER TABLE a ADD FOREIGN KEY (b) REFERENCES b DEFERRABLE INITIALLY DEFERRED",
        "CREATE TRIGGER a_stamp BEFORE INSERT OR UPDATE ON a FOR EACH ROW EXECUTE FUNCTION stamp()",
    )
    folder = export(
        tmp_path,
        {"a.csv": "id,b,updated_at\n1,1,2020-01-01 00:00:00+00\n", "b.csv": "id,a\n1,1\n"},
    )
    code, loaded = load(cli, empty_db, folder, "--triggers-off", "public.a")
    errors = [t["error"] for t in loaded["tables"]]
    assert not any(e and "None" in e for e in errors), errors
    assert code == 0 and [t["status"] for t in loaded["tables"]] == ["loaded", "loaded"], errors


def test_triggers_off_switches_off_a_trigger_the_rows_meet_on_their_partition(
    empty_db, cli, tmp_path
):
    """Setup: partitioned items; besides the parent's trigger, partition items_a has its own
    BEFORE INSERT updated_at trigger (only_a). `load --triggers-off public.items`, validate.
    Did: the load says 'Loaded with its user triggers switched off ... items_stamp', but
    only_a fired on the row routed to items_a (updated_at = now()), validate is red for ever
    under the operator's decision, and nothing names only_a.
    Truth: the decision covers the triggers the load's rows fire, the partitions' own too (or
    the load refuses/names them).
    Cause: load/triggers.py enabled() reads pg_trigger of the parent's oid only (the scan's
    trigger note too).
    Fix: include the triggers of every partition (pg_partition_tree(oid)), switched per
    relation with ONLY, and named in the notes."""
    _partitioned(
        empty_db,
        "CREATE TRIGGER only_a BEFORE INSERT ON items_a FOR EACH ROW EXECUTE FUNCTION stamp()",
    )
    folder = export(tmp_path, {"items.csv": ITEMS})
    code, loaded = load(cli, empty_db, folder, "--triggers-off", "public.items")
    assert code == 0, loaded
    vcode, validated = validate(cli, empty_db, folder, tmp_path)
    assert vcode == 0, validated["headline"]


def test_triggers_off_after_a_killed_chunked_load_of_a_keyless_table_says_how_to_finish(
    empty_db, cli, tmp_path
):
    """Setup: keyless docs with an AFTER INSERT audit trigger (loads in chunks: no BEFORE
    trigger), chunked load killed -9 after its 3rd chunk. The operator then decides
    `--triggers-off public.docs` and re-runs.
    Did: 'public.docs already holds 1,040 rows and has no primary key ... loading would
    duplicate rows. Empty the table' (exit 1): every one of those rows is one the chunk commit
    records account for; without the decision the chunks would finish it. The advice asks to
    delete aria-tui's own committed rows.
    Truth: finish the remaining byte ranges (the chunks' rows are accounted for), or say that
    the decision cannot apply to a table whose chunked load is half done and how to finish.
    Cause: load/chunked.py chunk_size returns None for tp.triggers_off, so runner.unit's
    `_chunks_begun` fallback never chunks, and the serial path's resume.unmatchable refuses.
    Fix: in runner.unit, when chunks have begun, finish with the chunks (triggers off per chunk
    transaction is still transactional) or refuse with a sentence naming the conflict."""
    sql(
        empty_db,
        "CREATE TABLE docs (id int, body text)",
        "CREATE TABLE audit (id int)",
        "CREATE FUNCTION audit_it() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO audit VALUES (NEW.id); RETURN NEW; END $$",
        "CREATE TRIGGER docs_audit AFTER INSERT ON docs FOR EACH ROW EXECUTE FUNCTION audit_it()",
    )
    body = "id,body\n" + "".join(f"{i},body {i} {'x' * 33}\n" for i in range(1, 3001))
    folder = export(tmp_path, {"docs.csv": body})
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARIA_TUI_CHUNK_BYTES": "8192"}
    argv = [
        sys.executable, "-m", "aria_tui", "load", str(folder), "--dsn", empty_db.conninfo,
        "--profile", "none", "--yes", "--json", "--jobs", "2",
    ]  # fmt: skip
    killed = subprocess.run(
        argv, env={**env, "ARIA_TUI_KILL_AFTER_CHUNK": "public.docs:3"}, capture_output=True,
        timeout=180,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    done = subprocess.run(
        [*argv, "--triggers-off", "public.docs"], env=env, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    t = json.loads(done.stdout)["tables"][0]
    # refused, with both ways forward named, and nothing of the committed chunks touched
    assert done.returncode == 1 and t["status"] == "failed", t
    assert "finish the load as it was begun" in t["error"], t["error"]
    finish = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)
    assert finish.returncode == 0, finish.stdout + finish.stderr
    assert query(empty_db, "SELECT count(*), count(DISTINCT id) FROM docs") == [(3000, 3000)]
