"""Load engine, targeted cases on small hand-made exports and a real PostgreSQL."""

from __future__ import annotations

import csv
import io
import os
import stat
import threading
import time

import pytest
from loadkit import assert_counts_add_up, load, plan_for, query, sql, write

from aria_tui.load import Log, TableProgress, TableStarted


def _rejects(path: str) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


# -- plan ---------------------------------------------------------------------------------------


def test_fk_order_across_schemas(empty_db, tmp_path):
    sql(
        empty_db,
        "CREATE SCHEMA a; CREATE SCHEMA b; CREATE SCHEMA c",
        "CREATE TABLE c.top (id int PRIMARY KEY)",
        "CREATE TABLE b.mid (id int PRIMARY KEY, top_id int REFERENCES c.top (id))",
        "CREATE TABLE a.leaf (id int PRIMARY KEY, mid_id int REFERENCES b.mid (id))",
    )
    write(tmp_path, "a.leaf.csv", "id,mid_id\n1,10\n2,20\n")
    write(tmp_path, "b.mid.csv", "id,top_id\n10,100\n20,100\n")
    write(tmp_path, "c.top.csv", "id\n100\n")
    plan = plan_for(empty_db, tmp_path)
    assert [t.target for t in plan.tables] == ["c.top", "b.mid", "a.leaf"]
    assert [t.order for t in plan.tables] == [1, 2, 3]
    result = load(empty_db, tmp_path)
    assert result.ok, result.to_json()
    assert [t.inserted for t in result.tables] == [1, 2, 2]
    assert_counts_add_up(result)


def test_non_deferrable_cycle_is_blocked_before_anything_is_written(empty_db, tmp_path):
    sql(
        empty_db,
        "CREATE TABLE x (id int PRIMARY KEY, y_id int)",
        "CREATE TABLE y (id int PRIMARY KEY, x_id int REFERENCES x (id))",
        "ALTER TABLE x ADD FOREIGN KEY (y_id) REFERENCES y (id)",
        "CREATE TABLE z (id int PRIMARY KEY)",
    )
    write(tmp_path, "public.x.csv", "id,y_id\n1,\n")
    write(tmp_path, "public.y.csv", "id,x_id\n1,1\n")
    write(tmp_path, "public.z.csv", "id\n7\n")
    plan = plan_for(empty_db, tmp_path)
    assert [t.target for t in plan.tables] == ["public.z"]
    reasons = {s.target: r for s, r in plan.skipped}
    assert set(reasons) == {"public.x", "public.y"}
    assert "public.x, public.y" in reasons["public.x"] and "DEFERRABLE" in reasons["public.x"]
    result = load(empty_db, tmp_path)
    assert not result.ok
    statuses = {t.target: t.status for t in result.tables}
    assert statuses == {"public.x": "blocked", "public.y": "blocked", "public.z": "loaded"}
    assert query(empty_db, "SELECT count(*) FROM x") == [(0,)]


def test_deferrable_cycle_loads_in_one_transaction(empty_db, tmp_path):
    sql(
        empty_db,
        "CREATE TABLE x (id int PRIMARY KEY, y_id int)",
        "CREATE TABLE y (id int PRIMARY KEY, x_id int REFERENCES x (id) DEFERRABLE)",
        "ALTER TABLE x ADD FOREIGN KEY (y_id) REFERENCES y (id) DEFERRABLE",
    )
    write(tmp_path, "public.x.csv", "id,y_id\n1,2\n")
    write(tmp_path, "public.y.csv", "id,x_id\n2,1\n")
    plan = plan_for(empty_db, tmp_path)
    assert {t.group for t in plan.tables} == {1} and all(t.deferred for t in plan.tables)
    result = load(empty_db, tmp_path)
    assert result.ok, result.to_json()
    assert query(empty_db, "SELECT x.id, y.id FROM x JOIN y ON y.id = x.y_id") == [(1, 2)]


# -- rows ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("force_staging", [False, True])
def test_self_reference_reply_before_parent(empty_db, tmp_path, force_staging):
    sql(
        empty_db,
        "CREATE TABLE posts (id int PRIMARY KEY, post_id text UNIQUE, "
        "reply_to text REFERENCES posts (post_id))",
    )
    write(
        tmp_path,
        "public.posts.csv",
        "id,post_id,reply_to\n1,p2,p1\n2,p1,\n3,p3,p2\n4,p4,nope\n5,p5,p4\n",
    )
    result = load(empty_db, tmp_path, force_staging=force_staging)
    t = result.tables[0]
    assert (t.csv_rows, t.inserted, t.duplicates, t.rejected) == (5, 3, 0, 2), t
    rows = _rejects(t.reject_file)
    assert [r[0] for r in rows[1:]] == ["5", "6"]  # p4 (missing parent) and p5 (its reply)
    assert "nope" in rows[1][1]
    assert sorted(query(empty_db, "SELECT post_id FROM posts")) == [("p1",), ("p2",), ("p3",)]


BAD_CSV = (
    "id,doc,n,note,emb\n"
    '00000000-0000-4000-8000-000000000001,"{""a"": 1}",1,"line one\nline two, ""quoted""\nline three","[1,2,3]"\n'
    'not-a-uuid,{},2,x,"[1,2,3]"\n'
    '00000000-0000-4000-8000-000000000003,"{bad json",3,x,"[1,2,3]"\n'
    '00000000-0000-4000-8000-000000000004,{},70000,x,"[1,2,3]"\n'
    '00000000-0000-4000-8000-000000000005,{},5,x,"[1,2]"\n'
    '00000000-0000-4000-8000-000000000006,{},6,"","[4,5,6]"\n'
)


@pytest.mark.parametrize("force_staging", [False, True])
def test_bad_values_rejected_with_original_line(empty_db, tmp_path, force_staging):
    sql(
        empty_db,
        "CREATE TABLE t (id uuid PRIMARY KEY, doc jsonb, n int2, note text, emb vector(3))",
    )
    write(tmp_path, "public.t.csv", BAD_CSV)
    result = load(empty_db, tmp_path, force_staging=force_staging)
    t = result.tables[0]
    assert t.path == ("staging" if force_staging else "binary")
    assert (t.csv_rows, t.inserted, t.duplicates, t.rejected) == (6, 2, 0, 4), t
    assert not result.ok and t.status == "loaded"
    assert stat.S_IMODE(os.stat(t.reject_file).st_mode) == 0o600
    rows = _rejects(t.reject_file)
    assert rows[0] == ["line", "reason", "id", "doc", "n", "note", "emb"]
    by_line = {int(r[0]): r for r in rows[1:]}
    assert sorted(by_line) == [5, 6, 7, 8]  # record 1 spans lines 2-4
    assert "uuid" in by_line[5][1] and by_line[5][2] == "not-a-uuid"
    assert "json" in by_line[6][1].lower() and by_line[6][3] == "{bad json"
    assert "range" in by_line[7][1] and by_line[7][4] == "70000"
    assert "dimensions" in by_line[8][1]
    # the good rows are exact: multi-line text, doubled quotes, empty string (not NULL)
    got = dict(query(empty_db, "SELECT n, note FROM t"))
    assert got == {1: 'line one\nline two, "quoted"\nline three', 6: ""}
    assert query(empty_db, "SELECT emb::text FROM t WHERE n = 6") == [("[4,5,6]",)]


def test_plain_table_bad_row_falls_back_from_fast_path(empty_db, tmp_path):
    sql(empty_db, "CREATE TABLE p (id int PRIMARY KEY, at timestamptz, memo text)")
    write(
        tmp_path,
        "public.p.csv",
        'id,at,memo\n1,2026-01-01 00:00:00+00,"a\nb"\n2,yesterday-ish,x\n3,2026-01-02 00:00:00+00,\n',
    )
    result = load(empty_db, tmp_path)
    t = result.tables[0]
    assert t.path == "staging"
    assert (t.inserted, t.rejected) == (2, 1)
    rows = _rejects(t.reject_file)
    assert rows[1][0] == "4" and "timestamp" in rows[1][1]
    assert query(empty_db, "SELECT memo FROM p WHERE id = 3") == [(None,)]  # empty unquoted = NULL


def test_same_key_twice_equal_is_a_duplicate_different_is_a_conflict(empty_db, tmp_path):
    sql(empty_db, "CREATE TABLE k (id int PRIMARY KEY, v text)")
    write(tmp_path, "public.k.csv", "id,v\n1,first\n2,b\n1,first\n")
    result = load(empty_db, tmp_path)
    t = result.tables[0]
    assert (t.csv_rows, t.inserted, t.duplicates, t.conflicts, t.rejected) == (3, 2, 1, 0, 0)
    assert result.ok
    sql(empty_db, "CREATE TABLE k2 (id int PRIMARY KEY, v text)")
    write(tmp_path / "b", "public.k2.csv", "id,v\n1,first\n2,b\n1,second\n")
    result = load(empty_db, tmp_path / "b")
    t = result.tables[0]
    assert (t.csv_rows, t.inserted, t.duplicates, t.conflicts, t.rejected) == (3, 2, 0, 1, 0)
    assert not result.ok  # the export contradicts itself: the second record is rejected
    assert _rejects(t.reject_file)[1][:2] == [
        "4",
        "conflict on k2_pkey (id)=(1): the record 1 of this file has this key with different v "
        "(v = 'first')",
    ]
    assert query(empty_db, "SELECT v FROM k2 WHERE id = 1") == [("first",)]  # first one loads


@pytest.mark.parametrize("prefill", [False, True])
def test_identity_always_keeps_ids_and_sequences_move_forward(empty_db, tmp_path, prefill):
    sql(
        empty_db,
        "CREATE TABLE g (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text)",
        "CREATE TABLE s (id serial PRIMARY KEY, name text)",
        "SELECT setval('s_id_seq', 100)",  # ahead of the data: must never move back
    )
    if prefill:  # a non-empty target: staging path with OVERRIDING SYSTEM VALUE
        sql(empty_db, "INSERT INTO g (name) VALUES ('seed')")
    write(tmp_path, "public.g.csv", "id,name\n5,a\n42,b\n10,c\n")
    write(tmp_path, "public.s.csv", "id,name\n7,a\n9,b\n")
    result = load(empty_db, tmp_path)
    assert result.ok, result.to_json()
    assert sorted(query(empty_db, "SELECT id FROM g WHERE name <> 'seed'")) == [(5,), (10,), (42,)]
    sql(empty_db, "INSERT INTO g (name) VALUES ('next')", "INSERT INTO s (name) VALUES ('next')")
    assert query(empty_db, "SELECT id FROM g WHERE name = 'next'") == [(43,)]
    assert query(empty_db, "SELECT id FROM s WHERE name = 'next'") == [(101,)]
    g = result.table("public.g")
    assert g.path == ("staging" if prefill else "fast")
    assert g.sequences_reset


def test_non_empty_keyless_table_is_refused(empty_db, tmp_path):
    sql(empty_db, "CREATE TABLE nk (a int, b text)", "INSERT INTO nk VALUES (1, 'x')")
    write(tmp_path, "public.nk.csv", "a,b\n1,x\n2,y\n")
    result = load(empty_db, tmp_path)
    t = result.tables[0]
    assert t.status == "failed" and "no primary key or unique" in t.error
    assert query(empty_db, "SELECT count(*) FROM nk") == [(1,)]


def test_dry_run_reports_real_numbers_and_changes_nothing(empty_db, tmp_path):
    sql(
        empty_db,
        "CREATE TABLE par (id int PRIMARY KEY)",
        "CREATE TABLE kid (id int PRIMARY KEY, par_id int REFERENCES par (id), v vector(2))",
        "CREATE TABLE ser (id serial PRIMARY KEY)",
    )
    write(tmp_path, "public.par.csv", "id\n1\n2\n")
    write(
        tmp_path,
        "public.kid.csv",
        'id,par_id,v\n1,1,"[1,2]"\n2,2,"[3,4]"\n3,9,"[5,6]"\n2,1,"[5,6]"\n',
    )
    write(tmp_path, "public.ser.csv", "id\n50\n")
    dry = load(empty_db, tmp_path, dry_run=True)
    assert dry.dry_run and dry.journal is None
    for table in ("par", "kid", "ser"):
        assert query(empty_db, f"SELECT count(*) FROM {table}") == [(0,)]
    assert query(empty_db, "SELECT last_value, is_called FROM ser_id_seq") == [(1, False)]
    real = load(empty_db, tmp_path)
    key = [
        (t.target, t.csv_rows, t.inserted, t.duplicates, t.conflicts, t.rejected, t.status)
        for t in dry.tables
    ]
    assert key == [
        (t.target, t.csv_rows, t.inserted, t.duplicates, t.conflicts, t.rejected, t.status)
        for t in real.tables
    ]
    kid = real.table("public.kid")
    assert (kid.rejected, kid.conflicts, kid.duplicates) == (1, 1, 0)


def test_resume_skips_committed_tables_and_refuses_a_changed_file(empty_db, tmp_path):
    sql(empty_db, "CREATE TABLE r1 (id int PRIMARY KEY)", "CREATE TABLE r2 (id int PRIMARY KEY)")
    write(tmp_path, "public.r1.csv", "id\n1\n2\n")
    write(tmp_path, "public.r2.csv", "id\n1\n")
    first = load(empty_db, tmp_path)
    assert first.ok and first.journal
    journal = open(first.journal, encoding="utf-8").read()
    assert stat.S_IMODE(os.stat(first.journal).st_mode) == 0o600
    assert "sha256" in journal and '"public.r1"' in journal
    second = load(empty_db, tmp_path)
    assert [t.status for t in second.tables] == ["resumed", "resumed"]
    r1 = second.table("public.r1")  # this run inserted nothing; the earlier one's numbers apart
    assert (r1.inserted, r1.duplicates, r1.previously_inserted, r1.csv_rows) == (0, 0, 2, 2)
    assert second.ok
    write(tmp_path, "public.r1.csv", "id\n1\n2\n3\n")
    third = load(empty_db, tmp_path)
    r1 = third.table("public.r1")
    assert r1.status == "blocked" and "has changed" in r1.error and "public.r1" in r1.error
    assert third.table("public.r2").status == "resumed"
    assert not third.ok
    assert query(empty_db, "SELECT count(*) FROM r1") == [(2,)]


def test_crash_after_commit_before_journal_converges(empty_db, tmp_path):
    """The client journal lost: the target's own commit record says the table is loaded."""
    sql(empty_db, "CREATE TABLE cj (id int PRIMARY KEY, v text)")
    write(tmp_path, "public.cj.csv", "id,v\n1,a\n2,b\n")
    first = load(empty_db, tmp_path)
    os.unlink(first.journal)
    again = load(empty_db, tmp_path)
    t = again.tables[0]
    assert (t.status, t.inserted, t.previously_inserted) == ("resumed", 0, 2)
    assert query(empty_db, "SELECT count(*) FROM cj") == [(2,)]


def _big_csv(path, rows: int) -> None:
    buf = io.StringIO()
    buf.write("id,name,note\n")
    for i in range(1, rows + 1):
        buf.write(
            f'{i},name {i},"note, {i}\nsecond line"\n' if i % 50 == 0 else f"{i},name {i},plain\n"
        )
    path.write_text(buf.getvalue(), encoding="utf-8")


def test_cancel_mid_table_rolls_back_that_table_only(empty_db, tmp_path):
    sql(
        empty_db,
        "CREATE TABLE c1 (id int PRIMARY KEY)",
        "CREATE TABLE c2 (id int PRIMARY KEY, name text, note text)",
    )
    write(tmp_path, "public.c1.csv", "id\n1\n2\n")
    _big_csv(tmp_path / "public.c2.csv", 400_000)
    cancel = threading.Event()
    seen = []

    def on_event(event):
        seen.append(event)
        if (
            isinstance(event, TableProgress)
            and event.target == "public.c2"
            and event.bytes_done > 0
        ):
            cancel.set()

    result = load(empty_db, tmp_path, cancel=cancel, on_event=on_event)
    assert result.cancelled and not result.ok
    assert result.table("public.c1").status == "loaded"
    c2 = result.table("public.c2")
    assert c2.status == "skipped" and "Cancelled" in c2.error
    assert query(empty_db, "SELECT count(*) FROM c1") == [(2,)]
    assert query(empty_db, "SELECT count(*) FROM c2") == [(0,)]
    assert any(isinstance(e, TableStarted) and e.target == "public.c2" for e in seen)


def test_progress_ticks_are_throttled_but_frequent(empty_db, tmp_path):
    sql(empty_db, "CREATE TABLE pr (id int PRIMARY KEY, name text, note text)")
    _big_csv(tmp_path / "public.pr.csv", 300_000)
    ticks: list[float] = []

    def on_event(event):
        if isinstance(event, TableProgress):
            ticks.append(time.monotonic())

    result = load(empty_db, tmp_path, on_event=on_event, force_staging=True)
    assert result.ok
    seconds = result.tables[0].seconds
    assert len(ticks) <= seconds * 12 + 5  # never per row
    if seconds > 1:
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        assert max(gaps) < 0.5  # at least ~4 a second, through the insert phase too


def test_locked_table_ends_with_a_clear_message(empty_db, tmp_path):
    import psycopg

    sql(empty_db, "CREATE TABLE lk (id int PRIMARY KEY)")
    write(tmp_path, "public.lk.csv", "id\n1\n")
    plan_for(empty_db, tmp_path)  # scan before the lock: the scan reads the catalog
    with psycopg.connect(empty_db.conninfo, application_name="the-locker") as other:
        other.execute("LOCK TABLE lk IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        result = load(empty_db, tmp_path, lock_timeout="700ms")
        took = time.monotonic() - started
        other.rollback()
    t = result.tables[0]
    assert t.status == "failed"
    assert "public.lk" in t.error and "lock" in t.error and "the-locker" in t.error
    assert took < 20


TYPES_DDL = (
    "(id bigint PRIMARY KEY, i2 int2, i4 int4, f4 float4, f8 float8, b bool, u uuid, "
    "ts timestamptz, t timestamp, d date, j jsonb, js json, v varchar(20), c char(3), "
    "emb vector(3))"
)
TYPES_CSV = (
    "id,i2,i4,f4,f8,b,u,ts,t,d,j,js,v,c,emb\n"
    "1,-32768,2147483647,1.1,0.1,t,0E7D2F2A-1B3C-4D5E-8F90-123456789ABC,2026-01-10 12:34:56.123456+00,"
    '2026-01-10 12:34:56.5,2026-01-10,"{""b"": 1, ""a"": [1, 2]}","{""b"":1,  ""a"":2}",plain,ab,"[1,2,3]"\n'
    '2,,,NaN,-Infinity,f,,2026-01-10 12:34:56+05:30,0044-03-15 00:00:00,1999-12-31,,,"",xyz,"[0.1,-2.5e-05,3]"\n'
    "3,7,,3.4028235e38,1e-320,true,,1970-01-01 00:00:00-08,,,null,[],é ü,,\n"
    "4,0,0,0,0,false,00000000-0000-4000-8000-000000000004,2026-03-01 23:59:59.999999+14,"
    '2026-03-01 00:00:00,2026-03-01,{},{},"multi\nline",a,"[1,2]"\n'
)


def test_direct_binary_encoding_matches_the_servers_own_parsing(empty_db, tmp_path):
    """The same file through the direct binary COPY and through the text stage: identical rows."""
    sql(empty_db, f"CREATE TABLE direct {TYPES_DDL}", f"CREATE TABLE staged {TYPES_DDL}")
    write(tmp_path / "a", "public.direct.csv", TYPES_CSV)
    write(tmp_path / "b", "public.staged.csv", TYPES_CSV)
    logs = []
    direct = load(
        empty_db, tmp_path / "a", on_event=lambda e: isinstance(e, Log) and logs.append(e)
    )
    staged = load(empty_db, tmp_path / "b", force_staging=True)
    d, s = direct.tables[0], staged.tables[0]
    assert d.path == "binary" and s.path == "staging"
    assert logs == []  # the direct COPY took every value: no fallback
    assert (d.inserted, d.rejected) == (s.inserted, s.rejected) == (3, 1)
    assert _rejects(d.reject_file)[1][0] == "5"  # record 4 (its note spans lines 5-6)
    assert "dimensions" in _rejects(d.reject_file)[1][1]
    diff = query(
        empty_db,
        "SELECT count(*) FROM ((SELECT x::text FROM direct x EXCEPT SELECT y::text FROM staged y) "
        "UNION ALL (SELECT y::text FROM staged y EXCEPT SELECT x::text FROM direct x)) z",
    )
    assert diff == [(0,)]
    assert query(empty_db, "SELECT j::text, js::text FROM direct WHERE id = 1") == [
        ('{"a": [1, 2], "b": 1}', '{"b":1,  "a":2}')
    ]


def test_direct_binary_falls_back_to_the_stage_on_a_duplicate_key(empty_db, tmp_path):
    sql(empty_db, "CREATE TABLE dv (id int PRIMARY KEY, emb vector(2))")
    write(tmp_path, "public.dv.csv", 'id,emb\n1,"[1,2]"\n2,"[3,4]"\n1,"[5,6]"\n3,"[1]"\n')
    result = load(empty_db, tmp_path)
    t = result.tables[0]
    got = (t.path, t.csv_rows, t.inserted, t.duplicates, t.conflicts, t.rejected)
    assert got == ("binary", 4, 2, 0, 1, 1)
    assert sorted(r[0] for r in _rejects(t.reject_file)[1:]) == ["4", "5"]  # client rejects first
    assert query(empty_db, "SELECT emb::text FROM dv WHERE id = 1") == [("[1,2]",)]


def test_vector_table_with_self_reference_and_existing_rows(empty_db, tmp_path):
    sql(
        empty_db,
        "CREATE TABLE sv (id text PRIMARY KEY, parent text REFERENCES sv (id), emb vector(2))",
        "INSERT INTO sv VALUES ('seed', NULL, '[0,0]')",
    )
    write(
        tmp_path,
        "public.sv.csv",
        'id,parent,emb\nb,a,"[1,1]"\na,,"[2,2]"\nseed,,"[0,0]"\nc,zz,"[3,3]"\nd,a,"[1]"\n',
    )
    result = load(empty_db, tmp_path)
    t = result.tables[0]
    assert (t.path, t.csv_rows, t.inserted, t.duplicates, t.rejected) == ("binary", 5, 2, 1, 2)
    lines = {r[0]: r[1] for r in _rejects(t.reject_file)[1:]}
    assert set(lines) == {"5", "6"} and "zz" in lines["5"] and "dimensions" in lines["6"]


def test_lost_connection_fails_the_table_by_name_and_stops_the_run(empty_db, tmp_path):
    sql(
        empty_db,
        "CREATE TABLE l1 (id int PRIMARY KEY, name text, note text)",
        "CREATE TABLE l2 (id int PRIMARY KEY, l1_id int REFERENCES l1 (id))",
    )
    _big_csv(tmp_path / "public.l1.csv", 400_000)
    write(tmp_path, "public.l2.csv", "id,l1_id\n1,1\n")
    killed = []

    def on_event(event):
        if isinstance(event, TableProgress) and event.target == "public.l1" and not killed:
            killed.append(
                query(
                    empty_db,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'aria-tui' AND pid <> pg_backend_pid() "
                    "AND datname = current_database()",
                )
            )

    result = load(empty_db, tmp_path, on_event=on_event)
    assert killed
    l1, l2 = result.table("public.l1"), result.table("public.l2")
    assert l1.status == "failed" and "Lost the connection" in l1.error and "public.l1" in l1.error
    assert l2.status == "skipped" and "public.l1" in l2.error
    assert not result.ok
    assert query(empty_db, "SELECT count(*) FROM l1") == [(0,)]
    again = load(empty_db, tmp_path)  # and a re-run loads everything
    assert again.ok and query(empty_db, "SELECT count(*) FROM l1") == [(400_000,)]


def test_password_never_reaches_journal_or_reject_files(empty_db, tmp_path):
    from aria_tui.pg.connect import resolve

    sql(empty_db, "CREATE TABLE pw (id int PRIMARY KEY)")
    write(tmp_path, "public.pw.csv", "id\n1\nnot-a-number\n")
    # the test server trusts local connections, so libpq never needs the password: it only
    # has to be kept out of everything aria-tui writes
    with_password = empty_db.conninfo.replace("postgres:@", "postgres:Sup3rS3cret@", 1)
    assert "Sup3rS3cret" in with_password
    target = resolve(with_password)
    plan = plan_for(empty_db, tmp_path)
    from aria_tui.load import run_plan

    result = run_plan(target, plan)
    t = result.tables[0]
    assert t.rejected == 1
    for path in (result.journal, t.reject_file):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert "Sup3rS3cret" not in open(path, encoding="utf-8").read()
    assert "Sup3rS3cret" not in str(result.to_json())


def test_malformed_record_is_rejected_with_its_physical_line(empty_db, tmp_path):
    """The scan notes such a record; the load rejects it alone, naming its real line."""
    sql(empty_db, "CREATE TABLE mf (id int, note text)")
    write(tmp_path, "public.mf.csv", 'id,note\n1,"a\nb\nc"\n2,x,extra\n3,y\n')
    result = load(empty_db, tmp_path)
    r = result.tables[0]
    assert r.status == "loaded" and (r.csv_rows, r.inserted, r.rejected) == (3, 2, 1), r
    rows = _rejects(r.reject_file)
    assert rows[1][0] == "5" and "row has 3 fields, header has 2" in rows[1][1]
    assert rows[1][2] == "2,x,extra"
    assert query(empty_db, "SELECT id, note FROM mf ORDER BY id") == [(1, "a\nb\nc"), (3, "y")]


def _fallbacks(db, folder, **kw):
    said: list[str] = []

    def on_event(event):
        if isinstance(event, Log) and event.level == "warning":
            said.append(event.message)

    return load(db, folder, on_event=on_event, **kw), said


def test_load_paths_are_tried_in_order_and_each_fallback_is_said(empty_db, tmp_path):
    # fast COPY stops on a bad value: the text stage loads the rest, one warning says why
    sql(empty_db, "CREATE TABLE fb (id int PRIMARY KEY, at timestamptz)")
    write(tmp_path / "a", "public.fb.csv", "id,at\n1,2026-01-01 00:00:00+00\n2,soon\n")
    result, said = _fallbacks(empty_db, tmp_path / "a")
    t = result.tables[0]
    assert (t.path, t.inserted, t.rejected) == ("staging", 1, 1), t
    assert len(said) == 1 and "the direct COPY stopped" in said[0], said
    # a table that already holds a row never takes the fast COPY (the rows the file repeats
    # are matched in the stage): it is staged straight away, with no fallback to say
    sql(
        empty_db,
        "CREATE TABLE fh (id int PRIMARY KEY, at timestamptz)",
        "INSERT INTO fh VALUES (1, '2026-01-01 00:00:00+00')",
    )
    write(tmp_path / "b", "public.fh.csv", "id,at\n1,2026-01-01 00:00:00+00\n3,2026-01-03 00:00:00+00\n")
    result, said = _fallbacks(empty_db, tmp_path / "b")
    t = result.tables[0]
    assert (t.path, t.inserted, t.duplicates) == ("staging", 1, 1) and said == [], (t, said)
    # vectors: the direct binary COPY stops on a bad value, the binary stage sorts the rows
    sql(empty_db, "CREATE TABLE fv (id int PRIMARY KEY, n int2, emb vector(2))")
    write(tmp_path / "c", "public.fv.csv", 'id,n,emb\n1,1,"[1,2]"\n2,70000,"[3,4]"\n')
    result, said = _fallbacks(empty_db, tmp_path / "c")
    t = result.tables[0]
    assert (t.path, t.inserted, t.rejected) == ("binary", 1, 1), t
    assert len(said) == 1 and "the direct binary COPY stopped" in said[0], said
    # --force-staging skips every path before the text stage, and says nothing
    sql(empty_db, "CREATE TABLE fs (id int PRIMARY KEY, n int2, emb vector(2))")
    write(tmp_path / "d", "public.fs.csv", 'id,n,emb\n1,1,"[1,2]"\n2,70000,"[3,4]"\n')
    result, said = _fallbacks(empty_db, tmp_path / "d", force_staging=True)
    t = result.tables[0]
    assert (t.path, t.inserted, t.rejected) == ("staging", 1, 1) and said == [], (t, said)


def test_text_stage_takes_the_vectors_pgvector_takes(empty_db, tmp_path):
    # the stage judges a vector by pgvector's own input (pg/row_rules.py, as validate does), not
    # by a pattern: a hex float is a number to strtof, a literal out of float range is not
    sql(empty_db, "CREATE TABLE hv (id int PRIMARY KEY, emb vector(3))")
    write(
        tmp_path,
        "public.hv.csv",
        'id,emb\n1,"[0x1p1,2,3]"\n2,"[1,2]"\n3,"[1,,2]"\n4,"[1e99,1,1]"\n5,"[4,5,6]"\n',
    )
    result = load(empty_db, tmp_path, force_staging=True)
    t = result.tables[0]
    assert (t.path, t.inserted, t.rejected) == ("staging", 2, 3), t
    assert query(empty_db, "SELECT id, emb::text FROM hv ORDER BY id") == [
        (1, "[2,2,3]"),
        (5, "[4,5,6]"),
    ]
    reasons = {int(r[0]): r[1] for r in _rejects(t.reject_file)[1:]}
    assert reasons[3] == 'column "emb": expected 3 dimensions, not 2', reasons
    assert reasons[4] == 'column "emb": not a vector literal', reasons
    assert reasons[5] == 'column "emb": not a vector literal', reasons
