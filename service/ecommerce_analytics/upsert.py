"""One atomic "insert or add to" statement per dialect, so concurrent writers never lose an update.

SQLite and PostgreSQL: ``INSERT ... ON CONFLICT (key) DO UPDATE SET x = t.x + excluded.x``.
MySQL/MariaDB: ``INSERT ... ON DUPLICATE KEY UPDATE x = x + VALUES(x)``.

The writes take tuples already in the stored representation (``Encoders``, or
``encode_rows`` for mappings of Python values: ``upsert_add``, ``insert_ignore``) and hand them
to the driver as they are: order ingest writes ~8 rows per order, and SQLAlchemy's per-row
parameter processing cost more than the database's work. On PostgreSQL they send one array per
column and ``unnest`` it server-side: one statement per table whatever the row count, and
inside a ``pipelined`` block no round trip of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Dialect, String, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def upsert_add(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    add: Sequence[str] = (),
    least: Sequence[str] = (),
    greatest: Sequence[str] = (),
) -> None:
    """Insert ``rows`` (mappings of Python values, all with the same keys), or for existing
    keys add the ``add`` columns and keep the min/max of ``least``/``greatest``: encodes them
    (``encode_rows``) and writes them with ``upsert_add_rows``. Rows must have unique keys."""
    if not rows:
        return
    columns = (*key, *(name for name in rows[0] if name not in key))
    upsert_add_rows(
        session,
        table,
        columns,
        encode_rows(session, table, columns, rows),
        key=tuple(key),
        add=tuple(add),
        least=tuple(least),
        greatest=tuple(greatest),
    )


def insert_ignore(session: Session, table: Table, row: Mapping[str, Any]) -> bool:
    """Insert ``row`` (a mapping of Python values, its primary key first) unless its primary
    key exists; ``True`` when this call inserted it (``insert_ignore_rows``)."""
    columns = tuple(row)
    encoded = encode_rows(session, table, columns, [row])
    return bool(insert_ignore_rows(session, table, columns, encoded))


def encode_rows(
    session: Session, table: Table, columns: tuple[str, ...], rows: Sequence[Mapping[str, Any]]
) -> list[Row]:
    """``rows`` as tuples in ``columns`` order, each value converted by its column type's bind
    processor for ``session``'s dialect: exactly what SQLAlchemy would hand the driver, so the
    driver-level writes below serve Python values too."""
    dialect = session.get_bind().dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    return [
        tuple(
            process(row[name]) if process is not None else row[name]
            for name, process in zip(columns, processors, strict=True)
        )
        for row in rows
    ]


# ---- driver-level writes --------------------------------------------------------------------

Row = tuple[Any, ...]
# SQLite accepts at most 32766 bound values per statement; multi-row VALUES stay well below.
_SQLITE_ROWS_PER_STATEMENT = 500


@dataclass(frozen=True)
class Encoders:
    """Python values to what SQLAlchemy's bind processing would hand the driver, byte for
    byte: ``Date`` and ``UTCDateTime`` (which takes UTC datetimes here). Money is an integer
    count of ten-thousandths (``money.Money``); ints and strings pass unchanged."""

    date: Callable[[date], Any]
    datetime: Callable[[datetime], Any]


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def _sqlite_datetime(moment: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME storage format: "2024-01-02 03:04:05.000000".
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


_ENCODERS = {
    # SQLite has no date types: SQLAlchemy stores ISO text (DATE "2024-01-02").
    "sqlite": Encoders(date=date.isoformat, datetime=_sqlite_datetime),
    # psycopg and PyMySQL take date and naive datetime objects.
    "postgresql": Encoders(date=lambda day: day, datetime=_naive),
    "mysql": Encoders(date=lambda day: day, datetime=_naive),
}


def encoders(session: Session) -> Encoders:
    """How to encode dates and datetimes for ``session``'s driver."""
    return dialect_encoders(dialect_name(session))


def dialect_encoders(name: str) -> Encoders:
    """How to encode dates and datetimes for the driver of dialect ``name``."""
    try:
        return _ENCODERS[name]
    except KeyError:
        raise NotImplementedError(f"unsupported database dialect {name!r}") from None


@contextmanager
def pipelined(session: Session) -> Iterator[None]:
    """On PostgreSQL, statements sent inside the block go out without waiting for each other
    (psycopg's pipeline mode): one round trip for the block instead of one per statement, so
    row locks taken early in the block are released sooner at commit, and concurrent batches
    queue on them for less time. Statements run through SQLAlchemy inside the block must be
    ones whose results are not read (``upsert_add_rows``, ``insert_rows``, ``upsert_add``,
    ``SET``); a read goes on a driver cursor and is fetched after the block (as
    ``ingest.cohorts.send_cohort_reads`` does). The server runs them in order, and the first error
    aborts the rest; it is raised at the end of the block as a SQLAlchemy ``DBAPIError``, like
    any statement's (so deadlocks are retried by ``run_in_transaction``). Elsewhere the block
    runs statement by statement."""
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        yield
        return
    driver = connection.connection.driver_connection
    try:
        with driver.pipeline():  # type: ignore[union-attr]
            yield
    except dialect.loaded_dbapi.Error as exc:
        # As SQLAlchemy does for its own statements: a dropped connection is invalidated and
        # flagged, so ``run_in_transaction`` retries on a fresh one.
        dead = _lost(exc, driver, dialect)
        if dead:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            None,
            None,
            exc,
            dialect.loaded_dbapi.Error,
            connection_invalidated=dead,
            dialect=dialect,
        ) from exc


# SQLSTATE classes of a connection the server dropped or is shutting down.
_CONNECTION_LOST_SQLSTATES = ("08", "57P")


def _lost(exc: Any, driver: Any, dialect: Dialect) -> bool:
    """Whether a pipeline failed because the connection is gone. When the server drops it
    mid-pipeline, psycopg may replace the real error with "cannot exit pipeline mode while
    busy" before libpq marks the connection bad: so also look at the errors it chained, and
    at a connection left in pipeline mode (unusable: even its rollback would fail)."""
    from psycopg import pq

    if dialect.is_disconnect(exc, driver, None):
        return True
    if driver.pgconn.pipeline_status != pq.PipelineStatus.OFF:
        return True
    seen: BaseException | None = exc
    while seen is not None:
        state = getattr(seen, "sqlstate", None) or ""
        if state.startswith(_CONNECTION_LOST_SQLSTATES):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def upsert_add_rows(
    session: Session,
    table: Table,
    columns: tuple[str, ...],
    rows: list[Row],
    *,
    key: tuple[str, ...],
    add: tuple[str, ...] = (),
    least: tuple[str, ...] = (),
    greatest: tuple[str, ...] = (),
) -> None:
    """``upsert_add`` for encoded ``rows`` (tuples in ``columns`` order). ``key`` must be the
    leading columns and unique per row; ``rows`` is sorted in place, so rows are written in key
    order (concurrent transactions lock rows in the same order and do not deadlock). Encoded
    keys sort like the Python values (ISO dates sort like dates)."""
    if not rows:
        return
    if columns[: len(key)] != key:
        raise ValueError(f"key {key} must be the leading columns of {columns}")
    rows.sort()
    dialect = session.get_bind().dialect
    sql = _upsert_sql(dialect, table, columns, key, add, least, greatest)
    _execute_rows(session, dialect, sql, rows)


def insert_rows(session: Session, table: Table, columns: tuple[str, ...], rows: list[Row]) -> None:
    """Plain ``INSERT`` of encoded ``rows`` (tuples in ``columns`` order), in the given order."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    _execute_rows(session, dialect, _insert_sql(dialect, table, columns, ""), rows)


def insert_ignore_rows(
    session: Session, table: Table, columns: tuple[str, ...], rows: list[Row]
) -> set[Any]:
    """Insert encoded ``rows`` (in the given order), skipping those whose primary key exists;
    returns the keys this call inserted. The primary key must be ``columns[0]``, a single
    column, and unique within ``rows``. One statement per 500 rows where the database reports
    inserted rows (``ON CONFLICT DO NOTHING RETURNING``: SQLite, PostgreSQL); on MySQL/MariaDB
    (no ``RETURNING`` in MySQL) one multi-row ``INSERT IGNORE`` when every row is new, else,
    after a rollback to a savepoint, one per row (the affected-row count is per statement)."""
    if [c.name for c in table.primary_key.columns] != [columns[0]]:
        raise ValueError(f"{columns[0]!r} is not the primary key of {table.name}")
    if not rows:
        return set()
    dialect = session.get_bind().dialect
    connection = session.connection()
    if dialect.name == "mysql":
        # Rows are validated before this point, so IGNORE only ever swallows the duplicate key.
        sql = _insert_sql(dialect, table, columns, "IGNORE")
        # Usually every row is new: one multi-row INSERT (PyMySQL's executemany) whose
        # affected-row count says so. When it is short (a retried batch), the count cannot say
        # which rows were skipped: back to the savepoint, then one statement per row.
        savepoint = session.begin_nested()
        # The SAVEPOINT is sent when the nested transaction is first asked for its connection.
        if session.connection().exec_driver_sql(sql, rows).rowcount == len(rows):
            savepoint.commit()
            return {row[0] for row in rows}
        savepoint.rollback()
        return {row[0] for row in rows if connection.exec_driver_sql(sql, row).rowcount == 1}
    returning = f" RETURNING {dialect.identifier_preparer.quote(columns[0])}"
    if dialect.name == "postgresql":
        sql = _insert_sql(dialect, table, columns, "") + " ON CONFLICT DO NOTHING" + returning
        return set(connection.exec_driver_sql(sql, _arrays(rows)).scalars())
    inserted: set[Any] = set()
    for i in range(0, len(rows), _SQLITE_ROWS_PER_STATEMENT):
        chunk = rows[i : i + _SQLITE_ROWS_PER_STATEMENT]
        sql = _sqlite_multirow_insert_ignore(dialect, table, columns, len(chunk)) + returning
        flat = tuple(value for row in chunk for value in row)
        inserted.update(connection.exec_driver_sql(sql, flat).scalars())
    return inserted


def _arrays(rows: list[Row]) -> tuple[str, ...]:
    """One PostgreSQL array literal per column (``{1,2}``, ``{"a","b"}``), cast server-side.
    Text built here in C-speed joins: psycopg's list adaptation checks every element in Python
    and cost more than the statement."""
    return tuple(pg_array_literal(column) for column in zip(*rows, strict=True))


def pg_array_literal(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of ``values`` (ints unquoted, anything else as quoted text),
    to cast server-side. ``values`` must not be empty."""
    if type(values[0]) is int:
        return "{" + ",".join(map(str, values)) + "}"
    # Everything else quoted (backslash and double quote escaped): strings may hold any of
    # {},"\ and spaces; a quoted "NULL" is the text NULL, an unquoted NULL the null value.
    return "{" + ",".join("NULL" if v is None else _quote(str(v)) for v in values) + "}"


def _quote(text: str) -> str:
    if "\\" in text or '"' in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _execute_rows(session: Session, dialect: Dialect, sql: str, rows: list[Row]) -> None:
    if dialect.name == "postgresql":
        session.connection().exec_driver_sql(sql, _arrays(rows))
    else:
        # SQLite's executemany steps one prepared statement per row in C; PyMySQL rewrites an
        # INSERT ... VALUES executemany into multi-row INSERTs.
        session.connection().exec_driver_sql(sql, rows)


@functools.lru_cache(maxsize=64)
def _insert_sql(dialect: Dialect, table: Table, columns: tuple[str, ...], modifier: str) -> str:
    """``INSERT`` head plus the row source: ``VALUES`` placeholders for one row (executemany),
    or on PostgreSQL ``SELECT * FROM unnest(...)`` of one typed array per column."""
    quote = dialect.identifier_preparer.quote
    head = f"INSERT {modifier + ' ' if modifier else ''}INTO {quote(table.name)} "
    head += f"({', '.join(quote(c) for c in columns)}) "
    if dialect.name == "postgresql":
        arrays = ", ".join(
            f"%s::{_array_element_type(table.c[c].type, dialect)}[]" for c in columns
        )
        return head + f"SELECT * FROM unnest({arrays})"
    return head + f"VALUES ({_placeholders(dialect, len(columns))})"


def _array_element_type(column_type: TypeEngine[Any], dialect: Dialect) -> str:
    """The column's type for the array cast, without a length: an explicit cast to
    ``VARCHAR(64)`` silently cuts a longer value, while the assignment to the column then
    refuses it ("value too long"), as a typed insert would."""
    if isinstance(column_type, String) and column_type.length is not None:
        return String().compile(dialect=dialect)
    return column_type.compile(dialect=dialect)


def _placeholders(dialect: Dialect, n: int) -> str:
    return ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * n)


@functools.lru_cache(maxsize=64)
def _sqlite_multirow_insert_ignore(
    dialect: Dialect, table: Table, columns: tuple[str, ...], n_rows: int
) -> str:
    # Multi-row VALUES: RETURNING needs one statement (executemany returns no rows).
    one = _insert_sql(dialect, table, columns, "")
    values = f", ({_placeholders(dialect, len(columns))})" * (n_rows - 1)
    return one + values + " ON CONFLICT DO NOTHING"


@functools.lru_cache(maxsize=64)
def _upsert_sql(
    dialect: Dialect,
    table: Table,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    add: tuple[str, ...],
    least: tuple[str, ...],
    greatest: tuple[str, ...],
) -> str:
    """``INSERT`` of encoded rows that adds to (``add``) or keeps the min/max of (``least``,
    ``greatest``) the stored row when the key exists."""
    quote = dialect.identifier_preparer.quote
    if dialect.name == "mysql":

        def incoming(c: str) -> str:
            return f"VALUES({quote(c)})"

        def current(c: str) -> str:
            return quote(c)

        clause = " ON DUPLICATE KEY UPDATE "
    elif dialect.name in ("postgresql", "sqlite"):

        def incoming(c: str) -> str:
            return f"excluded.{quote(c)}"

        def current(c: str) -> str:
            return f"{quote(table.name)}.{quote(c)}"

        clause = f" ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET "
    else:
        raise NotImplementedError(f"unsupported database dialect {dialect.name!r}")

    def pick(c: str, op: str) -> str:
        new, old = incoming(c), current(c)
        return f"{quote(c)} = CASE WHEN {new} {op} {old} THEN {new} ELSE {old} END"

    sets = [f"{quote(c)} = {current(c)} + {incoming(c)}" for c in add]
    sets += [pick(c, "<") for c in least]
    sets += [pick(c, ">") for c in greatest]
    return _insert_sql(dialect, table, columns, "") + clause + ", ".join(sets)
