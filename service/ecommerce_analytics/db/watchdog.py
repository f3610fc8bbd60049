"""Client-side deadlines for PostgreSQL connections (psycopg has no read timeout)."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from sqlalchemy.pool import ConnectionPoolEntry

log = logging.getLogger("ecommerce_analytics.db")
# Set in a pool record's ``info`` when its connection was cut.
CUT = "cut_by_watchdog"


_time_limit: ContextVar[float | None] = ContextVar("db_time_limit", default=None)


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """PostgreSQL connections checked out inside the block, in this thread, are cut after
    ``seconds`` instead of the request deadline (MySQL keeps its read timeout). For checks
    that must fail fast, such as readiness."""
    token = _time_limit.set(seconds)
    try:
        yield
    finally:
        _time_limit.reset(token)


def current_time_limit() -> float | None:
    """The ``time_limit`` in force in this thread, or ``None``."""
    return _time_limit.get()


class Watchdog:
    """Cuts PostgreSQL connections held past their deadline.

    psycopg 3 has no client-side read timeout, and a frozen server (process stopped, storage
    hung, the old primary of a failover gone silent) still has its kernel acknowledge our
    packets, so neither TCP keepalive nor tcp_user_timeout ever fires: a read would wait as
    long as the stall lasts. One daemon thread per process shuts down the socket of every
    connection still armed at its deadline: the blocked read gets end-of-file at once, a
    disconnect error (503), and the pool discards the connection.
    """

    def __init__(self) -> None:
        self._armed: dict[ConnectionPoolEntry, tuple[float, Any]] = {}
        # Reentrant: a connection garbage-collected while this thread holds the lock is
        # checked in, and so disarmed, on this same thread.
        self._changed = threading.Condition(threading.RLock())
        self._wake_at: float | None = None
        self._thread: threading.Thread | None = None

    def arm(self, record: ConnectionPoolEntry, dbapi_connection: Any, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        with self._changed:
            self._armed[record] = (deadline, dbapi_connection)
            # A thread does not survive fork(): each process starts its own when first needed.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()
            elif self._wake_at is None or deadline < self._wake_at:
                self._changed.notify()

    def disarm(self, record: ConnectionPoolEntry) -> None:
        # Taking the lock also makes a connection's close (these events fire before it) wait
        # for a cut in progress: the descriptor cut is never one the system has reused.
        with self._changed:
            self._armed.pop(record, None)

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                for record, (deadline, dbapi_connection) in list(self._armed.items()):
                    if deadline <= now and self._armed.pop(record, None) is not None:
                        _cut(dbapi_connection)
                        # Cut just after its last statement, the connection could go back to
                        # the pool unnoticed: its next checkout replaces it (``CUT``; the pool
                        # clears ``info`` when it opens a new connection on the record).
                        record.info[CUT] = True
                self._wake_at = min((d for d, _ in self._armed.values()), default=None)
                self._changed.wait(None if self._wake_at is None else self._wake_at - now)


def _cut(dbapi_connection: Any) -> None:
    """Shut down the connection's socket both ways, through a duplicate descriptor: shutdown
    acts on the socket the driver shares, closing the duplicate leaves the driver's own."""
    try:
        fd = dbapi_connection.fileno()
        with socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    except Exception as exc:  # closed or lost already (psycopg raises): nothing left to cut
        log.debug("database connection not cut: %s", exc)
        return
    log.warning("database connection cut: no answer within its deadline")


WATCHDOG = Watchdog()


def disarm_listener(_dbapi_connection: Any, record: ConnectionPoolEntry, *_args: Any) -> None:
    """Pool event listener (checkin, invalidate, close, detach): the connection is no longer
    in a request's hands."""
    WATCHDOG.disarm(record)
