"""Round trips per read and recovery from dead pooled connections (there is no pre-ping)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event, text, update

from ecommerce_analytics.db import POOL_RECYCLE_S, get_db
from ecommerce_analytics.models import DataVersion

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


def _checkouts(app: Any) -> list[int]:
    taken: list[int] = []

    @event.listens_for(get_engine(app), "checkout")
    def checkout(*_args: Any) -> None:
        taken.append(1)

    return taken


def _driver_statements(app: Any) -> list[str]:
    """Every statement SQLite executes on the app's connections from now on, BEGIN included."""
    engine = get_engine(app)
    engine.dispose()
    seen: list[str] = []

    @event.listens_for(engine, "connect")
    def trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    return seen


def test_a_cached_read_is_one_statement(app, api: Api, backend):
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    assert api.get(SALES, **RANGE).headers["X-Cache"] == "miss"
    traced = _driver_statements(app) if backend == "sqlite" else None
    core = _statements(app)
    checkouts = _checkouts(app)
    response = api.get(SALES, **RANGE)
    assert response.status_code == 200
    assert response.headers["X-Cache"] == "hit"
    assert response.json["totals"]["orders"] == 1
    # One pooled connection, and the key lookup (with the data version) runs at the driver
    # level: nothing through SQLAlchemy's statement layer, no pre-ping.
    assert len(checkouts) == 1 and core == []
    if traced is not None:
        # No BEGIN or ROLLBACK around it either: exactly one statement reached SQLite.
        assert len(traced) == 1, traced
        assert "api_keys" in traced[0] and "data_version" in traced[0]


def test_a_cached_read_leaves_the_pooled_connection_transactional(app, api: Api):
    """PostgreSQL key lookups switch the pooled connection to autocommit for one statement; the
    next user of that connection must get a real transaction again (a rollback undoes it)."""
    api.post("/api/v1/orders", {"orders": [order("A1")]})
    assert api.get(SALES, **RANGE).headers["X-Cache"] == "miss"
    assert api.get(SALES, **RANGE).headers["X-Cache"] == "hit"
    with app.app_context(), get_db().sessionmaker() as session:
        session.execute(update(DataVersion).values(version=DataVersion.version + 100))
        session.rollback()
    # Had the update committed on its own, the data version would have moved: a miss.
    assert api.get(SALES, **RANGE).headers["X-Cache"] == "hit"


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
