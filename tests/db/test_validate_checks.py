"""The validation checks one by one, on hand-made files and tables in a real PostgreSQL: staging a
file byte for byte, casting through the target's types, and each check's verdict and detail."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from aria_tui.pg.catalog import read_catalog
from aria_tui.validate.checks.content import content as check_content
from aria_tui.validate.checks.measure import measure
from aria_tui.validate.checks.presence import presence as check_presence
from aria_tui.validate.checks.reconciliation import reconciliation as check_reconciliation
from aria_tui.validate.checks.sequences import sequences as check_sequences
from aria_tui.validate.journal import JournalEntry
from aria_tui.validate.staging.layout import CAST, HASH, REC, TYPED, layout
from aria_tui.validate.staging.server_copy import stage as stage_file


def stage(conn: psycopg.Connection, path: Path, table: str, mapping: dict[str, str | None] | None = None):
    """Stage `path` against `table` the way validate() does; returns (Layout, Staged)."""
    header = tuple(path.read_text(encoding="utf-8").splitlines()[0].split(","))
    mapping = mapping or {h: h for h in header}
    t = read_catalog(conn).get(table)
    assert t is not None
    lay = layout(t, header, tuple((h, mapping.get(h)) for h in header))
    records, source = stage_file(conn, path, lay)
    return lay, measure(conn, lay, path.name, records, records, source)


@pytest.fixture
def conn(empty_db):
    with psycopg.connect(empty_db.conninfo) as c:
        yield c


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_casting_makes_text_differences_equal(conn, tmp_path):
    conn.execute(
        "CREATE TABLE public.t (id uuid PRIMARY KEY, n numeric(8,3), j jsonb, ts timestamptz, "
        "b boolean, f double precision, arr int[], v vector(2), s varchar(10))"
    )
    conn.execute(
        "INSERT INTO public.t VALUES ('0b5e9f1e-3a0c-4f8e-9d3b-2c1a0f9e8d7c', 1.5, '{\"a\": [1, 2], \"b\": null}', "
        "'2024-03-01 12:00:00+00', true, 0.1, '{1,2}', '[0.5, 1]', 'x')"
    )
    path = write(
        tmp_path,
        "t.csv",
        "id,n,j,ts,b,f,arr,v,s\r\n"
        '0B5E9F1E-3A0C-4F8E-9D3B-2C1A0F9E8D7C,1.500,"{""b"":null,""a"":[1,2]}",'
        '2024-03-01T14:00:00+02:00,t,0.10,"{1, 2}","[5e-1,1.0]",x\r\n',
    )
    _, s = stage(conn, path, "public.t")
    check = check_content(conn, s)
    assert check.ok, check.detail
    assert s.invalid == 0 and check_presence(s).ok


def test_in_file_repeats_and_a_record_found_only_through_another_unique_key(conn, tmp_path):
    conn.execute("CREATE TABLE public.m (id int PRIMARY KEY, key text UNIQUE NOT NULL, v text)")
    # the target's own seed row, under another id than the export's: the load skips it
    conn.execute("INSERT INTO public.m VALUES (100, 'identity', 'seed')")
    conn.execute("INSERT INTO public.m VALUES (1, 'a', 'one'), (2, 'b', 'two')")
    path = write(tmp_path, "m.csv", "id,key,v\n1,a,one\n2,b,two\n2,b,two\n7,identity,seed\n")
    _, s = stage(conn, path, "public.m")
    # record 4 is found only through key=identity, as id=100: another row, not this record
    assert (s.other_key, s.missing, s.repeats, s.equal) == (1, 0, 1, 3)
    content = check_content(conn, s)
    assert not content.ok and "record 4: id=7 is not in the target, but key=identity" in content.detail
    assert "id=100" in content.detail
    rec = check_reconciliation(s, 3, None)
    assert "repeat a key" in rec.detail and "no journal" in rec.detail
    # an identical repeat is one row; a repeat with other content is a record the target lacks
    path = write(tmp_path, "m.csv", "id,key,v\n1,a,one\n2,b,two\n2,b,two again\n")
    _, s = stage(conn, path, "public.m")
    assert (s.differing, s.equal) == (1, 2)
    content = check_content(conn, s)
    assert not content.ok and "id=2 (record 3: v)" in content.detail


def test_missing_and_changed_rows_are_named_with_composite_keys(conn, tmp_path):
    conn.execute("CREATE TABLE public.w (category text, key text, value jsonb, PRIMARY KEY (category, key))")
    conn.execute("""INSERT INTO public.w VALUES ('a', 'x', '{"n": 1}'), ('a', 'y', '{"n": 3}')""")
    path = write(tmp_path, "w.csv", 'category,key,value\na,x,"{""n"": 1}"\na,y,"{""n"": 2}"\nb,z,{}\n')
    _, s = stage(conn, path, "public.w")
    presence = check_presence(s)
    assert not presence.ok and "(category, key)=(b, z)" in presence.detail and "record 3" in presence.detail
    content = check_content(conn, s)
    assert not content.ok and "(category, key)=(a, y) (record 2: value)" in content.detail
    assert not check_reconciliation(s, 2, None).ok


def test_keyless_table_compares_a_multiset(conn, tmp_path):
    conn.execute("CREATE TABLE public.k (tag text, w real)")
    conn.execute("INSERT INTO public.k VALUES ('x', 1.5), ('y', 2), ('extra', 0)")
    path = write(tmp_path, "k.csv", "tag,w\nx,1.5\nx,1.50\ny,2\n")
    _, s = stage(conn, path, "public.k")
    assert check_presence(s).ok  # nothing to match one by one
    content = check_content(conn, s)
    assert not content.ok and "1 record" in content.detail and "record 1" in content.detail
    conn.execute("INSERT INTO public.k VALUES ('x', 1.5)")
    _, s = stage(conn, path, "public.k")
    assert check_content(conn, s).ok and s.extras == 1  # 'extra' was there: not judged
    assert "1 row more than k.csv" in check_presence(s).detail


def test_unloadable_records_never_crash_and_are_counted(conn, tmp_path):
    conn.execute(
        "CREATE TABLE public.p (id int PRIMARY KEY);"
        "CREATE TABLE public.c (id int PRIMARY KEY, p int REFERENCES public.p, v vector(3), "
        "s varchar(3), d date NOT NULL)"
    )
    conn.execute("INSERT INTO public.p VALUES (1); INSERT INTO public.c VALUES (1, 1, '[1,2,3]', 'abc', '2024-01-01')")
    path = write(
        tmp_path,
        "c.csv",
        "id,p,v,s,d\n"
        '1,1,"[1,2,3]",abc,2024-01-01\n'
        '2,1,"[1,2]",abc,2024-01-01\n'  # wrong dimension
        '3,1,"[1,1e39,3]",abc,2024-01-01\n'  # out of range for float4: vector_in raises
        '4,1,"[1,NaN,3]",abc,2024-01-01\n'
        '5,1,"[1,2,3]",abcd,2024-01-01\n'  # too long for varchar(3)
        '6,1,"[1,2,3]",abc,\n'  # NOT NULL
        '7,1,"[1,2,3]",abc,2024-02-30\n'  # no such date
        '8,9,"[1,2,3]",abc,2024-01-01\n'  # no parent
        ',1,"[1,2,3]",abc,2024-01-01\n',  # no key
    )
    _, s = stage(conn, path, "public.c")
    assert (s.invalid, s.orphans, s.missing) == (7, 1, 0)
    reasons = " | ".join(r for _, r in s.invalid_samples)
    assert "v has 2 dimensions, not 3" in reasons and "is not a valid vector(3)" in reasons
    presence = check_presence(s)
    # records that cannot be loaded are export data the target lacks: never a pass
    assert not presence.ok and "8 records of c.csv cannot be loaded" in presence.detail
    assert "the parent is in neither the target nor the export" in presence.detail
    assert check_content(conn, s).ok
    assert check_reconciliation(s, 1, None).ok
    conn.execute("UPDATE public.c SET d = '2024-01-02', v = '[1,2,4]' WHERE id = 1")
    _, s = stage(conn, path, "public.c")
    # the date and varchar(3) columns are staged as text on either path (compared without their
    # narrowing), so the typed COPY no longer fails: the differing columns are named either way
    content = check_content(conn, s)
    assert "id=1 (record 1: v, d)" in content.detail
    journal = JournalEntry("loaded", inserted=1, duplicates=0, rejected=8)
    rec = check_reconciliation(s, 1, journal)
    assert rec.ok and "inserted 1 + duplicates 0 + rejected 8 = 9" in rec.detail
    bad = check_reconciliation(s, 1, JournalEntry("loaded", inserted=1, duplicates=0, rejected=7))
    assert not bad.ok and "not the file's 9" in bad.detail
    skipped = check_reconciliation(s, 1, JournalEntry("failed", 0, 0, 0, "lock timeout"))
    assert not skipped.ok and "lock timeout" in skipped.detail


def test_server_and_reader_disagreeing_on_record_count_fails(conn, tmp_path):
    conn.execute("CREATE TABLE public.r (id int PRIMARY KEY)")
    conn.execute("INSERT INTO public.r VALUES (1), (2)")
    path = write(tmp_path, "r.csv", "id\n1\n2\n")
    header = ("id",)
    t = read_catalog(conn).get("public.r")
    lay = layout(t, header, (("id", "id"),))
    records, source = stage_file(conn, path, lay)
    s = measure(conn, lay, path.name, 3, records, source)  # a reader that miscounted
    rec = check_reconciliation(s, 2, None)
    assert not rec.ok and "counts 3 records" in rec.detail and "PostgreSQL reads 2" in rec.detail


def test_sequences_handle_is_called(conn):
    conn.execute("CREATE TABLE public.s (id serial PRIMARY KEY, x int GENERATED BY DEFAULT AS IDENTITY)")
    conn.execute("INSERT INTO public.s (id, x) VALUES (1, 1), (5, 2)")
    t = read_catalog(conn).get("public.s")
    check = check_sequences(conn, t)
    assert not check.ok and "public.s_id_seq" in check.detail and "max(id) = 5" in check.detail
    # setval(seq, 5, false): nextval returns 5 itself, which is taken
    conn.execute("SELECT setval('public.s_id_seq', 5, false), setval('public.s_x_seq', 2)")
    assert not check_sequences(conn, t).ok
    conn.execute("SELECT setval('public.s_id_seq', 6, false)")
    check = check_sequences(conn, t)
    assert check.ok, check.detail


def test_typed_and_careful_staging_hash_alike(conn, tmp_path):
    conn.execute(
        "CREATE TABLE public.h (id uuid PRIMARY KEY, s varchar(5), n numeric(6,2), j jsonb, "
        "ts timestamptz, v vector(2), b boolean)"
    )
    clean = (
        "id,s,n,j,ts,v,b\n"
        '6f1c0f8e-0000-4000-8000-000000000001,abc,1.5,"{""k"": [1, {""a"": null}]}",'
        '2024-01-01 00:00:00+00,"[1,2.5]",t\n'
        "6f1c0f8e-0000-4000-8000-000000000002,,,,,,\n"
    )
    def hashes(text: str) -> dict[int, str | None]:
        stage(conn, write(tmp_path, "h.csv", text), "public.h")
        return dict(conn.execute(f"SELECT {REC}, {HASH} FROM {CAST}").fetchall())

    typed = hashes(clean)
    careful = hashes(clean + "6f1c0f8e-0000-4000-8000-000000000003,toolong,1,{},2024-01-01,\"[1,2]\",f\n")
    assert careful[3] is None  # the bad record: too long for varchar(5)
    assert typed == {k: v for k, v in careful.items() if k != 3}
    assert all(typed.values())


def test_bad_vectors_in_an_otherwise_clean_file_are_rejected_not_missing(conn, tmp_path):
    conn.execute("CREATE TABLE public.e (id int PRIMARY KEY, v vector(3))")
    conn.execute("INSERT INTO public.e VALUES (1, '[1,2,3]'), (2, '[0.5,0.25,0.125]')")
    path = write(
        tmp_path,
        "e.csv",
        # record 2 spells its vector differently (still equal); 3 and 4 cannot load
        'id,v\n1,"[1,2,3]"\n2,"[5e-1, 0.250, .125]"\n3,"[1,2]"\n4,"[1,x,3]"\n',
    )
    lay, s = stage(conn, path, "public.e")
    assert s.source == TYPED and [p.name for p in lay.text_vectors] == ["v"]
    assert (s.invalid, s.missing) == (2, 0)
    assert [r for r, _ in s.invalid_samples] == [3, 4]
    assert "v has 2 dimensions, not 3" in s.invalid_samples[0][1]
    assert not check_presence(s).ok and check_reconciliation(s, 2, None).ok
    assert s.not_in_target == 2 and s.missing == 0
    content = check_content(conn, s)
    assert content.ok and "value by value" in content.detail
    conn.execute("UPDATE public.e SET v = '[0.5,0.25,0.126]' WHERE id = 2")
    _, s = stage(conn, path, "public.e")
    content = check_content(conn, s)
    assert not content.ok and "id=2" in content.detail
