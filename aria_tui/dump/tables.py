"""Which tables an export reads: every user table listed by name (enough to choose and lock them
before any definition is read), the ones `--schemas` / `--tables` choose, and their file names."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from aria_tui.errors import ExportError
from aria_tui.pg.catalog import Table
from aria_tui.pg.rows import one


def file_name(table: Table, compress: bool = False) -> str:
    """Always schema-qualified: `aria_data.memories.csv` is unambiguous, and scan maps it back."""
    for part in (table.schema, table.name):
        if "/" in part or "\\" in part or "\x00" in part or part.startswith("."):
            raise ExportError(
                f"Table {table.qualified} has a name that cannot be a file name; "
                "export it under another name with a view or rename it."
            )
    return f"{table.schema}.{table.name}.csv" + (".gz" if compress else "")


@dataclass(frozen=True)
class SourceTables:
    """Names only: enough to choose and lock tables before anything reads their definitions."""

    database: str
    schemas: tuple[str, ...]
    tables: tuple[tuple[str, str], ...]  # (schema, table), sorted

    def find(self, name: str) -> list[tuple[str, str]]:
        """'schema.table' exactly, else every table with that bare name."""
        exact = [(s, t) for s, t in self.tables if f"{s}.{t}" == name]
        return exact or [(s, t) for s, t in self.tables if t == name]


# the same tables read_catalog reads: ordinary and partitioned, partitions through their parent
_LIST_TABLES_SQL = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
  AND n.nspname <> 'aria_tui'  -- aria-tui's own commit records (aria_tui/pg/commits.py)
ORDER BY 1, 2
"""


def list_tables(conn: psycopg.Connection) -> SourceTables:
    database = one(conn.execute("SELECT current_database()"))[0]
    schemas = conn.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname <> 'information_schema' "
        "AND nspname NOT LIKE 'pg\\_%' AND nspname <> 'aria_tui' ORDER BY 1"
    ).fetchall()
    tables = conn.execute(_LIST_TABLES_SQL).fetchall()
    return SourceTables(
        database=database,
        schemas=tuple(r[0] for r in schemas),
        tables=tuple((r[0], r[1]) for r in tables),
    )


def select_tables(
    source: SourceTables, schemas: list[str] | None = None, tables: list[str] | None = None
) -> list[tuple[str, str]]:
    """(schema, table) to export, sorted: the named ones (`schema.table`, or a bare name when it
    is unambiguous), else every table of `schemas`, else every user table."""
    if schemas:
        unknown = [s for s in schemas if s not in source.schemas]
        if unknown:
            raise ExportError(
                f"Schema {unknown[0]} does not exist in database {source.database} "
                f"(it has: {', '.join(source.schemas) or 'no user schemas'})."
            )
    if tables:
        chosen: set[tuple[str, str]] = set()
        for spec in tables:
            found = source.find(spec)
            if schemas:
                found = [(s, t) for s, t in found if s in schemas]
            if not found:
                raise ExportError(f"Table {spec} does not exist in database {source.database}.")
            if len(found) > 1:
                where = " and ".join(f"{s}.{t}" for s, t in found)
                raise ExportError(f"Table {spec} is ambiguous ({where}); name it as schema.table.")
            chosen.add(found[0])
        selected = sorted(chosen)
    else:
        selected = [(s, t) for s, t in source.tables if not schemas or s in schemas]
    if not selected:
        where = f"schemas {', '.join(schemas)}" if schemas else "any user schema"
        raise ExportError(
            f"Database {source.database} has no tables in {where}; nothing to export."
        )
    return selected
