"""Engine and sessions, created by ``create_app`` (never at import time)."""

from __future__ import annotations

import contextlib
import time
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import Dialect, Engine, MetaData, Select, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection

from .db_credentials import SecretCredentials, secrets_manager_fetch, use_rotating_credentials
from .models import Base

T = TypeVar("T")

EXTENSION_KEY = "ecommerce_analytics.db"
# Deadlocks and serialization failures are safe to retry: the transaction rolled back whole.
_RETRYABLE_SQLSTATES = {"40001", "40P01"}
_RETRYABLE_MYSQL_ERRNOS = {1205, 1213}
MAX_ATTEMPTS = 5
# How long a SQLite writer waits for another's lock before "database is locked".
SQLITE_BUSY_MS = 30_000
# Below the usual 350 s idle timeout of NAT gateways / RDS Proxy and MySQL's wait_timeout.
POOL_RECYCLE_S = 300


class Database:
    """The app's engine and session factory; ``metadata`` is what Flask-Migrate compares."""

    metadata: MetaData = Base.metadata

    def __init__(self, url: str, credentials: SecretCredentials | None = None) -> None:
        self.engine = _create_engine(url)
        if credentials is not None and self.engine.dialect.name != "sqlite":
            use_rotating_credentials(self.engine, credentials)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # Hot statements compiled for this engine's driver (``fetch_one``).
        self.driver_statements: dict[Select[Any], DriverStatement] = {}

    def dispose(self) -> None:
        self.engine.dispose()


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    # No pool_pre_ping (a SELECT 1 round trip per checkout, i.e. per request): connections
    # are recycled before idle timeouts drop them, and a connection that died anyway (database
    # restart, failover) fails its first statement, which invalidates the whole pool; the
    # callers retry once on a fresh connection (``fetch_all``, ``run_in_transaction``).
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        # Concurrent writers wait for the lock instead of failing at once.
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_MS / 1000}
    else:
        # Recycle before RDS proxies / NAT idle timeouts silently drop connections.
        kwargs.update(pool_size=5, max_overflow=5, pool_recycle=POOL_RECYCLE_S)
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def init_app(app: Flask) -> Database:
    credentials = app.config.get("DB_CREDENTIALS")
    if credentials is None and app.config.get("DB_SECRET_ARN"):
        credentials = SecretCredentials(secrets_manager_fetch(app.config["DB_SECRET_ARN"]))
    database = Database(app.config["DATABASE_URL"], credentials)
    app.extensions[EXTENSION_KEY] = database
    app.teardown_appcontext(_close_session)
    return database


def get_db() -> Database:
    database: Database = current_app.extensions[EXTENSION_KEY]
    return database


def get_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = get_db().sessionmaker()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


class DriverStatement:
    """A read-only Core ``SELECT`` compiled once to the driver's SQL and parameter style, for
    the few statements that run on every request (``fetch_all``, ``fetch_one``).

    They run on a pooled DBAPI connection directly: no SQLAlchemy ``Connection``, no
    ``Result``, no per-call compile-cache lookup (measured: the API key lookup takes 100 -> 16
    us on SQLite, 175 -> 63 us on PostgreSQL). Result columns are converted by the same type
    processors SQLAlchemy would apply (dates on SQLite, ``Money``, ``UTCDateTime``); bind
    parameters are not, so they must be driver-native values (``str``, ``int``).
    """

    def __init__(self, engine: Engine, statement: Select[Any]) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self._compiled = compiled
        self._positions: Sequence[str] | None = compiled.positiontup
        columns = list(statement.selected_columns)
        self.row_type: Any = namedtuple("row", [c.key for c in columns])  # type: ignore[misc]
        self._processors = [
            (i, processor)
            for i, column in enumerate(columns)
            if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None))
        ]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        bound: dict[str, Any] = dict(self._compiled.construct_params(dict(values)))
        if self._positions is None:
            return bound
        return [bound[name] for name in self._positions]

    def row(self, raw: Sequence[Any]) -> Any:
        if not self._processors:
            return self.row_type._make(raw)
        values = list(raw)
        for i, processor in self._processors:
            values[i] = processor(values[i])
        return self.row_type._make(values)


def fetch_all(database: Database, statement: Select[Any], values: Mapping[str, Any]) -> list[Any]:
    """Every row of ``statement`` as named tuples, outside a transaction; compiled once per
    database (see ``DriverStatement`` for what that skips).

    PostgreSQL: the connection is switched to autocommit for the statement (a local flag in
    psycopg) so no ``BEGIN``/``ROLLBACK`` round trips are sent; SQLite's driver opens no
    transaction for a ``SELECT``; MySQL keeps its implicit transaction, ended by the pool.
    Without pre-ping a pooled connection may be dead (the database restarted or failed over):
    then the pool is invalidated and the statement runs once more on a fresh connection.
    Driver errors are raised as SQLAlchemy's ``DBAPIError`` subclasses, like every other
    statement's.
    """
    engine = database.engine
    dialect = engine.dialect
    compiled = database.driver_statements.get(statement)
    if compiled is None:
        compiled = database.driver_statements[statement] = DriverStatement(engine, statement)
    parameters = compiled.parameters(values)
    autocommit = dialect.name == "postgresql"
    for attempt in (1, 2):
        connection = engine.raw_connection()
        cursor = None
        try:
            if autocommit:
                connection.driver_connection.autocommit = True  # type: ignore[union-attr]
            cursor = connection.cursor()
            cursor.execute(compiled.sql, parameters)
            return [compiled.row(raw) for raw in cursor.fetchall()]
        except dialect.loaded_dbapi.Error as exc:
            dead = dialect.is_disconnect(exc, connection.dbapi_connection, cursor)
            if dead:
                # As SQLAlchemy does for its own statements: every older connection is suspect.
                engine.pool._invalidate(connection, exc)
            if attempt == 2 or not dead:
                raise DBAPIError.instance(
                    compiled.sql,
                    parameters,
                    exc,
                    dialect.loaded_dbapi.Error,
                    connection_invalidated=dead,
                    dialect=dialect,
                ) from exc
        finally:
            if connection.is_valid:
                if cursor is not None:
                    cursor.close()
                if autocommit:
                    _end_autocommit(connection, dialect)
            connection.close()
    raise AssertionError("unreachable")


def _end_autocommit(connection: PoolProxiedConnection, dialect: Dialect) -> None:
    """Give the pooled connection back transactional. If that fails (the server dropped it),
    the connection is invalidated rather than returned in autocommit, where the next
    ``run_in_transaction`` would commit statement by statement; the statement's own error,
    if any, stays the one raised."""
    try:
        connection.driver_connection.autocommit = False  # type: ignore[union-attr]
    except dialect.loaded_dbapi.Error:
        connection.invalidate()


def fetch_one(database: Database, statement: Select[Any], values: Mapping[str, Any]) -> Any:
    """The first row of ``statement`` (a named tuple) or ``None``; see ``fetch_all``. Meant
    for statements that return at most one row."""
    rows = fetch_all(database, statement, values)
    return rows[0] if rows else None


def is_retryable(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        # A dead pooled connection (no pre-ping): the transaction never committed.
        return True
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    args = getattr(orig, "args", ())
    if args and args[0] in _RETRYABLE_MYSQL_ERRNOS:
        return True
    return "database is locked" in str(orig)


def run_in_transaction(database: Database, work: Callable[[Session], T]) -> T:
    """Run ``work`` in its own transaction, committing on success.

    Retries up to ``MAX_ATTEMPTS`` times on deadlock or serialization failure; ``work`` must be
    idempotent, which ingest is (orders are keyed by ``order_id``).
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with database.sessionmaker() as session:
            try:
                result = work(session)
                session.commit()
                return result
            except DBAPIError as exc:
                _roll_back(session)
                if attempt == MAX_ATTEMPTS or not is_retryable(exc):
                    raise
            except BaseException:
                _roll_back(session)
                raise
        time.sleep(0.02 * 2**attempt)
    raise AssertionError("unreachable")


def _roll_back(session: Session) -> None:
    """Roll back after a failure. A rollback that fails too (the connection is gone) must not
    replace the error being handled; the pool discards such a connection when the session
    closes."""
    with contextlib.suppress(SQLAlchemyError):
        session.rollback()
