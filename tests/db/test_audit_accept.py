"""Audit: rejects accepted on purpose must excuse exactly the records the load could not load."""
from auditkit import export, load, log, sql, summary, validate


def _t(r, name="public.t"):
    return next(t for t in r["tables"] if t["target"] == name)


def test_keyless_accept_then_delete_loaded_row(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "a,b\n1,x\nzz,y\n3,z\n"})
    sql(empty_db, "CREATE TABLE public.t (a int, b text)")
    code, _ = load(cli, empty_db, folder, "--accept-rejects", "public.t")
    sql(empty_db, "DELETE FROM public.t WHERE a = 3")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE keyless accept+delete", code, summary(r))
    assert code == 1


def test_null_key_accept_then_delete(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "id,k,n\n1,,1\n2,b,x\n3,,3\n"})
    sql(empty_db, "CREATE TABLE public.t (id int, k text UNIQUE, n int)")
    code, _ = load(cli, empty_db, folder, "--accept-rejects", "public.t")
    sql(empty_db, "DELETE FROM public.t WHERE id = 3")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE nullkey accept+delete", code, summary(r))
    assert code == 1


def test_orphan_swap_same_count(empty_db, cli, tmp_path):
    # the load rejects record c3 (its parent 99 is in neither the export nor the target) and
    # accepts it; afterwards a loaded child (c2 -> parent 20) and its parent are deleted from the
    # target and parent 20 from the parent's file, and the rejected c3 is put in by hand with
    # a parent 99: validation counts 1 unloadable record (now c2), as many as the load rejected
    folder = export(tmp_path, {
        "p.csv": "id\n10\n20\n",
        "c.csv": "id,p\n1,10\n2,20\n3,99\n",
    })
    sql(empty_db, "CREATE TABLE public.p (id int PRIMARY KEY)",
        "CREATE TABLE public.c (id int PRIMARY KEY, p int REFERENCES public.p)")
    code, loaded = load(cli, empty_db, folder, "--accept-rejects", "public.c")
    log("LOAD", code, [(t["file"], t["inserted"], t["rejected"]) for t in loaded["tables"]])
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE after load", code, summary(r))
    sql(empty_db, "DELETE FROM public.c WHERE id = 2", "DELETE FROM public.p WHERE id = 20",
        "INSERT INTO public.p VALUES (99)", "INSERT INTO public.c VALUES (3, 99)")
    (folder / "p.csv").write_text("id\n10\n")
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE after swap", code, r["headline"], summary(r))
    log("  c presence:", [c["detail"] for c in _t(r, "public.c")["checks"] if c["name"] == "presence"])
    assert code == 1, "the decision excused c2 (inserted by the load, then deleted); the load rejected c3"


def test_accept_rejects_with_a_rejected_conflict(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "id,n\n1,1\n2,2\n3,x\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int)", "INSERT INTO public.t VALUES (2, 20)")
    code, loaded = load(cli, empty_db, folder, "--accept-rejects", "public.t")
    t = loaded["tables"][0]
    log("LOAD accept+conflict", code, {k: t.get(k) for k in ("inserted", "rejected", "conflicts", "conflicts_rejected")})
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE accept+conflict", code, r["headline"])
    assert code == 1


def test_accept_rejects_check_constraint_reject(empty_db, cli, tmp_path):
    folder = export(tmp_path, {"t.csv": "id,n\n1,1\n2,-2\n"})
    sql(empty_db, "CREATE TABLE public.t (id int PRIMARY KEY, n int CHECK (n > 0))")
    code, loaded = load(cli, empty_db, folder, "--accept-rejects", "public.t")
    t = loaded["tables"][0]
    log("LOAD accept+check", code, {k: t.get(k) for k in ("inserted", "rejected")})
    code, r = validate(cli, empty_db, folder, tmp_path)
    log("VALIDATE accept+check (false red if 1)", code, r["headline"])
