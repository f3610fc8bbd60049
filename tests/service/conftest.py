"""Fixtures: every API test runs on SQLite, PostgreSQL and MariaDB/MySQL.

PostgreSQL and MySQL use ``TEST_POSTGRES_URL`` / ``TEST_MYSQL_URL``; without them (or with no
server listening) those variants skip with the reason. Each run migrates a private database
``test_analytics_<pid>`` and drops it at the end, so concurrent runs do not collide.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade  # type: ignore[import-untyped]
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from ecommerce_analytics import create_app
from ecommerce_analytics.auth import create_key
from ecommerce_analytics.cache import EXTENSION_KEY as SNAPSHOTS_KEY
from ecommerce_analytics.db import get_db
from ecommerce_analytics.models import Base

from ..databases import server_databases


def _server_database(kind: str) -> Iterator[str]:
    for urls in server_databases(kind, [f"test_analytics_{os.getpid()}"]):
        yield urls[0]


@pytest.fixture(scope="session", params=["sqlite", "postgresql", "mysql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A migrated database per backend, downgraded to empty at the end of the session."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"])
    else:
        urls = _server_database(request.param)
    url = next(urls)
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        upgrade()
    yield url
    # Emptied first: the downgrade refuses rows the old schemas cannot hold (migration 0006:
    # ids differing only in case, on MySQL).
    with get_engine(app).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    with app.app_context():
        downgrade(revision="base")
    app.extensions["ecommerce_analytics.db"].dispose()
    next(urls, None)  # drops the server database


@pytest.fixture
def make_app(database_url: str) -> Iterator[Any]:
    """Build apps on the session database with clean tables; all engines are disposed."""
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        # Every endpoint live (read-your-writes) unless a test asks for bounded staleness:
        # most tests read right after they write. tests/service/test_freshness.py covers it.
        config = {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "RATE_LIMIT_PER_MINUTE": 0,
            "ANALYTICS_MAX_STALENESS": 0,
            # No refresh-ahead thread racing a test's own reads; test_freshness.py covers it.
            "ANALYTICS_KEEP_WARM": 0,
        }
        config.update(overrides)
        # A test's bound applies to every stale-able endpoint unless it sets the rankings'.
        bound = str(config["ANALYTICS_MAX_STALENESS"]).split(",")[0]
        config.setdefault("ANALYTICS_RANKING_MAX_STALENESS", bound)
        app = create_app(config)
        apps.append(app)
        return app

    cleaner = factory()
    with get_engine(cleaner).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    yield factory
    for app in apps:
        snapshots = app.extensions.get(SNAPSHOTS_KEY)
        if snapshots is not None:
            if snapshots.warm is not None:
                snapshots.warm.stop()
            snapshots.refresher.drain()  # a refresh still running holds a connection
        app.extensions["ecommerce_analytics.db"].dispose()


def get_engine(app: Flask) -> Any:
    with app.app_context():
        return get_db().engine


@pytest.fixture
def app(make_app: Any) -> Any:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def new_key(app: Flask, *scopes: str) -> str:
    with app.app_context(), get_db().sessionmaker.begin() as session:
        return create_key(session, list(scopes), "test")[1]


@dataclass
class Api:
    """A test client that sends a bearer key, with JSON helpers."""

    client: FlaskClient
    key: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def get(self, url: str, **params: Any) -> Any:
        return self.client.get(url, query_string=params, headers=self.headers())

    def post(self, url: str, body: Any) -> Any:
        return self.client.post(url, json=body, headers=self.headers())


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    return Api(client, new_key(app, "read", "write"))


@pytest.fixture
def backend(database_url: str) -> str:
    return make_url(database_url).get_backend_name()
