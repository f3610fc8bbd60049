"""Refresh-ahead: the ranked answers people keep asking for stay within their bound between
reads.

Without it a bounded answer is refreshed only when a read finds it half its bound old; a
dashboard that reads a ranked figure (seconds to compute at millions of customers) less often
than its bound finds it expired on each visit and waits for the computation. ``KeepWarm``
remembers the answers served with ``keep_warm`` (the ranked ones: RFM) asked for within
``window_s`` and, once a second per worker, queues the refresh of those past half their bound
on the worker's refresh thread: the same
single-flight refresh a read would have queued (one computation per answer across every worker
and task, by the lease; ``LeaseKeeper`` holds it for computations longer than a lease).

Cost: for ``window_s`` after the last read, each kept answer is recomputed about once per half
bound under streaming writes (never when nothing was written: an answer that reflects the
current data version is not stale), and one data-version read per worker per second. Only the
ranked answers, with their long bound (60 s): keeping the 5 s-bound ones warm too (every
sales range and customer page read in the last minutes, each every 2.5 s) saturated a 2-core
machine at 10M orders (docs/benchmarks.md, "Fifth live round"); those are cheap enough, or
read often enough, to be refreshed by their readers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .serving import Snapshots

TICK_S = 1.0
_log = logging.getLogger(__name__)


class KeepWarm:
    """Keeps the bounded answers asked for within ``window_s`` warm for ``snapshots`` (see the
    module docstring); ``read_version`` reads the committed data version."""

    def __init__(
        self,
        snapshots: Snapshots,
        window_s: float,
        read_version: Callable[[], int],
        *,
        refresh_at: float,
        tick_s: float = TICK_S,
    ) -> None:
        self.snapshots = snapshots
        self.window_s = window_s
        self.read_version = read_version
        self.refresh_at = refresh_at
        self.tick_s = tick_s
        # key -> (last asked, bound, how to refresh it)
        self._wanted: dict[str, tuple[float, float, Callable[[], None]]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    def asked(self, key: str, bound: float, refresh: Callable[[], None]) -> None:
        """A request asked for ``key`` (bound ``bound`` > 0); ``refresh`` recomputes it."""
        with self._lock:
            self._wanted[key] = (self.snapshots.clock(), bound, refresh)
            if self._thread is None and not self._stopped.is_set():
                # Started on first use: in the worker process, after gunicorn forked it.
                self._thread = threading.Thread(target=self._work, name="keep-warm", daemon=True)
                self._thread.start()

    def tick(self) -> int:
        """Queue the refresh of every wanted answer past ``refresh_at`` of its bound; forget
        those not asked for within the window. Returns how many were queued."""
        now = self.snapshots.clock()
        with self._lock:
            for key in [k for k, (at, _, _) in self._wanted.items() if now - at > self.window_s]:
                del self._wanted[key]
            wanted = list(self._wanted.items())
        if not wanted:
            return 0
        version = self.read_version()
        queued = 0
        for key, (_, bound, refresh) in wanted:
            kept = self.snapshots.local.get(key)
            if kept is None:
                continue  # never answered here yet: the next read computes it
            age = kept.staleness(version, now, self.snapshots.seen.current_until(kept.version))
            if age >= bound * self.refresh_at and self.snapshots.refresher.submit(key, refresh):
                queued += 1
        return queued

    def stop(self) -> None:
        """End the thread (an app being torn down: tests); nothing is kept warm after."""
        self._stopped.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5 * self.tick_s)

    def _work(self) -> None:
        while not self._stopped.wait(self.tick_s):
            try:
                self.tick()
            except Exception:  # the database away, say: the next tick tries again
                _log.info("keeping answers warm failed this tick", exc_info=True)
