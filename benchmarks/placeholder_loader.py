"""Stand-in for `aria-tui load` while the real loader does not exist: NOT a benchmark of aria-tui.

    python benchmarks/placeholder_loader.py URI TABLE FILE COLUMNS [TABLE FILE COLUMNS ...]

Streams each file's raw bytes into `COPY TABLE (COLUMNS) FROM STDIN (FORMAT csv, HEADER true)`
through psycopg, so the harness can be exercised end to end. run.py marks any result produced
with it as a placeholder and never writes it to RESULTS.md.
"""

from __future__ import annotations

import sys

import psycopg
from psycopg import sql


def main(argv: list[str]) -> int:
    uri, rest = argv[0], argv[1:]
    with psycopg.connect(uri) as conn:
        for i in range(0, len(rest), 3):
            table, path, columns = rest[i : i + 3]
            schema, _, name = table.rpartition(".")
            ident = sql.Identifier(schema, name) if schema else sql.Identifier(name)
            cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns.split(","))
            stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(ident, cols)
            with conn.transaction(), conn.cursor() as cur, cur.copy(stmt) as copy:
                with open(path, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        copy.write(chunk)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
