"""Shared fixtures: one real embedded PostgreSQL (pgvector + pg_trgm) per test session, and a fresh
database per test cloned from a template, so tests stay fast and never see each other's rows."""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from aria_tui.pg.connect import Target
from aria_tui.pg.dsn import display_dsn

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_EXPORT = ROOT / "sample_export"

_counter = itertools.count()
_lock = threading.Lock()


@pytest.fixture(scope="session", autouse=True)
def _private_state_dirs(tmp_path_factory):
    """Journals, reports and reject files of the tests go to a temp dir, not the user's."""
    base = tmp_path_factory.mktemp("aria-state")
    os.environ["ARIA_TUI_STATE_DIR"] = str(base / "state")
    os.environ["ARIA_TUI_DATA_DIR"] = str(base / "data")
    # the tests' tables are small: without this they would keep their indexes and keys during
    # the load (aria_tui.load.deferred.MIN_ROWS) and the build-after-the-rows path, the one
    # that must never leave a table without them, would go untested
    os.environ["ARIA_TUI_DEFER_MIN_ROWS"] = "0"
    yield


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    from aria_tui.pg import embedded

    return embedded.start(tmp_path_factory.mktemp("pg") / "data")


class Templates:
    """Template databases, each made once per session: empty (extensions only) or a bootstrapped profile."""

    def __init__(self, server) -> None:
        self.server = server
        self.made: set[str] = set()

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.server.get_uri("postgres"), autocommit=True)

    def template(self, profile: str | None) -> str:
        name = f"tmpl_{profile or 'empty'}"
        with _lock:
            if name in self.made:
                return name
            with self.admin() as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            with psycopg.connect(self.server.get_uri(name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            if profile:
                from aria_tui import profiles
                from aria_tui.pg.bootstrap import bootstrap

                with psycopg.connect(self.server.get_uri(name)) as conn:
                    bootstrap(conn, profiles.load(profile))
            self.made.add(name)
            return name

    def fresh(self, profile: str | None) -> Target:
        template = self.template(profile)
        name = f"t{os.getpid()}_{next(_counter)}"
        with self.admin() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        uri = self.server.get_uri(name)
        return Target(spec=uri, conninfo=uri, display=display_dsn(uri))


@pytest.fixture(scope="session")
def templates(pg_server) -> Templates:
    return Templates(pg_server)


@pytest.fixture
def empty_db(templates) -> Target:
    """A fresh database with pgvector and pg_trgm and no tables."""
    return templates.fresh(None)


@pytest.fixture
def aria_db(templates) -> Target:
    """A fresh database bootstrapped with the aria_v4 profile."""
    return templates.fresh("aria_v4")


@pytest.fixture
def archon_db(templates) -> Target:
    """A fresh database bootstrapped with the archon profile."""
    return templates.fresh("archon")


@pytest.fixture
def cli(capsys):
    """Run the real CLI in-process: returns (exit code, stdout, stderr)."""
    from aria_tui.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run
