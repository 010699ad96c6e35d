"""Audit: a table fed by two files (t.csv and public.t.csv, or t.csv and t.csv.gz).

The loader blocks the second file ("t.csv loads into public.t, which public.t.csv already loads")
and exits 1, but validate judges each file on its own against the whole table: a file whose
records happen to be in the table (a keyless table with the same row in both parts) passes,
although the load never loaded it and the target holds the row once where the export has it twice.
"""
import gzip

from auditkit import export, load, log, query, sql, summary, validate


def test_keyless_second_part_blocked_by_load_validates_green(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"public.t.csv": "a,b\n1,x\n2,y\n", "t.csv": "a,b\n1,x\n"})
    sql(empty_db, "CREATE TABLE public.t (a int, b text)")  # keyless: an event log
    code, loaded = load(cli, empty_db, folder)
    log("LOAD", code, [(t["file"], t["status"], t["inserted"], t.get("error")) for t in loaded["tables"]])
    assert code == 1  # the loader refused t.csv
    rows = query(empty_db, "SELECT a, b FROM public.t ORDER BY a")
    log("ROWS", rows)
    assert rows == [(1, "x"), (2, "y")]  # 2 rows; the export holds 3 records
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE", code, summary(r))
    assert code == 1 and r["ok"] is False, (
        "false green: export has 3 records (row (1,x) twice), target holds 2, t.csv was never loaded")


def test_gz_beside_plain_blocked_by_load_validates_green(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "a,b\n1,x\n"})
    (folder / "t.csv.gz").write_bytes(gzip.compress(b"a,b\n1,x\n"))
    sql(empty_db, "CREATE TABLE public.t (a int, b text)")
    code, loaded = load(cli, empty_db, folder)
    log("LOAD", code, [(t["file"], t["status"], t["inserted"], t.get("error")) for t in loaded["tables"]])
    assert code == 1
    assert query(empty_db, "SELECT count(*) FROM public.t")[0][0] == 1
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE", code, r["headline"], summary(r))
    assert code == 1, "false green: load blocked t.csv.gz, validate says all 2 records are in a 1-row table"
