"""Engine and sessions, created by ``create_app`` (never at import time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from .db_credentials import SecretCredentials, secrets_manager_fetch, use_rotating_credentials
from .models import Base

T = TypeVar("T")

EXTENSION_KEY = "ecommerce_analytics.db"
# Deadlocks and serialization failures are safe to retry: the transaction rolled back whole.
_RETRYABLE_SQLSTATES = {"40001", "40P01"}
_RETRYABLE_MYSQL_ERRNOS = {1205, 1213}
MAX_ATTEMPTS = 5
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
        # Single-statement reads (key lookup + data version) run outside a transaction, saving
        # the BEGIN and ROLLBACK round trips. Same pool; on SQLite and PostgreSQL switching a
        # checked-out connection to autocommit is local to the driver. MySQL drivers would send
        # a SET per checkout, which costs more than the implicit transaction it saves.
        self.read_engine: Engine = (
            self.engine
            if self.engine.dialect.name == "mysql"
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    def dispose(self) -> None:
        self.engine.dispose()


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    # No pool_pre_ping (a SELECT 1 round trip per checkout, i.e. per request): connections
    # are recycled before idle timeouts drop them, and a connection that died anyway (database
    # restart, failover) fails its first statement, which invalidates the whole pool; the
    # callers retry once on a fresh connection (``run_read``, ``run_in_transaction``).
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        # Concurrent writers wait for the lock instead of failing at once.
        kwargs["connect_args"] = {"timeout": 30}
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


def run_read(database: Database, work: Callable[[Connection], T]) -> T:
    """Run read-only ``work`` on a pooled connection outside a transaction.

    Without pre-ping a pooled connection may be dead (the database restarted or failed over);
    its first statement then raises with ``connection_invalidated`` and SQLAlchemy invalidates
    the pool, so one retry runs on a fresh connection. ``work`` must only read."""
    for attempt in (1, 2):
        try:
            with database.read_engine.connect() as connection:
                return work(connection)
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


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
                session.rollback()
                if attempt == MAX_ATTEMPTS or not is_retryable(exc):
                    raise
            except BaseException:
                session.rollback()
                raise
        time.sleep(0.02 * 2**attempt)
    raise AssertionError("unreachable")
