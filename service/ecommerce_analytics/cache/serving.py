"""Serving an analytics answer within its freshness bound, and refreshing it off the request.

Each cached endpoint has a bound, in seconds, on how old its answer may be
(``Freshness``): ``0`` for *live* endpoints (read-your-writes: the answer reflects every
write committed before the request began) and ``ANALYTICS_MAX_STALENESS`` for *bounded*
ones, whose computation scans every customer. A request is answered from the newest answer
known (this worker's memory, then ``response_cache``) when that answer is within the bound.
A bounded answer older than the data is served as it is, with its age, and once it is half
its bound old a refresh is queued on this worker's refresh thread, so the expensive
computation runs off the request threads and, across all workers and tasks, once at a time
per request (the shared lease).
Only an answer beyond its bound (or none at all) is computed on the request path; requests
that need the same one meanwhile wait for it rather than compute it again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import RETRY_AFTER_S, Problem
from .shared import SharedResponses
from .snapshots import MAX_BODY_BYTES, ResponseCache, Snapshot

# How often a request waiting for another worker's computation looks for its answer (a
# primary-key read): live answers take tens of milliseconds to compute.
POLL_S = 0.01
# A stale answer is refreshed once it is this share of its bound old, not at once: under
# streaming writes every answer is stale a moment after it is computed, and refreshing each
# at once would recompute every bounded figure back to back (a core per expensive figure).
# Half the bound leaves the other half for the refresh to finish before the answer expires.
REFRESH_AT = 0.5
# An answer asked for within this many of its bounds is kept fresh without waiting for a
# reader (``Snapshots.keep_warm``): a dashboard polled every minute would otherwise find its
# ranked figure expired at each visit and wait for a computation of seconds.
KEEP_WARM_BOUNDS = 10
# How often the refresh thread looks for such answers when it has nothing queued.
KEEP_WARM_TICK_S = 1.0
_log = logging.getLogger(__name__)


def not_ready(key: str) -> Problem:
    """503 for a request that waited its limit for an answer other workers are computing."""
    return Problem(
        503,
        "answer-not-ready",
        "Answer not ready",
        f"{key.split('?')[0]} is still being computed by another worker; retry shortly.",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


@dataclass(frozen=True)
class CachedResponse:
    """What an endpoint computed: a body and its status (only 200s are kept)."""

    body: bytes
    status: int


@dataclass(frozen=True)
class Served:
    """An answer and where it came from: ``hit`` (this worker's memory), ``shared`` (computed
    by another worker or task, or before a restart) or ``miss`` (computed by this request);
    ``version`` is the data version it reflects and ``age`` how old it may be (``0``: it
    reflects every write committed before the request began)."""

    body: bytes
    status: int
    source: str
    version: int
    age: float


class Refresher:
    """One background thread per worker that recomputes answers served stale; a request
    already queued or running is not queued twice. Between jobs, at most every
    ``KEEP_WARM_TICK_S``, it calls ``tick`` (``Snapshots.keep_warm``). The thread is a
    daemon: a worker that exits (gunicorn's ``max_requests``, a deploy) drops its queue rather
    than waiting for it; a lease it held expires on its own."""

    def __init__(self, tick: Callable[[], None] | None = None) -> None:
        self._jobs: queue.Queue[tuple[str, Callable[[], None]] | None] = queue.Queue()
        self._queued: set[str] = set()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._tick = tick
        self._stopped = False

    def start(self) -> None:
        """Start the thread unless running (on first use: in the worker process, after
        gunicorn forked it)."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        if self._thread is None and not self._stopped:
            self._thread = threading.Thread(target=self._work, name="answer-refresh", daemon=True)
            self._thread.start()

    def submit(self, key: str, job: Callable[[], None]) -> bool:
        with self._lock:
            if key in self._queued or self._stopped:
                return False
            self._queued.add(key)
            self._start()
        self._jobs.put((key, job))
        return True

    def _work(self) -> None:
        next_tick = time.monotonic() + KEEP_WARM_TICK_S
        while True:
            try:
                item = self._jobs.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                item = None
            else:
                if item is None:  # stop()
                    self._jobs.task_done()
                    return
                key, job = item
                try:
                    job()
                except Exception:  # a refresh must never kill the thread; a read retries it
                    _log.exception("refreshing %s failed", key)
                finally:
                    with self._lock:
                        self._queued.discard(key)
                    self._jobs.task_done()
            if self._tick is not None and time.monotonic() >= next_tick:
                next_tick = time.monotonic() + KEEP_WARM_TICK_S
                try:
                    self._tick()
                except Exception:  # e.g. the database away: the next tick tries again
                    _log.exception("keeping answers warm failed")

    def drain(self) -> None:
        """Wait until every queued refresh has finished (tests)."""
        self._jobs.join()

    def stop(self) -> None:
        """End the thread once the queue is done; nothing is accepted after (tests)."""
        with self._lock:
            self._stopped = True
            running = self._thread is not None
        if running:
            self._jobs.put(None)
            self._jobs.join()


class Refreshers:
    """The refresh threads of a worker, one per lane: ``slow`` ones (the ranked figures,
    seconds each at millions of customers) on their own, so a slow refresh never holds up
    the refresh of a cheap figure queued behind it (and that figure's answer expiring
    meanwhile). The ``fast`` lane's thread also keeps answers warm (``tick``)."""

    def __init__(self, tick: Callable[[], None] | None = None) -> None:
        self.fast = Refresher(tick)
        self.slow = Refresher()

    def submit(self, key: str, job: Callable[[], None], slow: bool = False) -> bool:
        return (self.slow if slow else self.fast).submit(key, job)

    def start(self) -> None:
        self.fast.start()

    def drain(self) -> None:
        """Wait until every queued refresh of both lanes has finished (tests)."""
        self.fast.drain()
        self.slow.drain()

    def stop(self) -> None:
        """End both threads once their queues are done (tests)."""
        self.fast.stop()
        self.slow.stop()


class Snapshots:
    """Answers within their freshness bound, from ``local`` (this worker) and ``shared`` (every
    worker; ``None`` when ``RESPONSE_CACHE_SHARED`` is off). A request waits for another
    worker's computation up to twice ``wait_s`` (the lease's length), then answers 503.
    ``read_version`` (the committed data version) is read again as each computation starts,
    so the answer is labelled with the newest version it reflects and serves every request
    that arrived before it started, not only those that read the same version."""

    def __init__(
        self,
        local: ResponseCache,
        shared: SharedResponses | None,
        *,
        wait_s: float,
        read_version: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.local = local
        self.shared = shared
        self.wait_s = wait_s
        self.read_version = read_version
        self.clock = clock
        self.refresher = Refreshers(self.keep_warm)
        # key -> (bound, the refresh of its last request, its lane, when that request arrived)
        self._watched: dict[str, tuple[float, Callable[[], None], bool, float]] = {}

    def serve(
        self,
        key: str,
        version: int,
        bound: float,
        compute: Callable[[], CachedResponse],
        refresh: Callable[[], None],
        *,
        slow: bool = False,
    ) -> Served:
        """The answer for ``key`` to a request that read data version ``version``: the newest
        known one if within ``bound`` seconds (a stale one at least ``REFRESH_AT`` of the bound
        old queues ``refresh``, which must call ``refresh_now`` in a context of its own), else
        ``compute()``d now, once at a time across all workers (the shared lease) while the
        others wait for it. ``slow`` (the ranked figures) refreshes on the slow lane.

        Ages count from the request's arrival: an answer whose computation began after it
        lags no write the request could know of, however long the request waited for it."""
        arrived = self.clock()
        if bound > 0:
            self._watched[key] = (bound, refresh, slow, arrived)
            self.refresher.start()
        while True:
            served = self._within(key, version, bound, arrived)
            if served is not None:
                if served.age > 0:
                    self.local.stats.stale += 1
                    if served.age >= bound * REFRESH_AT:
                        self.refresher.submit(key, refresh, slow)
                else:
                    self.local.stats.hits += 1
                return served
            if self.local.lead(key, self.wait_s):
                try:
                    if self.shared is None:
                        return self._compute(key, version, compute, leased=False)
                    return self._compute_or_wait(key, version, bound, arrived, compute)
                finally:
                    self.local.land(key)
            # Another thread of this worker computed it meanwhile: look again.

    def keep_warm(self) -> None:
        """Keep this worker's bounded answers asked for within ``KEEP_WARM_BOUNDS`` of their
        bounds fresh without waiting for a reader (on the refresh thread, every
        ``KEEP_WARM_TICK_S``): one that still reflects every committed write is revalidated
        (exact as of now: with no writes, its age would otherwise grow with the quiet time and
        the first write would find it expired at once); one that is stale and half its bound
        old is refreshed, as a request would, so an answer polled less often than its bound
        does not expire between polls. Answers no one asked for that long are dropped from the
        watch list (at most one entry per answer this worker keeps)."""
        now = self.clock()
        candidates = []
        for key, (bound, refresh, slow, asked) in list(self._watched.items()):
            mine = self.local.get(key)
            if mine is None or now - asked > KEEP_WARM_BOUNDS * bound:
                self._watched.pop(key, None)
            elif now - mine.computed_at >= KEEP_WARM_TICK_S:
                candidates.append((key, mine, bound, refresh, slow))
        if not candidates or self.read_version is None:
            return
        stamp = self.clock()  # before the read: a write committed by then shows in it
        current = self.read_version()
        for key, mine, bound, refresh, slow in candidates:
            if mine.version >= current:
                self.local.put(key, Snapshot(mine.body, mine.version, stamp))
            elif stamp - mine.computed_at >= bound * REFRESH_AT:
                self.refresher.submit(key, refresh, slow)

    def refresh_now(self, key: str, version: int, compute: Callable[[], CachedResponse]) -> None:
        """Recompute ``key`` unless this worker or another is already on it (background). When
        another worker is, take its latest answer instead (it may be newer than this one's)."""
        if not self.local.try_lead(key):
            return
        try:
            if self.shared is not None:
                claimed = self.shared.claim(key)
                theirs = self.shared.load(key)
                if theirs is not None:
                    self.local.put(key, theirs)
                if not claimed:
                    return
                if theirs is not None and theirs.version >= version:
                    # Another worker refreshed it to this version already.
                    self.shared.release(key)
                    return
            self.local.stats.refreshes += 1
            self._compute(key, version, compute)
        finally:
            self.local.land(key)

    def _within(self, key: str, version: int, bound: float, arrived: float) -> Served | None:
        """The answer to serve, if one within ``bound`` is known: this worker's own when it is
        (no database round trip), else the shared one (one primary-key read)."""
        mine = self.local.get(key)
        if mine is not None:
            served = _if_within(mine, "hit", version, bound, arrived)
            if served is not None:
                return served
        if self.shared is None:
            return None
        return self._take(key, self.shared.load(key), version, bound, arrived)

    def _take(
        self, key: str, theirs: Snapshot | None, version: int, bound: float, arrived: float
    ) -> Served | None:
        """Another worker's answer for ``key``: kept here (when newer than this worker's) and
        served if within ``bound`` for a request that read ``version`` and ``arrived`` then."""
        if theirs is None:
            return None
        self.local.put(key, theirs)
        return _if_within(theirs, "shared", version, bound, arrived)

    def _compute_or_wait(
        self,
        key: str,
        version: int,
        bound: float,
        arrived: float,
        compute: Callable[[], CachedResponse],
    ) -> Served:
        assert self.shared is not None
        # A lease lasts ``wait_s``: one left by a dead worker is free again within it. Past
        # twice that, the computations in flight are slower than the database allows a
        # statement to run: this request answers 503 instead of starting one more.
        deadline = time.monotonic() + 2 * self.wait_s
        waited = False
        while True:
            if self.shared.claim(key):
                # The lease may have ended because its holder just saved the answer wanted.
                theirs = (
                    self._take(key, self.shared.load(key), version, bound, arrived)
                    if waited
                    else None
                )
                if theirs is None:
                    return self._compute(key, version, compute)
                self.shared.release(key)
                return theirs
            # Another worker or task is computing this answer: take theirs when it is recent
            # enough, or the lease once they no longer hold it. Waiting reads the row only: a
            # claim (a write) is tried when the lease is free.
            while True:
                if time.monotonic() >= deadline:
                    raise not_ready(key)
                time.sleep(POLL_S)
                waited = True
                snapshot, leased = self.shared.look(key)
                served = self._take(key, snapshot, version, bound, arrived)
                if served is not None:
                    return served
                if not leased:
                    break

    def _compute(
        self, key: str, version: int, compute: Callable[[], CachedResponse], *, leased: bool = True
    ) -> Served:
        """Compute ``key`` and keep a 200 answer; ``leased``: the caller holds the shared lease
        (given up here when there is no answer to save)."""
        holder = self.shared if leased else None
        started = self.clock()
        try:
            if self.read_version is not None:
                version = max(version, self.read_version())
            out = compute()
        except BaseException:
            if holder is not None:
                holder.release(key)
            raise
        if out.status != 200 or len(out.body) > MAX_BODY_BYTES:
            if holder is not None:
                holder.release(key)
            return Served(out.body, out.status, "miss", version, 0.0)
        self.local.stats.misses += 1
        snapshot = Snapshot(out.body, version, started)
        self.local.put(key, snapshot)
        if self.shared is not None:
            self.shared.save(key, snapshot)
        return Served(out.body, out.status, "miss", version, 0.0)


def _if_within(
    snapshot: Snapshot, source: str, version: int, bound: float, arrived: float
) -> Served | None:
    """``snapshot`` served from ``source`` if its age for a request that read ``version`` and
    ``arrived`` then is within ``bound``."""
    age = snapshot.staleness(version, arrived)
    if age > bound:
        return None
    return Served(snapshot.body, 200, source, snapshot.version, age)
