"""``record_refund``: a refund against a stored order, its checks, the lookup of an already
stored refund (a retry), and the move of its amount into the ``returns`` rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, select, type_coerce, update
from sqlalchemy.orm import Session

from ..cache import bump_version
from ..config import StoreSettings
from ..errors import Problem, validation_problem
from ..models import (
    Customer,
    DailySales,
    Order,
    OrderLine,
    ProductDailySales,
    Refund,
    RefundLine,
)
from ..money import SCALE, ZERO, fmt
from ..periods import month_start, week_start
from ..schemas import RefundIn
from ..upsert import encoders, insert_ignore, upsert_add
from .stored_form import stored_refund
from .validation import refund_problems
from .value_counts import Added, Stored, value_count_rows, write_value_counts


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
    stored = stored_refund(order.order_id, body, store, now)
    skus: set[str] = set()
    if body.lines:
        skus.update(
            session.scalars(select(OrderLine.sku).where(OrderLine.order_id == order.order_id))
        )
    errors = refund_problems(body, amount, stored.created_at, order.created_at, skus, store, now)
    if errors:
        raise validation_problem(errors)
    refund_id, day = stored.refund_id, stored.day
    inserted = insert_ignore(
        session,
        Refund.__table__,  # type: ignore[arg-type]
        {
            "refund_id": refund_id,
            "order_id": order.order_id,
            "amount": amount,
            "created_at": stored.created_at,
            "refund_date": day,
            "reason": stored.reason,
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
                "net_sales": -amount,
            }
        ],
        key=("customer_id",),
        add=("returns", "net_sales"),
    )
    # Under the row lock the upsert took: the customer's net spend with this refund.
    net_now, orders, last_day = session.execute(
        select(
            type_coerce(Customer.net_sales, BigInteger), Customer.orders, Customer.last_order_date
        ).where(Customer.customer_id == order.customer_id)
    ).one()
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
    # The refund moves the customer between net spend buckets and RFM cells; their order
    # count and last order day stay.
    write_value_counts(
        session,
        value_count_rows(
            {order.customer_id: Added(-int(amount * SCALE), 0, last_day)},
            {order.customer_id: Stored(int(net_now), int(orders), last_day)},
            encoders(session),
        ),
    )
    bump_version(session)
    session.flush()
    refund = session.get(Refund, refund_id)
    assert refund is not None
    return RefundResult(refund=refund, lines=lines, created=True)


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
