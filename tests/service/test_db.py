"""Round trips per read, recovery from dead pooled connections (there is no pre-ping), and
what counts as the database being unavailable (503), with the timeouts that detect it."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import psycopg
import pymysql  # type: ignore[import-untyped]
import pytest
from sqlalchemy import create_engine, event, text, update
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ecommerce_analytics.config import config_from_env
from ecommerce_analytics.db import POOL_RECYCLE_S, get_db, is_unavailable
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


# Database outages and timeouts (DB_CONNECT_TIMEOUT, DB_STATEMENT_TIMEOUT); under live traffic
# through a proxy that cuts or freezes the database: test_outage.py.

UNAVAILABLE = [
    psycopg.OperationalError("connection failed: Connection refused"),
    psycopg.errors.ConnectionTimeout("connection timeout expired"),
    psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"),
    psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    psycopg.errors.CannotConnectNow("the database system is starting up"),
    psycopg.errors.TooManyConnections("sorry, too many clients already"),
    psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
    psycopg.errors.DeadlockDetected("deadlock detected"),
    pymysql.err.OperationalError(2003, "Can't connect to MySQL server on '10.0.0.1' (timed out)"),
    pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query"),
    pymysql.err.InterfaceError(0, ""),
    pymysql.err.OperationalError(1969, "Query execution was interrupted (max_statement_time)"),
    pymysql.err.OperationalError(1040, "Too many connections"),
    pymysql.err.OperationalError(1290, "The MariaDB server is running with --read-only"),
    pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock"),
    sqlite3.OperationalError("database is locked"),
    PoolTimeoutError("QueuePool limit of size 5 overflow 5 reached, connection timed out"),
    OperationalError("SELECT 1", {}, psycopg.OperationalError("the connection is lost")),
    DBAPIError("SELECT 1", {}, pymysql.err.InternalError(0, "?"), connection_invalidated=True),
]
BUGS = [
    psycopg.errors.UndefinedColumn('column "x" does not exist'),
    psycopg.errors.NumericValueOutOfRange("bigint out of range"),
    psycopg.InterfaceError("the cursor is closed"),
    pymysql.err.OperationalError(1054, "Unknown column 'x' in 'field list'"),
    pymysql.err.ProgrammingError(1064, "You have an error in your SQL syntax"),
    pymysql.err.DataError(1264, "Out of range value for column 'gross_sales'"),
    sqlite3.OperationalError("no such table: orders"),
    ProgrammingError("SELECT x", {}, psycopg.errors.UndefinedColumn("x")),
    pymysql.err.OperationalError(2014, "Command Out of Sync"),
    RuntimeError("boom"),
    # Bugs whose arguments look like a driver's: not answered 503.
    KeyError(0),
    ValueError(2013),
    RuntimeError("database is locked by a bug"),
]


@pytest.mark.parametrize("exc", UNAVAILABLE, ids=repr)
def test_an_absent_or_hung_database_is_unavailable(exc):
    assert is_unavailable(exc)


@pytest.mark.parametrize("exc", BUGS, ids=repr)
def test_other_database_errors_are_not(exc):
    assert not is_unavailable(exc)


def test_database_timeouts_come_from_the_environment():
    assert (
        config_from_env({})["DB_CONNECT_TIMEOUT"],
        config_from_env({})["DB_STATEMENT_TIMEOUT"],
    ) == (5, 15)
    config = config_from_env({"DB_CONNECT_TIMEOUT": " 2.5 ", "DB_STATEMENT_TIMEOUT": "0"})
    assert (config["DB_CONNECT_TIMEOUT"], config["DB_STATEMENT_TIMEOUT"]) == (2.5, 0)


BAD_TIMEOUTS = [
    ("DB_CONNECT_TIMEOUT", "0"),
    ("DB_CONNECT_TIMEOUT", "-1"),
    ("DB_CONNECT_TIMEOUT", "soon"),
    ("DB_STATEMENT_TIMEOUT", "-0.5"),
    ("DB_STATEMENT_TIMEOUT", "15s"),
    ("DB_STATEMENT_TIMEOUT", "nan"),
    ("DB_STATEMENT_TIMEOUT", "inf"),
]


@pytest.mark.parametrize(("name", "value"), BAD_TIMEOUTS)
def test_a_bad_timeout_is_refused_naming_the_variable(name, value):
    with pytest.raises(ValueError, match=name):
        config_from_env({name: value})


def test_the_server_cancels_a_statement_past_the_timeout_but_not_a_migration(make_app, backend):
    """``DB_STATEMENT_TIMEOUT`` is enforced by the server, and the connection stays usable;
    migrations run without it (one may take minutes)."""
    if backend == "sqlite":
        pytest.skip("SQLite has no statement timeout (its busy timeout stays)")
    app = make_app(DB_STATEMENT_TIMEOUT=0.5)
    sleep = text("SELECT pg_sleep(1)" if backend == "postgresql" else "SELECT SLEEP(1)")
    with app.app_context():
        database = get_db()
        with database.engine.connect() as connection:
            if backend == "mysql" and not getattr(connection.dialect, "is_mariadb", False):
                pytest.skip("MySQL's max_execution_time does not interrupt SLEEP()")
            started = time.monotonic()
            with pytest.raises(OperationalError) as cancelled:
                connection.execute(sleep)
            assert time.monotonic() - started < 0.9
            assert is_unavailable(cancelled.value)
            assert not cancelled.value.connection_invalidated
            connection.rollback()
            assert connection.execute(text("SELECT 1")).scalar() == 1
        with database.migration_engine().connect() as connection:
            connection.execute(sleep)  # runs to its end


def test_a_connection_the_watchdog_cut_is_replaced_at_its_next_checkout(app, backend):
    """A connection cut just after its last statement goes back to the pool unnoticed; the
    next request must not get it (it would fail, 503, and suspect the whole pool)."""
    if backend == "sqlite":
        pytest.skip("SQLite connections are local files: nothing to cut")
    from ecommerce_analytics.db.watchdog import CUT

    pid = "SELECT pg_backend_pid()" if backend == "postgresql" else "SELECT CONNECTION_ID()"
    engine = get_engine(app)
    with engine.connect() as connection:
        first = connection.exec_driver_sql(pid).scalar()
        connection.connection.info[CUT] = True
    with engine.connect() as connection:
        assert connection.exec_driver_sql(pid).scalar() != first
    with engine.connect() as connection:
        # The replacement is a fresh connection: nothing marks it.
        assert CUT not in connection.connection.info
