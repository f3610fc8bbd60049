"""The deltas of a write to the customer value counts: ``customer_value_counts`` (customers
per bucket of net spend and per order count) and ``rfm_cells`` (customers and their net spend
per last order day, order count and net band). Each changed customer leaves the buckets and the
cell of their old values and joins those of the new ones (``value_buckets``).

The new values are read back under the customer's row lock after the ``customers`` upsert
(``cohorts.send_cohort_reads`` for orders, ``refunds.record_refund`` for a refund); the old
ones are the new minus what this write added, so no read before the upsert is needed. A
customer whose stored order count equals this write's orders did not exist before it. The old
last order day comes from the order days read around the batch (``order_days``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import NamedTuple

from sqlalchemy.orm import Session

from ..models import CustomerValueCount, RfmCell
from ..upsert import Encoders, Row, upsert_add_rows
from ..value_buckets import NET, ORDERS, band_of, bucket_of


class Stored(NamedTuple):
    """A customer's values after the write (read under their row lock)."""

    net: int  # stored integer (ten-thousandths)
    orders: int
    last_day: date


class Added(NamedTuple):
    """What the write changed for one customer."""

    net: int  # stored integer
    orders: int
    # The last order day before the write (None: the customer is new).
    previous_last_day: date | None


class ValueCountRows(NamedTuple):
    """Encoded deltas: ``customer_value_counts`` (``figure, bucket, customers``) and
    ``rfm_cells`` (``last_order_date, orders, net_band, customers, net_sales``)."""

    counts: list[Row]
    cells: list[Row]


def value_count_rows(
    added: Mapping[str, Added], stored: Mapping[str, Stored], enc: Encoders
) -> ValueCountRows:
    """The deltas for customers this write changed by ``added``, who now stand at ``stored``.
    Buckets and cells a customer leaves and re-enters in the same write cancel out and are
    not written."""
    counts: dict[tuple[str, int], int] = defaultdict(int)
    # (day, orders, band) -> [customers, net sales]
    cells: dict[tuple[date, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for customer_id, change in added.items():
        net, orders, last_day = stored[customer_id]
        counts[(NET, bucket_of(net))] += 1
        counts[(ORDERS, orders)] += 1
        cell = cells[(last_day, orders, band_of(net))]
        cell[0] += 1
        cell[1] += net
        if orders > change.orders:
            old_net, old_orders = net - change.net, orders - change.orders
            counts[(NET, bucket_of(old_net))] -= 1
            counts[(ORDERS, old_orders)] -= 1
            old_day = change.previous_last_day
            if old_day is None:
                raise AssertionError(f"customer {customer_id!r} existed but had no last day")
            cell = cells[(old_day, old_orders, band_of(old_net))]
            cell[0] -= 1
            cell[1] -= old_net
    day = enc.date
    return ValueCountRows(
        [(figure, bucket, n) for (figure, bucket), n in counts.items() if n],
        [(day(d), o, b, n, v) for (d, o, b), (n, v) in cells.items() if n or v],
    )


def batch_value_count_rows(
    deltas: Mapping[str, tuple[int, int]],
    stored: Mapping[str, Stored],
    latest_read: Mapping[str, tuple[date | None, date]],
    enc: Encoders,
) -> ValueCountRows:
    """``value_count_rows`` for a batch of orders: ``deltas`` per customer (net sales, orders
    added; ``rollups.BatchRows.customer_deltas``), ``stored`` their values after the upsert
    (``cohorts``), ``latest_read`` from ``order_days`` (every batch customer has one: the
    batch's own days are read)."""
    added = {
        customer_id: Added(
            net,
            orders,
            previous_last_day(
                stored[customer_id].last_day,
                latest_read[customer_id],
                new_customer=stored[customer_id].orders == orders,
            ),
        )
        for customer_id, (net, orders) in deltas.items()
    }
    return value_count_rows(added, stored, enc)


def previous_last_day(
    last_day: date, latest_read: tuple[date | None, date], new_customer: bool
) -> date | None:
    """A customer's last order day before a batch, from the one after it (``last_day``, read
    under the row lock) and the latest of the order days read around the batch before and after
    it (``order_days.OrderDayRows.latest_read``).

    When the batch moved the last day, the days read end with it and include the old one
    (``order_days``); when it did not, either the last day is past the days read, or it had
    orders before the batch and is the latest of the days read before it too."""
    if new_customer:
        return None
    before, after = latest_read
    # None here (no day read before the batch for an existing customer) cannot happen;
    # ``value_count_rows`` refuses it.
    return last_day if after < last_day else before


def write_value_counts(session: Session, rows: ValueCountRows) -> None:
    """Add ``rows`` (``value_count_rows``) to ``customer_value_counts`` and ``rfm_cells``, in
    key order."""
    upsert_add_rows(
        session,
        CustomerValueCount.__table__,  # type: ignore[arg-type]
        ("figure", "bucket", "customers"),
        rows.counts,
        key=("figure", "bucket"),
        add=("customers",),
    )
    upsert_add_rows(
        session,
        RfmCell.__table__,  # type: ignore[arg-type]
        ("last_order_date", "orders", "net_band", "customers", "net_sales"),
        rows.cells,
        key=("last_order_date", "orders", "net_band"),
        add=("customers", "net_sales"),
    )
