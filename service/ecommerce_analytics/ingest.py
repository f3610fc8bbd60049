"""Order and refund writes: raw rows plus every rollup, in the caller's transaction.

Only orders this transaction actually inserted touch the rollups, so a retried order (same
``order_id``) is counted once, however many times or however concurrently it arrives.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import combinations
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from .cache import bump_version
from .config import StoreSettings
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
from .money import ZERO, fmt
from .periods import local_day, month_start, week_start
from .schemas import OrderIn, RefundIn
from .upsert import insert_ignore, insert_ignore_many, upsert_add

# Accept a little clock skew from order sources, not timestamps from the future.
MAX_FUTURE_SKEW = timedelta(days=1)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def _dec(value: str | None) -> Decimal:
    return Decimal(value) if value is not None else ZERO


def _places_ok(value: str | None, exponent: int) -> bool:
    return value is None or "." not in value or len(value.split(".")[1]) <= exponent


def validate_orders(orders: list[OrderIn], store: StoreSettings, now: datetime) -> None:
    """Checks pydantic cannot make alone; raises one 422 listing every failing field."""
    errors: list[dict[str, str]] = []

    def err(pointer: str, detail: str) -> None:
        errors.append({"pointer": pointer, "detail": detail})

    seen: set[str] = set()
    for i, order in enumerate(orders):
        base = f"/orders/{i}"
        if order.order_id in seen:
            err(f"{base}/order_id", f"order_id {order.order_id!r} appears twice in the batch")
        seen.add(order.order_id)
        if order.currency != store.currency:
            err(f"{base}/currency", f"must be the store currency {store.currency}")
        if not EARLIEST <= order.created_at <= now + MAX_FUTURE_SKEW:
            err(f"{base}/created_at", "must be after 2000-01-01 and not in the future")
        for name in ("shipping", "tax"):
            if not _places_ok(getattr(order, name), store.exponent):
                err(f"{base}/{name}", f"at most {store.exponent} decimal places")
        skus: set[str] = set()
        for j, line in enumerate(order.lines):
            lp = f"{base}/lines/{j}"
            if line.sku in skus:
                err(f"{lp}/sku", "each sku at most once per order; merge the quantities")
            skus.add(line.sku)
            for name in ("unit_price", "discount"):
                if not _places_ok(getattr(line, name), store.exponent):
                    err(f"{lp}/{name}", f"at most {store.exponent} decimal places")
            if _dec(line.discount) > line.quantity * _dec(line.unit_price):
                err(f"{lp}/discount", "must not exceed quantity x unit_price")
    if errors:
        raise validation_problem(errors)


@dataclass
class IngestResult:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)


@dataclass
class _Rollups:
    """Deltas summed per rollup key in Python first: one upsert per key per transaction."""

    daily: dict[date, dict[str, Any]] = field(default_factory=dict)
    product_daily: dict[tuple[date, str], dict[str, Any]] = field(default_factory=dict)
    customer_days: dict[tuple[date, str], dict[str, Any]] = field(default_factory=dict)
    customer_months: dict[tuple[str, date], dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    pairs: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))


def _bump(row: dict[str, Any], **deltas: Any) -> None:
    for name, delta in deltas.items():
        row[name] = row[name] + delta


def _calendar(day: date) -> dict[str, date]:
    return {"week_start": week_start(day), "month_start": month_start(day)}


_INSERT_LINES = insert(OrderLine.__table__)  # type: ignore[arg-type]


def ingest_orders(
    session: Session, orders: list[OrderIn], store: StoreSettings, now: datetime
) -> IngestResult:
    """Store ``orders`` (already validated) and update rollups; the caller commits."""
    result = IngestResult()
    rollups = _Rollups()
    prepared = []
    # Sorted so concurrent batches take row locks in one global order.
    for order in sorted(orders, key=lambda o: o.order_id):
        created_at = order.created_at.astimezone(UTC)
        day = local_day(created_at, store.timezone)
        lines: list[dict[str, Any]] = [
            {
                "order_id": order.order_id,
                "line_number": n,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": Decimal(line.unit_price),
                "discount": _dec(line.discount),
            }
            for n, line in enumerate(order.lines, start=1)
        ]
        gross = sum((ln["quantity"] * ln["unit_price"] for ln in lines), ZERO)
        discounts = sum((ln["discount"] for ln in lines), ZERO)
        units = sum(ln["quantity"] for ln in lines)
        row = {
            "order_id": order.order_id,
            "customer_id": order.customer_id,
            "created_at": created_at,
            "order_date": day,
            "currency": order.currency,
            "units": units,
            "gross_sales": gross,
            "discounts": discounts,
            "shipping": _dec(order.shipping),
            "tax": _dec(order.tax),
            "refunded": ZERO,
            "ingested_at": now,
        }
        prepared.append((order, day, created_at, lines, gross, discounts, units, row))
    # Rollup deltas are summed before the first write, assuming every order is new (the usual
    # case): on SQLite the write lock is taken by the first INSERT and held until commit, so
    # Python work done before it does not serialize concurrent writers.
    for order, day, created_at, lines, gross, discounts, units, _row in prepared:
        _add_order(rollups, order, day, created_at, lines, gross, discounts, units)
    inserted = insert_ignore_many(
        session,
        Order.__table__,  # type: ignore[arg-type]
        [p[-1] for p in prepared],
    )
    if len(inserted) != len(prepared):
        # Some orders were stored before (a retry): count only the ones inserted now.
        rollups = _Rollups()
        for order, day, created_at, lines, gross, discounts, units, _row in prepared:
            if order.order_id in inserted:
                _add_order(rollups, order, day, created_at, lines, gross, discounts, units)
    new_lines: list[dict[str, Any]] = []
    for order, _day, _created_at, lines, *_rest in prepared:
        if order.order_id not in inserted:
            result.existing.append(order.order_id)
            continue
        result.created.append(order.order_id)
        new_lines.extend(lines)
    if new_lines:
        # Core on the session's connection: no ORM bulk-insert bookkeeping per row.
        session.connection().execute(_INSERT_LINES, new_lines)
    _write_rollups(session, rollups)
    if result.created:
        bump_version(session)
    # Report in request order.
    position = {o.order_id: i for i, o in enumerate(orders)}
    result.created.sort(key=position.__getitem__)
    result.existing.sort(key=position.__getitem__)
    return result


def _add_order(
    r: _Rollups,
    order: OrderIn,
    day: date,
    created_at: datetime,
    lines: list[dict[str, Any]],
    gross: Decimal,
    discounts: Decimal,
    units: int,
) -> None:
    zero_sales = {"orders": 0, "units": 0, "gross_sales": ZERO, "discounts": ZERO}
    daily = r.daily.setdefault(
        day,
        {
            "day": day,
            **_calendar(day),
            **zero_sales,
            "returns": ZERO,
            "shipping": ZERO,
            "tax": ZERO,
        },
    )
    _bump(
        daily,
        orders=1,
        units=units,
        gross_sales=gross,
        discounts=discounts,
        shipping=_dec(order.shipping),
        tax=_dec(order.tax),
    )
    for ln in lines:
        sku = ln["sku"]
        pd = r.product_daily.setdefault(
            (day, sku),
            {
                "day": day,
                "sku": sku,
                **_calendar(day),
                **zero_sales,
                "units_returned": 0,
                "returns": ZERO,
            },
        )
        _bump(
            pd,
            orders=1,
            units=ln["quantity"],
            gross_sales=ln["quantity"] * ln["unit_price"],
            discounts=ln["discount"],
        )
        product = r.products.setdefault(
            sku, {"sku": sku, "first_sold_at": created_at, "orders": 0, "units": 0}
        )
        product["first_sold_at"] = min(product["first_sold_at"], created_at)
        _bump(product, orders=1, units=ln["quantity"])
    for a, b in combinations(sorted(ln["sku"] for ln in lines), 2):
        r.pairs[(a, b)] += 1
    cd = r.customer_days.setdefault(
        (day, order.customer_id),
        {
            "day": day,
            "customer_id": order.customer_id,
            **_calendar(day),
            "orders": 0,
            "order_value": ZERO,
        },
    )
    _bump(cd, orders=1, order_value=gross - discounts)
    cm = r.customer_months.setdefault(
        (order.customer_id, month_start(day)), {"orders": 0, "order_value": ZERO}
    )
    _bump(cm, orders=1, order_value=gross - discounts)
    customer = r.customers.setdefault(
        order.customer_id,
        {
            "customer_id": order.customer_id,
            "first_order_at": created_at,
            "last_order_at": created_at,
            "first_order_date": day,
            "first_order_month": month_start(day),
            "last_order_date": day,
            **zero_sales,
            "returns": ZERO,
        },
    )
    customer["first_order_at"] = min(customer["first_order_at"], created_at)
    customer["last_order_at"] = max(customer["last_order_at"], created_at)
    customer["first_order_date"] = min(customer["first_order_date"], day)
    customer["first_order_month"] = min(customer["first_order_month"], month_start(day))
    customer["last_order_date"] = max(customer["last_order_date"], day)
    _bump(customer, orders=1, units=units, gross_sales=gross, discounts=discounts)


_SALES = ("orders", "units", "gross_sales", "discounts")


def _write_rollups(session: Session, r: _Rollups) -> None:
    # Table order is fixed too (see ingest_orders): products, customers, then per-day tables.
    upsert_add(
        session,
        Product.__table__,  # type: ignore[arg-type]
        list(r.products.values()),
        key=("sku",),
        add=("orders", "units"),
        least=("first_sold_at",),
    )
    upsert_add(
        session,
        Customer.__table__,  # type: ignore[arg-type]
        list(r.customers.values()),
        key=("customer_id",),
        add=(*_SALES, "returns"),
        least=("first_order_at", "first_order_date", "first_order_month"),
        greatest=("last_order_at", "last_order_date"),
    )
    upsert_add(
        session,
        DailySales.__table__,  # type: ignore[arg-type]
        list(r.daily.values()),
        key=("day",),
        add=(*_SALES, "returns", "shipping", "tax"),
    )
    upsert_add(
        session,
        ProductDailySales.__table__,  # type: ignore[arg-type]
        list(r.product_daily.values()),
        key=("day", "sku"),
        add=(*_SALES, "returns", "units_returned"),
    )
    upsert_add(
        session,
        CustomerDay.__table__,  # type: ignore[arg-type]
        list(r.customer_days.values()),
        key=("day", "customer_id"),
        add=("orders", "order_value"),
    )
    _write_cohorts(session, r.customer_months)
    upsert_add(
        session,
        ProductPair.__table__,  # type: ignore[arg-type]
        [{"sku_a": a, "sku_b": b, "orders": n} for (a, b), n in r.pairs.items()],
        key=("sku_a", "sku_b"),
        add=("orders",),
    )


_IN_CHUNK = 500


def _write_cohorts(session: Session, activity: dict[tuple[str, date], dict[str, Any]]) -> None:
    """Add this batch's per-customer-month activity to ``customer_months`` and
    ``cohort_months`` exactly, including customers whose first order moved to an earlier month.

    Runs after the ``customers`` upsert: this transaction then holds the row lock of every
    customer in the batch (PostgreSQL, MySQL; SQLite holds the database write lock), and only a
    holder of that lock writes the customer's ``customer_months`` rows. So the customer's first
    order month and months read here (locking reads: the latest committed rows, also under
    MySQL's REPEATABLE READ) are settled, and moving the customer's contributions from the old
    cohort to the new one cannot race with another writer of the same customer.
    """
    if not activity:
        return
    ids = sorted({customer_id for customer_id, _ in activity})
    months = sorted({month for _, month in activity})
    first: dict[str, date] = {}
    existing: list[Any] = []
    for i in range(0, len(ids), _IN_CHUNK):
        chunk = ids[i : i + _IN_CHUNK]
        first.update(
            (customer_id, month)
            for customer_id, month in session.execute(
                select(Customer.customer_id, Customer.first_order_month)
                .where(Customer.customer_id.in_(chunk))
                .order_by(Customer.customer_id)
                .with_for_update()
            )
        )
        # Only the rows this batch adds to, and those to move to an earlier cohort (tagged
        # with another cohort than the customer's first order month, now lowered by the upsert).
        existing.extend(
            session.execute(
                select(
                    CustomerMonth.customer_id,
                    CustomerMonth.month_start,
                    CustomerMonth.cohort_month,
                    CustomerMonth.order_value,
                )
                .join(Customer, Customer.customer_id == CustomerMonth.customer_id)
                .where(
                    CustomerMonth.customer_id.in_(chunk),
                    CustomerMonth.month_start.in_(months)
                    | (CustomerMonth.cohort_month != Customer.first_order_month),
                )
                .order_by(CustomerMonth.customer_id, CustomerMonth.month_start)
                .with_for_update()
            ).all()
        )
    # (cohort, month) -> [distinct customers delta, revenue delta]
    deltas: dict[tuple[date, date], list[Any]] = defaultdict(lambda: [0, ZERO])
    rows: dict[tuple[str, date], dict[str, Any]] = {}

    def row(customer_id: str, month: date) -> dict[str, Any]:
        return rows.setdefault(
            (customer_id, month),
            {
                "customer_id": customer_id,
                "month_start": month,
                "cohort_month": first[customer_id],
                "orders": 0,
                "order_value": ZERO,
            },
        )

    stored = set()
    for customer_id, month, cohort, value in existing:
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
    for (customer_id, month), delta in activity.items():
        d = deltas[(first[customer_id], month)]
        if (customer_id, month) not in stored:
            d[0] += 1
        d[1] += delta["order_value"]
        _bump(row(customer_id, month), **delta)
    upsert_add(
        session,
        CustomerMonth.__table__,  # type: ignore[arg-type]
        list(rows.values()),
        key=("customer_id", "month_start"),
        add=("orders", "order_value"),
        least=("cohort_month",),
    )
    upsert_add(
        session,
        CohortMonthly.__table__,  # type: ignore[arg-type]
        [
            {"cohort_month": c, "month_start": m, "customers": n, "revenue": v}
            for (c, m), (n, v) in deltas.items()
            if n or v
        ],
        key=("cohort_month", "month_start"),
        add=("customers", "revenue"),
    )


# ---- refunds --------------------------------------------------------------------------------


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
            "order_id": order_id,
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
    refund = session.get(Refund, refund_id)
    assert refund is not None
    if refund.order_id != order_id:
        raise Problem(
            409,
            "refund-id-conflict",
            "Refund id already used",
            f"refund_id {refund_id!r} belongs to another order.",
        )
    lines = list(session.scalars(select(RefundLine).where(RefundLine.refund_id == refund_id)))
    return RefundResult(refund=refund, lines=lines, created=False)
