"""A plain client: a Python program on psycopg that only copies, the reference of the export case.

    python benchmarks/plain_client.py DSN TABLES_JSON

TABLES_JSON: a list of [schema.table, csv path, [csv columns]]. What it does, and nothing else:
start Python, import psycopg (and csvio's C extension, loaded by its file, without aria_tui),
read the tables' column types and foreign keys (two catalog queries), and COPY every file over
as many connections as the machine has cores (at most one per table), a parent committed before
its children start, the longest chain of tables first. A file with a vector column is parsed by
the C reader and sent as binary COPY (what makes aria-tui's vector path fast); every other file
is sent as raw CSV for the server to parse. No scan, no plan, no record count, no hash, no commit
record, no conflict or reject handling, no checks before or after: none of what makes aria-tui's
result a proof. Its ratio against psql is what copying alone buys from Python on this machine
(the interpreter and psycopg's import, the server's own work, the cores), the yardstick for
aria-tui's ratio on a case made of many small files (benchmarks/README.md).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import struct
import sys
import threading
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
# the C reader's column kind of each PostgreSQL type it encodes (as csvio/native.py and
# load/encoding.py pair them); the numbers are the module's own KIND_* constants
KIND_OF = {
    "uuid": "UUID", "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ", "jsonb": "JSONB",
    "text": "COPYTEXT", "varchar": "COPYTEXT", "bpchar": "COPYTEXT", "json": "COPYTEXT",
    "int2": "INT2", "int4": "INT4", "int8": "INT8", "float8": "FLOAT8", "bool": "BOOL",
}  # fmt: skip


def native():
    """csvio's C extension, loaded from its file (importing aria_tui would time its imports)."""
    folder = HERE.parent / "aria_tui" / "csvio"
    path = next(folder.glob("_native*.so"))
    loader = importlib.machinery.ExtensionFileLoader("_native", str(path))
    spec = importlib.util.spec_from_loader("_native", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def catalog(conn: psycopg.Connection, targets: list[str]) -> tuple[dict, dict]:
    rows = conn.execute(
        "SELECT c.oid::regclass::text, a.attname, t.typname, a.atttypmod "
        "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
        "AND NOT a.attisdropped JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE c.oid = ANY(%s::regclass[])",
        (targets,),
    ).fetchall()
    types: dict[str, dict[str, tuple[str, int]]] = {}
    for table, column, typ, mod in rows:
        types.setdefault(table, {})[column] = (typ, mod)
    fks = conn.execute(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) AND conrelid <> confrelid",
        (targets,),
    ).fetchall()
    parents: dict[str, set[str]] = {}
    for child, parent in fks:
        parents.setdefault(child, set()).add(parent)
    conn.commit()
    return types, parents


def binary_copy(conn: psycopg.Connection, c, target: str, path: str, columns: list[str], kinds):
    data = Path(path).read_bytes()
    body = data[data.index(b"\n") + 1 :]  # the header (one line in these files)
    got = c.read_records(body, len(columns), False, tuple(kinds), False)
    if got is None or any(d for d in got[3] if d):
        raise SystemExit(f"plain_client: the C reader does not vouch for {path}")
    rows, _, fields, _, _ = got
    head = struct.pack(">h", len(columns))
    ident = ", ".join(f'"{col}"' for col in columns)
    with conn.cursor().copy(f"COPY {target} ({ident}) FROM STDIN (FORMAT binary)") as cp:
        cp.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
        step = 2000
        for start in range(0, rows, step):
            part = [col[start : start + step] for col in fields]
            cp.write(b"".join(head + b"".join(row) for row in zip(*part, strict=True)))
        cp.write(b"\xff\xff")


def csv_copy(conn: psycopg.Connection, target: str, path: str, columns: list[str]) -> None:
    ident = ", ".join(f'"{col}"' for col in columns)
    with conn.cursor().copy(f"COPY {target} ({ident}) FROM STDIN (FORMAT csv, HEADER true)") as cp:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                cp.write(block)


def main(argv: list[str]) -> int:
    dsn, tables = argv[0], json.loads(Path(argv[1]).read_text())
    c = native()
    first = psycopg.connect(dsn)
    types, parents = catalog(first, [t for t, _, _ in tables])
    size = {t: os.path.getsize(p) for t, p, _ in tables}
    children: dict[str, list[str]] = {}
    for child, ps in parents.items():
        for p in ps:
            children.setdefault(p, []).append(child)

    def chain(t: str) -> int:
        return size.get(t, 0) + max((chain(k) for k in children.get(t, ())), default=0)

    pending = sorted(tables, key=lambda t: -chain(t[0]))
    loaded = {t for t, _, _ in tables}
    done: set[str] = set()
    cond = threading.Condition()
    errors: list[BaseException] = []

    def work(conn: psycopg.Connection) -> None:
        while True:
            with cond:
                while True:
                    if errors or not pending:
                        return
                    ready = [
                        t for t in pending if (parents.get(t[0], set()) & loaded) <= done
                    ]
                    if ready:
                        break
                    cond.wait()
                target, path, columns = ready[0]
                pending.remove(ready[0])
            try:
                cols = types[target]
                kinds = []
                for col in columns:
                    typ, mod = cols[col]
                    kind = KIND_OF.get(typ)
                    if typ == "vector":
                        kinds.append(mod)
                    else:
                        kinds.append(None if kind is None else getattr(c, f"KIND_{kind}"))
                if any(typ == "vector" for typ, _ in cols.values()) and None not in kinds:
                    binary_copy(conn, c, target, path, columns, kinds)
                else:
                    csv_copy(conn, target, path, columns)
                conn.commit()
            except BaseException as exc:
                with cond:
                    errors.append(exc)
                    cond.notify_all()
                return
            with cond:
                done.add(target)
                cond.notify_all()

    jobs = min(len(os.sched_getaffinity(0)), len(tables))
    conns = [first] + [psycopg.connect(dsn) for _ in range(jobs - 1)]
    threads = [threading.Thread(target=work, args=(conn,)) for conn in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for conn in conns:
        conn.close()
    if errors:
        raise errors[0]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
