"""Analytics answers kept between requests, each served within its freshness bound.

- ``versions``: the data version, a counter every committed write adds 1 to; a read learns it
  (with its API key, in one statement) before reading any data.
- ``snapshots``: a finished answer with the version it reflects and when its computation
  began; this worker's LRU of them.
- ``shared``: the same answers in the database (``response_cache``), one row per request,
  with the lease that makes one worker or task at a time compute each.
- ``serving``: the rule: serve the newest answer within the endpoint's bound (``0``: live,
  read-your-writes), refresh stale ones on a background thread, compute on the request
  path only when nothing within the bound exists.

See docs/architecture.md ("Keeping figures fresh") for the design and its trade-offs.
"""

from __future__ import annotations

from flask import current_app

from .serving import CachedResponse as CachedResponse
from .serving import Served as Served
from .serving import Snapshots as Snapshots
from .shared import SharedResponses as SharedResponses
from .shared import code_fingerprint as code_fingerprint
from .snapshots import MAX_BODY_BYTES as MAX_BODY_BYTES
from .snapshots import ResponseCache as ResponseCache
from .snapshots import Snapshot as Snapshot
from .versions import SeenVersions as SeenVersions
from .versions import bump_version as bump_version
from .versions import current_version as current_version
from .versions import version_subquery as version_subquery

EXTENSION_KEY = "ecommerce_analytics.snapshots"


def get_snapshots() -> Snapshots | None:
    """The app's answer cache, or ``None`` when ``RESPONSE_CACHE_ENTRIES`` is ``0``."""
    snapshots: Snapshots | None = current_app.extensions.get(EXTENSION_KEY)
    return snapshots
