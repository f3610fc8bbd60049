"""The app's engine, pool and sessions, created by ``create_app`` (never at import time)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import URL, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from ..config import DEFAULT_DB_CONNECT_TIMEOUT_S, DEFAULT_DB_STATEMENT_TIMEOUT_S
from ..db_credentials import SecretCredentials, secrets_manager_fetch, use_rotating_credentials
from ..models import Base
from .watchdog import CUT, WATCHDOG, current_time_limit, disarm_listener

if TYPE_CHECKING:
    from sqlalchemy import Select

    from .reads import DriverStatement

EXTENSION_KEY = "ecommerce_analytics.db"
# How long a SQLite writer waits for another's lock before "database is locked".
SQLITE_BUSY_MS = 30_000
# Below the usual 350 s idle timeout of NAT gateways / RDS Proxy and MySQL's wait_timeout.
POOL_RECYCLE_S = 300
# How long after DB_STATEMENT_TIMEOUT the client gives up on a connection: the server's own
# cancellation comes first and leaves the connection usable; the client's deadline only
# catches a server that no longer answers at all.
CLIENT_GRACE_S = 1.0

log = logging.getLogger("ecommerce_analytics.db")


class Database:
    """The app's engine and session factory; ``metadata`` is what Flask-Migrate compares.

    ``connect_timeout`` and ``statement_timeout`` are in seconds (``DB_CONNECT_TIMEOUT``,
    default 5, and ``DB_STATEMENT_TIMEOUT``, default 15, ``0`` = none); SQLite ignores them.
    """

    metadata: MetaData = Base.metadata

    def __init__(
        self,
        url: str,
        credentials: SecretCredentials | None = None,
        *,
        connect_timeout: float = DEFAULT_DB_CONNECT_TIMEOUT_S,
        statement_timeout: float = DEFAULT_DB_STATEMENT_TIMEOUT_S,
    ) -> None:
        self._url = url
        self._credentials = credentials
        self._connect_timeout = connect_timeout
        self._probe: Engine | None = None
        self.engine = self._new_engine(statement_timeout, pooled=True)
        backend = self.engine.dialect.name
        # How long a request may hold a connection before the client gives up on the server
        # (``None``: no limit).
        self.deadline_s = (
            statement_timeout + CLIENT_GRACE_S
            if statement_timeout and backend != "sqlite"
            else None
        )
        # Pooled connections opened before this moment (``time.monotonic()``) are replaced at
        # their next checkout (``discard_connections_opened_before``).
        self._dead_before = 0.0
        # pymysql's read timeout bounds every wait on MySQL; psycopg has none (``Watchdog``).
        self._watched = backend == "postgresql"
        self._listen(self.engine)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # Hot statements compiled for this engine's driver (``fetch_one``).
        self.driver_statements: dict[Select[Any], DriverStatement] = {}
        self.on_dispose: list[Callable[[], None]] = []

    def dispose(self) -> None:
        """Close every pooled connection, after stopping the background work registered in
        ``on_dispose`` (keeping answers warm) so none opens a new one afterwards."""
        for stop in self.on_dispose:
            stop()
        self.engine.dispose()
        if self._probe is not None and self._probe is not self.engine:
            self._probe.dispose()

    def migration_engine(self) -> Engine:
        """An engine for schema migrations, without any statement timeout (server or client
        side): a migration may run for minutes (a collation change on a 10M-row table). It
        has no pool (every connection closes when released), so it needs no disposing.
        SQLite has no timeouts to lift: the app's own engine."""
        if self.engine.dialect.name == "sqlite":
            return self.engine
        return self._new_engine(statement_timeout=0, pooled=False)

    def probe_engine(self, seconds: float) -> Engine:
        """An engine for readiness checks, whose every wait ends within about ``seconds``
        whatever the app's timeouts: it connects within ``seconds``, the server cancels a
        statement after half of it and the client gives up on a silent server at ``seconds``
        (MySQL's read timeout; PostgreSQL's checks run under ``time_limit``). No pool: each check
        opens a fresh connection, so it never waits behind requests for a pooled one, never
        inherits a dead one, and a check stuck on a frozen server holds nothing the next one
        needs. Built at the first call (later calls get it whatever their ``seconds``). SQLite:
        the app's own engine."""
        if self.engine.dialect.name == "sqlite":
            return self.engine
        if self._probe is None:
            statement_timeout = max(seconds - CLIENT_GRACE_S, seconds / 2)
            self._probe = self._new_engine(statement_timeout, pooled=False, connect_timeout=seconds)
            self._listen(self._probe)
        return self._probe

    def _listen(self, engine: Engine) -> None:
        """Stamp new connections, replace stale ones at checkout, and arm the watchdog."""
        if engine.dialect.name == "sqlite":
            return
        event.listen(engine, "connect", _stamp_opened)
        event.listen(engine, "checkout", self._on_checkout)
        if self._watched:
            for name in ("checkin", "invalidate", "close", "detach"):
                event.listen(engine, name, disarm_listener)

    def _new_engine(
        self, statement_timeout: float, *, pooled: bool, connect_timeout: float | None = None
    ) -> Engine:
        connect = self._connect_timeout if connect_timeout is None else connect_timeout
        engine = _create_engine(self._url, connect, statement_timeout, pooled)
        if self._credentials is not None and engine.dialect.name != "sqlite":
            use_rotating_credentials(engine, self._credentials)
        return engine

    def discard_connections_opened_before(self, moment: float) -> None:
        """Replace, at their next checkout, the pooled connections opened before ``moment``
        (``time.monotonic()``): one handed out then was found dead, so the server restarted
        or failed over, and they are dead too. Those opened since are to the server now up."""
        self._dead_before = max(self._dead_before, moment)

    def went_stale(self, started: float) -> bool:
        """Whether a connection that failed as dead, in use since ``started``, had gone stale
        in the pool (the server restarted or failed over while it idled): such a connection
        fails at once, and a retry on a fresh one succeeds. One that failed only at the client
        deadline was cut because the server stopped answering: a retry would wait as long."""
        return self.deadline_s is None or time.monotonic() - started < self.deadline_s

    def _on_checkout(self, dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if record.info.get("opened_at", 0.0) < self._dead_before or record.info.get(CUT):
            # Raised by a checkout listener, this makes the pool close the connection and
            # check out a new one in its place.
            raise DisconnectionError("a connection found dead, cut, or opened before one was")
        if self._watched:
            # Armed only while serving a request (or inside ``time_limit``): ``flask db
            # upgrade``, ``flask seed`` and other commands may legitimately run for long.
            # Armed per checkout, i.e. for a request's whole use of a pooled connection (the
            # ORM session keeps one until the request ends): that covers every statement,
            # commit and the rollback on return, with one arm and one disarm per request
            # whichever path (driver cursor, Core, ORM) runs the statements.
            seconds = current_time_limit()
            if seconds is None and has_request_context():
                seconds = self.deadline_s
            if seconds is not None:
                WATCHDOG.arm(record, dbapi_connection, seconds)


def _create_engine(
    url: str, connect_timeout: float, statement_timeout: float, pooled: bool
) -> Engine:
    parsed = make_url(url)
    # No pool_pre_ping (a SELECT 1 round trip per checkout, i.e. per request): connections
    # are recycled before idle timeouts drop them, and a connection that died anyway (database
    # restart, failover) fails its first statement, which invalidates the whole pool; the
    # callers retry once on a fresh connection (``fetch_all``, ``run_in_transaction``).
    kwargs: dict[str, Any] = {}
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        # Concurrent writers wait for the lock instead of failing at once.
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_MS / 1000}
    else:
        kwargs["connect_args"] = _driver_timeouts(parsed, connect_timeout, statement_timeout)
    if backend != "sqlite" and pooled:
        # Recycle before RDS proxies / NAT idle timeouts silently drop connections. A request
        # waits for a free connection no longer than for a new one: when every connection
        # hangs on a frozen server, queueing 30 s (the default) would only add to the wait.
        kwargs.update(
            pool_size=5, max_overflow=5, pool_recycle=POOL_RECYCLE_S, pool_timeout=connect_timeout
        )
    elif backend != "sqlite":
        kwargs["poolclass"] = NullPool
    engine = create_engine(parsed, **kwargs)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif backend == "mysql" and statement_timeout:
        event.listen(engine, "connect", _mysql_statement_timeout(statement_timeout))
    return engine


def _driver_timeouts(url: URL, connect_timeout: float, statement_timeout: float) -> dict[str, Any]:
    """Driver arguments that bound every wait on the server (``statement_timeout`` 0: none
    for statements)."""
    if url.get_backend_name() == "postgresql":
        # libpq counts whole seconds, and at least 2.
        args: dict[str, Any] = {"connect_timeout": max(2, math.ceil(connect_timeout))}
        if statement_timeout:
            # Sent with the login: no extra round trip. The server cancels the statement with
            # SQLSTATE 57014 and the connection stays usable.
            option = f"-c statement_timeout={math.ceil(statement_timeout * 1000)}"
            given = url.query.get("options")
            args["options"] = f"{given} {option}" if isinstance(given, str) else option
        return args
    # pymysql: connect_timeout bounds the TCP connect; the read and write timeouts bound every
    # later wait on the server (the login exchange included), so a frozen server is detected
    # even when the kernel still acknowledges our packets.
    args = {"connect_timeout": connect_timeout}
    if statement_timeout:
        args["read_timeout"] = args["write_timeout"] = statement_timeout + CLIENT_GRACE_S
    return args


def _mysql_statement_timeout(seconds: float) -> Callable[[Any, Any], None]:
    """A ``connect`` listener setting the server-side statement timeout on MySQL/MariaDB."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # MariaDB's max_statement_time (seconds) bounds every statement; MySQL's
        # max_execution_time (milliseconds) only SELECTs, which are the long ones here.
        mariadb = "mariadb" in dbapi_connection.get_server_info().lower()
        cursor = dbapi_connection.cursor()
        try:
            # A write waiting for row locks ends on the server too (error 1205, retried), not
            # only when the client gives up, which would leave its locks held (default 50 s).
            lock_wait = max(1, math.ceil(seconds))
            cursor.execute("SET SESSION innodb_lock_wait_timeout = %s", (lock_wait,))
            if mariadb:
                cursor.execute("SET SESSION max_statement_time = %s", (seconds,))
            else:
                cursor.execute("SET SESSION max_execution_time = %s", (math.ceil(seconds * 1000),))
        finally:
            cursor.close()

    return on_connect


def _stamp_opened(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["opened_at"] = time.monotonic()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def init_app(app: Flask) -> Database:
    credentials = app.config.get("DB_CREDENTIALS")
    if credentials is None and app.config.get("DB_SECRET_ARN"):
        credentials = SecretCredentials(secrets_manager_fetch(app.config["DB_SECRET_ARN"]))
    database = Database(
        app.config["DATABASE_URL"],
        credentials,
        connect_timeout=float(app.config.get("DB_CONNECT_TIMEOUT", DEFAULT_DB_CONNECT_TIMEOUT_S)),
        statement_timeout=float(
            app.config.get("DB_STATEMENT_TIMEOUT", DEFAULT_DB_STATEMENT_TIMEOUT_S)
        ),
    )
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
        try:
            session.close()
        except SQLAlchemyError as exc:
            # The answer is already made; its rollback failing (the connection was lost) must
            # not turn it into an error. SQLAlchemy has discarded the connection.
            log.warning("request session not closed cleanly: %s", type(exc).__name__)
