"""Finished answers (``Snapshot``) and the per-worker store of them (``ResponseCache``)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

DEFAULT_ENTRIES = 512
# Bodies larger than this are served but not kept: the cache stays small next to the worker.
MAX_BODY_BYTES = 1024 * 1024
# The smallest age of an answer older than the reader's data version (``X-Data-Age`` has three
# decimals): such an answer is never "0.000", which means it reflects every write known.
MIN_AGE = 0.001


@dataclass(frozen=True)
class Snapshot:
    """A 200 answer and what it reflects: every write committed before ``computed_at`` (epoch
    seconds at which its computation began), and at least data version ``version``."""

    body: bytes
    version: int
    computed_at: float

    def staleness(self, version: int, now: float, current_until: float | None = None) -> float:
        """How old this answer may be for a reader that saw data version ``version`` at
        ``now``: ``0`` when it reflects that version (no write the reader could know of is
        missing), else the seconds since it was last known current (its computation began,
        or ``current_until``: a reader then proved no newer write had committed,
        ``SeenVersions``), and never less than ``MIN_AGE``: only the version, not a wall clock
        (another host's may run ahead), can show that an answer misses no write, which live
        endpoints rely on."""
        if self.version >= version:
            return 0.0
        known_current = self.computed_at
        if current_until is not None and current_until > known_current:
            known_current = current_until
        return max(MIN_AGE, now - known_current)


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stale: int = 0
    refreshes: int = 0


class ResponseCache:
    """This worker's latest answers per request: an LRU bounded by entry count and body size,
    plus one computation at a time per request (``lead``/``land``). Thread-safe."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES) -> None:
        self.max_entries = max_entries
        self.stats = CacheStats()
        self._entries: OrderedDict[str, Snapshot] = OrderedDict()
        self._inflight: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Snapshot | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
            return hit

    def put(self, key: str, snapshot: Snapshot) -> None:
        """Keep ``snapshot`` unless a newer answer for ``key`` is already here."""
        if len(snapshot.body) > MAX_BODY_BYTES:
            return
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None and kept.computed_at > snapshot.computed_at:
                return
            self._entries[key] = snapshot
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def lead(self, key: str, wait_s: float) -> bool:
        """``True``: the caller computes ``key`` now and must call ``land(key)`` after.
        ``False``: another thread of this worker was computing it; this call waited up to
        ``wait_s`` for it to land, and the caller looks the answer up again."""
        with self._lock:
            waiting = self._inflight.get(key)
            if waiting is None:
                self._inflight[key] = threading.Event()
                return True
        waiting.wait(timeout=wait_s)
        return False

    def try_lead(self, key: str) -> bool:
        """``lead`` without waiting: ``False`` at once when ``key`` is being computed."""
        with self._lock:
            if key in self._inflight:
                return False
            self._inflight[key] = threading.Event()
            return True

    def land(self, key: str) -> None:
        with self._lock:
            done = self._inflight.pop(key, None)
        if done is not None:
            done.set()
