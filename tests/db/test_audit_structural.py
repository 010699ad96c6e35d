"""Audit: structurally broken files validated record by record (validate/staging by_record)."""
from auditkit import export, load, log, sql, validate

CASES = {
    "ragged": b"id,n\n1,1\n2\n3,3\n4,4\n",
    "nul": b"id,n\n1,1\n2,2\x00\n3,3\n4,4\n",
    "bad_utf8": b"id,n\n1,1\n2,\xff\n3,3\n4,4\n",
    "open_quote_eof": b'id,n\n1,1\n3,3\n4,4\n2,"2\n',
    "blank_line": b"id,n\n1,1\n\n3,3\n4,4\n",
}


def _run(empty_db, cli, tmp_path, body, keyless=False):
    folder = export(tmp_path, {"t.csv": body})
    key = "" if keyless else " PRIMARY KEY"
    sql(empty_db, f"CREATE TABLE public.t (id int{key}, n int)")
    code, loaded = load(cli, empty_db, folder, "--accept-rejects", "public.t")
    code0, r0 = validate(cli, empty_db, folder, tmp_path)
    sql(empty_db, "DELETE FROM public.t WHERE id = 3")
    code1, r1 = validate(cli, empty_db, folder, tmp_path)
    sql(empty_db, "INSERT INTO public.t VALUES (3, 33)")
    code2, r2 = validate(cli, empty_db, folder, tmp_path)
    return (loaded["tables"][0]["inserted"], loaded["tables"][0]["rejected"]), (code0, r0["headline"]), (code1, r1["headline"]), (code2, r2["headline"])


def test_structural_keyed(empty_db, cli, tmp_path):
    bad = []
    for name, body in CASES.items():
        sub = tmp_path / name
        sub.mkdir()
        sql(empty_db, "DROP TABLE IF EXISTS public.t", "DROP SCHEMA IF EXISTS aria_tui CASCADE")
        res = _run(empty_db, cli, sub, body)
        log("STRUCT", name, res)
        if res[2][0] == 0 or res[3][0] == 0:
            bad.append(name)
    assert not bad


def test_structural_keyless(empty_db, cli, tmp_path):
    bad = []
    for name, body in CASES.items():
        sub = tmp_path / name
        sub.mkdir()
        sql(empty_db, "DROP TABLE IF EXISTS public.t", "DROP SCHEMA IF EXISTS aria_tui CASCADE")
        res = _run(empty_db, cli, sub, body, keyless=True)
        log("STRUCT-KEYLESS", name, res)
        if res[2][0] == 0 or res[3][0] == 0:
            bad.append(name)
    assert not bad
