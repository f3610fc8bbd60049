"""The data version: one row counting committed writes, which every cached answer is keyed on.

Every committed write that changes what a read can return (an order batch that created at
least one order, a new refund) adds 1 to the single row of ``data_version`` in the same
transaction. A read authenticates and reads the version in one statement (``auth.find_key``),
*before* reading any data, so an answer computed by that read reflects at least that version.
"""

from __future__ import annotations

from sqlalchemy import ScalarSelect, select
from sqlalchemy.orm import Session

from ..db import Database, fetch_one
from ..models import DataVersion
from ..upsert import upsert_add

_VERSION_ROW = 1
_VERSIONS = DataVersion.__table__
# Core, not ORM: this runs on every cached read.
_READ_VERSION = select(_VERSIONS.c.version).where(_VERSIONS.c.id == _VERSION_ROW)


def version_subquery() -> ScalarSelect[int]:
    """The version as a scalar subquery, for folding into the API key lookup."""
    return _READ_VERSION.scalar_subquery()


def current_version(database: Database) -> int:
    """The committed data version (``0`` before the first write), read outside a transaction."""
    row = fetch_one(database, _READ_VERSION, {})
    return int(row[0] or 0) if row is not None else 0


def bump_version(session: Session) -> None:
    """Mark the data as changed; call inside the writing transaction, as its last statement
    (the row lock is then held for the shortest time)."""
    upsert_add(
        session,
        DataVersion.__table__,  # type: ignore[arg-type]
        [{"id": _VERSION_ROW, "version": 1}],
        key=("id",),
        add=("version",),
    )
