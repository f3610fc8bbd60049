"""One atomic "insert or add to" statement per dialect, so concurrent writers never lose an update.

SQLite and PostgreSQL: ``INSERT ... ON CONFLICT (key) DO UPDATE SET x = t.x + excluded.x``.
MySQL/MariaDB: ``INSERT ... ON DUPLICATE KEY UPDATE x = x + VALUES(x)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Insert, Table, case, insert
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session

CHUNK = 500


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
    ordered = sorted(rows, key=lambda row: tuple(row[k] for k in key))
    name = dialect_name(session)
    for i in range(0, len(ordered), CHUNK):
        chunk = ordered[i : i + CHUNK]
        if not chunk:
            continue
        session.execute(_statement(name, table, chunk, key, add, least, greatest))


def _statement(
    name: str,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
    add: Sequence[str],
    least: Sequence[str],
    greatest: Sequence[str],
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
        my = mysql.insert(table).values(list(rows))
        return my.on_duplicate_key_update(merged(my.inserted))
    if name == "postgresql":
        pg = postgresql.insert(table).values(list(rows))
        return pg.on_conflict_do_update(index_elements=list(key), set_=merged(pg.excluded))
    if name == "sqlite":
        lite = sqlite.insert(table).values(list(rows))
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
