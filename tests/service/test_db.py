"""Round trips per read and recovery from dead pooled connections (there is no pre-ping)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event, text

from ecommerce_analytics.db import POOL_RECYCLE_S

from .conftest import Api, get_engine, new_key
from .factories import order

SALES = "/api/v1/sales"
RANGE = {"start": "2024-03-01", "end": "2024-03-31", "granularity": "month"}


def _statements(app: Any) -> list[str]:
    seen: list[str] = []

    @event.listens_for(get_engine(app), "before_cursor_execute")
    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    return seen


def test_a_cached_read_is_one_statement(app, api: Api):
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    assert api.get(SALES, **RANGE).headers["X-Cache"] == "miss"
    seen = _statements(app)
    response = api.get(SALES, **RANGE)
    assert response.status_code == 200
    assert response.headers["X-Cache"] == "hit"
    # Key lookup and data version in one statement; no pre-ping, no BEGIN issued by the app.
    assert len(seen) == 1, seen
    assert "api_keys" in seen[0] and "data_version" in seen[0]


def test_connections_are_recycled_not_pinged(app):
    engine = get_engine(app)
    assert engine.pool._pre_ping is False
    if engine.dialect.name != "sqlite":
        assert engine.pool._recycle == POOL_RECYCLE_S


def _track_backend_ids(app: Any) -> list[int]:
    """Server-side ids of every connection ``app``'s engine opens from now on."""
    ids: list[int] = []

    @event.listens_for(get_engine(app), "connect")
    def connected(dbapi_connection: Any, _record: Any) -> None:
        info = getattr(dbapi_connection, "info", None)
        pid = getattr(info, "backend_pid", None)
        ids.append(int(pid) if pid is not None else int(dbapi_connection.thread_id()))

    return ids


def _kill(url: str, ids: list[int]) -> None:
    """Terminate these sessions from another connection, as a restart or failover would."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for pid in ids:
                if admin.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                else:
                    conn.execute(text(f"KILL {int(pid)}"))
    finally:
        admin.dispose()
    ids.clear()


def test_reads_and_writes_survive_dead_pooled_connections(make_app, backend, database_url):
    if backend == "sqlite":
        return  # an embedded database has no server connection to lose
    app = make_app()
    ids = _track_backend_ids(app)
    api = Api(app.test_client(), new_key(app, "read", "write"))
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    assert api.get(SALES, **RANGE).status_code == 200
    assert ids
    _kill(database_url, ids)
    # The pooled connection is dead: its first statement fails, the pool is invalidated and
    # the request is retried once on a fresh connection.
    response = api.get(SALES, **RANGE)
    assert response.status_code == 200, response.json
    assert response.json["totals"]["orders"] == 1
    assert ids
    _kill(database_url, ids)
    posted = api.post("/api/v1/orders", {"orders": [order("A2")]})
    assert posted.status_code == 201, posted.json
    assert api.get(SALES, **RANGE).json["totals"]["orders"] == 2
