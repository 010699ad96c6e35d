"""Keys and foreign-key checks built after the data (issue 17): an empty table's primary key,
unique constraints and unique indexes are dropped and built again after its rows, its foreign
keys checked in one query; every one comes back with its name and definition, after a load, a
refused load, a failed load, a cancel and a kill -9; rows that break them end exactly as when
they stayed in place."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from loadkit import kill_9_during, load, query, sql, write

from aria_tui.load import constraints, deferred
from aria_tui.load.events import Emitter, TableProgress
from aria_tui.pg.connect import Target

ROOT = Path(__file__).resolve().parents[2]

DDL = (
    "CREATE TABLE parent (id int PRIMARY KEY, a int, b int, UNIQUE (a, b))",
    "CREATE TABLE child ("
    " id int CONSTRAINT child_pk PRIMARY KEY,"
    " code text CONSTRAINT child_code_key UNIQUE DEFERRABLE INITIALLY DEFERRED,"
    " tag text, pid int, a int, b int, n int,"
    " CONSTRAINT child_tag_key UNIQUE NULLS NOT DISTINCT (tag) WITH (fillfactor = 70),"
    " CONSTRAINT child_pid_fk FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE CASCADE"
    "   ON UPDATE SET NULL DEFERRABLE,"
    " CONSTRAINT child_ab_fk FOREIGN KEY (a, b) REFERENCES parent (a, b) MATCH FULL)",
    "CREATE UNIQUE INDEX child_lower_code ON child (lower(code)) WHERE n > 0",
    "CREATE INDEX child_n ON child (n)",
    "COMMENT ON CONSTRAINT child_pk ON child IS 'the key'",
    "COMMENT ON INDEX child_pk IS 'its index'",
    "ALTER TABLE child CLUSTER ON child_pk",
)
KEYS = {"child_pk", "child_code_key", "child_tag_key", "child_lower_code"}
FKS = {"child_pid_fk", "child_ab_fk"}


def _parent_csv(n: int = 20) -> str:
    return "id,a,b\n" + "".join(f"{i},{i},{i * 10}\n" for i in range(1, n + 1))


def _child_rows(n: int) -> list[str]:
    return [
        f"{i},c{i},t{i},{i % 20 + 1},{i % 20 + 1},{(i % 20 + 1) * 10},{i % 3}"
        for i in range(1, n + 1)
    ]


def _child_csv(rows: list[str]) -> str:
    return "id,code,tag,pid,a,b,n\n" + "\n".join(rows) + "\n"


def _schema(db, table: str = "child") -> dict:
    """Every constraint and index of the table, as the catalog describes it, with comments, the
    CLUSTER mark and whether its foreign-key triggers are enabled."""
    cons = query(
        db,
        "SELECT conname, contype, pg_get_constraintdef(oid), condeferrable, condeferred, "
        "convalidated, conindid::regclass::text, obj_description(oid, 'pg_constraint') "
        "FROM pg_constraint WHERE conrelid = %s::regclass",
        (table,),
    )
    idx = query(
        db,
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid, i.indisclustered, "
        "i.indimmediate, obj_description(i.indexrelid, 'pg_class') FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
        (table,),
    )
    # the internal trigger of a DEFERRABLE key is named after the constraint's oid, which a
    # rebuilt key does not keep: those are compared by what they are; the RI ones by name
    trg = query(
        db,
        "SELECT CASE WHEN tgname LIKE 'Unique_ConstraintTrigger_%%' "
        "THEN 'Unique:' || (SELECT conname FROM pg_constraint WHERE oid = tgconstraint) "
        "ELSE tgname END, tgenabled FROM pg_trigger WHERE tgrelid = %s::regclass",
        (table,),
    )
    return {
        "constraints": {r[0]: r[1:] for r in cons},
        "indexes": {r[0]: r[1:] for r in idx},
        "triggers": dict(trg),
    }


def test_keys_and_foreign_keys_come_back_exactly_as_they_were(empty_db, tmp_path):
    sql(empty_db, *DDL)
    before, parent_before = _schema(empty_db), _schema(empty_db, "parent")
    assert all(t == "O" for t in before["triggers"].values()) and before["triggers"]
    write(tmp_path, "parent.csv", _parent_csv())
    write(tmp_path, "child.csv", _child_csv(_child_rows(300)))
    events: list = []
    result = load(empty_db, tmp_path, on_event=events.append)
    assert result.ok, result.to_json()
    parent, child = result.table("public.parent"), result.table("public.child")
    assert child.inserted == 300 and child.path == "fast"
    built = {c.name.split(".")[-1]: c.kind for c in child.constraints}
    assert built == {
        "child_pk": "primary key",
        "child_code_key": "unique",
        "child_tag_key": "unique",
        "child_lower_code": "unique index",
        "child_pid_fk": "foreign key",
        "child_ab_fk": "foreign key",
    }
    assert [c.name.split(".")[-1] for c in child.indexes] == ["child_n"]
    # the parent's keys are referenced by the child's foreign keys: they stayed
    assert parent.constraints == ()
    assert _schema(empty_db) == before and _schema(empty_db, "parent") == parent_before
    data = child.to_json()
    assert [set(c) for c in data["constraints"]] == [{"name", "kind", "seconds", "reason"}] * 6
    assert set(data["indexes"][0]) == {"name", "method", "seconds", "reason"}
    assert any("Built after the data" in n for n in child.notes)
    phases = {
        e.index.split(".")[-1]
        for e in events
        if isinstance(e, TableProgress)
        and e.phase == "index"
        and e.target == "public.child"
        and e.index
    }
    assert phases == KEYS | FKS | {"child_n"}
    # the keys and foreign keys work again
    with pytest.raises(psycopg.errors.UniqueViolation):
        sql(empty_db, "INSERT INTO child (id) VALUES (1)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        sql(empty_db, "INSERT INTO child (id, pid) VALUES (1000, 999)")
    sql(empty_db, "DELETE FROM parent WHERE id = 2")  # ON DELETE CASCADE is still there
    assert query(empty_db, "SELECT count(*) FROM child WHERE pid = 2") == [(0,)]


def _without_the_change(monkeypatch) -> None:
    """The load as it was before keys and foreign keys moved after the data."""
    monkeypatch.setattr(constraints, "keys", lambda conn, oid: [])
    monkeypatch.setattr(constraints, "foreign_keys", lambda conn, oid: [])


def _outcome(result, name: str = "public.child") -> tuple:
    t = result.table(name)
    rejects = Path(t.reject_file).read_text(encoding="utf-8") if t.reject_file else None
    return (
        t.status,
        t.path,
        t.csv_rows,
        t.inserted,
        t.duplicates,
        t.conflicts,
        t.rejected,
        rejects,
    )


@pytest.mark.parametrize(
    "case",
    ["duplicate", "conflict", "orphan", "match_full_partial", "unique_index"],
)
def test_rows_that_break_a_key_end_as_they_did_before(case, templates, tmp_path, monkeypatch):
    rows = _child_rows(200)
    if case == "duplicate":  # the same record twice: a duplicate, skipped
        rows.insert(50, rows[10])
    elif case == "conflict":  # the same key, other content: rejected with both lines
        rows.insert(50, "11,other,tother,1,1,10,0")
    elif case == "orphan":
        rows[120] = "121,c121,t121,999,1,10,0"
    elif case == "match_full_partial":  # MATCH FULL: all NULL or none
        rows[70] = "71,c71,t71,1,1,,0"
    else:  # the partial expression index: C5 and c5 with n > 0
        rows.insert(30, "9999,C5,tx,1,1,10,2")
    outcomes = []
    for change in (True, False):
        db = templates.fresh(None)
        sql(db, *DDL)
        before = _schema(db)
        folder = tmp_path / str(change)
        write(folder, "parent.csv", _parent_csv())
        write(folder, "child.csv", _child_csv(rows))
        if not change:
            _without_the_change(monkeypatch)
        logs: list = []
        result = load(db, folder, on_event=logs.append)
        outcomes.append(_outcome(result))
        assert _schema(db) == before, case
        said = [getattr(e, "message", "") for e in logs]
        # with the change: the keys were down, the rows refused, the table loaded again
        assert any("refused the loaded rows" in m for m in said) == change, said
        assert result.table("public.child").constraints == ()
    assert outcomes[0] == outcomes[1]
    status, _, csv_rows, inserted, duplicates, conflicts, rejected, rejects = outcomes[0]
    assert status == "loaded" and csv_rows == inserted + duplicates + conflicts + rejected
    assert duplicates + conflicts + rejected == 1
    if case != "duplicate":
        assert rejects is not None and len(rejects.splitlines()) >= 2


def test_deferred_round_trips_and_rebuilds_in_another_transaction(empty_db, tmp_path):
    """What the chunked loads need: the drop committed in one transaction, the value persisted
    as JSON, the rows loaded, the rebuild in another transaction, from the JSON alone."""
    sql(empty_db, *DDL, "INSERT INTO parent SELECT g, g, g * 10 FROM generate_series(1, 20) g")
    before = _schema(empty_db)
    with psycopg.connect(empty_db.conninfo) as conn:
        oid = conn.execute("SELECT 'child'::regclass::oid").fetchone()[0]
        down = deferred.take_down(conn, oid, empty=True, emitter=Emitter(None), target="child")
        conn.commit()
    text = json.dumps(down.to_json())
    again = deferred.Deferred.from_json(json.loads(text))
    assert again == down and again.to_json() == down.to_json()
    assert {k.index.split(".")[-1] for k in again.keys} == KEYS
    assert {f.constraint for f in again.foreign_keys} == FKS
    down_now = _schema(empty_db)  # committed: keys and indexes gone, FK checks switched off
    assert down_now["indexes"] == {}
    assert set(down_now["constraints"]) == FKS | {"child_id_not_null"}
    assert sorted(down_now["triggers"].values()) == ["D", "D", "O", "O"]  # the two checks
    rows = "\n".join(r.replace(",", "\t") for r in _child_rows(100))
    with psycopg.connect(empty_db.conninfo) as conn:
        with conn.cursor().copy("COPY child FROM STDIN") as cp:
            cp.write(rows + "\n")
        conn.commit()
        rebuilt = deferred.rebuild(conn, again, Emitter(None))
        conn.commit()
    assert {c.name.split(".")[-1] for c in rebuilt.constraints} == KEYS | FKS
    assert _schema(empty_db) == before


def test_a_failed_load_leaves_every_key(empty_db, tmp_path):
    # the secondary index refuses a row only when it is built, after the keys: the table fails
    sql(
        empty_db,
        *DDL,
        "CREATE FUNCTION inv(x int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT 100 / x'",
        "CREATE INDEX child_inv ON child (inv(n))",
    )
    before = _schema(empty_db)
    write(tmp_path, "parent.csv", _parent_csv())
    write(tmp_path, "child.csv", _child_csv(_child_rows(50)))
    result = load(empty_db, tmp_path)
    child = result.table("public.child")
    assert child.status == "failed" and "division by zero" in (child.error or "")
    assert query(empty_db, "SELECT count(*) FROM child") == [(0,)]
    assert _schema(empty_db) == before


def test_a_cancel_leaves_every_key(empty_db, tmp_path):
    sql(empty_db, *DDL)
    before = _schema(empty_db)
    write(tmp_path, "parent.csv", _parent_csv())
    write(tmp_path, "child.csv", _child_csv(_child_rows(200_000)))
    cancel = threading.Event()

    def on_event(event):
        if isinstance(event, TableProgress) and event.target == "public.child" and event.bytes_done:
            cancel.set()

    result = load(empty_db, tmp_path, cancel=cancel, on_event=on_event)
    assert result.cancelled and result.table("public.child").status == "skipped"
    assert query(empty_db, "SELECT count(*) FROM child") == [(0,)]
    assert _schema(empty_db) == before


def test_kill_9_mid_load_leaves_every_key_and_a_rerun_converges(empty_db, tmp_path):
    sql(
        empty_db,
        *DDL,
        # a slow unique index, built among the keys: the kill lands while the rows are in, the
        # foreign-key checks off and the keys not all built again
        "CREATE FUNCTION slow(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS "
        "'BEGIN PERFORM pg_sleep(0.01); RETURN x; END'",
        "CREATE UNIQUE INDEX child_slow ON child (slow(id))",
    )
    before = _schema(empty_db)
    write(tmp_path / "export", "parent.csv", _parent_csv())
    write(tmp_path / "export", "child.csv", _child_csv(_child_rows(400)))
    argv = [
        sys.executable,
        "-m",
        "aria_tui",
        "load",
        str(tmp_path / "export"),
        "--dsn",
        empty_db.conninfo,
        "--yes",
        "--json",
        "--jobs",
        "1",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kill_9_during(empty_db, argv, env, 'CREATE UNIQUE INDEX%child_slow%')
    assert query(empty_db, "SELECT count(*) FROM child") == [(0,)]
    assert _schema(empty_db) == before

    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    child = next(t for t in data["tables"] if t["target"] == "public.child")
    assert child["inserted"] == 400
    assert {c["name"].split(".")[-1] for c in child["constraints"]} == KEYS | FKS | {"child_slow"}
    assert _schema(empty_db) == before


def test_kill_9_after_commit_leaves_every_key(empty_db, tmp_path):
    sql(empty_db, *DDL)
    before = _schema(empty_db)
    write(tmp_path / "export", "parent.csv", _parent_csv())
    write(tmp_path / "export", "child.csv", _child_csv(_child_rows(100)))
    argv = [
        sys.executable,
        "-m",
        "aria_tui",
        "load",
        str(tmp_path / "export"),
        "--dsn",
        empty_db.conninfo,
        "--yes",
        "--json",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARIA_TUI_KILL_AFTER_COMMIT": "public.child"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL
    assert query(empty_db, "SELECT count(*) FROM child") == [(100,)]
    assert _schema(empty_db) == before


def test_a_table_owner_who_is_not_a_superuser_keeps_the_per_row_foreign_key_checks(
    empty_db, tmp_path
):
    """Switching a foreign key's check trigger off needs a superuser: an owner gets its keys built
    after the data, its foreign keys checked row by row as before, and every one back."""
    role = f"aria_owner_{os.getpid()}"  # roles are cluster-wide: one name per test session
    info = psycopg.conninfo.conninfo_to_dict(empty_db.conninfo)
    sql(
        empty_db,
        f"CREATE ROLE {role} LOGIN",
        f"GRANT CREATE ON DATABASE {info['dbname']} TO {role}",
        f"GRANT CREATE, USAGE ON SCHEMA public TO {role}",
        f"SET ROLE {role}; " + "; ".join(DDL),
    )
    owner_uri = psycopg.conninfo.make_conninfo(**{**info, "user": role})
    owner = Target(spec=owner_uri, conninfo=owner_uri, display=role)
    try:
        before = _schema(empty_db)
        rows = _child_rows(100)
        rows[40] = "41,c41,t41,999,1,10,0"  # an orphan: the per-row check rejects it
        write(tmp_path, "parent.csv", _parent_csv())
        write(tmp_path, "child.csv", _child_csv(rows))
        result = load(owner, tmp_path)
        child = result.table("public.child")
        assert child.status == "loaded", child
        assert (child.inserted, child.rejected) == (99, 1)
        assert {c.kind for c in child.constraints} == {"primary key", "unique", "unique index"}
        assert _schema(empty_db) == before
    finally:
        sql(empty_db, f"DROP OWNED BY {role}", f"DROP ROLE {role}")
