"""The order-day rollups of a batch (``customer_gaps``, ``lone_first_orders``,
``customer_last_days``): each customer's order days before and after the batch, and the rows
that change between the two.

A customer's order days ``d1 < d2 < ... < dn`` contribute one ``customer_gaps`` row per day,
``(d1, d1)`` then ``(dk, dk-1)``, and, when ``d1`` held one order, one ``lone_first_orders`` row
``(d1, d2)`` (``(d1, d1)`` while there is no ``d2``). A batch can add days anywhere in the
sequence (an older order arrives late) or orders to an existing day, so the rollups change by
the difference between the sequence before and after it, computed over the few days around
the batch's (``day_probes``, which says why that is exact), read under the customer's row lock
(``cohorts.send_cohort_reads``): never the customer's whole history, nor other customers'.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

from ..periods import month_start, week_start
from ..upsert import Encoders, Row

# A customer's order days: day -> orders that day.
Days = dict[date, int]


def links(days: Days) -> set[tuple[date, date]]:
    """``customer_gaps`` keys of one customer: ``(day, previous order day)``, the first day
    paired with itself."""
    ordered = sorted(days)
    return {(day, ordered[i - 1] if i else day) for i, day in enumerate(ordered)}


def lone_first(days: Days) -> tuple[date, date] | None:
    """``lone_first_orders`` key of one customer: ``(first day, next day)`` (the first day again
    when there is none), or ``None`` if the first day held several orders (or none)."""
    if not days:
        return None
    ordered = sorted(days)
    if days[ordered[0]] != 1:
        return None
    return ordered[0], ordered[1] if len(ordered) > 1 else ordered[0]


class OrderDayRows(NamedTuple):
    """A batch's order-day deltas (``order_day_rows``), and each customer's last order day."""

    # ``customer_gaps``: ``day, previous_day, week_start, month_start, customers`` (encoded)
    gaps: list[Row]
    # ``lone_first_orders``: ``first_day, next_day, customers`` (encoded)
    lone: list[Row]
    # ``customer_last_days``: ``day, customers`` (encoded)
    last_days: list[Row]
    # customer_id -> the latest of their order days read (the days around the batch's, not
    # always the last) before the batch (None: none) and after it (``value_counts``)
    latest_read: dict[str, tuple[date | None, date]]


def order_day_rows(
    batch: dict[tuple[str, date], int], stored: Iterable[Any], enc: Encoders
) -> OrderDayRows:
    """Encoded deltas for ``customer_gaps``, ``lone_first_orders`` and ``customer_last_days``
    (``OrderDayRows``), and the latest order day read per customer before and after the batch.

    The last of the days read is the customer's last order day whenever the batch moved it:
    then no order day follows the batch's last, so none was left out after it, and the old last
    day is the one before the batch's earliest new day, which is read with it. When the batch
    did not move it, the days after the batch's last are the same before and after, and the
    delta cancels.

    ``batch`` is this batch's orders per ``(customer_id, day)``; ``stored`` the rows
    ``(customer_id, day, orders)`` of the batch's customers' order days around the batch's
    (``day_probes``; all of them would do too), this batch included, so the days before it
    are those minus the batch. Rows may repeat."""
    after: dict[str, Days] = defaultdict(dict)
    for customer_id, day, orders in stored:
        after[customer_id][day] = orders
    gaps: Counter[tuple[date, date]] = Counter()
    lone: Counter[tuple[date, date]] = Counter()
    last: Counter[date] = Counter()
    latest: dict[str, tuple[date | None, date]] = {}
    for customer_id, now in after.items():
        before = {
            day: left for day, n in now.items() if (left := n - batch.get((customer_id, day), 0))
        }
        gaps.update(links(now))
        gaps.subtract(links(before))
        for key, sign in ((lone_first(now), 1), (lone_first(before), -1)):
            if key is not None:
                lone[key] += sign
        latest[customer_id] = (max(before) if before else None, max(now))
        last[max(now)] += 1
        if before:
            last[max(before)] -= 1
    day = enc.date
    return OrderDayRows(
        [
            (day(d), day(prev), day(week_start(d)), day(month_start(d)), n)
            for (d, prev), n in gaps.items()
            if n
        ],
        [(day(first), day(following), n) for (first, following), n in lone.items() if n],
        [(day(d), n) for d, n in last.items() if n],
        latest,
    )
