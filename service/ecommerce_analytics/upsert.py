"""One atomic "insert or add to" statement per dialect, so concurrent writers never lose an update.

SQLite and PostgreSQL: ``INSERT ... ON CONFLICT (key) DO UPDATE SET x = t.x + excluded.x``.
MySQL/MariaDB: ``INSERT ... ON DUPLICATE KEY UPDATE x = x + VALUES(x)``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Insert, Table, case, insert
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session


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
    """Insert ``rows``, or for existing keys add the ``add`` columns and keep the min/max of
    ``least``/``greatest``. Rows must have unique keys; they are written in key order so
    concurrent transactions lock rows in the same order and do not deadlock."""
    ordered = [dict(row) for row in sorted(rows, key=lambda row: tuple(row[k] for k in key))]
    if not ordered:
        return
    # One cached statement executed with many parameter sets: SQLAlchemy batches it into
    # multi-row INSERTs ("insertmanyvalues") or the driver's executemany, and never recompiles
    # it per call as a literal multi-VALUES statement would be.
    stmt = _statement(
        dialect_name(session), table, tuple(key), tuple(add), tuple(least), tuple(greatest)
    )
    # Core on the session's connection: the ORM adds nothing to a Core INSERT but overhead.
    session.connection().execute(stmt, ordered)


@functools.lru_cache(maxsize=64)
def _statement(
    name: str,
    table: Table,
    key: tuple[str, ...],
    add: tuple[str, ...],
    least: tuple[str, ...],
    greatest: tuple[str, ...],
) -> Insert:
    def merged(incoming: Any) -> dict[str, ColumnElement[Any]]:
        current = table.c
        values: dict[str, ColumnElement[Any]] = {c: current[c] + incoming[c] for c in add}
        values.update(
            {c: case((incoming[c] < current[c], incoming[c]), else_=current[c]) for c in least}
        )
        values.update(
            {c: case((incoming[c] > current[c], incoming[c]), else_=current[c]) for c in greatest}
        )
        return values

    if name == "mysql":
        my = mysql.insert(table)
        return my.on_duplicate_key_update(merged(my.inserted))
    if name == "postgresql":
        pg = postgresql.insert(table)
        return pg.on_conflict_do_update(index_elements=list(key), set_=merged(pg.excluded))
    if name == "sqlite":
        lite = sqlite.insert(table)
        return lite.on_conflict_do_update(index_elements=list(key), set_=merged(lite.excluded))
    raise NotImplementedError(f"unsupported database dialect {name!r}")


def insert_ignore(session: Session, table: Table, row: Mapping[str, Any]) -> bool:
    """Insert ``row`` unless its primary key exists; ``True`` when this call inserted it."""
    name = dialect_name(session)
    key = list(table.primary_key.columns)[0]
    if name == "mysql":
        # Rows are validated before this point, so IGNORE only ever swallows the duplicate key.
        # MySQL has no INSERT ... RETURNING; its affected-row count is reliable here.
        result = session.execute(insert(table).values(dict(row)).prefix_with("IGNORE"))
        return bool(getattr(result, "rowcount", 0) == 1)
    stmt: Any
    if name == "postgresql":
        stmt = postgresql.insert(table).values(dict(row)).on_conflict_do_nothing()
    elif name == "sqlite":
        stmt = sqlite.insert(table).values(dict(row)).on_conflict_do_nothing()
    else:
        raise NotImplementedError(f"unsupported database dialect {name!r}")
    # RETURNING yields a row only when this statement inserted one (rowcount is not reliable
    # for INSERT on every driver).
    return session.execute(stmt.returning(key)).first() is not None


def insert_ignore_many(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]]
) -> set[Any]:
    """Insert ``rows`` (in the given order), skipping those whose primary key exists; returns
    the keys this call inserted. Batched where the database reports inserted rows
    (``ON CONFLICT DO NOTHING RETURNING``: SQLite, PostgreSQL); one statement per row on
    MySQL/MariaDB, whose affected-row count is per statement."""
    name = dialect_name(session)
    key = list(table.primary_key.columns)[0]
    if name == "mysql":
        return {row[key.name] for row in rows if insert_ignore(session, table, row)}
    if not rows:
        return set()
    stmt: Any
    if name == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif name == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:
        raise NotImplementedError(f"unsupported database dialect {name!r}")
    return set(
        session.connection().execute(stmt.returning(key), [dict(row) for row in rows]).scalars()
    )
