"""Writes: one transaction per unit of work, retried when that is safe."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from .engine import Database
from .failures import is_retryable

T = TypeVar("T")
MAX_ATTEMPTS = 5


def run_in_transaction(database: Database, work: Callable[[Session], T]) -> T:
    """Run ``work`` in its own transaction, committing on success.

    Retries up to ``MAX_ATTEMPTS`` times on deadlock or serialization failure, and once on a
    connection that had gone stale in the pool; ``work`` must be idempotent, which ingest is
    (orders are keyed by ``order_id``): a connection lost during ``COMMIT`` may have committed.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        started = time.monotonic()
        with database.sessionmaker() as session:
            try:
                result = work(session)
                session.commit()
                return result
            except DBAPIError as exc:
                _roll_back(session)
                if exc.connection_invalidated:
                    retry = attempt == 1 and database.went_stale(started)
                else:
                    retry = is_retryable(exc)
                if attempt == MAX_ATTEMPTS or not retry:
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
