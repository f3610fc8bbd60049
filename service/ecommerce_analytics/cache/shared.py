"""Answers kept in the database (``response_cache``), shared by every worker and task.

One row per request (its key hashed with the build and store settings): the latest answer
computed for it, the data version it reflects and when its computation began, plus a lease
(``lease_until``) that one worker takes while it computes the next answer, so that across all
workers and tasks each answer is computed by one of them at a time (``claim``/``release``).

Everything here is best effort except unavailability: when a read, a claim or a save fails
for another reason (a concurrent save of the same key, a lock that is not free at once) the
request is computed or answered anyway and the failure logged at ``INFO``; a database that is
away raises, so the request answers 503 at once instead of after a second timeout.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from ..db import SQLITE_BUSY_MS, Database, fetch_one, is_retryable, is_unavailable
from ..models import SharedResponse
from .snapshots import Snapshot

_TABLE = SharedResponse.__table__
_LOOK = select(_TABLE.c.body, _TABLE.c.version, _TABLE.c.computed_at, _TABLE.c.lease_until).where(
    _TABLE.c.key_hash == bindparam("key_hash")
)
# A write here never waits long for SQLite's write lock (held by ingest): skipping it costs
# only a later recomputation.
_SQLITE_BUSY_MS = 50
# Giving a lease up after a failed save may wait longer: a lease left behind makes every
# other worker wait for it to expire.
_SQLITE_RELEASE_BUSY_MS = 1000
# How long a lease lasts (the app sets it to the statement timeout, the longest one of a
# computation's statements may run); its holder renews it while computing
# (``serving.LeaseKeeper``), so one left by a worker that died or could not save is taken over
# within this long.
DEFAULT_LEASE_S = 15.0
# Rows not recomputed for this long (a URL no one asks for any more) are deleted, at most
# once a minute per process, so the table holds the answers in use.
RETENTION = timedelta(days=1)
_PRUNE_EVERY_S = 60.0
_log = logging.getLogger(__name__)


def code_fingerprint() -> str:
    """SHA-256 of the service package's Python sources: changes with every build that could
    change a response, so entries saved by another build are never served (rolling deploys run
    old and new tasks side by side on one database)."""
    digest = hashlib.sha256()
    root = Path(__file__).parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _moment(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


class SharedResponses:
    """Latest answers per request in the database, with a computation lease per request.

    ``scope`` (the code fingerprint, currency and time zone) is part of every key: answers
    saved by another build or under other store settings are never served. ``clock`` (epoch
    seconds; default ``time.time``) stamps computations and leases, so tasks on different
    hosts compare them on synchronised wall clocks.
    """

    def __init__(
        self,
        database: Database,
        scope: str,
        *,
        lease_s: float = DEFAULT_LEASE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.scope = scope
        self.lease_s = lease_s
        self.clock = clock
        self._pruned_at = 0.0
        # The leases this process took and has not yet ended, so it can end them as it exits
        # (``release_held``) rather than leave other workers waiting for them to expire.
        self._held: set[str] = set()
        self._held_lock = threading.Lock()
        self._closed = False

    def _hash(self, key: str) -> str:
        return hashlib.sha256(f"{self.scope}\n{key}".encode()).hexdigest()

    def load(self, key: str) -> Snapshot | None:
        """The latest answer saved for ``key``, or ``None`` (one primary-key read)."""
        return self.look(key)[0]

    def look(self, key: str) -> tuple[Snapshot | None, bool]:
        """The latest answer saved for ``key`` (or ``None``) and whether a worker holds the
        lease on computing the next one (one primary-key read)."""
        try:
            row = fetch_one(self.database, _LOOK, {"key_hash": self._hash(key)})
        except SQLAlchemyError as exc:
            if is_unavailable(exc):
                raise
            _log.info("shared response cache: %s not read (%s)", key, _reason(exc))
            return None, False
        if row is None:
            return None, False
        body, version, computed_at, lease_until = row
        leased = lease_until is not None and lease_until.timestamp() >= self.clock()
        if body is None or computed_at is None:
            return None, leased
        return Snapshot(bytes(body), int(version), computed_at.timestamp()), leased

    def claim(self, key: str) -> bool:
        """Take the lease on computing ``key``: ``True`` when this caller holds it now (also
        when the lease could not be recorded for a reason other than another holder, so a
        request is never left without an answer), ``False`` while another holder's runs."""
        if self._closed:
            return False  # exiting: computing it is another worker's job now
        key_hash = self._hash(key)
        now = self.clock()
        until = _moment(now + self.lease_s)
        taken = (
            update(SharedResponse)
            .where(
                _TABLE.c.key_hash == key_hash,
                or_(_TABLE.c.lease_until.is_(None), _TABLE.c.lease_until < _moment(now)),
            )
            .values(lease_until=until)
        )
        try:
            with self._writing() as connection:
                if connection.execute(taken).rowcount == 0:
                    exists = connection.execute(
                        select(_TABLE.c.key_hash).where(_TABLE.c.key_hash == key_hash)
                    ).first()
                    if exists is not None:
                        return False
                    # First computation of this request: a row with no answer yet holds the
                    # lease.
                    connection.execute(
                        insert(SharedResponse).values(
                            key_hash=key_hash,
                            version=0,
                            computed_at=None,
                            body=None,
                            lease_until=until,
                        )
                    )
            if self._holding(key):
                return True
            # ``release_held`` ran meanwhile (the worker is exiting): this one ends now too.
            self.release(key, sqlite_busy_ms=_SQLITE_RELEASE_BUSY_MS)
            return False
        except IntegrityError:
            return False  # another worker inserted the row first: it computes
        except SQLAlchemyError as exc:
            # A lock that is not free at once (SQLite's, held by ingest) is no outage.
            busy = isinstance(exc, DBAPIError) and is_retryable(exc)
            if is_unavailable(exc) and not busy:
                raise
            _log.info("shared response cache: lease on %s not taken (%s)", key, _reason(exc))
        return True

    def renew(self, key: str) -> None:
        """Extend a held lease on ``key`` by ``lease_s`` from now: its holder is still
        computing (a ranked figure under load can take longer than a lease). Best effort: a
        renewal that fails is logged, and the lease then expires as it would have."""
        until = _moment(self.clock() + self.lease_s)
        try:
            with self._writing() as connection:
                connection.execute(
                    update(SharedResponse)
                    .where(_TABLE.c.key_hash == self._hash(key), _TABLE.c.lease_until.is_not(None))
                    .values(lease_until=until)
                )
        except SQLAlchemyError as exc:
            _log.info("shared response cache: lease on %s not renewed (%s)", key, _reason(exc))

    def release(self, key: str, *, sqlite_busy_ms: int = _SQLITE_BUSY_MS) -> None:
        """Give the lease up without an answer (the computation failed)."""
        self._ended(key)
        try:
            with self._writing(sqlite_busy_ms) as connection:
                connection.execute(
                    update(SharedResponse)
                    .where(_TABLE.c.key_hash == self._hash(key))
                    .values(lease_until=None)
                )
        except SQLAlchemyError as exc:
            _log.info("shared response cache: lease on %s not released (%s)", key, _reason(exc))

    def save(self, key: str, snapshot: Snapshot) -> bool:
        """Store ``snapshot`` as the answer for ``key`` and end the lease; ``False`` when it
        was not stored (a newer answer is already there, or the write failed and the lease
        was given up). Raises when the database is unavailable: the lease is then the
        caller's to give up, off the request."""
        key_hash = self._hash(key)
        computed_at = _moment(snapshot.computed_at)
        values = {
            "version": snapshot.version,
            "computed_at": computed_at,
            "body": snapshot.body,
            "lease_until": None,
        }
        newer_or_none = or_(_TABLE.c.computed_at.is_(None), _TABLE.c.computed_at <= computed_at)
        self._ended(key)
        try:
            with self._writing() as connection:
                self._prune(connection)
                stored = connection.execute(
                    update(SharedResponse)
                    .where(_TABLE.c.key_hash == key_hash, newer_or_none)
                    .values(**values)
                ).rowcount
                if stored == 1:
                    return True
                if connection.execute(
                    select(_TABLE.c.key_hash).where(_TABLE.c.key_hash == key_hash)
                ).first():
                    # A newer answer is there: it stays. Its save ended this caller's lease;
                    # a lease set now is another worker's.
                    return False
                connection.execute(insert(SharedResponse).values(key_hash=key_hash, **values))
        except SQLAlchemyError as exc:
            _log.info("shared response cache: %s not saved (%s)", key, _reason(exc))
            if is_unavailable(exc) and not (isinstance(exc, DBAPIError) and is_retryable(exc)):
                # The database is away or frozen: giving the lease up now may hang as long
                # again. The caller has its answer and releases off the request.
                raise
            self.release(key, sqlite_busy_ms=_SQLITE_RELEASE_BUSY_MS)
            return False
        return True

    def release_held(self) -> int:
        """End every lease this process still holds, and take no new one (``claim`` answers
        ``False`` from now on): it is exiting (a worker recycled by gunicorn's
        ``max_requests``, a deploy) and the computations behind them, on daemon threads, die
        with it. Without this every other worker waits up to ``lease_s`` for each such
        answer. Returns how many were given up."""
        with self._held_lock:
            self._closed = True
            held = sorted(self._held)
        for key in held:
            self.release(key, sqlite_busy_ms=_SQLITE_RELEASE_BUSY_MS)
        return len(held)

    def _holding(self, key: str) -> bool:
        """Record a lease just taken; ``False`` when ``release_held`` has run (then it is not
        recorded, and the caller ends it)."""
        with self._held_lock:
            if self._closed:
                return False
            self._held.add(key)
            return True

    def _ended(self, key: str) -> None:
        with self._held_lock:
            self._held.discard(key)

    def _prune(self, connection: Connection) -> None:
        now = self.clock()
        if now - self._pruned_at < _PRUNE_EVERY_S:
            return
        self._pruned_at = now
        cutoff = _moment(now) - RETENTION
        # Rows with no answer (the first computation failed, or was refused as a 4xx) go once
        # their lease is a retention period old.
        never_answered = and_(
            _TABLE.c.computed_at.is_(None),
            or_(_TABLE.c.lease_until.is_(None), _TABLE.c.lease_until < cutoff),
        )
        connection.execute(
            delete(SharedResponse).where(or_(_TABLE.c.computed_at < cutoff, never_answered))
        )

    @contextmanager
    def _writing(self, sqlite_busy_ms: int = _SQLITE_BUSY_MS) -> Iterator[Connection]:
        """A short write transaction that never waits long for a lock."""
        engine = self.database.engine
        sqlite = engine.dialect.name == "sqlite"
        # MySQL's REPEATABLE READ locks the index gaps an UPDATE or DELETE scans; concurrent
        # writers would then deadlock on each other's INSERT. READ COMMITTED takes none.
        options = {"isolation_level": "READ COMMITTED"} if engine.dialect.name == "mysql" else {}
        with engine.connect() as connection:
            connection = connection.execution_options(**options)
            with connection.begin():
                if sqlite:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {sqlite_busy_ms}")
                try:
                    yield connection
                finally:
                    if sqlite:
                        # Back to the engine's timeout for the next user of the connection.
                        connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return type(orig if orig is not None else exc).__name__
