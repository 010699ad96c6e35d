import json
from pathlib import Path

import psycopg


def export(tmp_path: Path, files: dict, name: str = "export") -> Path:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    for n, text in files.items():
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (folder / n).write_bytes(data)
    return folder


def sql(db, *statements):
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        for s in statements:
            conn.execute(s)


def query(db, statement):
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        return conn.execute(statement).fetchall()


def load(cli, db, folder, *extra, profile="none"):
    prof = ("--profile", profile) if profile else ()
    code, out, err = cli("load", folder, "--dsn", db.conninfo, *prof, "--yes", "--json", *extra)
    assert out.strip(), err
    return code, json.loads(out)


def validate(cli, db, folder, tmp_path, *extra, profile="none"):
    prof = ("--profile", profile) if profile else ()
    code, out, err = cli("validate", folder, "--dsn", db.conninfo, *prof, "--json",
                         "--report-dir", tmp_path / "reports", *extra)
    assert out.strip(), err
    return code, json.loads(out)


def table(result, name):
    return [t for t in result["tables"] if t["target"] == name]


def summary(result):
    return {"ok": result["ok"], "headline": result.get("headline"),
            "tables": [(t["target"], t["file"], t["status"], t.get("accepted_rejects"),
                        [c["name"] + ("" if c["ok"] else "!") for c in t["checks"]]) for t in result["tables"]]}


def log(*args):
    import sys
    print(*args, file=sys.__stderr__, flush=True)
