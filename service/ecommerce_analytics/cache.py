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
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Connection, ScalarSelect, select
from sqlalchemy.orm import Session

from .models import DataVersion
from .upsert import upsert_add

EXTENSION_KEY = "ecommerce_analytics.response_cache"
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


def current_version(connection: Session | Connection) -> int:
    """The committed data version (``0`` before the first write)."""
    conn = connection.connection() if isinstance(connection, Session) else connection
    value = conn.execute(_READ_VERSION).scalar()
    return int(value or 0)


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


def get_cache() -> ResponseCache | None:
    """The app's response cache, or ``None`` when ``RESPONSE_CACHE_ENTRIES`` is ``0``."""
    cache: ResponseCache | None = current_app.extensions.get(EXTENSION_KEY)
    return cache
