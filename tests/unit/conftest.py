"""The unit group runs with no PostgreSQL server: a test here that asks for one (directly or through
empty_db, aria_db, templates ...) fails, naming the group it belongs to."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def pg_server():
    pytest.fail("tests/unit runs without a PostgreSQL server: a test that needs one goes in tests/db")
