"""The data version: one row counting committed writes, which every cached answer is keyed on.

Every committed write that changes what a read can return (an order batch that created at
least one order, a new refund) adds 1 to the single row of ``data_version`` in the same
transaction. A read authenticates and reads the version in one statement (``auth.find_key``),
*before* reading any data, so an answer computed by that read reflects at least that version.
"""

from __future__ import annotations

import threading
from bisect import bisect_right

from sqlalchemy import ScalarSelect, select
from sqlalchemy.orm import Session

from ..db import Database, fetch_one
from ..models import DataVersion
from ..upsert import upsert_add

# Versions remembered per worker: at 20 write batches/s, minutes of history (an answer older
# than the history falls back to the time its computation began).
SEEN_VERSIONS = 4096
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


class SeenVersions:
    """When this worker's readers last saw each recent data version (thread-safe).

    A reader that read version ``v`` at time ``t`` (taken *before* the read) proves that no
    write past ``v`` had committed by ``t``. So an answer reflecting version ``v`` misses only
    writes committed after the latest such ``t`` seen for any version ``<= v``: its age is at
    most the time since then, however long ago it was computed. After a quiet hour, the first
    write makes an hour-old answer seconds stale, not an hour stale.

    Kept as two lists sorted by version whose times never decrease with the version (a
    sighting of ``v`` at ``t`` also proves ``<= v'`` at ``t`` for every ``v' >= v``), so a
    lookup is one binary search; the oldest entries past ``limit`` are dropped."""

    def __init__(self, limit: int = SEEN_VERSIONS) -> None:
        self.limit = limit
        self._versions: list[int] = []
        self._times: list[float] = []
        self._lock = threading.Lock()

    def saw(self, version: int, at: float) -> None:
        """A reader read ``version`` at ``at`` (epoch seconds taken before the read)."""
        with self._lock:
            versions, times = self._versions, self._times
            if not versions or version > versions[-1]:
                versions.append(version)
                times.append(max(at, times[-1]) if times else at)
            else:
                # The newest version again, or a reader of an older one that finished late
                # (rare): a linear fix-up keeps the times non-decreasing.
                i = bisect_right(versions, version)
                if i == 0 or versions[i - 1] != version:
                    versions.insert(i, version)
                    times.insert(i, times[i - 1] if i > 0 else at)
                else:
                    i -= 1
                for j in range(i, len(times)):
                    if times[j] >= at:
                        break
                    times[j] = at
            if len(versions) > self.limit:
                del versions[0], times[0]

    def current_until(self, version: int) -> float | None:
        """The latest time a reader proved no write past ``version`` had committed, if this
        worker still remembers one."""
        with self._lock:
            i = bisect_right(self._versions, version)
            return self._times[i - 1] if i > 0 else None
