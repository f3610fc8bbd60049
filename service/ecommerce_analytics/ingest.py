"""Order and refund writes: raw rows plus every rollup, in the caller's transaction.

Only orders this transaction actually inserted touch the rollups, so a retried order (same
``order_id``) is counted once, however many times or however concurrently it arrives.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import combinations
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Engine,
    Select,
    String,
    any_,
    bindparam,
    cast,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from .cache import bump_version
from .config import StoreSettings
from .db import DriverStatement
from .errors import Problem, validation_problem
from .models import (
    CohortMonthly,
    Customer,
    CustomerDay,
    CustomerMonth,
    DailySales,
    Order,
    OrderLine,
    Product,
    ProductDailySales,
    ProductPair,
    Refund,
    RefundLine,
)
from .money import SCALE, ZERO, fmt
from .periods import local_day, month_start, week_start
from .schemas import OrderIn, RefundIn
from .upsert import (
    Encoders,
    Row,
    encoders,
    insert_ignore,
    insert_ignore_rows,
    insert_rows,
    pg_array_literal,
    pipelined,
    upsert_add,
    upsert_add_rows,
)

# Accept a little clock skew from order sources, not timestamps from the future.
MAX_FUTURE_SKEW = timedelta(days=1)
MAX_ORDER_GROSS = 10**12
"""Largest gross of one order (quantity x unit_price over its lines), in currency units.
Money is stored as 64-bit integers of ten-thousandths (at most ~9.2 x 10^14 units): the cap
keeps one order's amounts exact on every database (MySQL's ``INSERT IGNORE`` would otherwise
clamp an overflowing amount, the others fail the whole batch) and leaves room for rollups."""
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def _places_ok(value: str | None, exponent: int) -> bool:
    return value is None or len(value.partition(".")[2]) <= exponent


_SCALE = int(SCALE)  # Money's stored unit: ten-thousandths
_ONE_SKU = "each sku at most once per order; merge the quantities"


def _scaled(value: str | None) -> int:
    """A ``DecimalString`` (digits, at most four decimal places; ``None`` is 0) as an integer
    count of ten-thousandths: the stored ``Money`` representation, exact, with no ``Decimal``
    arithmetic."""
    if value is None:
        return 0
    whole, _, fraction = value.partition(".")
    return int(whole) * _SCALE + (int(fraction.ljust(4, "0")) if fraction else 0)


def validate_orders(orders: list[OrderIn], store: StoreSettings, now: datetime) -> None:
    """Checks pydantic cannot make alone; raises one 422 listing every failing field."""
    errors: list[dict[str, str]] = []

    def err(pointer: str, detail: str) -> None:
        errors.append({"pointer": pointer, "detail": detail})

    exponent = store.exponent
    places = f"at most {exponent} decimal places"
    latest = now + MAX_FUTURE_SKEW
    seen: set[str] = set()
    for i, order in enumerate(orders):
        base = f"/orders/{i}"
        if order.order_id in seen:
            err(f"{base}/order_id", f"order_id {order.order_id!r} appears twice in the batch")
        seen.add(order.order_id)
        if order.currency != store.currency:
            err(f"{base}/currency", f"must be the store currency {store.currency}")
        if not EARLIEST <= order.created_at <= latest:
            err(f"{base}/created_at", "must be after 2000-01-01 and not in the future")
        if not _places_ok(order.shipping, exponent):
            err(f"{base}/shipping", places)
        if not _places_ok(order.tax, exponent):
            err(f"{base}/tax", places)
        skus: set[str] = set()
        gross = 0
        for j, line in enumerate(order.lines):
            line_total = line.quantity * _scaled(line.unit_price)
            gross += line_total
            if line.sku in skus:
                err(f"{base}/lines/{j}/sku", _ONE_SKU)
            skus.add(line.sku)
            if not _places_ok(line.unit_price, exponent):
                err(f"{base}/lines/{j}/unit_price", places)
            if not _places_ok(line.discount, exponent):
                err(f"{base}/lines/{j}/discount", places)
            if _scaled(line.discount) > line_total:
                err(f"{base}/lines/{j}/discount", "must not exceed quantity x unit_price")
        if gross > MAX_ORDER_GROSS * _SCALE:
            err(
                f"{base}/lines",
                f"the order's gross (quantity x unit_price, summed) must not exceed "
                f"{MAX_ORDER_GROSS:,}",
            )
    if errors:
        raise validation_problem(errors)


@dataclass
class IngestResult:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)


@dataclass
class _Order:
    """One order in stored form: money as integer ten-thousandths, UTC ``created_at``."""

    order_id: str
    customer_id: str
    created_at: datetime
    day: date
    # (sku, quantity, unit_price, discount)
    lines: list[tuple[str, int, int, int]]
    units: int
    gross: int
    discounts: int
    shipping: int
    tax: int


def _prepare(order: OrderIn, store: StoreSettings) -> _Order:
    created_at = order.created_at.astimezone(UTC)
    lines = [
        (line.sku, line.quantity, _scaled(line.unit_price), _scaled(line.discount))
        for line in order.lines
    ]
    return _Order(
        order_id=order.order_id,
        customer_id=order.customer_id,
        created_at=created_at,
        day=local_day(created_at, store.timezone),
        lines=lines,
        units=sum(quantity for _, quantity, _, _ in lines),
        gross=sum(quantity * price for _, quantity, price, _ in lines),
        discounts=sum(discount for *_, discount in lines),
        shipping=_scaled(order.shipping),
        tax=_scaled(order.tax),
    )


@dataclass
class _Rollups:
    """Deltas summed per rollup key in Python first: one upsert row per key per transaction.
    Values are mutable lists of counters (money in integer ten-thousandths), encoded into
    table rows by ``_Rows.of``."""

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

    def add(self, o: _Order) -> None:
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


def _rollups(orders: list[_Order]) -> _Rollups:
    rollups = _Rollups()
    for order in orders:
        rollups.add(order)
    return rollups


_ORDER_COLUMNS = (
    "order_id",
    "customer_id",
    "created_at",
    "order_date",
    "currency",
    "units",
    "gross_sales",
    "discounts",
    "shipping",
    "tax",
    "refunded",
    "ingested_at",
)
_LINE_COLUMNS = ("order_id", "line_number", "sku", "quantity", "unit_price", "discount")


def ingest_orders(
    session: Session, orders: list[OrderIn], store: StoreSettings, now: datetime
) -> IngestResult:
    """Store ``orders`` (already validated) and update rollups; the caller commits."""
    enc = encoders(session)
    # Sorted so concurrent batches take row locks in one global order.
    prepared = [_prepare(order, store) for order in sorted(orders, key=attrgetter("order_id"))]
    # Every row is built before the first write, assuming every order is new (the usual case):
    # on SQLite the write lock is taken by the first INSERT and held until commit, so Python
    # work done before it does not serialize concurrent writers.
    rows = _Rows.of(prepared, store, now, enc)
    inserted = insert_ignore_rows(
        session,
        Order.__table__,  # type: ignore[arg-type]
        _ORDER_COLUMNS,
        rows.orders,
    )
    if len(inserted) != len(prepared):
        # Some orders were stored before (a retry): count only the ones inserted now.
        rows = _Rows.of([o for o in prepared if o.order_id in inserted], store, now, enc)
    # Two round trips on PostgreSQL (``pipelined``) for what took one per statement: the
    # customer rows locked in the first block stay locked until commit, and concurrent batches
    # sharing a customer (loyal customers are in many) queue for as long as that takes.
    with pipelined(session):
        insert_rows(
            session,
            OrderLine.__table__,  # type: ignore[arg-type]
            _LINE_COLUMNS,
            rows.lines,
        )
        _write_customer_rollups(session, rows)
        _key_lookups_only(session, True)
        cohort_state = _send_cohort_reads(session, rows.customer_months)
    customer_months, cohort_deltas = _cohort_rows(rows.customer_months, cohort_state(), enc)
    with pipelined(session):
        _key_lookups_only(session, False)
        _write_shared_rollups(session, rows, customer_months, cohort_deltas)
        if inserted:
            bump_version(session)
    # Report in request order.
    result = IngestResult()
    for order in orders:
        (result.created if order.order_id in inserted else result.existing).append(order.order_id)
    return result


@dataclass
class _Rows:
    """A batch's rows in stored form (``Encoders``), per table in the column order of its
    write; ``customer_months`` stays the raw activity ``_cohort_rows`` reconciles."""

    orders: list[Row]
    lines: list[Row]
    products: list[Row]
    customers: list[Row]
    daily: list[Row]
    product_daily: list[Row]
    customer_days: list[Row]
    customer_months: dict[tuple[str, date], list[int]]
    pairs: list[Row]

    @classmethod
    def of(
        cls, prepared: list[_Order], store: StoreSettings, now: datetime, enc: Encoders
    ) -> _Rows:
        r = _rollups(prepared)
        dt, day = enc.datetime, enc.date
        ingested_at = dt(now.astimezone(UTC))
        calendar = {d: (day(d), day(week_start(d)), day(month_start(d))) for d in r.daily}
        return cls(
            orders=[
                (
                    o.order_id,
                    o.customer_id,
                    dt(o.created_at),
                    calendar[o.day][0],
                    store.currency,
                    o.units,
                    o.gross,
                    o.discounts,
                    o.shipping,
                    o.tax,
                    0,
                    ingested_at,
                )
                for o in prepared
            ],
            lines=[
                (o.order_id, n, sku, quantity, price, discount)
                for o in prepared
                for n, (sku, quantity, price, discount) in enumerate(o.lines, start=1)
            ],
            products=[(sku, dt(first), n, units) for sku, (first, n, units) in r.products.items()],
            customers=[
                (cid, dt(first), dt(last), day(d1), day(month_start(d1)), day(d2), *sales, 0)
                for cid, (first, last, d1, d2, *sales) in r.customers.items()
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
        )


_SALES = ("orders", "units", "gross_sales", "discounts")


def _write_customer_rollups(session: Session, rows: _Rows) -> None:
    """The per-customer rollups of the batch (``customers``, ``customer_days``): rows shared
    only by batches with a customer in common. ``customers`` comes first: its row locks are
    what ``_send_cohort_reads`` relies on.

    Tables are always written in one order (this, ``customer_months``, then
    ``_write_shared_rollups``; rows within a table in key order), so concurrent batches take
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
        ),
        rows.customers,
        key=("customer_id",),
        add=(*_SALES, "returns"),
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


def _write_shared_rollups(
    session: Session, rows: _Rows, customer_months: list[Row], cohort_deltas: list[Row]
) -> None:
    """``customer_months``, then the rollups nearly every concurrent batch updates: the days'
    totals, the products and their pairs, the cohort grid. Written last (and ``data_version``
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


_IN_CHUNK = 500
_CUSTOMERS = Customer.__table__
_MONTHS = CustomerMonth.__table__


def _member(column: ColumnElement[Any], name: str, pg: bool) -> ColumnElement[bool]:
    """``column IN :name`` (an expanding parameter); on PostgreSQL ``column = ANY(:name)`` with
    the array as one text parameter (``_member_values``): the same statement text whatever the
    number of values, so the server prepares it once instead of planning each IN list."""
    if pg:
        return column == any_(cast(bindparam(name, type_=String), ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def _member_values(values: list[Any], pg: bool) -> Any:
    return pg_array_literal(values) if pg else values


_PG_PLANNER_SWITCHES = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")


def _key_lookups_only(session: Session, on: bool) -> None:
    """PostgreSQL: plan the cohort reads as index lookups (``on``), then back to the defaults.

    These reads fetch rows by a list of keys: index lookups are always the right plan.
    PostgreSQL without statistics (autovacuum off or behind, a freshly loaded table) estimates
    the key list as a large share of the table and hash-joins a sequential scan of
    ``customer_months`` instead, so every batch reads the whole table and ingest slows down as
    the data grows (seen at 75k-800k orders: 0.6-24 s per read). Disabled for these reads only
    (``SET LOCAL``: this transaction), one statement per setting so they can be pipelined."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    for name in _PG_PLANNER_SWITCHES:
        connection.exec_driver_sql(f"SET LOCAL {name} = off" if on else f"RESET {name}")


@functools.lru_cache(maxsize=4)
def _cohort_reads(pg: bool) -> tuple[Select[Any], Select[Any]]:
    """The two locking reads of ``_send_cohort_reads``, built once (parameters ``ids``,
    ``months``)."""
    first = (
        select(_CUSTOMERS.c.customer_id, _CUSTOMERS.c.first_order_month)
        .where(_member(_CUSTOMERS.c.customer_id, "ids", pg))
        .order_by(_CUSTOMERS.c.customer_id)
        .with_for_update()
    )
    # Only the rows this batch adds to, and those to move to an earlier cohort (tagged with
    # another cohort than the customer's first order month, now lowered by the upsert).
    existing = (
        select(
            _MONTHS.c.customer_id,
            _MONTHS.c.month_start,
            _MONTHS.c.cohort_month,
            # The stored integer: exact sums without Decimal.
            type_coerce(_MONTHS.c.order_value, BigInteger).label("order_value"),
        )
        .join(_CUSTOMERS, _CUSTOMERS.c.customer_id == _MONTHS.c.customer_id)
        .where(
            _member(_MONTHS.c.customer_id, "ids", pg),
            # Implied by the join, but the planners do not carry IN/ANY across it: without it
            # PostgreSQL may hash-join against a scan of every customer.
            _member(_CUSTOMERS.c.customer_id, "ids", pg),
            _member(_MONTHS.c.month_start, "months", pg)
            | (_MONTHS.c.cohort_month != _CUSTOMERS.c.first_order_month),
        )
        .order_by(_MONTHS.c.customer_id, _MONTHS.c.month_start)
        .with_for_update()
    )
    return first, existing


@dataclass
class _CohortState:
    """What ``customer_months`` holds for a batch's customers, read under their row locks."""

    # customer_id -> first order month (after this batch's ``customers`` upsert)
    first: dict[str, date]
    # (customer_id, month_start, cohort_month, order_value) of the stored rows this batch adds
    # to, and of those tagged with another cohort than the customer's first order month
    existing: list[Any]


def _send_cohort_reads(
    session: Session, activity: dict[tuple[str, date], list[int]]
) -> Callable[[], _CohortState]:
    """Send the two locking reads behind the cohort rollup for this batch's customer-months;
    the returned function gives their rows. On PostgreSQL they go on driver cursors (compiled
    once, ``DriverStatement``), so they can travel in the same pipeline as the writes before
    them (``pipelined``): call the function after the block. Elsewhere they run at once.

    Runs after the ``customers`` upsert: this transaction then holds the row lock of every
    customer in the batch (PostgreSQL, MySQL; SQLite holds the database write lock), and only a
    holder of that lock writes the customer's ``customer_months`` rows. So the customer's first
    order month and months read here (locking reads: the latest committed rows, also under
    MySQL's REPEATABLE READ) are settled, and moving the customer's contributions from the old
    cohort to the new one cannot race with another writer of the same customer. On PostgreSQL
    the caller brackets this with ``_key_lookups_only``.
    """
    state = _CohortState({}, [])
    if not activity:
        return lambda: state
    connection = session.connection()
    pg = connection.dialect.name == "postgresql"
    reads = _cohort_reads(pg)
    ids = sorted({customer_id for customer_id, _ in activity})
    months = _member_values(sorted({month for _, month in activity}), pg)
    chunks = [
        {"ids": _member_values(ids[i : i + _IN_CHUNK], pg), "months": months}
        for i in range(0, len(ids), _IN_CHUNK)
    ]
    if not pg:
        for params in chunks:
            first, existing = (connection.execute(read, params) for read in reads)
            state.first.update((cid, month) for cid, month in first)
            state.existing.extend(existing)
        return lambda: state
    read_first, read_existing = _driver_reads(connection.engine)
    driver = connection.connection.driver_connection
    sent = []
    for params in chunks:
        for statement in (read_first, read_existing):
            cursor = driver.cursor()  # type: ignore[union-attr]
            cursor.execute(statement.sql, statement.parameters(params))
            sent.append((statement, cursor))

    def rows() -> _CohortState:
        for statement, cursor in sent:
            found = [statement.row(raw) for raw in cursor.fetchall()]
            cursor.close()
            if statement is read_first:
                state.first.update((cid, month) for cid, month in found)
            else:
                state.existing.extend(found)
        return state

    return rows


@functools.lru_cache(maxsize=8)
def _driver_reads(engine: Engine) -> tuple[DriverStatement, DriverStatement]:
    """The PostgreSQL cohort reads compiled for ``engine``'s driver."""
    first, existing = _cohort_reads(True)
    return DriverStatement(engine, first), DriverStatement(engine, existing)


def _cohort_rows(
    activity: dict[tuple[str, date], list[int]], state: _CohortState, enc: Encoders
) -> tuple[list[Row], list[Row]]:
    """This batch's per-customer-month activity (``[orders, order_value]``) as encoded
    ``customer_months`` rows to add (``customer_id, month_start, cohort_month, orders,
    order_value``) and ``cohort_months`` deltas (``cohort_month, month_start, customers,
    revenue``), exact, including customers whose first order moved to an earlier month."""
    first = state.first
    # (cohort, month) -> [distinct customers delta, revenue delta]
    deltas: dict[tuple[date, date], list[int]] = defaultdict(lambda: [0, 0])
    # (customer, month) -> [cohort, orders, order_value]
    rows: dict[tuple[str, date], list[Any]] = {}

    def row(customer_id: str, month: date) -> list[Any]:
        return rows.setdefault((customer_id, month), [first[customer_id], 0, 0])

    stored = set()
    for customer_id, month, cohort, value in state.existing:
        stored.add((customer_id, month))
        cohort_now = first[customer_id]
        if cohort != cohort_now:
            # An older order arrived: the customer now belongs to an earlier cohort.
            old, new = deltas[(cohort, month)], deltas[(cohort_now, month)]
            old[0] -= 1
            old[1] -= value
            new[0] += 1
            new[1] += value
            row(customer_id, month)  # re-tagged by the upsert (cohort_month only decreases)
    for (customer_id, month), (orders, value) in activity.items():
        d = deltas[(first[customer_id], month)]
        if (customer_id, month) not in stored:
            d[0] += 1
        d[1] += value
        r = row(customer_id, month)
        r[1] += orders
        r[2] += value
    day = enc.date
    return (
        [(cid, day(m), day(cohort), n, v) for (cid, m), (cohort, n, v) in rows.items()],
        [(day(c), day(m), n, v) for (c, m), (n, v) in deltas.items() if n or v],
    )


# ---- refunds --------------------------------------------------------------------------------


def _bump(row: dict[str, Any], **deltas: Any) -> None:
    for name, delta in deltas.items():
        row[name] = row[name] + delta


def _calendar(day: date) -> dict[str, date]:
    return {"week_start": week_start(day), "month_start": month_start(day)}


@dataclass
class RefundResult:
    refund: Refund
    lines: list[RefundLine]
    created: bool


def record_refund(
    session: Session, order_id: str, body: RefundIn, store: StoreSettings, now: datetime
) -> RefundResult:
    """Store a refund against ``order_id`` and move its amount into ``returns``.

    Returns land on the store-local day of the refund (not of the order). The order's
    refundable amount (gross - discounts) is enforced with conditional updates, so two
    concurrent refunds cannot together exceed it. The caller commits.
    """
    order = session.get(Order, order_id)
    if order is None:
        raise Problem(404, "order-not-found", "Order not found", f"No order {order_id!r}.")
    amount = Decimal(body.amount)
    created_at = (body.created_at or now).astimezone(UTC)
    _validate_refund(body, amount, created_at, order, store, now, session)
    refund_id = body.refund_id or uuid.uuid4().hex
    day = local_day(created_at, store.timezone)
    inserted = insert_ignore(
        session,
        Refund.__table__,  # type: ignore[arg-type]
        {
            "refund_id": refund_id,
            "order_id": order.order_id,
            "amount": amount,
            "created_at": created_at,
            "refund_date": day,
            "reason": body.reason,
        },
    )
    if not inserted:
        return _existing_refund(session, refund_id, order_id)
    refundable = Order.gross_sales - Order.discounts
    moved = session.execute(
        update(Order)
        .where(Order.order_id == order_id, Order.refunded + amount <= refundable)
        .values(refunded=Order.refunded + amount)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise Problem(
            409,
            "refund-exceeds-order",
            "Refund exceeds the order",
            "Refunds on this order would exceed its gross sales minus discounts.",
            refundable=fmt(order.gross_sales - order.discounts - order.refunded, store.exponent),
        )
    lines = [
        RefundLine(refund_id=refund_id, sku=ln.sku, quantity=ln.quantity, amount=Decimal(ln.amount))
        for ln in body.lines or []
    ]
    for i, line in enumerate(lines):
        moved = session.execute(
            update(OrderLine)
            .where(
                OrderLine.order_id == order_id,
                OrderLine.sku == line.sku,
                OrderLine.returned_quantity + line.quantity <= OrderLine.quantity,
            )
            .values(returned_quantity=OrderLine.returned_quantity + line.quantity)
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) != 1:
            raise Problem(
                409,
                "refund-exceeds-order",
                "Refund exceeds the order",
                f"lines[{i}]: more units of {line.sku!r} returned than were ordered.",
            )
    session.add_all(lines)
    calendar = _calendar(day)
    upsert_add(
        session,
        Customer.__table__,  # type: ignore[arg-type]
        [
            {
                "customer_id": order.customer_id,
                "first_order_at": order.created_at,
                "last_order_at": order.created_at,
                "first_order_date": order.order_date,
                "first_order_month": month_start(order.order_date),
                "last_order_date": order.order_date,
                "returns": amount,
            }
        ],
        key=("customer_id",),
        add=("returns",),
    )
    upsert_add(
        session,
        DailySales.__table__,  # type: ignore[arg-type]
        [{"day": day, **calendar, "returns": amount}],
        key=("day",),
        add=("returns",),
    )
    per_sku: dict[str, dict[str, Any]] = {}
    for line in lines:
        row = per_sku.setdefault(
            line.sku,
            {"day": day, "sku": line.sku, **calendar, "returns": ZERO, "units_returned": 0},
        )
        _bump(row, returns=line.amount, units_returned=line.quantity)
    upsert_add(
        session,
        ProductDailySales.__table__,  # type: ignore[arg-type]
        list(per_sku.values()),
        key=("day", "sku"),
        add=("returns", "units_returned"),
    )
    bump_version(session)
    session.flush()
    refund = session.get(Refund, refund_id)
    assert refund is not None
    return RefundResult(refund=refund, lines=lines, created=True)


def _validate_refund(
    body: RefundIn,
    amount: Decimal,
    created_at: datetime,
    order: Order,
    store: StoreSettings,
    now: datetime,
    session: Session,
) -> None:
    errors: list[dict[str, str]] = []
    if amount <= 0:
        errors.append({"pointer": "/amount", "detail": "must be greater than 0"})
    if not _places_ok(body.amount, store.exponent):
        errors.append({"pointer": "/amount", "detail": f"at most {store.exponent} decimal places"})
    if created_at < order.created_at or created_at > now + MAX_FUTURE_SKEW:
        errors.append(
            {"pointer": "/created_at", "detail": "must be after the order and not in the future"}
        )
    if body.lines:
        skus = set(
            session.scalars(select(OrderLine.sku).where(OrderLine.order_id == order.order_id))
        )
        seen: set[str] = set()
        for i, line in enumerate(body.lines):
            if line.sku not in skus:
                errors.append({"pointer": f"/lines/{i}/sku", "detail": "not a sku of this order"})
            if line.sku in seen:
                errors.append({"pointer": f"/lines/{i}/sku", "detail": "sku listed twice"})
            seen.add(line.sku)
            if not _places_ok(line.amount, store.exponent):
                errors.append(
                    {
                        "pointer": f"/lines/{i}/amount",
                        "detail": f"at most {store.exponent} decimal places",
                    }
                )
        if sum((Decimal(ln.amount) for ln in body.lines), ZERO) != amount:
            errors.append({"pointer": "/lines", "detail": "line amounts must add up to amount"})
    if errors:
        raise validation_problem(errors)


def _existing_refund(session: Session, refund_id: str, order_id: str) -> RefundResult:
    """The stored refund ``refund_id`` (its insert was just ignored as a duplicate).

    Locking reads: another transaction may have committed it after this one's snapshot was
    taken (the ignored insert waited for that commit), and MySQL's REPEATABLE READ hides such a
    row from plain reads; a locking read sees the latest committed version on every engine."""
    refund = session.get(Refund, refund_id, with_for_update={"read": True}, populate_existing=True)
    if refund is None:
        raise AssertionError(f"refund {refund_id!r} was reported stored but cannot be read")
    if refund.order_id != order_id:
        raise Problem(
            409,
            "refund-id-conflict",
            "Refund id already used",
            f"refund_id {refund_id!r} belongs to another order.",
        )
    lines = list(
        session.scalars(
            select(RefundLine)
            .where(RefundLine.refund_id == refund_id)
            .order_by(RefundLine.id)
            .with_for_update(read=True)
        )
    )
    return RefundResult(refund=refund, lines=lines, created=False)
