"""The ``customer_value_counts`` deltas of a write: each changed customer leaves the buckets of
their old net spend and order count and joins those of the new ones (``value_buckets``).

The new values are read back under the customer's row lock after the ``customers`` upsert
(``cohorts.send_cohort_reads`` for orders, ``refunds.record_refund`` for a refund); the old
ones are the new minus what this write added, so no read before the upsert is needed. A
customer whose stored order count equals this write's orders did not exist before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy.orm import Session

from ..models import CustomerValueCount
from ..upsert import Row, upsert_add_rows
from ..value_buckets import NET, ORDERS, bucket_of


def value_count_rows(
    added: Mapping[str, tuple[int, int]], stored: Mapping[str, tuple[int, int]]
) -> list[Row]:
    """``(figure, bucket, customers delta)`` rows for customers whose ``(net sales, orders)``
    (stored integers) this write changed by ``added`` and now stand at ``stored``; buckets a
    customer leaves and re-enters in the same write cancel out and are not written."""
    deltas: dict[tuple[str, int], int] = defaultdict(int)
    for customer_id, (net_added, orders_added) in added.items():
        net, orders = stored[customer_id]
        deltas[(NET, bucket_of(net))] += 1
        deltas[(ORDERS, orders)] += 1
        if orders > orders_added:
            deltas[(NET, bucket_of(net - net_added))] -= 1
            deltas[(ORDERS, orders - orders_added)] -= 1
    return [(figure, bucket, n) for (figure, bucket), n in deltas.items() if n]


def write_value_counts(session: Session, rows: list[Row]) -> None:
    """Add ``rows`` (``value_count_rows``) to ``customer_value_counts``, in key order."""
    upsert_add_rows(
        session,
        CustomerValueCount.__table__,  # type: ignore[arg-type]
        ("figure", "bucket", "customers"),
        rows,
        key=("figure", "bucket"),
        add=("customers",),
    )
