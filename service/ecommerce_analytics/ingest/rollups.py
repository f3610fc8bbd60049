"""A batch's rows in stored form (raw orders and lines, and every rollup's deltas summed per
key) and the writes of the rollups: per-customer first, then the ones shared by nearly every
batch. The cohort reconciliation between the two is in ``cohorts``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import combinations
from typing import Any

from sqlalchemy.orm import Session

from ..config import StoreSettings
from ..models import (
    CohortMonthly,
    Customer,
    CustomerDay,
    CustomerGap,
    CustomerLastDay,
    CustomerMonth,
    DailySales,
    LoneFirstOrder,
    Product,
    ProductDailySales,
    ProductPair,
)
from ..periods import month_start, week_start
from ..upsert import Encoders, Row, upsert_add_rows
from .order_days import OrderDayRows
from .stored_form import StoredOrder, line_rows, order_row
from .value_counts import ValueCountRows, write_value_counts


@dataclass
class _Rollups:
    """Deltas summed per rollup key in Python first: one upsert row per key per transaction.
    Values are mutable lists of counters (money in integer ten-thousandths), encoded into
    table rows by ``BatchRows.of``."""

    # day -> [orders, units, gross_sales, discounts, shipping, tax]
    daily: dict[date, list[int]] = field(default_factory=dict)
    # (day, sku) -> [orders, units, gross_sales, discounts]
    product_daily: dict[tuple[date, str], list[int]] = field(default_factory=dict)
    # (day, customer_id) -> [orders, order_value]
    customer_days: dict[tuple[date, str], list[int]] = field(default_factory=dict)
    # (customer_id, month) -> [orders, order_value]
    customer_months: dict[tuple[str, date], list[int]] = field(default_factory=dict)
    # customer_id -> [first_order_at, last_order_at, first day, last day,
    #                 orders, units, gross_sales, discounts]
    customers: dict[str, list[Any]] = field(default_factory=dict)
    # sku -> [first_sold_at, orders, units]
    products: dict[str, list[Any]] = field(default_factory=dict)
    pairs: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def add(self, o: StoredOrder) -> None:
        day, created_at = o.day, o.created_at
        daily = self.daily.get(day)
        if daily is None:
            daily = self.daily[day] = [0, 0, 0, 0, 0, 0]
        daily[0] += 1
        daily[1] += o.units
        daily[2] += o.gross
        daily[3] += o.discounts
        daily[4] += o.shipping
        daily[5] += o.tax
        for sku, quantity, price, discount in o.lines:
            pd = self.product_daily.get((day, sku))
            if pd is None:
                pd = self.product_daily[(day, sku)] = [0, 0, 0, 0]
            pd[0] += 1
            pd[1] += quantity
            pd[2] += quantity * price
            pd[3] += discount
            product = self.products.get(sku)
            if product is None:
                product = self.products[sku] = [created_at, 0, 0]
            elif created_at < product[0]:
                product[0] = created_at
            product[1] += 1
            product[2] += quantity
        if len(o.lines) > 1:
            for pair in combinations(sorted(sku for sku, *_ in o.lines), 2):
                self.pairs[pair] += 1
        value = o.gross - o.discounts
        cd = self.customer_days.get((day, o.customer_id))
        if cd is None:
            cd = self.customer_days[(day, o.customer_id)] = [0, 0]
        cd[0] += 1
        cd[1] += value
        month = month_start(day)
        cm = self.customer_months.get((o.customer_id, month))
        if cm is None:
            cm = self.customer_months[(o.customer_id, month)] = [0, 0]
        cm[0] += 1
        cm[1] += value
        customer = self.customers.get(o.customer_id)
        if customer is None:
            customer = [created_at, created_at, day, day, 0, 0, 0, 0]
            self.customers[o.customer_id] = customer
        else:
            # The store-local day grows with the moment: the first/last day is that of the
            # first/last order.
            if created_at < customer[0]:
                customer[0], customer[2] = created_at, day
            if created_at > customer[1]:
                customer[1], customer[3] = created_at, day
        customer[4] += 1
        customer[5] += o.units
        customer[6] += o.gross
        customer[7] += o.discounts


def _rollups(orders: list[StoredOrder]) -> _Rollups:
    rollups = _Rollups()
    for order in orders:
        rollups.add(order)
    return rollups


@dataclass
class BatchRows:
    """A batch's rows in stored form (``Encoders``), per table in the column order of its
    write; ``customer_months`` stays the raw activity ``cohort_rows`` reconciles."""

    orders: list[Row]
    lines: list[Row]
    products: list[Row]
    customers: list[Row]
    daily: list[Row]
    product_daily: list[Row]
    customer_days: list[Row]
    customer_months: dict[tuple[str, date], list[int]]
    pairs: list[Row]
    # (customer_id, day) -> this batch's orders that day, for ``order_days``
    day_orders: dict[tuple[str, date], int]
    # customer_id -> (net sales, orders) this batch adds, for ``value_counts``
    customer_deltas: dict[str, tuple[int, int]]

    @classmethod
    def of(
        cls, prepared: list[StoredOrder], store: StoreSettings, now: datetime, enc: Encoders
    ) -> BatchRows:
        r = _rollups(prepared)
        dt, day = enc.datetime, enc.date
        ingested_at = dt(now.astimezone(UTC))
        calendar = {d: (day(d), day(week_start(d)), day(month_start(d))) for d in r.daily}
        return cls(
            orders=[order_row(o, store.currency, ingested_at, enc) for o in prepared],
            lines=[row for o in prepared for row in line_rows(o)],
            products=[(sku, dt(first), n, units) for sku, (first, n, units) in r.products.items()],
            # ... orders, units, gross_sales, discounts, returns (0), net_sales
            customers=[
                (cid, dt(first), dt(last), day(d1), day(month_start(d1)), day(d2))
                + (n, units, gross, discounts, 0, gross - discounts)
                for cid, (first, last, d1, d2, n, units, gross, discounts) in r.customers.items()
            ],
            daily=[
                (*calendar[d], n, units, gross, discounts, 0, shipping, tax)
                for d, (n, units, gross, discounts, shipping, tax) in r.daily.items()
            ],
            product_daily=[
                (calendar[d][0], sku, *calendar[d][1:], *sales, 0, 0)
                for (d, sku), sales in r.product_daily.items()
            ],
            customer_days=[
                (calendar[d][0], cid, *calendar[d][1:], n, value)
                for (d, cid), (n, value) in r.customer_days.items()
            ],
            customer_months=r.customer_months,
            pairs=[(a, b, n) for (a, b), n in r.pairs.items()],
            day_orders={(cid, d): n for (d, cid), (n, _) in r.customer_days.items()},
            customer_deltas={
                cid: (gross - discounts, n)
                for cid, (*_, n, _units, gross, discounts) in r.customers.items()
            },
        )


_SALES = ("orders", "units", "gross_sales", "discounts")


def write_customer_rollups(session: Session, rows: BatchRows) -> None:
    """The per-customer rollups of the batch (``customers``, ``customer_days``): rows shared
    only by batches with a customer in common. ``customers`` comes first: its row locks are
    what ``send_cohort_reads`` relies on.

    Tables are always written in one order (this, ``customer_months``, then
    ``write_shared_rollups``; rows within a table in key order), so concurrent batches take
    row locks in one global order and do not deadlock. Refunds take the tables they share in
    the same order."""
    upsert_add_rows(
        session,
        Customer.__table__,  # type: ignore[arg-type]
        (
            "customer_id",
            "first_order_at",
            "last_order_at",
            "first_order_date",
            "first_order_month",
            "last_order_date",
            *_SALES,
            "returns",
            "net_sales",
        ),
        rows.customers,
        key=("customer_id",),
        add=(*_SALES, "returns", "net_sales"),
        least=("first_order_at", "first_order_date", "first_order_month"),
        greatest=("last_order_at", "last_order_date"),
    )
    upsert_add_rows(
        session,
        CustomerDay.__table__,  # type: ignore[arg-type]
        ("day", "customer_id", "week_start", "month_start", "orders", "order_value"),
        rows.customer_days,
        key=("day", "customer_id"),
        add=("orders", "order_value"),
    )


def write_shared_rollups(
    session: Session,
    rows: BatchRows,
    customer_months: list[Row],
    cohort_deltas: list[Row],
    order_days: OrderDayRows,
    value_counts: ValueCountRows,
) -> None:
    """``customer_months``, then the rollups nearly every concurrent batch updates: the days'
    totals, the products and their pairs, the cohort grid, the order-day rollups
    (``order_days``: ``customer_gaps``, ``lone_first_orders`` and ``customer_last_days``
    deltas), the customers per value bucket and RFM cell (``value_counts``:
    ``customer_value_counts`` and ``rfm_cells`` deltas). Written last (and ``data_version``
    after them), since a row lock is held until commit: written first, they would serialize
    concurrent batches for the whole transaction."""
    upsert_add_rows(
        session,
        CustomerMonth.__table__,  # type: ignore[arg-type]
        ("customer_id", "month_start", "cohort_month", "orders", "order_value"),
        customer_months,
        key=("customer_id", "month_start"),
        add=("orders", "order_value"),
        least=("cohort_month",),
    )
    upsert_add_rows(
        session,
        DailySales.__table__,  # type: ignore[arg-type]
        ("day", "week_start", "month_start", *_SALES, "returns", "shipping", "tax"),
        rows.daily,
        key=("day",),
        add=(*_SALES, "returns", "shipping", "tax"),
    )
    upsert_add_rows(
        session,
        ProductDailySales.__table__,  # type: ignore[arg-type]
        ("day", "sku", "week_start", "month_start", *_SALES, "returns", "units_returned"),
        rows.product_daily,
        key=("day", "sku"),
        add=(*_SALES, "returns", "units_returned"),
    )
    upsert_add_rows(
        session,
        Product.__table__,  # type: ignore[arg-type]
        ("sku", "first_sold_at", "orders", "units"),
        rows.products,
        key=("sku",),
        add=("orders", "units"),
        least=("first_sold_at",),
    )
    upsert_add_rows(
        session,
        ProductPair.__table__,  # type: ignore[arg-type]
        ("sku_a", "sku_b", "orders"),
        rows.pairs,
        key=("sku_a", "sku_b"),
        add=("orders",),
    )
    upsert_add_rows(
        session,
        CohortMonthly.__table__,  # type: ignore[arg-type]
        ("cohort_month", "month_start", "customers", "revenue"),
        cohort_deltas,
        key=("cohort_month", "month_start"),
        add=("customers", "revenue"),
    )
    gaps, lone, last_days, _ = order_days
    upsert_add_rows(
        session,
        CustomerGap.__table__,  # type: ignore[arg-type]
        ("day", "previous_day", "week_start", "month_start", "customers"),
        gaps,
        key=("day", "previous_day"),
        add=("customers",),
    )
    upsert_add_rows(
        session,
        LoneFirstOrder.__table__,  # type: ignore[arg-type]
        ("first_day", "next_day", "customers"),
        lone,
        key=("first_day", "next_day"),
        add=("customers",),
    )
    upsert_add_rows(
        session,
        CustomerLastDay.__table__,  # type: ignore[arg-type]
        ("day", "customers"),
        last_days,
        key=("day",),
        add=("customers",),
    )
    write_value_counts(session, value_counts)
