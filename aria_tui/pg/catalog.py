"""The live target schema read from pg_catalog: the truth every diff, plan and check uses.

Types come from `format_type()`, so an extension type reads as `vector(768)` (information_schema
would say USER-DEFINED).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg import sql

from aria_tui.pg.rows import one


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # format_type(): 'vector(768)', 'character varying(255)', 'jsonb', ...
    base_type: str  # pg_type.typname of the column's type: 'vector', 'varchar', 'uuid', ...
    type_oid: int
    not_null: bool
    default: str | None  # pg_get_expr of the default, None when there is none
    identity: str | None  # 'always' | 'by default' | None
    generated: bool  # GENERATED ALWAYS AS (...) STORED: never loaded
    sequence: str | None  # qualified sequence behind a serial or identity column, or its default
    position: int
    # what a type is made of, for the rules of the types that change some values they take
    # (scan/losses.py, validate/staging/layout.py), which key on base_type and read modifiers in
    # base_format: a domain's base type with the modifier the domain gives it ('numeric(10,2)'
    # under a domain `amount`; base_type is then the base's, 'numeric'), an array's element type
    # (typname, format_type), a range's subtype or a composite type's attributes
    # (typname, format_type, kind): kind is pg_type.typtype ('b' base, 'c' composite, 'd' domain,
    # 'e' enum, 'r' range, 'm' multirange), or 'A' for an array
    domain_base: str | None = None
    element: tuple[str, str, str] | None = None
    parts: tuple[tuple[str, str, str], ...] = ()

    @property
    def base_format(self) -> str:
        """The type its values are stored as, with its modifier: a domain's base type, else the
        column's own type."""
        return self.domain_base or self.type

    def as_type(self, typname: str, format_: str) -> Column:
        """This column as if it were of another type (an array's element, a range's subtype)."""
        return replace(
            self, type=format_, base_type=typname, domain_base=None, element=None, parts=()
        )

    @property
    def dimension(self) -> int | None:
        """Declared dimension of a pgvector column (vector(768) -> 768)."""
        if self.base_type in ("vector", "halfvec", "sparsevec"):
            m = re.search(r"\((\d+)\)", self.base_format)
            return int(m.group(1)) if m else None
        return None

    @property
    def is_vector(self) -> bool:
        return self.base_type in ("vector", "halfvec")

    @property
    def has_default(self) -> bool:
        return self.default is not None or self.identity is not None or self.generated


@dataclass(frozen=True)
class UniqueKey:
    name: str
    columns: tuple[str, ...]  # the key's columns, not an index's INCLUDE columns
    primary: bool
    # UNIQUE NULLS NOT DISTINCT: a NULL is a value of the key (one row may hold it), matched
    # with IS NOT DISTINCT FROM; otherwise a row with a NULL in the key holds no key at all
    nulls_not_distinct: bool = False


def key_column_equal(left: sql.Composable, right: sql.Composable, nulls_equal: bool) -> sql.Composable:
    """`left = right` for one column of a unique key; for a NULLS NOT DISTINCT key a NULL matches a
    NULL too (spelt with OR, not IS NOT DISTINCT FROM, which no index serves)."""
    if nulls_equal:
        return sql.SQL("({0} = {1} OR ({0} IS NULL AND {1} IS NULL))").format(left, right)
    return sql.SQL("{} = {}").format(left, right)


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str  # qualified 'schema.table' of the referencing table
    columns: tuple[str, ...]
    ref_table: str  # qualified referenced table
    ref_columns: tuple[str, ...]
    on_delete: str  # 'NO ACTION' | 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT'
    deferrable: bool

    @property
    def self_reference(self) -> bool:
        return self.table == self.ref_table


@dataclass(frozen=True)
class Trigger:
    """A user trigger of a table (not a constraint's internal one) that fires in an ordinary
    session: enabled in origin mode (`O`) or always (`A`)."""

    name: str
    timing: str  # 'BEFORE' | 'AFTER' | 'INSTEAD OF'
    events: tuple[str, ...]  # of 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'
    row: bool  # FOR EACH ROW (else FOR EACH STATEMENT)
    enabled: str  # pg_trigger.tgenabled: 'O' (origin) | 'A' (always)
    # (schema, name) of the partition it is on, for a trigger of a partition of the table (a
    # partitioned table's rows meet its partitions' triggers); None: the table's own
    partition: tuple[str, str] | None = None

    @property
    def changes_rows(self) -> bool:
        """A BEFORE row trigger on INSERT or UPDATE: it may change the values of each row it is
        given (an `updated_at = now()`), or drop the row."""
        return self.row and self.timing == "BEFORE" and bool({"INSERT", "UPDATE"} & set(self.events))

    @property
    def swallows_rows(self) -> bool:
        """A BEFORE row trigger on INSERT: it may store fewer rows than it is given (returning
        NULL), which keeps a table out of chunked loads (load/conflicts.py `swallowers`)."""
        return self.row and self.timing == "BEFORE" and "INSERT" in self.events

    @property
    def fires_on_load(self) -> bool:
        """It fires on what a load does: an INSERT (COPY included) or a take-export UPDATE."""
        return bool({"INSERT", "UPDATE"} & set(self.events))

    def describe(self) -> str:
        """'ke_stamp (BEFORE INSERT OR UPDATE, each row)'"""
        each = "each row" if self.row else "each statement"
        always = ", ENABLE ALWAYS" if self.enabled == "A" else ""
        on = f" on {self.partition[0]}.{self.partition[1]}" if self.partition else ""
        return f"{self.name}{on} ({self.timing} {' OR '.join(self.events)}, {each}{always})"


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    oid: int
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] | None
    unique_keys: tuple[UniqueKey, ...]  # primary key first, then unique constraints and unique indexes
    foreign_keys: tuple[ForeignKey, ...]
    estimated_rows: int
    partitioned: bool = False  # its rows live in its partitions
    triggers: tuple[Trigger, ...] = ()  # user triggers that fire (pg_trigger), by name

    @property
    def load_triggers(self) -> tuple[Trigger, ...]:
        """The user triggers that fire on a load's INSERT or take-export UPDATE."""
        return tuple(t for t in self.triggers if t.fires_on_load)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def own_rows(self) -> sql.Composable:
        """The table's own rows, for reading, updating or deleting them: `ONLY`, because the rows
        of a table that inherits from it (`INHERITS`) are another table's, outside its keys,
        which COPY into it never meets; its partitions' rows are a partitioned table's own."""
        if self.partitioned:
            return self.ident
        return sql.SQL("ONLY {}").format(self.ident)

    def column(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def key(self) -> tuple[str, ...] | None:
        """The key that identifies a row: the primary key, else the first unique key."""
        if self.primary_key:
            return self.primary_key
        return self.unique_keys[0].columns if self.unique_keys else None

    @property
    def vector_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.is_vector)

    @property
    def nulls_equal_keys(self) -> frozenset[tuple[str, ...]]:
        """The columns of each UNIQUE NULLS NOT DISTINCT key (its NULL is a value it matches)."""
        return frozenset(uk.columns for uk in self.unique_keys if uk.nulls_not_distinct)


@dataclass(frozen=True)
class Catalog:
    server_version: str
    server_version_num: int
    database: str
    extensions: dict[str, str] = field(default_factory=dict)  # name -> version
    schemas: tuple[str, ...] = ()
    tables: dict[str, Table] = field(default_factory=dict)  # 'schema.table' -> Table

    def get(self, qualified: str) -> Table | None:
        return self.tables.get(qualified)

    def find(self, name: str) -> list[Table]:
        """Every table called `name` in any schema."""
        return [t for t in self.tables.values() if t.name == name]

    def foreign_keys(self) -> list[ForeignKey]:
        return [fk for t in self.tables.values() for fk in t.foreign_keys]

    @property
    def has_pgvector(self) -> bool:
        return "vector" in self.extensions


# aria_tui: the loader's own commit records (aria_tui/pg/commits.py), never a load target
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast", "aria_tui")

_TABLES_SQL = """
SELECT c.oid, n.nspname, c.relname, GREATEST(c.reltuples, 0)::bigint, c.relkind = 'p'
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname <> ALL(%(system)s) AND n.nspname NOT LIKE 'pg_temp%%'
  AND n.nspname NOT LIKE 'pg_toast%%'
  AND NOT c.relispartition
ORDER BY n.nspname, c.relname
"""

_COLUMNS_SQL = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), t.typname, a.atttypid,
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attnum,
       coalesce(
         pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname),
         -- a default nextval('s') whose sequence no column owns (an init script's CREATE
         -- SEQUENCE without OWNED BY): the application's next insert draws from it all the same
         (SELECT format('%%I.%%I', sn.nspname, s.relname) FROM pg_depend dep
          JOIN pg_class s ON s.oid = dep.refobjid AND s.relkind = 'S'
          JOIN pg_namespace sn ON sn.oid = s.relnamespace
          WHERE dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid
            AND dep.refclassid = 'pg_class'::regclass
          ORDER BY 1 LIMIT 1)),
       a.atttypmod, t.typtype IN ('d', 'r', 'm', 'c') OR t.typcategory = 'A'
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%(oids)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

# What the types of _COLUMNS_SQL's last column are made of (Column.domain_base, .element, .parts),
# for each (type, modifier): a domain's base type through domains over domains, with the modifier
# the domain gives it; an array's element type (a domain resolved the same way) with the array's
# modifier; a range's (or multirange's) subtype, a composite type's attributes
_MADE_OF_SQL = """
SELECT x.oid, x.mod, b.typname, format_type(b.oid, b.mod), e.typname, format_type(e.oid, e.mod),
       CASE WHEN e.typcategory = 'A' THEN 'A' ELSE e.typtype::text END,
       ARRAY(SELECT ARRAY[pt.typname, format_type(pt.oid, part.mod),
                          CASE WHEN pt.typcategory = 'A' THEN 'A' ELSE pt.typtype::text END] FROM (
               SELECT r.rngsubtype AS oid, -1 AS mod, 0 AS n FROM pg_range r
               WHERE r.rngtypid = coalesce(b.oid, x.oid) OR r.rngmultitypid = coalesce(b.oid, x.oid)
               UNION ALL
               SELECT ca.atttypid, ca.atttypmod, ca.attnum FROM pg_type ct
               JOIN pg_attribute ca ON ca.attrelid = ct.typrelid
               WHERE ct.oid = coalesce(b.oid, x.oid) AND ct.typtype = 'c' AND ca.attnum > 0
                 AND NOT ca.attisdropped) part
             JOIN pg_type pt ON pt.oid = part.oid ORDER BY part.n)
FROM unnest(%(oids)s::oid[], %(mods)s::int[]) AS x(oid, mod)
JOIN pg_type t ON t.oid = x.oid
LEFT JOIN LATERAL (
  WITH RECURSIVE dom(oid, mod, depth) AS (
    SELECT t.typbasetype, t.typtypmod, 1 WHERE t.typtype = 'd'
    UNION ALL
    SELECT bt.typbasetype, bt.typtypmod, dom.depth + 1 FROM dom JOIN pg_type bt ON bt.oid = dom.oid
    WHERE bt.typtype = 'd')
  SELECT bt.oid, dom.mod, bt.typname, bt.typelem, bt.typcategory
  FROM dom JOIN pg_type bt ON bt.oid = dom.oid ORDER BY dom.depth DESC LIMIT 1
) b ON true
LEFT JOIN LATERAL (
  WITH RECURSIVE dom(oid, mod, depth) AS (
    SELECT CASE WHEN b.oid IS NOT NULL THEN CASE WHEN b.typcategory = 'A' THEN b.typelem END
                WHEN t.typcategory = 'A' THEN t.typelem END,
           CASE WHEN b.oid IS NOT NULL THEN b.mod ELSE x.mod END, 0
    UNION ALL
    SELECT bt.typbasetype, bt.typtypmod, dom.depth + 1 FROM dom JOIN pg_type bt ON bt.oid = dom.oid
    WHERE bt.typtype = 'd')
  SELECT bt.oid, dom.mod, bt.typname, bt.typtype, bt.typcategory
  FROM dom JOIN pg_type bt ON bt.oid = dom.oid ORDER BY dom.depth DESC LIMIT 1
) e ON true
"""

_CONSTRAINTS_SQL = """
SELECT con.conrelid, con.conname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i)::text[],
       con.confrelid,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)::text[],
       con.confdeltype, con.condeferrable,
       coalesce((SELECT i.indnullsnotdistinct FROM pg_index i WHERE i.indexrelid = con.conindid
                 AND con.contype IN ('p', 'u')), false)
FROM pg_constraint con
WHERE con.conrelid = ANY(%(oids)s) AND con.contype IN ('p', 'u', 'f')
ORDER BY con.conrelid, con.contype, con.conname
"""

# unique indexes that are not constraints still make ON CONFLICT DO NOTHING skip rows; their key
# is their first indnkeyatts columns (the INCLUDE columns after them are carried, not compared)
_UNIQUE_INDEXES_SQL = """
SELECT i.indrelid, ci.relname,
       ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
             WHERE k.o <= i.indnkeyatts ORDER BY k.o)::text[],
       i.indnullsnotdistinct
FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid
WHERE i.indrelid = ANY(%(oids)s) AND i.indisunique AND i.indpred IS NULL
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)
  AND 0 <> ALL(i.indkey)
ORDER BY i.indrelid, ci.relname
"""

# user triggers that fire in an ordinary session (origin or always); tgtype's bits: 1 ROW,
# 2 BEFORE, 64 INSTEAD, 4 INSERT, 8 DELETE, 16 UPDATE, 32 TRUNCATE
_TRIGGERS_SQL = """
SELECT tgrelid, tgname, tgtype::int, tgenabled::text
FROM pg_trigger
WHERE tgrelid = ANY(%(oids)s) AND NOT tgisinternal AND tgenabled IN ('O', 'A')
ORDER BY tgrelid, tgname
"""

_ON_DELETE: dict[str, str] = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_IDENTITY = {"a": "always", "d": "by default"}


def read_catalog(conn: psycopg.Connection, schemas: list[str] | None = None) -> Catalog:
    """Read every user table (or those of `schemas`) with columns, keys and foreign keys."""
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('server_version'), current_setting('server_version_num')::int, current_database()")
        version, version_num, database = one(cur)
        cur.execute("SELECT extname, extversion FROM pg_extension ORDER BY extname")
        extensions: dict[str, str] = dict(cur.fetchall())
        cur.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname <> ALL(%(system)s) "
            "AND nspname NOT LIKE 'pg_%%' ORDER BY nspname",
            {"system": list(_SYSTEM_SCHEMAS)},
        )
        all_schemas = tuple(r[0] for r in cur.fetchall())
        cur.execute(_TABLES_SQL, {"system": list(_SYSTEM_SCHEMAS)})
        rels = [r for r in cur.fetchall() if schemas is None or r[1] in schemas]
        oids = [r[0] for r in rels]
        cur.execute(_COLUMNS_SQL, {"oids": oids})
        columns: dict[int, list[Column]] = {}
        found = cur.fetchall()
        made_of: dict[tuple[int, int], tuple[Any, ...]] = {}
        needs = sorted({(r[4], r[11]) for r in found if r[12]})
        if needs:
            cur.execute(_MADE_OF_SQL, {"oids": [n[0] for n in needs], "mods": [n[1] for n in needs]})
            made_of = {(r[0], r[1]): r[2:] for r in cur.fetchall()}
        for relid, name, typ, typname, typoid, notnull, default, ident, gen, num, seq, mod, _ in found:
            base, base_format, elem, elem_format, elem_kind, parts = made_of.get(
                (typoid, mod), (None,) * 6
            )
            columns.setdefault(relid, []).append(
                Column(
                    name=name,
                    type=typ,
                    base_type=base or typname,
                    domain_base=base_format if base else None,
                    element=(elem, elem_format, str(elem_kind)) if elem else None,
                    parts=tuple((str(p[0]), str(p[1]), str(p[2])) for p in parts or ()),
                    type_oid=typoid,
                    not_null=notnull,
                    default=default if not gen else None,
                    identity=_IDENTITY.get(ident or ""),
                    generated=bool(gen),
                    sequence=seq,
                    position=num,
                )
            )
        cur.execute(_CONSTRAINTS_SQL, {"oids": oids})
        constraints = cur.fetchall()
        cur.execute(_UNIQUE_INDEXES_SQL, {"oids": oids})
        unique_indexes = cur.fetchall()
        cur.execute(_TRIGGERS_SQL, {"oids": oids})
        triggers: dict[int, list[Trigger]] = {}
        for relid, tgname, tgtype, enabled in cur.fetchall():
            triggers.setdefault(relid, []).append(trigger_of(tgname, tgtype, enabled))

    names = {r[0]: f"{r[1]}.{r[2]}" for r in rels}
    if constraints:
        missing = {c[4] for c in constraints if c[2] == "f" and c[4] not in names}
        if missing:  # FK into a schema we did not read: name it anyway
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT c.oid, n.nspname || '.' || c.relname FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY(%s)",
                    (list(missing),),
                )
                names.update(dict(cur.fetchall()))

    pks: dict[int, tuple[str, ...]] = {}
    uniques: dict[int, list[UniqueKey]] = {}
    fks: dict[int, list[ForeignKey]] = {}
    for relid, conname, contype, cols, frelid, fcols, deltype, deferrable, nnd in constraints:
        if contype == "p":
            pks[relid] = tuple(cols)
            uniques.setdefault(relid, []).insert(0, UniqueKey(conname, tuple(cols), True))
        elif contype == "u":
            uniques.setdefault(relid, []).append(UniqueKey(conname, tuple(cols), False, bool(nnd)))
        else:
            fks.setdefault(relid, []).append(
                ForeignKey(
                    name=conname,
                    table=names[relid],
                    columns=tuple(cols),
                    ref_table=names.get(frelid, str(frelid)),
                    ref_columns=tuple(fcols),
                    on_delete=_ON_DELETE.get(deltype, str(deltype)),
                    deferrable=deferrable,
                )
            )
    for relid, idxname, cols, nnd in unique_indexes:
        uniques.setdefault(relid, []).append(UniqueKey(idxname, tuple(cols), False, bool(nnd)))

    tables = {}
    for oid, schema, name, estimate, partitioned in rels:
        tables[f"{schema}.{name}"] = Table(
            schema=schema,
            name=name,
            oid=oid,
            columns=tuple(columns.get(oid, [])),
            primary_key=pks.get(oid),
            unique_keys=tuple(uniques.get(oid, [])),
            foreign_keys=tuple(fks.get(oid, [])),
            estimated_rows=int(estimate),
            partitioned=partitioned,
            triggers=tuple(triggers.get(oid, [])),
        )
    return Catalog(
        server_version=version,
        server_version_num=version_num,
        database=database,
        extensions=extensions,
        schemas=all_schemas,
        tables=tables,
    )


def trigger_of(
    name: str, tgtype: int, enabled: str, partition: tuple[str, str] | None = None
) -> Trigger:
    """A Trigger from pg_trigger's tgname, tgtype bits and tgenabled."""
    timing = "BEFORE" if tgtype & 2 else "INSTEAD OF" if tgtype & 64 else "AFTER"
    events = tuple(
        e for bit, e in ((4, "INSERT"), (16, "UPDATE"), (8, "DELETE"), (32, "TRUNCATE")) if tgtype & bit
    )
    return Trigger(
        name=name,
        timing=timing,
        events=events,
        row=bool(tgtype & 1),
        enabled=enabled,
        partition=partition,
    )


def exact_row_count(conn: psycopg.Connection, table: Table) -> int:
    """count(*) of a table's own rows (Table.own_rows), on demand (estimates come with the
    catalog)."""
    ident = table.own_rows
    return one(conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)))[0]
