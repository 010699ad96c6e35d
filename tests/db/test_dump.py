"""`aria-tui export` against a real PostgreSQL: a round trip that comes back identical, a manifest
that is exact, and every failure leaving no file that looks whole and no manifest.

Seed 004 is the yardstick: pg_dump skipped tables silently, CSV broke on multi-line content with
quotes, and success was assumed instead of checked.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import importlib.util
import json
import os
import shutil
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from aria_tui.dump import (
    ExportPlanned,
    TableExported,
    TableProgress,
    TableStarted,
    export_database,
)
from aria_tui.dump import run as run_mod
from aria_tui.dump import writer as writer_mod
from aria_tui.errors import ExportError
from aria_tui.manifest import format as m
from aria_tui.manifest.check import check_folder
from aria_tui.pg.catalog import read_catalog

MULTILINE = 'first line\nsecond "quoted", line\r\nthird, with a backslash \\ and a tab\there'
SEM_IDS = [f"00000000-0000-4000-9000-00000000000{i}" for i in range(1, 4)]
SESSION_ID = "00000000-0000-4000-9000-000000000010"


def fill_source(conninfo: str) -> None:
    """Rows that break naive CSV: multi-line text with quotes and CRLF, JSON holding quotes and
    newlines, NULL next to the empty string, '\\N' as data, non-ASCII, 768- and 1536-d vectors."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO aria_data.memories (key, value, category) VALUES
              ('export_jsonb', %s::jsonb, NULL),
              ('export_empty', '""', ''),
              ('export_slash_n', '{"v": "\\\\N"}', '\\N')
            """,
            (json.dumps({"text": MULTILINE, "emoji": "café 🚀", "list": [1, None, "a,b"]}),),
        )
        conn.execute(
            "INSERT INTO aria_data.thoughts (content, category, metadata) VALUES "
            "(%s, '', NULL), ('plain', NULL, '{}')",
            (MULTILINE,),
        )
        for i, summary in zip(SEM_IDS, (None, "", MULTILINE), strict=True):
            conn.execute(
                """
                INSERT INTO aria_data.semantic_memories (id, content, summary, embedding, importance)
                SELECT %s, %s, %s,
                       ('[' || string_agg(sin(g * %s)::real::text, ',' ORDER BY g) || ']')::vector(768),
                       1.0 / 3
                FROM generate_series(1, 768) g
                """,
                (i, f'memory {i}\n"quoted"', summary, len(i) + int(i[-1])),
            )
        conn.execute(
            "INSERT INTO aria_engine.chat_sessions (id, title) VALUES (%s, %s)",
            (SESSION_ID, 'a, "title"\nwith a newline'),
        )
        conn.execute(
            """
            INSERT INTO aria_engine.chat_messages (session_id, role, content, embedding, cost)
            SELECT %(s)s::uuid, 'user', 'hi', NULL, 0.000001
            UNION ALL
            SELECT %(s)s::uuid, 'assistant', %(c)s,
                   (SELECT '[' || string_agg((g / 7.0)::real::text, ',' ORDER BY g) || ']'
                    FROM generate_series(1, 1536) g)::vector,
                   NULL
            """,
            {"s": SESSION_ID, "c": MULTILINE},
        )


@pytest.fixture
def source(aria_db):
    fill_source(aria_db.conninfo)
    return aria_db


def table_digests(conninfo: str, tables: list[str]) -> dict[str, tuple[int, str]]:
    """Per table: count and md5 of every row's text, sorted: equal digests = identical content."""
    out = {}
    with psycopg.connect(conninfo) as conn:
        for qualified in tables:
            ident = sql.Identifier(*qualified.split(".", 1))
            q = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "
                "FROM {} t"
            ).format(ident)
            out[qualified] = tuple(conn.execute(q).fetchone())
    return out


def source_counts(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        cat = read_catalog(conn, ["aria_data", "aria_engine"])
        return {
            name: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(t.ident)).fetchone()[0]
            for name, t in cat.tables.items()
        }


def load_into(folder: Path, target, cli) -> None:
    """The loader when it has landed; until then PostgreSQL's own COPY FROM, which is the reader
    the export's CSV dialect was chosen for."""
    if importlib.util.find_spec("aria_tui.cli.load_cmd") is not None:
        # every file, not the profile's default HIGH/MEDIUM selection: the round trip is whole
        every = ",".join(t.qualified for t in m.read_manifest(folder).tables)
        code, out, err = cli("load", folder, "--dsn", target.conninfo, "--tables", every, "--yes")
        assert code == 0, err
        return
    manifest = m.read_manifest(folder)
    with psycopg.connect(target.conninfo) as conn:
        idents = [sql.Identifier(t.schema, t.table) for t in manifest.tables]
        conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(idents)))
        # files come in name order, not parent-first: skip FK triggers (the tests run as superuser)
        conn.execute("SET session_replication_role = replica")
        for t in manifest.tables:
            cols = sql.SQL(", ").join(sql.Identifier(c.name) for c in t.columns)
            stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER true)").format(
                sql.Identifier(t.schema, t.table), cols
            )
            with conn.cursor().copy(stmt) as copy, open(folder / t.file, "rb") as fh:
                while chunk := fh.read(1 << 16):
                    copy.write(chunk)


# ------------------------------------------------------------------------------------------------


def test_round_trip_is_exact(source, templates, cli, tmp_path):
    out = tmp_path / "exp"
    code, stdout, err = cli("export", "--source", source.conninfo, out, "--json")
    assert code == 0, err
    result = json.loads(stdout)
    counts = source_counts(source.conninfo)

    # every table of both schemas, one schema-qualified file each, and nothing else
    manifest = m.read_manifest(out)
    assert {t.qualified for t in manifest.tables} == set(counts)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{name}.csv" for name in counts] + ["manifest.json"]
    )
    for t in manifest.tables:
        data = (out / t.file).read_bytes()
        assert t.records == counts[t.qualified], t.qualified
        assert t.bytes == len(data)
        assert t.sha256 == hashlib.sha256(data).hexdigest()
        assert data.splitlines()[0].decode() == ",".join(c.name for c in t.columns)
    assert result["records"] == sum(counts.values())
    assert manifest.records == sum(counts.values())

    # the source's shape, as the diff will want it
    sem = manifest.entry("aria_data.semantic_memories")
    assert sem.records == 3 and sem.primary_key == ("id",)
    assert sem.source_types["embedding"] == "vector(768)"
    assert {c.name: c.not_null for c in sem.columns}["embedding"] is True
    msgs = manifest.entry("aria_engine.chat_messages")
    assert [(fk.columns, fk.ref_table, fk.on_delete) for fk in msgs.foreign_keys] == [
        (("session_id",), "aria_engine.chat_sessions", "CASCADE")
    ]
    assert manifest.entry("aria_data.memories").unique_keys == (("key",),)
    assert manifest.server_version and manifest.snapshot_time.endswith("+00:00")

    # no host, user or password: the database name only
    text = (out / m.MANIFEST_NAME).read_text()
    with psycopg.connect(source.conninfo) as conn:
        info = conn.info
        assert manifest.database == info.dbname
        for secret in {info.host, info.user, source.conninfo} - {""}:
            assert secret not in text

    # PostgreSQL wrote what PostgreSQL reads: NULL and '' stay apart
    sem_csv = (out / sem.file).read_bytes().decode("utf-8")  # keep the CRLF inside the field
    assert '""' in sem_csv and MULTILINE.replace('"', '""') in sem_csv

    check = check_folder(out)
    assert check.ok and len(check.files) == len(counts)

    target = templates.fresh("aria_v4")
    load_into(out, target, cli)
    assert table_digests(target.conninfo, list(counts)) == table_digests(
        source.conninfo, list(counts)
    )
    with psycopg.connect(target.conninfo) as conn:
        nulls, empties = conn.execute(
            "SELECT count(*) FILTER (WHERE summary IS NULL), count(*) FILTER (WHERE summary = '') "
            "FROM aria_data.semantic_memories"
        ).fetchone()
        assert (nulls, empties) == (1, 1)

    if importlib.util.find_spec("aria_tui.cli.validate_cmd") is not None:
        every = ",".join(counts)
        code, _, err = cli("validate", out, "--dsn", target.conninfo, "--tables", every)
        assert code == 0, err


def test_gzip_export_hashes_what_is_stored(source, cli, tmp_path):
    out = tmp_path / "gz"
    code, _, err = cli(
        "export",
        "--source",
        source.conninfo,
        out,
        "--tables",
        "semantic_memories,aria_data.memories",
        "--gzip",
    )
    assert code == 0, err
    manifest = m.read_manifest(out)
    assert manifest.compression == "gzip"
    assert [t.file for t in manifest.tables] == [
        "aria_data.memories.csv.gz",
        "aria_data.semantic_memories.csv.gz",
    ]
    for t in manifest.tables:
        stored = (out / t.file).read_bytes()
        assert (t.bytes, t.sha256) == (len(stored), hashlib.sha256(stored).hexdigest())
        raw = gzip.decompress(stored)
        assert (t.csv_bytes, t.csv_sha256) == (len(raw), hashlib.sha256(raw).hexdigest())
    assert check_folder(out).ok

    # gunzipped on the target host: still verifiable
    for t in manifest.tables:
        path = out / t.file
        path.with_suffix("").write_bytes(gzip.decompress(path.read_bytes()))
        path.unlink()
    check = check_folder(out)
    assert check.ok and {fc.file for fc in check.files} == {
        "aria_data.memories.csv",
        "aria_data.semantic_memories.csv",
    }


def test_tampered_copy_is_caught(source, cli, tmp_path):
    out = tmp_path / "exp"
    code, _, err = cli("export", "--source", source.conninfo, out, "--schemas", "aria_data")
    assert code == 0, err
    # delete the last line of one file: a record gone, the file still parses
    thoughts = out / "aria_data.thoughts.csv"
    lines = thoughts.read_bytes().splitlines(keepends=True)
    thoughts.write_bytes(b"".join(lines[:-1]))
    (out / "aria_data.goals.csv").unlink()
    shutil.copy(out / "aria_data.memories.csv", out / "aria_data.memories_copy.csv")

    check = check_folder(out, count_records=lambda p: 2)
    status = {fc.file: fc.status for fc in check.files}
    assert status["aria_data.thoughts.csv"] == "changed"
    assert status["aria_data.goals.csv"] == "missing"
    assert status["aria_data.memories_copy.csv"] == "unlisted"
    assert status["aria_data.memories.csv"] == "ok"
    assert set(status.values()) == {"ok", "changed", "missing", "unlisted"}
    assert "holds 2 records, the export wrote 3" in check.reason_for("aria_data.thoughts")

    # and scan shows it: the changed file is blocked and not selected, the missing one is named
    code, stdout, err = cli("scan", out, "--dsn", source.conninfo, "--json")
    assert code == 0, err
    inventory = json.loads(stdout)
    by_file = {t["file"]: t for t in inventory["tables"]}
    assert by_file["aria_data.thoughts.csv"]["manifest"] == "changed"
    assert by_file["aria_data.thoughts.csv"]["diff"]["status"] == "blocked"
    assert by_file["aria_data.thoughts.csv"]["selected"] is False
    assert by_file["aria_data.memories_copy.csv"]["manifest"] == "unlisted"
    assert by_file["aria_data.memories.csv"]["manifest"] == "ok"
    assert any("aria_data.goals.csv" in note for note in inventory["notes"])


def test_unreachable_source_is_one_sentence_and_no_folder(cli, tmp_path):
    out = tmp_path / "exp"
    code, stdout, err = cli(
        "export", "--source", "postgresql://aria:s3cret@127.0.0.1:1/nowhere", out
    )
    assert code == 2
    assert err.startswith("aria-tui: Cannot connect to PostgreSQL at 127.0.0.1:1")
    assert err.count("\n") == 1 and "Traceback" not in err and "s3cret" not in err
    assert not out.exists()  # the folder it created is gone again: nothing to mistake for an export


def test_non_empty_folder_needs_force(source, cli, tmp_path):
    out = tmp_path / "exp"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code, _, err = cli("export", "--source", source.conninfo, out, "--tables", "memories")
    assert code == 2 and "not empty" in err and "--force" in err
    assert not (out / m.MANIFEST_NAME).exists()

    (out / ".aria_data.memories.csv.partial").write_text("left by a crash")
    (out / "old.table.csv").write_text("id\n1\n")
    code, _, err = cli(
        "export", "--source", source.conninfo, out, "--tables", "memories", "--force"
    )
    assert code == 0, err
    assert "old.table.csv" in err  # told that a stale CSV is in the folder
    assert (out / "notes.txt").read_text() == "keep me"
    assert not list(out.glob(".*.partial"))
    check = check_folder(out)
    assert check.status_for("aria_data.memories") == "ok"
    assert check.status_for("old.table.csv") == "unlisted"


def test_selection_errors_name_the_table(empty_db, cli, tmp_path):
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA a; CREATE SCHEMA b")
        conn.execute(
            "CREATE TABLE a.t (id int); CREATE TABLE b.t (id int); CREATE TABLE a.u (id int)"
        )
    for args, words in [
        (("--tables", "nope"), "Table nope does not exist"),
        (("--tables", "t"), "Table t is ambiguous (a.t and b.t)"),
        (("--schemas", "zzz"), "Schema zzz does not exist"),
    ]:
        code, _, err = cli("export", "--source", empty_db.conninfo, tmp_path / "x", *args)
        assert code == 2 and words in err, err
        assert not (tmp_path / "x").exists()
    code, _, err = cli("export", "--source", empty_db.conninfo, tmp_path / "y", "--tables", "u,b.t")
    assert code == 0, err
    assert [t.qualified for t in m.read_manifest(tmp_path / "y").tables] == ["a.u", "b.t"]


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_full_disk_leaves_nothing_that_looks_whole(source, cli, tmp_path, monkeypatch):
    real_write = writer_mod._HashingSink.write
    written = {"bytes": 0}

    def write(self, data):
        written["bytes"] += len(data)
        if written["bytes"] > 2000:  # a few tables in: the disk fills up
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(writer_mod._HashingSink, "write", write)
    out = tmp_path / "exp"
    code, stdout, err = cli("export", "--source", source.conninfo, out)
    assert code == 2
    last = err.strip().splitlines()[-1]  # progress lines for people come first
    assert last.startswith("aria-tui: Cannot write ") and last.endswith(
        ": No space left on device."
    )
    assert ".csv.partial" in last and "Traceback" not in err
    assert not out.exists() or _files(out) == []  # no partial, no final-named file, no manifest


def test_lost_connection_mid_export(source, tmp_path):
    """The source goes away while a table is being read (a restart, a killed backend)."""
    out = tmp_path / "exp"
    conn = psycopg.connect(source.conninfo)
    seen: list[str] = []

    def kill_when_memories_starts(event):
        if isinstance(event, TableExported):
            seen.append(event.table.table)
        if isinstance(event, TableStarted) and event.table == "aria_data.memories":
            with psycopg.connect(source.conninfo, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))

    with pytest.raises(ExportError) as exc:
        export_database(conn, out, schemas=["aria_data"], progress=kill_when_memories_starts)
    conn.close()
    assert str(exc.value).startswith(
        "The connection to the source was lost while exporting aria_data.memories:"
    )
    assert seen  # tables before it were finished, and are removed all the same
    assert _files(out) == []


def test_table_dropped_before_it_is_locked(source, tmp_path, monkeypatch):
    """The one window a table can vanish in: after the snapshot lists it, before the lock holds it
    (pg_dump has the same window). The export names the table and leaves nothing behind."""
    real_list = run_mod.list_tables

    def list_then_drop(conn):
        listing = real_list(conn)
        with psycopg.connect(source.conninfo, autocommit=True) as other:
            other.execute("DROP TABLE aria_data.working_memory CASCADE")
        return listing

    monkeypatch.setattr(run_mod, "list_tables", list_then_drop)
    out = tmp_path / "exp"
    with psycopg.connect(source.conninfo) as conn, pytest.raises(ExportError) as exc:
        export_database(conn, out, schemas=["aria_data"])
    assert str(exc.value).startswith(
        "Table aria_data.working_memory disappeared from the source during the export"
    )
    assert _files(out) == []


def test_snapshot_is_consistent_and_tables_cannot_vanish(source, tmp_path):
    """Rows written during the export are not in it, and a DROP TABLE waits for the export."""
    out = tmp_path / "exp"
    before = source_counts(source.conninfo)
    refused: list[str] = []

    def meddle(event):
        if isinstance(event, ExportPlanned):
            with psycopg.connect(source.conninfo, autocommit=True) as other:
                other.execute("INSERT INTO aria_data.thoughts (content) VALUES ('too late')")
                other.execute("SET lock_timeout = '200ms'")
                try:
                    other.execute("DROP TABLE aria_engine.chat_messages")
                except psycopg.errors.LockNotAvailable:
                    refused.append("drop")

    with psycopg.connect(source.conninfo) as conn:
        result = export_database(conn, out, progress=meddle)
    assert refused == ["drop"]
    got = {t.table: t.records for t in result.tables}
    assert got["aria_data.thoughts"] == before["aria_data.thoughts"]
    assert got["aria_engine.chat_messages"] == before["aria_engine.chat_messages"] == 2
    assert source_counts(source.conninfo)["aria_data.thoughts"] == before["aria_data.thoughts"] + 1
    assert check_folder(out).ok


def test_locked_table_times_out_with_a_sentence(source, cli, tmp_path):
    with psycopg.connect(source.conninfo) as holder:
        holder.execute("LOCK TABLE aria_data.memories IN ACCESS EXCLUSIVE MODE")
        code, _, err = cli(
            "export", "--source", source.conninfo, tmp_path / "exp", "--lock-timeout", "0.2"
        )
        holder.rollback()
    assert code == 2
    assert "Table aria_data.memories is locked by another session" in err
    assert not (tmp_path / "exp").exists()


def test_row_level_security_fails_instead_of_exporting_a_subset(source, cli, tmp_path):
    """Supabase turns RLS on everywhere: a role without BYPASSRLS must not get a silent subset."""
    role = f"aria_reader_{os.getpid()}"  # roles are cluster-wide: one name per test session
    with psycopg.connect(source.conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA aria_data TO {}").format(sql.Identifier(role)))
        conn.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA aria_data TO {}").format(
                sql.Identifier(role)
            )
        )
        conn.execute("ALTER TABLE aria_data.memories ENABLE ROW LEVEL SECURITY")
        conn.execute(
            "CREATE POLICY only_identity ON aria_data.memories FOR SELECT "
            "USING (category = 'identity')"
        )
    info = psycopg.conninfo.conninfo_to_dict(source.conninfo)
    reader = psycopg.conninfo.make_conninfo(**{**info, "user": role})
    try:
        code, _, err = cli("export", "--source", reader, tmp_path / "exp", "--schemas", "aria_data")
        assert code == 2
        assert (
            "Cannot read aria_data.memories: query would be affected by row-level security" in err
        )
        assert "BYPASSRLS" in err
        assert not (tmp_path / "exp").exists()
    finally:
        with psycopg.connect(source.conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_progress_events_are_exact(source, tmp_path):
    events = []
    with psycopg.connect(source.conninfo) as conn:
        result = export_database(
            conn, tmp_path / "exp", tables=["aria_data.semantic_memories"], progress=events.append
        )
    kinds = [type(e).__name__ for e in events]
    assert (
        kinds[0] == "ExportPlanned" and kinds[1] == "TableStarted" and kinds[-1] == "TableExported"
    )
    last = [e for e in events if isinstance(e, TableProgress)][-1]
    assert (last.records_done, last.records_total) == (3, 3)
    assert last.bytes_done == result.tables[0].csv_bytes == result.tables[0].bytes
    assert result.manifest == m.read_manifest(tmp_path / "exp")  # what it says is what it wrote
    assert result.mb_per_second > 0


def test_changed_file_loads_only_with_an_explicit_override(source, templates, cli, tmp_path):
    """Issue 10: a line deleted from one exported file makes scan say `changed` and the load
    refuse it, until the operator accepts it by name; the override is in the JSON and on stderr."""
    out = tmp_path / "exp"
    code, _, err = cli(
        "export", "--source", source.conninfo, out, "--tables", "thoughts,aria_data.memories"
    )
    assert code == 0, err
    exported = m.read_manifest(out).entry("aria_data.thoughts").records
    thoughts = out / "aria_data.thoughts.csv"
    lines = thoughts.read_bytes().splitlines(keepends=True)
    thoughts.write_bytes(b"".join(lines[:-1]))  # the last record, a one-line one

    code, stdout, err = cli("scan", out, "--dsn", source.conninfo, "--json")
    assert code == 0, err
    by_file = {t["file"]: t for t in json.loads(stdout)["tables"]}
    scanned = by_file["aria_data.thoughts.csv"]
    assert scanned["manifest"] == "changed" and scanned["diff"]["status"] == "blocked"
    assert scanned["problem"] is None and scanned["rows"] == exported - 1
    assert by_file["aria_data.memories.csv"]["manifest"] == "ok"

    target = templates.fresh("aria_v4")
    code, stdout, err = cli("load", out, "--dsn", target.conninfo, "--yes", "--json")
    assert code == 1, err
    res = {t["file"]: t for t in json.loads(stdout)["tables"]}
    refused = res["aria_data.thoughts.csv"]
    assert (refused["status"], refused["inserted"], refused["manifest_override"]) == (
        "blocked",
        0,
        False,
    )
    assert "changed since it was exported" in refused["error"]
    assert res["aria_data.memories.csv"]["status"] == "loaded"
    assert res["aria_data.memories.csv"]["manifest_override"] is False
    assert "warning" not in err

    # a name that is no file of the export is refused before anything is loaded
    code, _, err = cli(
        "load", out, "--dsn", target.conninfo, "--accept-changed", "nosuch.csv", "--yes"
    )
    assert code == 2 and err.strip().endswith("(use a file name, a file stem or schema.table).")

    code, stdout, err = cli(
        "load",
        out,
        "--dsn",
        target.conninfo,
        "--accept-changed",
        "aria_data.thoughts.csv",
        "--yes",
        "--json",
    )
    assert code == 0, err
    data = json.loads(stdout)
    res = {t["file"]: t for t in data["tables"]}
    loaded = res["aria_data.thoughts.csv"]
    assert loaded["status"] == "loaded" and loaded["manifest_override"] is True
    assert loaded["csv_rows"] == exported - 1
    assert loaded["inserted"] + loaded["duplicates"] == exported - 1 and loaded["rejected"] == 0
    assert res["aria_data.memories.csv"]["manifest_override"] is False
    (override,) = data["manifest_overrides"]
    assert (override["file"], override["target"], override["manifest"]) == (
        "aria_data.thoughts.csv",
        "aria_data.thoughts",
        "changed",
    )
    assert f"the export wrote {exported}" in override["reason"]
    assert "aria-tui: warning: loading aria_data.thoughts.csv despite the export's manifest" in err
    with psycopg.connect(target.conninfo) as conn:
        contents = {r[0] for r in conn.execute("SELECT content FROM aria_data.thoughts")}
    assert "plain" not in contents and MULTILINE in contents  # the deleted record stays out
