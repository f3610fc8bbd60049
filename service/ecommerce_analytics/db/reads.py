"""Reads at the driver level, outside a transaction, for the statements every request runs."""

from __future__ import annotations

import time
from collections import namedtuple
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Dialect, Engine, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection

from .engine import Database


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
    then it is invalidated, every pooled connection opened before it is replaced at its next
    checkout, and the statement runs once more on a fresh connection (once, and only when the
    connection failed at once: not when it was cut at its deadline).
    Driver errors, connecting included, are raised as SQLAlchemy's ``DBAPIError``
    subclasses, like every other statement's.
    """
    engine = database.engine
    dialect = engine.dialect
    compiled = database.driver_statements.get(statement)
    if compiled is None:
        compiled = database.driver_statements[statement] = DriverStatement(engine, statement)
    parameters = compiled.parameters(values)
    autocommit = dialect.name == "postgresql"
    for attempt in (1, 2):
        started = time.monotonic()
        try:
            connection = engine.raw_connection()
        except dialect.loaded_dbapi.Error as exc:
            # The pool raises a failed connect as the driver's error.
            raise DBAPIError.instance(
                None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
            ) from exc
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
                connection.invalidate(exc)
                database.discard_connections_opened_before(started)
            if attempt == 2 or not dead or not database.went_stale(started):
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
