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

from ..db import is_unavailable
from ..errors import RETRY_AFTER_S, Problem
from .shared import SharedResponses
from .snapshots import MAX_BODY_BYTES, ResponseCache, Snapshot
from .versions import SeenVersions
from .warming import KeepWarm

# How often a request waiting for another worker's computation looks for its answer (a
# primary-key read): live answers take tens of milliseconds to compute.
POLL_S = 0.01
# A stale answer is refreshed once it is this share of its bound old, not at once: under
# streaming writes every answer is stale a moment after it is computed, and refreshing each
# at once would recompute every bounded figure back to back (a core per expensive figure).
# Half the bound leaves the other half for the refresh to finish before the answer expires.
REFRESH_AT = 0.5
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
    already queued or running is not queued twice. The thread is a daemon: a worker that
    exits (gunicorn's ``max_requests``, a deploy) drops its queue rather than waiting for it;
    a lease it held expires on its own."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[str, Callable[[], None]]] = queue.Queue()
        self._queued: set[str] = set()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = False
        self._running = False
        self._finished = threading.Condition(self._lock)

    def submit(self, key: str, job: Callable[[], None]) -> bool:
        with self._lock:
            if self._stopped or key in self._queued:
                return False
            self._queued.add(key)
            if self._thread is None:
                # Started on first use: in the worker process, after gunicorn forked it.
                self._thread = threading.Thread(
                    target=self._work, name="answer-refresh", daemon=True
                )
                self._thread.start()
        self._jobs.put((key, job))
        return True

    def stop(self, wait_s: float) -> None:
        """Run no more jobs, queued or new, and wait up to ``wait_s`` for the one running to
        end: the worker is exiting, and the process ends as soon as its hooks return, killing
        this daemon thread wherever it is. Killed between taking a lease and recording it (a
        window seen in the live benchmark), a job leaves that lease to expire: every other
        worker then waits a whole lease for the answer."""
        deadline = time.monotonic() + wait_s
        with self._lock:
            self._stopped = True
            while self._running and (left := deadline - time.monotonic()) > 0:
                self._finished.wait(left)

    def _work(self) -> None:
        while True:
            key, job = self._jobs.get()
            try:
                with self._lock:
                    run = self._running = not self._stopped
                if run:
                    job()
            except Exception:  # a refresh must never kill the thread; the next read retries it
                _log.exception("refreshing %s failed", key)
            finally:
                with self._lock:
                    self._queued.discard(key)
                    self._running = False
                    self._finished.notify_all()
                self._jobs.task_done()

    def drain(self) -> None:
        """Wait until every queued refresh has finished (tests)."""
        self._jobs.join()


class LeaseKeeper:
    """Renews the shared leases this worker holds while it computes their answers, every
    third of a lease, from one daemon thread: a computation slower than a lease (a ranked
    figure over millions of customers under a writer) keeps it, instead of letting other
    workers take the lease over and start the same computation again. Computations that end
    within a third of a lease cost no renewal. A worker that dies stops renewing, and its
    leases expire as before."""

    def __init__(self, shared: SharedResponses) -> None:
        self._shared = shared
        self._held: dict[str, float] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def every_s(self) -> float:
        return self._shared.lease_s / 3

    def hold(self, key: str) -> None:
        with self._lock:
            self._held[key] = time.monotonic()
            if self._thread is None:
                # Started on first use: in the worker process, after gunicorn forked it.
                self._thread = threading.Thread(target=self._work, name="lease-keeper", daemon=True)
                self._thread.start()

    def drop(self, key: str) -> None:
        with self._lock:
            self._held.pop(key, None)

    def _work(self) -> None:
        while True:
            time.sleep(self.every_s)
            now = time.monotonic()
            with self._lock:
                due = [key for key, since in self._held.items() if now - since >= self.every_s]
            for key in due:
                try:
                    self._shared.renew(key)
                except Exception:  # e.g. a failure outside the database: keep renewing
                    _log.exception("renewing the lease on %s failed", key)
                with self._lock:
                    if key in self._held:
                        self._held[key] = time.monotonic()


class Snapshots:
    """Answers within their freshness bound, from ``local`` (this worker) and ``shared`` (every
    worker; ``None`` when ``RESPONSE_CACHE_SHARED`` is off). A request waits for another
    worker's computation up to twice ``wait_s`` (the lease's length), then answers 503.
    ``read_version`` (the committed data version) is read again as each computation starts,
    so the answer is labelled with the newest version it reflects and serves every request
    that arrived before it started, not only those that read the same version.
    ``keep_warm_s``: answers served with ``keep_warm`` and asked for within that many seconds
    are refreshed ahead of their bound even without readers (``KeepWarm``); ``0`` (the default
    here) leaves them to the reads."""

    def __init__(
        self,
        local: ResponseCache,
        shared: SharedResponses | None,
        *,
        wait_s: float,
        read_version: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.time,
        keep_warm_s: float = 0.0,
    ) -> None:
        self.local = local
        self.shared = shared
        self.wait_s = wait_s
        self.read_version = read_version
        self.clock = clock
        self.refresher = Refresher()
        self.seen = SeenVersions()
        self.keeper = LeaseKeeper(shared) if shared is not None else None
        self.warm = (
            KeepWarm(self, keep_warm_s, read_version, refresh_at=REFRESH_AT)
            if keep_warm_s > 0 and read_version is not None
            else None
        )

    def serve(
        self,
        key: str,
        version: int,
        bound: float,
        compute: Callable[[], CachedResponse],
        refresh: Callable[[], None],
        read_s_ago: float | None = None,
        keep_warm: bool = False,
    ) -> Served:
        """The answer for ``key`` to a request that read data version ``version``: the newest
        known one if within ``bound`` seconds (a stale one at least ``REFRESH_AT`` of the bound
        old queues ``refresh``, which must call ``refresh_now`` in a context of its own), else
        ``compute()``d now, once at a time across all workers (the shared lease) while the
        others wait for it.

        Ages count from the request's arrival: an answer whose computation began after it
        lags no write the request could know of, however long the request waited for it.
        ``read_s_ago``: how long before now the request read ``version`` (timed from before
        the read; a duration, so it holds whatever ``clock`` is); it tells how long older
        answers stayed current (``SeenVersions``). ``keep_warm``: refresh this answer ahead of
        its bound for a while after this read, with no reader (``KeepWarm``)."""
        arrived = self.clock()
        if read_s_ago is not None:
            self.seen.saw(version, arrived - read_s_ago)
        if keep_warm and bound > 0 and self.warm is not None:
            self.warm.asked(key, bound, refresh)
        while True:
            served = self._within(key, version, bound, arrived)
            if served is not None:
                if served.age > 0:
                    self.local.stats.stale += 1
                    if served.age >= bound * REFRESH_AT:
                        self.refresher.submit(key, refresh)
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

    def close(self) -> None:
        """Stop the background work and end the shared leases this worker holds, taking no
        new one: it is exiting (``gunicorn_conf.worker_exit``, once its requests are done) or
        its app is torn down. A refresh still running on the daemon refresh thread dies with
        the process, and one started after this would too; a lease left set by either would
        hold every other worker off that answer for a whole lease (15 s by default) once the
        answer is past its bound. Ended now, the next reader computes it at once."""
        # A refresh running now ends with its answer saved or its lease given up: a lease
        # renewed meanwhile (``LeaseKeeper``) keeps it from expiring under it.
        self.refresher.stop(wait_s=self.wait_s)
        if self.warm is not None:
            self.warm.stop()
        if self.shared is not None:
            released = self.shared.release_held()
            if released:
                _log.info("gave up %d lease(s) held by refreshes still running", released)

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
            served = self._if_within(mine, "hit", version, bound, arrived)
            if served is not None:
                return served
        if self.shared is None:
            return None
        return self._take(key, self.shared.load(key), version, bound, arrived)

    def _if_within(
        self, snapshot: Snapshot, source: str, version: int, bound: float, arrived: float
    ) -> Served | None:
        """``snapshot`` served from ``source`` if its age for a request that read ``version``
        and ``arrived`` then is within ``bound``."""
        age = snapshot.staleness(version, arrived, self.seen.current_until(snapshot.version))
        if age > bound:
            return None
        return Served(snapshot.body, 200, source, snapshot.version, age)

    def _take(
        self, key: str, theirs: Snapshot | None, version: int, bound: float, arrived: float
    ) -> Served | None:
        """Another worker's answer for ``key``: kept here (when newer than this worker's) and
        served if within ``bound`` for a request that read ``version`` and ``arrived`` then."""
        if theirs is None:
            return None
        self.local.put(key, theirs)
        return self._if_within(theirs, "shared", version, bound, arrived)

    def _compute_or_wait(
        self,
        key: str,
        version: int,
        bound: float,
        arrived: float,
        compute: Callable[[], CachedResponse],
    ) -> Served:
        assert self.shared is not None
        # A lease lasts ``wait_s`` unless its holder renews it (``LeaseKeeper``): one left by
        # a dead worker is free again within it. Past twice that, the computation in flight
        # is slower than a request should wait: this request answers 503 (retry shortly)
        # rather than hold a request thread longer or start the same computation again.
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
        if holder is not None and self.keeper is not None:
            self.keeper.hold(key)
        try:
            if self.read_version is not None:
                version = max(version, self.read_version())
            out = compute()
        except BaseException as exc:
            if holder is not None:
                if isinstance(exc, Exception) and is_unavailable(exc):
                    # The request answers 503 now; the lease is given up off it.
                    self._release_later(holder, key)
                else:
                    holder.release(key)
            raise
        finally:
            if holder is not None and self.keeper is not None:
                self.keeper.drop(key)
        if out.status != 200 or len(out.body) > MAX_BODY_BYTES:
            if holder is not None:
                holder.release(key)
            return Served(out.body, out.status, "miss", version, 0.0)
        self.local.stats.misses += 1
        snapshot = Snapshot(out.body, version, started)
        self.local.put(key, snapshot)
        if self.shared is not None:
            try:
                self.shared.save(key, snapshot)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                # The answer stands (it is this worker's); other workers wait for the
                # database anyway.
                if holder is not None:
                    self._release_later(holder, key)
        return Served(out.body, out.status, "miss", version, 0.0)

    def _release_later(self, holder: SharedResponses, key: str) -> None:
        """Give the lease on ``key`` up off the request: the database is away or frozen, and
        the release may hang as long as the statement that found it so (4 s on MariaDB when
        inline, past the outage test's bound). Others may claim the key as soon as the
        database is back, or when the lease expires."""
        self.refresher.submit(f"release {key}", lambda: holder.release(key))
