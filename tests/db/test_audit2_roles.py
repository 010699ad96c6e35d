"""Audit: real targets reached as the application's own role, not a superuser, with the guard
rails operators put on such roles (`ALTER ROLE app SET ...`) and row-level security.

Each test builds a target as a superuser, then runs scan -> load -> validate through the CLI as a
non-superuser role (the embedded server trusts its socket: a DSN with `user=ROLE` is that role).
Each must end in a correct, proven load or one sentence saying what to do, exit code non-zero,
never a traceback and never a green over rows missing, altered or hidden.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import psycopg
import pytest
from auditkit import export, query, sql, table
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from aria_tui.pg.connect import Target

_n = itertools.count()


def app_role(db: Target, *grants: str, owner: bool = False) -> tuple[Target, str]:
    """A fresh LOGIN role (roles are cluster-wide: a name per test) and a Target connecting as it.
    `owner`: the role owns the database (and so schema public and what it creates there)."""
    name = f"app_{os.getpid()}_{next(_n)}"
    info = conninfo_to_dict(db.conninfo)
    statements = [f"CREATE ROLE {name} LOGIN PASSWORD 'pw'"]
    if owner:
        statements.append(f'ALTER DATABASE "{info["dbname"]}" OWNER TO {name}')
    sql(db, *statements, *(g.format(role=name, db=info["dbname"]) for g in grants))
    uri = make_conninfo(**{**info, "user": name})
    return Target(spec=uri, conninfo=uri, display=name), name


def as_role(db: Target, role: str, *statements: str) -> None:
    sql(db, f"SET ROLE {role}; " + "; ".join(statements))


def role_setting(db: Target, role: str, setting: str) -> None:
    dbname = conninfo_to_dict(db.conninfo)["dbname"]
    sql(db, f'ALTER ROLE {role} IN DATABASE "{dbname}" SET {setting}')


def run(cli, *argv) -> tuple[int, dict | None, str]:
    code, out, err = cli(*argv)
    assert "Traceback" not in out + err, err
    return code, (json.loads(out) if out.strip() else None), err


def load(cli, target: Target, folder: Path, *extra) -> tuple[int, dict | None, str]:
    return run(cli, "load", folder, "--dsn", target.conninfo, "--profile", "none", "--yes",
               "--json", *extra)  # fmt: skip


def validate(cli, target: Target, folder: Path, tmp_path: Path, *extra):
    return run(cli, "validate", folder, "--dsn", target.conninfo, "--profile", "none", "--json",
               "--report-dir", tmp_path / "reports", *extra)  # fmt: skip


ITEMS = "CREATE TABLE public.items (id serial PRIMARY KEY, name text NOT NULL UNIQUE)"
ITEMS_CSV = "id,name\n1,a\n2,b\n3,c\n"


# -- privileges ------------------------------------------------------------------------------------


def test_a_schema_made_for_the_role_as_the_sentence_asks_is_then_used(empty_db, cli, tmp_path):
    # The operator lost: a dead end. Without CREATE on the database the load says "run CREATE
    # SCHEMA aria_tui AUTHORIZATION app"; done, the load said the very same sentence again
    # (CREATE SCHEMA IF NOT EXISTS wants CREATE on the database even when the schema is there).
    app, name = app_role(empty_db, "GRANT USAGE, CREATE ON SCHEMA public TO {role}")
    as_role(empty_db, name, ITEMS)
    folder = export(tmp_path, {"items.csv": ITEMS_CSV})
    code, _, err = load(cli, app, folder)
    assert code == 2 and f"CREATE SCHEMA aria_tui AUTHORIZATION {name}" in err, err
    sql(empty_db, f"CREATE SCHEMA aria_tui AUTHORIZATION {name}")  # as the sentence says
    code, out, err = load(cli, app, folder)
    assert code == 0, err
    assert [t["inserted"] for t in out["tables"]] == [3]
    code, out, err = validate(cli, app, folder, tmp_path)
    assert code == 0 and out["ok"], out
    # a schema someone else owns, without USAGE for the role: a sentence naming its owner
    other, other_name = app_role(empty_db, "GRANT USAGE ON SCHEMA public TO {role}",
                                 "GRANT SELECT, INSERT, UPDATE ON public.items TO {role}")  # fmt: skip
    sql(empty_db, f"ALTER SCHEMA aria_tui OWNER TO {conninfo_to_dict(empty_db.conninfo)['user']}")
    code, _, err = load(cli, other, folder)
    assert code == 2 and "aria_tui" in err and f"ALTER SCHEMA aria_tui OWNER TO {other_name}" in err


def test_an_insert_only_role_is_told_what_to_grant(empty_db, cli, tmp_path):
    # The operator was told "permission denied for table items." and not why: the load's
    # LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE needs UPDATE, DELETE or TRUNCATE, not INSERT.
    sql(empty_db, ITEMS)
    app, name = app_role(
        empty_db,
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT, INSERT ON public.items TO {role}",
        "GRANT USAGE ON SEQUENCE public.items_id_seq TO {role}",
        'GRANT CREATE ON DATABASE "{db}" TO {role}',
    )
    folder = export(tmp_path, {"items.csv": ITEMS_CSV})
    code, out, _ = load(cli, app, folder)
    (t,) = table(out, "public.items")
    assert code == 1 and t["status"] == "failed"
    assert f"GRANT UPDATE ON public.items TO {name}" in t["error"], t["error"]
    assert query(empty_db, "SELECT count(*) FROM items") == [(0,)]


def test_a_role_with_only_usage_on_the_sequence_is_told_before_any_row(empty_db, cli, tmp_path):
    # The operator was told "permission denied for sequence items_id_seq." after the whole file
    # had been loaded (and rolled back): setval() needs SELECT and UPDATE on the sequence. Now
    # said before the rows, with the GRANT; and with it, the non-owner loads and proves.
    sql(empty_db, ITEMS)
    app, name = app_role(
        empty_db,
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT, INSERT, UPDATE ON public.items TO {role}",
        "GRANT USAGE ON SEQUENCE public.items_id_seq TO {role}",
        'GRANT CREATE ON DATABASE "{db}" TO {role}',
    )
    folder = export(tmp_path, {"items.csv": ITEMS_CSV})
    code, out, _ = load(cli, app, folder)
    (t,) = table(out, "public.items")
    assert code == 1 and t["status"] == "failed"
    assert f"GRANT SELECT, UPDATE ON SEQUENCE public.items_id_seq TO {name}" in t["error"], t
    sql(empty_db, f"GRANT SELECT, UPDATE ON SEQUENCE public.items_id_seq TO {name}")
    code, out, err = load(cli, app, folder)
    assert code == 0, (out, err)
    code, out, _ = validate(cli, app, folder, tmp_path)
    assert code == 0 and out["ok"], out
    assert query(empty_db, "SELECT last_value FROM items_id_seq") == [(3,)]


def test_validate_as_a_role_that_cannot_read_the_commit_records(empty_db, cli, tmp_path):
    # The operator lost: the proof. Loaded as the owner, validated as the application role
    # (no USAGE on schema aria_tui): "The target failed during validation: current transaction
    # is aborted", exit 2 (to_regclass() raised outside the savepoint meant to catch it).
    sql(empty_db, ITEMS)
    folder = export(tmp_path, {"items.csv": ITEMS_CSV})
    code, _, err = load(cli, empty_db, folder)
    assert code == 0, err
    app, _ = app_role(
        empty_db,
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT ON public.items TO {role}",
        "GRANT SELECT ON SEQUENCE public.items_id_seq TO {role}",
    )
    code, out, err = validate(cli, app, folder, tmp_path)
    # without the records a load aria-tui recorded would pass for one done by other means (no
    # reconciliation, no rows held before, no word of indexes a chunked load left down): refused
    # in one sentence with the grants that end it, never a traceback, never a proof
    assert code == 2 and out is None, out
    assert (
        "may not read aria-tui's commit records" in err and "GRANT USAGE ON SCHEMA aria_tui" in err
    )
    sql(
        empty_db,
        f"GRANT USAGE ON SCHEMA aria_tui TO {app.display}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA aria_tui TO {app.display}",
    )
    code, out, err = validate(cli, app, folder, tmp_path)
    assert out is not None, err
    assert code == 0 and out["ok"], out


def test_validate_as_a_role_without_select_on_the_records_is_refused(empty_db, cli, tmp_path):
    # USAGE on the schema but no SELECT on the table: the same refusal, not "no journal"
    sql(empty_db, ITEMS)
    folder = export(tmp_path, {"items.csv": ITEMS_CSV})
    assert load(cli, empty_db, folder)[0] == 0
    app, role = app_role(
        empty_db,
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT ON public.items TO {role}",
        "GRANT USAGE ON SCHEMA aria_tui TO {role}",
    )
    code, out, err = validate(cli, app, folder, tmp_path)
    assert code == 2 and out is None and "may not read aria-tui's commit records" in err, err


# -- row-level security ----------------------------------------------------------------------------

RLS = (
    "CREATE TABLE public.items (id int PRIMARY KEY, tenant text NOT NULL, body text)",
    "ALTER TABLE public.items ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE public.items FORCE ROW LEVEL SECURITY",
    "CREATE POLICY only_a ON public.items FOR SELECT USING (tenant = 'a')",
    "CREATE POLICY ins ON public.items FOR INSERT WITH CHECK (true)",
)


def test_validate_exact_through_row_level_security_is_not_a_false_green(empty_db, cli, tmp_path):
    # The operator was misled: `validate --exact` as the application role said PASS, "all 2
    # records found by id, and nothing else", while the table held a third row the role's policy
    # hides from it. Rows a role cannot see can be neither proven present nor proven absent.
    sql(empty_db, *RLS)
    folder = export(tmp_path, {"items.csv": "id,tenant,body\n1,a,one\n2,a,two\n"})
    code, _, err = load(cli, empty_db, folder)  # the superuser: RLS does not apply
    assert code == 0, err
    sql(empty_db, "INSERT INTO items VALUES (3, 'b', 'a stranger')")
    app, name = app_role(
        empty_db,
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT ON public.items TO {role}",
        "GRANT USAGE ON SCHEMA aria_tui TO {role}",
        "GRANT SELECT ON ALL TABLES IN SCHEMA aria_tui TO {role}",
    )
    code, out, _ = validate(cli, app, folder, tmp_path, "--exact")
    assert code == 1 and not out["ok"], out
    (t,) = table(out, "public.items")
    detail = json.dumps(t["checks"])
    assert "Row-level security" in detail and name in detail and "BYPASSRLS" in detail, detail


def test_a_load_through_row_level_security_says_what_to_do(empty_db, cli, tmp_path):
    # The operator was told "COPY FROM not supported with row-level security." (or, through the
    # stage, "the counts do not add up"): a load that can see only some rows cannot find the
    # duplicates it must skip. One sentence naming the role, the table and the way out.
    sql(empty_db, *RLS, "INSERT INTO public.items VALUES (2, 'b', 'two')")
    app, name = app_role(
        empty_db,
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT, INSERT, UPDATE ON public.items TO {role}",
        'GRANT CREATE ON DATABASE "{db}" TO {role}',
    )
    folder = export(tmp_path, {"items.csv": "id,tenant,body\n1,a,one\n2,b,two\n3,b,three\n"})
    for extra in ((), ("--force-staging",)):
        code, out, _ = load(cli, app, folder, *extra)
        (t,) = table(out, "public.items")
        assert code == 1 and t["status"] == "failed", t
        assert "Row-level security applies to the role " + name in t["error"], t["error"]
        assert "BYPASSRLS" in t["error"]
    assert query(empty_db, "SELECT id FROM items ORDER BY id") == [(2,)]


# -- hostile settings on the role ------------------------------------------------------------------

CHILD = (
    "CREATE TABLE public.parent (id bigint PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE public.child (id bigint PRIMARY KEY, parent_id bigint REFERENCES public.parent, "
    "body text, tags text[], emb vector(3))",
)
FILES = {
    "parent.csv": "id,name\n1,Zoë 中文\n2,b\n",
    "child.csv": 'id,parent_id,body,tags,emb\n1,1,héllo,"{a,NULL,""NULL""}","[0.1,0.2,0.3]"\n'
    '2,2,x,"{NULL}",\n',
}
EXPECTED = [(1, 1, "héllo", ["a", None, "NULL"], "[0.1,0.2,0.3]"), (2, 2, "x", [None], None)]


def _owner_with(empty_db, tmp_path, setting: str) -> tuple[Target, Path]:
    app, name = app_role(empty_db, owner=True)
    as_role(empty_db, name, *CHILD)
    role_setting(empty_db, name, setting)
    return app, export(tmp_path, FILES)


def _children(db: Target) -> list[tuple]:
    return query(db, "SELECT id, parent_id, body, tags, emb::text FROM child ORDER BY id")


@pytest.mark.parametrize(
    "setting",
    [
        # 'type "vector" does not exist': every vector table failed
        "search_path = ''",
        # the string 'NULL' stored for a NULL array element, and proven equal (false green)
        "array_nulls = off",
        # validate: a traceback (UnicodeEncodeError) on the first non-Latin-1 letter
        "client_encoding = 'LATIN1'",
        # load: a traceback (ReadOnlySqlTransaction from CREATE SCHEMA)
        "default_transaction_read_only = on",
        # "The target failed while reading the export plan: terminating connection due to
        # idle-in-transaction timeout", exit 2, nothing loaded
        "idle_in_transaction_session_timeout = '1ms'",
    ],
)
def test_a_role_setting_neither_changes_the_rows_nor_stops_the_load(
    empty_db, cli, tmp_path, setting
):
    app, folder = _owner_with(empty_db, tmp_path, setting)
    code, out, err = load(cli, app, folder)
    assert code == 0 and out is not None, err
    assert _children(empty_db) == EXPECTED
    assert query(empty_db, "SELECT name FROM parent WHERE id = 1") == [("Zoë 中文",)]
    code, out, err = validate(cli, app, folder, tmp_path)
    assert code == 0 and out["ok"], (out, err)


@pytest.mark.parametrize("setting", ["statement_timeout", "transaction_timeout"])
def test_a_role_statement_timeout_does_not_cut_the_load(empty_db, cli, tmp_path, setting):
    # The operator lost the load: an application role's statement_timeout (Supabase gives its
    # roles 3-8 s) cancelled the COPY of any file that takes longer ("canceling statement due
    # to statement timeout"). pg_dump's scripts set it to 0; so does the loader now.
    app, name = app_role(empty_db, owner=True)
    as_role(
        empty_db,
        name,
        "CREATE FUNCTION public.slow(int) RETURNS boolean LANGUAGE plpgsql AS "
        "'BEGIN PERFORM pg_sleep(0.003); RETURN true; END'",
        "CREATE TABLE public.items (id int PRIMARY KEY CHECK (public.slow(id)), name text)",
    )
    role_setting(empty_db, name, f"{setting} = '50ms'")
    folder = export(
        tmp_path, {"items.csv": "id,name\n" + "".join(f"{i},n{i}\n" for i in range(60))}
    )
    code, out, err = load(cli, app, folder)
    assert code == 0, (out, err)
    assert query(empty_db, "SELECT count(*) FROM items") == [(60,)]
    code, out, err = validate(cli, app, folder, tmp_path)
    assert code == 0 and out["ok"], (out, err)


TRIGGER = (
    "CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN NEW.body := NEW.body || ' (stamped)'; RETURN NEW; END $$",
    "CREATE TRIGGER child_stamp BEFORE INSERT ON public.child "
    "FOR EACH ROW EXECUTE FUNCTION public.stamp()",
)
ORPHAN = {"parent.csv": "id,name\n1,a\n", "child.csv": "id,parent_id,body\n1,1,x\n2,99,orphan\n"}


def test_session_replication_role_replica_on_the_role_is_refused(empty_db, cli, tmp_path):
    # The operator was misled: `load` exit 0, "loaded 2, rejected 0", an orphan committed under
    # a foreign key that forbids it and the target's triggers skipped, because a superuser had
    # set session_replication_role = replica on the role, which the role may not set back.
    app, name = app_role(empty_db, owner=True)
    as_role(empty_db, name, *CHILD, *TRIGGER)
    role_setting(empty_db, name, "session_replication_role = replica")
    folder = export(tmp_path, ORPHAN)
    code, out, err = load(cli, app, folder)
    assert code == 2 and out is None, (out, err)
    assert "session_replication_role" in err and f"ALTER ROLE {name} RESET" in err, err
    assert query(empty_db, "SELECT count(*) FROM child") == [(0,)]


def test_session_replication_role_replica_on_the_database_is_set_back(empty_db, cli, tmp_path):
    # Loaded as a superuser into a database set to replica: the orphan is rejected with its
    # line and the target's trigger runs, as with any other database.
    sql(empty_db, *CHILD, *TRIGGER)
    dbname = conninfo_to_dict(empty_db.conninfo)["dbname"]
    sql(empty_db, f'ALTER DATABASE "{dbname}" SET session_replication_role = replica')
    folder = export(tmp_path, ORPHAN)
    code, out, err = load(cli, empty_db, folder)
    (t,) = table(out, "public.child")
    assert code == 1 and (t["inserted"], t["rejected"]) == (1, 1), (t, err)
    assert query(empty_db, "SELECT id, body FROM child") == [(1, "x (stamped)")]


# -- a table locked by another session -------------------------------------------------------------


def test_a_parent_locked_by_another_session_is_the_table_named(empty_db, cli, tmp_path):
    # The operator was misled: "Gave up on public.child after waiting 1s for a lock on it:
    # another session holds a conflicting lock" -- no session holds public.child; the wait was
    # on the parent row each loaded row locks FOR KEY SHARE. Named now, with its holder; and a
    # re-run finishes the table exactly once.
    app, name = app_role(empty_db, owner=True)
    as_role(empty_db, name, *CHILD[:1], "INSERT INTO public.parent VALUES (1, 'a'), (2, 'b')",
            *CHILD[1:])  # fmt: skip
    folder = export(tmp_path, {"child.csv": "id,parent_id,body\n1,1,x\n2,2,y\n"})
    with psycopg.connect(empty_db.conninfo, application_name="the-locker") as other:
        other.execute("SELECT * FROM parent WHERE id = 2 FOR UPDATE")
        code, out, _ = load(cli, app, folder, "--lock-timeout", "500ms")
        other.rollback()
    (t,) = table(out, "public.child")
    assert code == 1 and t["status"] == "failed"
    assert "lock on public.parent" in t["error"] and "the-locker" in t["error"], t["error"]
    assert "\n" not in t["error"]
    for status in ("loaded", "resumed"):
        code, out, _ = load(cli, app, folder)
        (t,) = table(out, "public.child")
        assert code == 0 and t["status"] == status, t
    assert query(empty_db, "SELECT id FROM child ORDER BY id") == [(1,), (2,)]
    code, out, _ = validate(cli, app, folder, tmp_path)
    assert code == 0 and out["ok"], out


def test_a_target_that_accepts_no_writes_is_one_sentence(empty_db):
    # The operator got a traceback (ReadOnlySqlTransaction from CREATE SCHEMA) from a standby in
    # recovery, whose transactions are read-only whatever the session sets; a read-only
    # transaction stands in for it here.
    from aria_tui.errors import AriaError
    from aria_tui.pg import commits

    with psycopg.connect(empty_db.conninfo) as conn:
        conn.execute("SET TRANSACTION READ ONLY")
        with pytest.raises(AriaError, match="accepts no writes.*load into the primary server"):
            commits.ensure(conn)


def test_a_locked_parent_whose_name_needs_quotes_is_named(empty_db):
    # the parent is found by the child's foreign keys on the server, not by reading back a name
    # joined as 'schema.table' (to_regclass('Sales.Parent') folds it to sales.parent: unnamed)
    from aria_tui.pg import locks

    sql(
        empty_db,
        'CREATE SCHEMA "Sales"',
        'CREATE TABLE "Sales"."Parent" (id int PRIMARY KEY)',
        'CREATE TABLE "Sales".child (id int PRIMARY KEY, p int REFERENCES "Sales"."Parent")',
    )
    with psycopg.connect(empty_db.conninfo, application_name="the-locker") as other:
        other.execute('SELECT * FROM "Sales"."Parent" FOR UPDATE')
        with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
            oid = conn.execute("""SELECT '"Sales".child'::regclass::oid""").fetchone()[0]
            parent, held_by = locks.holders_around(conn, int(oid))
        other.rollback()
    assert parent == "Sales.Parent" and "the-locker" in held_by, (parent, held_by)
