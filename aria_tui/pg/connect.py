"""Turn a target spec into something to connect to, and connect with errors a person can read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from aria_tui.errors import TargetUnreachable, first_line
from aria_tui.pg import dsn as dsn_mod


@dataclass(frozen=True)
class Target:
    """A reachable target. `conninfo` may hold a password: show `display`, never `conninfo`."""

    spec: str
    conninfo: str
    display: str
    embedded_dir: Path | None = None

    @property
    def key(self) -> str:
        """Identity of the target for journals: no password, stable across runs."""
        if self.embedded_dir is not None:
            return f"embedded:{self.embedded_dir}"
        return self.display

    def redact(self, text: str) -> str:
        return dsn_mod.redact(text, self.conninfo, self.spec)

    def connect(self, *, autocommit: bool = False, connect_timeout: int = 10) -> psycopg.Connection:
        return connect(self, autocommit=autocommit, connect_timeout=connect_timeout)


def resolve(spec: str | None, database: str = dsn_mod.DEFAULT_DATABASE) -> Target:
    """Resolve `--dsn` / ARIA_TUI_DSN / embedded into a Target, starting the embedded server if needed."""
    parsed = dsn_mod.parse_spec(spec)
    if parsed.embedded_dir is not None:
        from aria_tui.pg import embedded

        server = embedded.start(parsed.embedded_dir)
        try:
            uri = embedded.ensure_database(server, database)
        except psycopg.Error as exc:
            raise TargetUnreachable(
                f"The embedded PostgreSQL in {parsed.embedded_dir} did not accept connections: "
                f"{_reason(exc)}."
            ) from None
        return Target(
            spec=parsed.raw,
            conninfo=uri,
            display=f"embedded ({parsed.embedded_dir}), database {database}",
            embedded_dir=parsed.embedded_dir,
        )
    try:
        psycopg.conninfo.conninfo_to_dict(parsed.raw)
    except psycopg.ProgrammingError:
        raise TargetUnreachable(
            f"The DSN {dsn_mod.redact(parsed.raw, parsed.raw)} is not a valid libpq URI or key=value string."
        ) from None
    return Target(spec=parsed.raw, conninfo=parsed.raw, display=dsn_mod.display_dsn(parsed.raw))


def _reason(exc: BaseException) -> str:
    first = first_line(exc)
    # libpq: 'connection to server at "h" (1.2.3.4), port 1 failed: Connection refused'
    if "failed:" in first:
        first = first.rsplit("failed:", 1)[1].strip()
    return first.rstrip(".")


def connect(target: Target, *, autocommit: bool = False, connect_timeout: int = 10) -> psycopg.Connection:
    try:
        conn = psycopg.connect(
            target.conninfo,
            autocommit=autocommit,
            connect_timeout=connect_timeout,
            application_name="aria-tui",
        )
    except psycopg.Error as exc:
        where = dsn_mod.location(target.conninfo)
        raise TargetUnreachable(
            target.redact(f"Cannot connect to PostgreSQL at {where}: {_reason(exc)}.")
        ) from None
    try:
        pin_output(conn)
    except psycopg.Error as exc:
        conn.close()
        where = dsn_mod.location(target.conninfo)
        raise TargetUnreachable(
            target.redact(
                f"Connected to PostgreSQL at {where}, but the session could not be set up for "
                f"aria-tui ({_reason(exc)}): check the settings of the role and database "
                "(ALTER ROLE ... SET, ALTER DATABASE ... SET)."
            )
        ) from None
    return conn


# How the server prints what aria-tui reads back, whatever the target database sets
# (`ALTER DATABASE ... SET ...`): dates in ISO (psycopg reads no other style; the input order,
# MDY or DMY, stays the database's: it decides how the export's dates are read), intervals in
# PostgreSQL's own style (unless sql_standard, which also changes how input is read), and floats
# exactly (extra_float_digits 1, PostgreSQL's default: at 0 or below 0.30000000000000004 prints
# as 0.3, and the loader's duplicate test and the proof compare floats by their text)
_OUTPUT = (
    "SELECT set_config('DateStyle', 'ISO', false), "
    "set_config('IntervalStyle', CASE current_setting('IntervalStyle') WHEN 'sql_standard' "
    "THEN 'sql_standard' ELSE 'postgres' END, false), "
    "set_config('extra_float_digits', '1', false)"
)


# pgvector's types and functions (`vector(3)`, `vector_dims`) are named unqualified in the SQL
# aria-tui writes, as the catalog prints them: a role whose search_path leaves out the extension's
# schema (`ALTER ROLE app SET search_path = ''`, or a schema of its own only) would fail every
# vector table with 'type "vector" does not exist'. The extension's schema is put at the END of
# the role's path, so every name the target's own functions and triggers resolve stays theirs.
_REACH_VECTOR = (
    "SELECT set_config('search_path', concat_ws(', ', "
    "nullif(nullif(current_setting('search_path'), ''), '\"\"'), quote_ident(n.nspname)), false) "
    "FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname = 'vector' AND n.nspname <> ALL (current_schemas(true))"
)


# What a role's or a database's own settings (`ALTER ROLE app SET ...`, an application role's
# usual guard rails) would otherwise do to a load or a proof, pinned for the session as pg_dump's
# scripts pin them: no statement or idle-transaction timeout cutting a COPY of a large file or the
# pause while a reject file is written (lock waits have their own bound, --lock-timeout); text
# sent and read as UTF-8, as the export is (LATIN1 would turn each accented letter of a raw COPY
# into two, or fail); an unquoted NULL in an array literal read as a NULL element, as PostgreSQL
# printed it (`array_nulls = off` would store the string 'NULL' and prove it equal); XML read as
# content, as pg_dump reads it; transactions writable (`default_transaction_read_only`, which any
# session may turn off, as pg_dumpall's scripts do: a server in recovery stays read-only and is
# said so).
_GUARDS = (
    "SELECT set_config('statement_timeout', '0', false), "
    "set_config('idle_in_transaction_session_timeout', '0', false), "
    "set_config('client_encoding', 'UTF8', false), "
    "set_config('array_nulls', 'on', false), "
    "set_config('xmloption', 'content', false), "
    "set_config('default_transaction_read_only', 'off', false); "
    # PostgreSQL 17's transaction_timeout would end a table's transaction, COPY and all; older
    # servers have no such setting (naming it there is an error)
    "SELECT set_config('transaction_timeout', '0', false) FROM pg_settings "
    "WHERE name = 'transaction_timeout'"
)


def pin_output(conn: psycopg.Connection) -> None:
    """Outside any transaction (autocommit): a BEGIN sent first would leave the session idle in
    a transaction before the guards are set, and a role's idle_in_transaction_session_timeout
    could end it there."""
    was = conn.autocommit
    conn.autocommit = True
    try:
        # one round trip (statements without parameters go as one simple query)
        conn.execute(f"{_GUARDS}; {_OUTPUT}; {_REACH_VECTOR}")
    finally:
        conn.autocommit = was
