"""``rebuild_rollups``: every rollup table emptied and recomputed from the raw rows (``orders``,
``order_lines``, ``refunds``, ``refund_lines``), one set-based ``INSERT ... SELECT ... GROUP
BY`` per table, the same on PostgreSQL, MariaDB/MySQL and SQLite.

What it is for: bulk loads, which write only the raw rows (the benchmark's
``bench/bulk_seed.py``: millions of orders in minutes instead of the hour the per-batch rollup
upserts of ``ingest_orders`` take), and repairs (rollups written by a bug, or a new rollup
table filled from the orders already stored).

Every rollup row holds what ingest (``rollups._Rollups.add``, ``BatchRows.of``,
``cohorts.cohort_rows``, ``refunds.record_refund``) would have accumulated for the same raw
rows, with one difference that changes no answer: cohort cells ingest left at zero customers
and zero revenue (a customer whose first order arrived late moved to an earlier cohort) are not
re-created.

Adding a rollup table: write one function returning its ``INSERT ... SELECT`` and register it
in ``REBUILDS`` (after the tables it reads); ``rebuild_rollups`` refuses to run while a table
of ``models.ROLLUP_TABLES`` has none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    Insert,
    MetaData,
    Table,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from ..cache import bump_version
from ..models import (
    ROLLUP_TABLES,
    Base,
    CohortMonthly,
    Customer,
    CustomerDay,
    CustomerGap,
    CustomerLastDay,
    CustomerMonth,
    CustomerValueCount,
    DailySales,
    LoneFirstOrder,
    Order,
    OrderLine,
    Product,
    ProductDailySales,
    ProductPair,
    Refund,
    RefundLine,
    RfmCell,
    SharedResponse,
)
from ..periods import month_start, week_start
from ..value_buckets import NET, ORDERS, band_sql, bucket_sql


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_ORDERS = _table(Order)
_LINES = _table(OrderLine)
_REFUNDS = _table(Refund)
_REFUND_LINES = _table(RefundLine)
_CUSTOMERS = _table(Customer)
_CUSTOMER_MONTHS = _table(CustomerMonth)

# The week (Monday) and month of every day with an order or a refund, computed in Python
# (``periods``) so no statement needs a dialect's date functions. A temporary table: private
# to the connection, gone with it. MySQL/MariaDB cannot open a temporary table twice in one
# statement, so every statement below names it at most once.
_CALENDAR = Table(
    "rebuild_calendar",
    MetaData(),
    Column("day", Date, primary_key=True),
    Column("week_start", Date, nullable=False),
    Column("month_start", Date, nullable=False),
    prefixes=["TEMPORARY"],
)


@dataclass(frozen=True)
class RebuildContext:
    """What a rebuild function may need beyond the tables: the calendar and the dialect."""

    calendar: Table
    dialect: str

    def code_point_less(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[bool]:
        """``a < b`` in code point order, as Python compares ``str`` (``sorted`` in ingest).
        PostgreSQL compares text in the database's collation (``en_US.UTF-8`` orders case
        and punctuation differently), so there the comparison is ``COLLATE "C"`` (bytes,
        and UTF-8 bytes sort in code point order); identifiers are ``utf8mb4_bin`` on
        MySQL/MariaDB and SQLite compares bytes."""
        if self.dialect == "postgresql":
            return a < b.collate("C")
        return a < b


Rebuild = Callable[[RebuildContext], Insert]


def _zero() -> ColumnElement[Any]:
    return literal_column("0")


def _one() -> ColumnElement[Any]:
    return literal_column("1")


def _customers(ctx: RebuildContext) -> Insert:
    """Per customer: first/last order moment and day, first order month, lifetime sales, and
    the refunds of their orders. The first (last) day is the earliest (latest) order day: the
    store-local day never decreases as the moment grows, so it is the day of the first (last)
    moment, as ingest stores it (whose upsert also keeps each column's minimum/maximum)."""
    o, r, cal = _ORDERS, _REFUNDS, ctx.calendar
    per = (
        select(
            o.c.customer_id,
            func.min(o.c.created_at).label("first_at"),
            func.max(o.c.created_at).label("last_at"),
            func.min(o.c.order_date).label("first_day"),
            func.max(o.c.order_date).label("last_day"),
            func.count().label("orders"),
            func.sum(o.c.units).label("units"),
            func.sum(o.c.gross_sales).label("gross_sales"),
            func.sum(o.c.discounts).label("discounts"),
        )
        .group_by(o.c.customer_id)
        .subquery()
    )
    returns = (
        select(o.c.customer_id, func.sum(r.c.amount).label("returns"))
        .join_from(r, o, o.c.order_id == r.c.order_id)
        .group_by(o.c.customer_id)
        .subquery()
    )
    source = (
        select(
            per.c.customer_id,
            per.c.first_at,
            per.c.last_at,
            per.c.first_day,
            cal.c.month_start,
            per.c.last_day,
            per.c.orders,
            per.c.units,
            per.c.gross_sales,
            per.c.discounts,
            func.coalesce(returns.c.returns, 0),
            per.c.gross_sales - per.c.discounts - func.coalesce(returns.c.returns, 0),
        )
        .join_from(per, cal, cal.c.day == per.c.first_day)
        .outerjoin(returns, returns.c.customer_id == per.c.customer_id)
    )
    return insert(_CUSTOMERS).from_select(
        [
            "customer_id",
            "first_order_at",
            "last_order_at",
            "first_order_date",
            "first_order_month",
            "last_order_date",
            "orders",
            "units",
            "gross_sales",
            "discounts",
            "returns",
            "net_sales",
        ],
        source,
    )


def _customer_value_counts(ctx: RebuildContext) -> Insert:
    """Per figure and bucket (``value_buckets``): the customers in it. Runs after
    ``_customers``."""
    cu = _CUSTOMERS
    per_figure = [
        select(literal(figure).label("figure"), value.label("bucket"), func.count()).group_by(value)
        for figure, value in ((NET, bucket_sql(cu.c.net_sales)), (ORDERS, cu.c.orders))
    ]
    return insert(_table(CustomerValueCount)).from_select(
        ["figure", "bucket", "customers"], union_all(*per_figure)
    )


def _rfm_cells(ctx: RebuildContext) -> Insert:
    """Per (last order day, orders, net band): the customers and their net spend. Runs after
    ``_customers``."""
    cu = _CUSTOMERS
    band = band_sql(cu.c.net_sales).label("net_band")
    source = select(
        cu.c.last_order_date, cu.c.orders, band, func.count(), func.sum(cu.c.net_sales)
    ).group_by(cu.c.last_order_date, cu.c.orders, band)
    return insert(_table(RfmCell)).from_select(
        ["last_order_date", "orders", "net_band", "customers", "net_sales"], source
    )


def _customer_last_days(ctx: RebuildContext) -> Insert:
    """Per day: the customers whose last order day it is. Runs after ``_customers``."""
    cu = _CUSTOMERS
    source = select(cu.c.last_order_date, func.count()).group_by(cu.c.last_order_date)
    return insert(_table(CustomerLastDay)).from_select(["day", "customers"], source)


def _products(ctx: RebuildContext) -> Insert:
    """Per product: its first sale's moment, the orders with it (one line each) and units."""
    o, ln = _ORDERS, _LINES
    source = (
        select(ln.c.sku, func.min(o.c.created_at), func.count(), func.sum(ln.c.quantity))
        .join_from(ln, o, o.c.order_id == ln.c.order_id)
        .group_by(ln.c.sku)
    )
    return insert(_table(Product)).from_select(["sku", "first_sold_at", "orders", "units"], source)


def _daily_sales(ctx: RebuildContext) -> Insert:
    """Per store-local day: the day's orders and their totals, and the refunds made that day
    (``returns``: whole refund amounts, on the refund's day, as ``record_refund`` adds them)."""
    o, r, cal = _ORDERS, _REFUNDS, ctx.calendar
    zero = _zero
    rows = union_all(
        select(
            o.c.order_date.label("day"),
            _one().label("orders"),
            o.c.units,
            o.c.gross_sales,
            o.c.discounts,
            zero().label("returns"),
            o.c.shipping,
            o.c.tax,
        ),
        select(r.c.refund_date, zero(), zero(), zero(), zero(), r.c.amount, zero(), zero()),
    ).subquery()
    per = select(
        rows.c.day, *(func.sum(rows.c[name]).label(name) for name in _DAILY_SUMS)
    ).group_by(rows.c.day)
    per_day = per.subquery()
    source = select(
        per_day.c.day,
        cal.c.week_start,
        cal.c.month_start,
        *(per_day.c[name] for name in _DAILY_SUMS),
    ).join_from(per_day, cal, cal.c.day == per_day.c.day)
    return insert(_table(DailySales)).from_select(
        ["day", "week_start", "month_start", *_DAILY_SUMS], source
    )


_DAILY_SUMS = ("orders", "units", "gross_sales", "discounts", "returns", "shipping", "tax")
_PRODUCT_DAILY_SUMS = (
    "orders",
    "units",
    "gross_sales",
    "discounts",
    "returns",
    "units_returned",
)


def _product_daily_sales(ctx: RebuildContext) -> Insert:
    """Per day and product: order lines on the order's day, refund lines (amount and units)
    on the refund's day."""
    o, ln, r, rl, cal = _ORDERS, _LINES, _REFUNDS, _REFUND_LINES, ctx.calendar
    zero = _zero
    rows = union_all(
        select(
            o.c.order_date.label("day"),
            ln.c.sku,
            _one().label("orders"),
            ln.c.quantity.label("units"),
            (ln.c.quantity * ln.c.unit_price).label("gross_sales"),
            ln.c.discount.label("discounts"),
            zero().label("returns"),
            zero().label("units_returned"),
        ).join_from(ln, o, o.c.order_id == ln.c.order_id),
        select(
            r.c.refund_date, rl.c.sku, zero(), zero(), zero(), zero(), rl.c.amount, rl.c.quantity
        ).join_from(rl, r, r.c.refund_id == rl.c.refund_id),
    ).subquery()
    per = (
        select(rows.c.day, rows.c.sku, *(func.sum(rows.c[n]).label(n) for n in _PRODUCT_DAILY_SUMS))
        .group_by(rows.c.day, rows.c.sku)
        .subquery()
    )
    source = select(
        per.c.day,
        per.c.sku,
        cal.c.week_start,
        cal.c.month_start,
        *(per.c[name] for name in _PRODUCT_DAILY_SUMS),
    ).join_from(per, cal, cal.c.day == per.c.day)
    return insert(_table(ProductDailySales)).from_select(
        ["day", "sku", "week_start", "month_start", *_PRODUCT_DAILY_SUMS], source
    )


def _customer_days(ctx: RebuildContext) -> Insert:
    """Per day and customer who ordered that day: orders and order value (gross - discounts)."""
    o, cal = _ORDERS, ctx.calendar
    per = (
        select(
            o.c.order_date.label("day"),
            o.c.customer_id,
            func.count().label("orders"),
            func.sum(o.c.gross_sales - o.c.discounts).label("order_value"),
        )
        .group_by(o.c.order_date, o.c.customer_id)
        .subquery()
    )
    source = select(
        per.c.day,
        per.c.customer_id,
        cal.c.week_start,
        cal.c.month_start,
        per.c.orders,
        per.c.order_value,
    ).join_from(per, cal, cal.c.day == per.c.day)
    return insert(_table(CustomerDay)).from_select(
        ["day", "customer_id", "week_start", "month_start", "orders", "order_value"], source
    )


def _customer_months(ctx: RebuildContext) -> Insert:
    """Per customer and month they ordered in: orders and order value, tagged with the
    customer's cohort (``customers.first_order_month``: runs after ``_customers``)."""
    o, cu, cal = _ORDERS, _CUSTOMERS, ctx.calendar
    per = (
        select(
            o.c.customer_id,
            cal.c.month_start,
            func.count().label("orders"),
            func.sum(o.c.gross_sales - o.c.discounts).label("order_value"),
        )
        .join_from(o, cal, cal.c.day == o.c.order_date)
        .group_by(o.c.customer_id, cal.c.month_start)
        .subquery()
    )
    source = select(
        per.c.customer_id,
        per.c.month_start,
        cu.c.first_order_month,
        per.c.orders,
        per.c.order_value,
    ).join_from(per, cu, cu.c.customer_id == per.c.customer_id)
    return insert(_CUSTOMER_MONTHS).from_select(
        ["customer_id", "month_start", "cohort_month", "orders", "order_value"], source
    )


def _cohort_months(ctx: RebuildContext) -> Insert:
    """Per cohort and activity month: the customers active (one ``customer_months`` row
    each: runs after ``_customer_months``) and their order value."""
    cm = _CUSTOMER_MONTHS
    source = select(
        cm.c.cohort_month, cm.c.month_start, func.count(), func.sum(cm.c.order_value)
    ).group_by(cm.c.cohort_month, cm.c.month_start)
    return insert(_table(CohortMonthly)).from_select(
        ["cohort_month", "month_start", "customers", "revenue"], source
    )


def _product_pairs(ctx: RebuildContext) -> Insert:
    """Per pair of products bought together (``sku_a < sku_b`` in code point order): the
    orders with both; orders of one line have no pair."""
    a, b = _LINES.alias("a"), _LINES.alias("b")
    source = (
        select(a.c.sku, b.c.sku, func.count())
        .join_from(a, b, (b.c.order_id == a.c.order_id) & ctx.code_point_less(a.c.sku, b.c.sku))
        .group_by(a.c.sku, b.c.sku)
    )
    return insert(_table(ProductPair)).from_select(["sku_a", "sku_b", "orders"], source)


def _linked_days() -> Any:
    """Every ``customer_days`` row with the customer's previous and next order day (window
    functions: PostgreSQL, MySQL 8, MariaDB 10.2, SQLite 3.25)."""
    cd = _table(CustomerDay)
    return select(
        cd.c.day,
        cd.c.week_start,
        cd.c.month_start,
        cd.c.orders,
        func.lag(cd.c.day)
        .over(partition_by=cd.c.customer_id, order_by=cd.c.day)
        .label("previous_day"),
        func.lead(cd.c.day)
        .over(partition_by=cd.c.customer_id, order_by=cd.c.day)
        .label("next_day"),
    ).subquery()


def _customer_gaps(ctx: RebuildContext) -> Insert:
    """Per order day and the previous order day of each customer who ordered that day (the
    first order day paired with itself): runs after ``_customer_days``."""
    linked = _linked_days()
    previous = func.coalesce(linked.c.previous_day, linked.c.day)
    source = select(
        linked.c.day, previous, linked.c.week_start, linked.c.month_start, func.count()
    ).group_by(linked.c.day, previous, linked.c.week_start, linked.c.month_start)
    return insert(_table(CustomerGap)).from_select(
        ["day", "previous_day", "week_start", "month_start", "customers"], source
    )


def _lone_first_orders(ctx: RebuildContext) -> Insert:
    """Per first order day that held one order, and the customer's next order day (the first
    day again when there is none): runs after ``_customer_days``."""
    linked = _linked_days()
    following = func.coalesce(linked.c.next_day, linked.c.day)
    source = (
        select(linked.c.day, following, func.count())
        .where(linked.c.previous_day.is_(None), linked.c.orders == 1)
        .group_by(linked.c.day, following)
    )
    return insert(_table(LoneFirstOrder)).from_select(
        ["first_day", "next_day", "customers"], source
    )


# Every rollup table and its rebuild, in the order they run: a table read by another's rebuild
# comes before it (customers, then customer_months, then cohort_months).
REBUILDS: tuple[tuple[type[Base], Rebuild], ...] = (
    (Customer, _customers),
    (CustomerValueCount, _customer_value_counts),
    (CustomerLastDay, _customer_last_days),
    (RfmCell, _rfm_cells),
    (Product, _products),
    (DailySales, _daily_sales),
    (ProductDailySales, _product_daily_sales),
    (CustomerDay, _customer_days),
    (CustomerMonth, _customer_months),
    (CohortMonthly, _cohort_months),
    (ProductPair, _product_pairs),
    (CustomerGap, _customer_gaps),
    (LoneFirstOrder, _lone_first_orders),
)


def rebuild_rollups(
    session: Session, progress: Callable[[str, float], None] | None = None
) -> dict[str, float]:
    """Empty every rollup table and rebuild it from the raw rows, in the caller's transaction
    (the caller commits); then a new data version, and an empty shared response cache (its
    answers were computed from the old rollups). Returns each table's rebuild time in
    seconds, also passed to ``progress`` (default: none) as each finishes.

    Takes the raw tables as they are: the caller ensures nothing writes orders or refunds
    meanwhile (a write between two tables' rebuilds would be in one and not the other). Made
    for bulk loads, benchmarks and repairs, not for a serving database under load: each
    table is emptied with ``DELETE`` and refilled in one statement, holding its locks (and
    MySQL/MariaDB the read locks of the raw rows) until commit.
    """
    missing = [m.__tablename__ for m in ROLLUP_TABLES if m not in dict(REBUILDS)]
    if missing:
        raise RuntimeError(f"rollup tables without a rebuild function in REBUILDS: {missing}")
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "mysql":
        # A failed rebuild's calendar outlives its rollback there (temporary tables are not
        # transactional) as long as the pooled connection does.
        connection.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {_CALENDAR.name}")
    _CALENDAR.create(connection)
    days = connection.execute(
        union_all(select(_ORDERS.c.order_date), select(_REFUNDS.c.refund_date))
        .subquery()
        .select()
        .distinct()
    ).scalars()
    calendar = [
        {"day": day, "week_start": week_start(day), "month_start": month_start(day)} for day in days
    ]
    if calendar:
        connection.execute(insert(_CALENDAR), calendar)
    context = RebuildContext(_CALENDAR, dialect)
    timings: dict[str, float] = {}
    for model, rebuild in REBUILDS:
        started = time.perf_counter()
        table = _table(model)
        connection.execute(delete(table))
        connection.execute(rebuild(context))
        timings[table.name] = time.perf_counter() - started
        if progress is not None:
            progress(table.name, timings[table.name])
    # MySQL/MariaDB: a plain DROP TABLE would commit the transaction.
    drop = "DROP TEMPORARY TABLE" if dialect == "mysql" else "DROP TABLE"
    connection.exec_driver_sql(f"{drop} {_CALENDAR.name}")
    connection.execute(delete(_table(SharedResponse)))
    bump_version(session)
    return timings
