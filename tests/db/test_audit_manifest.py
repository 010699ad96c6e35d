"""Audit: files the export's manifest lists, absent or unreadable in the folder."""
import os

from auditkit import export, load, log, sql, summary, validate
from loadkit import manifest_entry

from aria_tui.manifest import format as m

T = "id,n\n1,1\n2,2\n"
U = "id,n\n1,1\n2,2\n3,3\n"


def _manifest(folder, *entries):
    m.write_manifest(folder, m.Manifest("0.1", "src", "16.4", 160004, "2026-12-02T00:00:00Z", tuple(entries)))


def _setup(empty_db, tmp_path):
    folder = export(tmp_path, {"public.t.csv": T, "public.u.csv": U})
    _manifest(folder, manifest_entry("public.t.csv", T), manifest_entry("public.u.csv", U))
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n text)",
        "CREATE TABLE public.u (id int PRIMARY KEY, n text)")
    return folder


def test_listed_file_replaced_by_a_directory(empty_db, cli, tmp_path):
    folder = _setup(empty_db, tmp_path)
    (folder / "public.u.csv").unlink()
    (folder / "public.u.csv").mkdir()
    code, loaded = load(cli, empty_db, folder)
    log("LOAD dir", code, [(t["file"], t["status"]) for t in loaded["tables"]])
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE dir", code, r["headline"], summary(r))
    assert code == 1


def test_listed_file_missing_with_tables_naming_it_by_table(empty_db, cli, tmp_path):
    folder = _setup(empty_db, tmp_path)
    load(cli, empty_db, folder)
    (folder / "public.u.csv").unlink()
    code, r = validate(cli, empty_db, folder, tmp_path, "--tables", "public.t")
    log("VALIDATE missing, --tables public.t", code, r["headline"], r.get("not_selected"))
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE missing, default", code, r["headline"])
    assert code == 1


def test_listed_file_dangling_symlink(empty_db, cli, tmp_path):
    folder = _setup(empty_db, tmp_path)
    load(cli, empty_db, folder)
    (folder / "public.u.csv").unlink()
    os.symlink(tmp_path / "nowhere.csv", folder / "public.u.csv")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE dangling", code, r["headline"])
    assert code == 1


def test_manifest_record_count_disagrees_with_its_own_file(empty_db, cli, tmp_path):
    # the export wrote 3 records of public.u into its manifest but the file (whose sha256 and
    # size the manifest also lists) holds 2: a dump that lost a record after counting it
    folder = export(tmp_path, {"public.t.csv": T, "public.u.csv": T})
    from dataclasses import replace
    _manifest(folder, manifest_entry("public.t.csv", T), replace(manifest_entry("public.u.csv", T), records=3))
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n text)",
        "CREATE TABLE public.u (id int PRIMARY KEY, n text)")
    code, loaded = load(cli, empty_db, folder)
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE manifest says 3, file holds 2", code, r["headline"])
    assert code == 1, "false green: the manifest counts 3 records of public.u, 2 reached the target"
