"""Per-worker response cache for the read endpoints, invalidated by a data version.

Every committed write that changes what a read can return (an order batch that created at
least one order, a new refund) adds 1 to the single row of ``data_version`` in the same
transaction. A read authenticates and reads the version in one statement (``auth.find_key``:
one database round trip for a cache hit), then looks the response up
under (route, arguments); when the version differs from the one the cache was filled at, the
whole cache is dropped. Reading the version *before* the data means a cached body is never
older than the version it is stored under, so a read that starts after a write committed (on
any worker, any task) never sees the pre-write answer.

The cache is an LRU of finished JSON bodies in process memory, bounded by entry count and by
body size. Concurrent misses on one key compute once ("single flight"); the others wait for
that result instead of stampeding the database.

Behind it, ``SharedResponses`` keeps the same bodies in the database (``response_cache``), so a
response computed by one worker serves every other worker and task until the next write, and
a worker restarted by gunicorn's ``max_requests`` starts warm: an expensive read (RFM over every
customer) is computed once per data version, not once per worker.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import Connection, ScalarSelect, bindparam, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .db import SQLITE_BUSY_MS, Database, fetch_one, is_unavailable
from .models import DataVersion, SharedResponse
from .upsert import upsert_add

EXTENSION_KEY = "ecommerce_analytics.response_cache"
SHARED_EXTENSION_KEY = "ecommerce_analytics.shared_responses"
DEFAULT_ENTRIES = 512
# Bodies larger than this are served but not kept: the cache stays small next to the worker.
MAX_BODY_BYTES = 1024 * 1024
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


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    status: int


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    invalidations: int = 0


class ResponseCache:
    """LRU of response bodies, valid for one data version at a time; thread-safe."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES) -> None:
        self.max_entries = max_entries
        self.stats = CacheStats()
        self._version: int | None = None
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()
        self._inflight: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def _sync(self, version: int) -> None:
        if version != self._version:
            if self._entries:
                self.stats.invalidations += 1
            self._entries.clear()
            self._version = version

    def get_or_compute(
        self, key: str, version: int, compute: Callable[[], CachedResponse]
    ) -> CachedResponse:
        """The cached response for ``key`` at ``version``, computing it at most once per worker
        while concurrent callers wait."""
        while True:
            with self._lock:
                self._sync(version)
                hit = self._entries.get(key)
                if hit is not None:
                    self._entries.move_to_end(key)
                    self.stats.hits += 1
                    return hit
                waiting = self._inflight.get(key)
                if waiting is None:
                    done = threading.Event()
                    self._inflight[key] = done
                    self.stats.misses += 1
                    break
            # Another thread computes this key; take its result (or compute if it failed).
            waiting.wait(timeout=60)
        try:
            response = compute()
            with self._lock:
                if (
                    version == self._version
                    and response.status == 200
                    and len(response.body) <= MAX_BODY_BYTES
                ):
                    self._entries[key] = response
                    self._entries.move_to_end(key)
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
            return response
        finally:
            with self._lock:
                self._inflight.pop(key, None)
            done.set()


_SHARED = SharedResponse.__table__
_LOAD_SHARED = select(_SHARED.c.body).where(
    _SHARED.c.key_hash == bindparam("key_hash"), _SHARED.c.version == bindparam("version")
)
# A save never waits long for SQLite's write lock (held by ingest): skipping it costs only a
# later recomputation.
_SQLITE_SAVE_BUSY_MS = 50
_log = logging.getLogger(__name__)


def code_fingerprint() -> str:
    """SHA-256 of this package's Python sources: changes with every build that could change
    a response, so entries saved by another build are never served (rolling deploys run old
    and new tasks side by side on one database)."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


class SharedResponses:
    """Response bodies in the database, shared by every worker and task.

    A body is served only under the exact data version it was saved at, and only to the same
    build and store settings (``scope``: the code fingerprint, currency and time zone are part
    of every key). Reading and saving are best effort: when either fails (a concurrent save of
    the same key, a newer entry already there, a lock that is not free at once, a database
    error) the request is computed or answered anyway and the failure logged at ``INFO``.
    Each save first deletes the entries of older versions, so the table holds the responses of
    the current version only: one row per distinct request URL since the last write.
    """

    def __init__(self, database: Database, scope: str) -> None:
        self.database = database
        self.scope = scope

    def _hash(self, key: str) -> str:
        return hashlib.sha256(f"{self.scope}\n{key}".encode()).hexdigest()

    def load(self, key: str, version: int) -> bytes | None:
        """The body saved for ``key`` at ``version``, or ``None`` (one indexed read)."""
        try:
            row = fetch_one(
                self.database, _LOAD_SHARED, {"key_hash": self._hash(key), "version": version}
            )
        except SQLAlchemyError as exc:
            if is_unavailable(exc):
                # The computation would wait for the same database: answer 503 now rather
                # than after a second timeout.
                raise
            _log.info("shared response cache: %s not read (%s)", key, _reason(exc))
            return None
        return bytes(row[0]) if row is not None else None

    def save(self, key: str, version: int, body: bytes) -> bool:
        """Store ``body`` for ``key`` at ``version``; ``False`` when it was not stored."""
        key_hash = self._hash(key)
        engine = self.database.engine
        sqlite = engine.dialect.name == "sqlite"
        # MySQL's REPEATABLE READ locks the index gaps the DELETEs scan; concurrent saves would
        # then deadlock on each other's INSERT. READ COMMITTED takes no gap locks.
        options = {"isolation_level": "READ COMMITTED"} if engine.dialect.name == "mysql" else {}
        try:
            with engine.connect() as connection:
                connection = connection.execution_options(**options)
                with connection.begin():
                    if sqlite:
                        connection.exec_driver_sql(f"PRAGMA busy_timeout = {_SQLITE_SAVE_BUSY_MS}")
                    try:
                        self._replace(connection, key_hash, version, body)
                    finally:
                        if sqlite:
                            # Back to the engine's timeout for the next user of the connection.
                            connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        except SQLAlchemyError as exc:
            _log.info("shared response cache: %s not saved (%s)", key, _reason(exc))
            return False
        return True

    @staticmethod
    def _replace(connection: Connection, key_hash: str, version: int, body: bytes) -> None:
        connection.execute(delete(SharedResponse).where(_SHARED.c.version < version))
        # A newer entry for this key stays; the INSERT below then fails on the key.
        connection.execute(
            delete(SharedResponse).where(
                _SHARED.c.key_hash == key_hash, _SHARED.c.version <= version
            )
        )
        connection.execute(
            insert(SharedResponse).values(key_hash=key_hash, version=version, body=body)
        )


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return type(orig if orig is not None else exc).__name__


def get_shared() -> SharedResponses | None:
    """The database-backed layer, or ``None`` when ``RESPONSE_CACHE_SHARED`` is off."""
    shared: SharedResponses | None = current_app.extensions.get(SHARED_EXTENSION_KEY)
    return shared


def get_cache() -> ResponseCache | None:
    """The app's response cache, or ``None`` when ``RESPONSE_CACHE_ENTRIES`` is ``0``."""
    cache: ResponseCache | None = current_app.extensions.get(EXTENSION_KEY)
    return cache
