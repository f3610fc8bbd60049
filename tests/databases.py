"""Private databases on the PostgreSQL and MariaDB servers the tests may use
(``TEST_POSTGRES_URL``, ``TEST_MYSQL_URL``), skipped with the reason when unset or unreachable."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

SERVER_ENV = {"postgresql": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}


def server_databases(kind: str, names: list[str]) -> Iterator[list[str]]:
    """Create empty databases ``names`` on the ``kind`` server, yield their URLs, drop them."""
    env = SERVER_ENV[kind]
    base = os.environ.get(env)
    if not base:
        pytest.skip(f"{env} is not set; {kind} tests skipped")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
                conn.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"{kind} server at {env} is unreachable: {exc.orig}")
    try:
        yield [make_url(base).set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        force = " WITH (FORCE)" if kind == "postgresql" else ""
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()
