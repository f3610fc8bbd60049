"""An order's and a refund's input in the form ingest stores and sums it: money as integer
ten-thousandths, ``created_at`` in UTC, the store-local day; and their raw table rows.

Ingest (``ingest_orders``, ``record_refund``) and the benchmark's bulk loader
(``bench/bulk_seed.py``) both store through these, so the stored form has one definition."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ..config import StoreSettings
from ..money import SCALE
from ..periods import local_day
from ..schemas import OrderIn, RefundIn
from ..upsert import Encoders, Row

INT_SCALE = int(SCALE)  # Money's stored unit: ten-thousandths

# The written columns of ``orders`` and ``order_lines`` (``order_row``, ``line_rows``).
ORDER_COLUMNS = (
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
LINE_COLUMNS = ("order_id", "line_number", "sku", "quantity", "unit_price", "discount")
# ``refunds`` and ``refund_lines`` (``refund_row``, ``refund_line_rows``).
REFUND_COLUMNS = ("refund_id", "order_id", "amount", "created_at", "refund_date", "reason")
REFUND_LINE_COLUMNS = ("refund_id", "sku", "quantity", "amount")


def scaled(value: str | None) -> int:
    """A ``DecimalString`` (digits, at most four decimal places; ``None`` is 0) as an integer
    count of ten-thousandths: the stored ``Money`` representation, exact, with no ``Decimal``
    arithmetic."""
    if value is None:
        return 0
    whole, _, fraction = value.partition(".")
    return int(whole) * INT_SCALE + (int(fraction.ljust(4, "0")) if fraction else 0)


@dataclass
class StoredOrder:
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


def prepare_order(order: OrderIn, store: StoreSettings) -> StoredOrder:
    return stored_order(
        order.order_id,
        order.customer_id,
        order.created_at,
        [(line.sku, line.quantity, line.unit_price, line.discount) for line in order.lines],
        order.shipping,
        order.tax,
        store,
    )


def stored_order(
    order_id: str,
    customer_id: str,
    created_at: datetime,
    lines: Iterable[tuple[str, int, str, str | None]],
    shipping: str | None,
    tax: str | None,
    store: StoreSettings,
) -> StoredOrder:
    """``prepare_order`` from an order's values as validated (``OrderIn``'s fields; ``lines``
    as ``(sku, quantity, unit_price, discount)``, money as ``DecimalString``s), for a caller
    that holds them without the model (the bulk loader: building ``OrderIn`` costs more
    than the rest of the conversion)."""
    moment = created_at.astimezone(UTC)
    stored = [
        (sku, quantity, scaled(price), scaled(discount)) for sku, quantity, price, discount in lines
    ]
    return StoredOrder(
        order_id=order_id,
        customer_id=customer_id,
        created_at=moment,
        day=local_day(moment, store.timezone),
        lines=stored,
        units=sum(quantity for _, quantity, _, _ in stored),
        gross=sum(quantity * price for _, quantity, price, _ in stored),
        discounts=sum(discount for *_, discount in stored),
        shipping=scaled(shipping),
        tax=scaled(tax),
    )


def order_row(
    o: StoredOrder, currency: str, ingested_at: Any, enc: Encoders, refunded: int = 0
) -> Row:
    """``o``'s ``orders`` row (``ORDER_COLUMNS``), encoded; ``ingested_at`` comes encoded and
    ``refunded`` (default 0: a new order) in ten-thousandths."""
    return (
        o.order_id,
        o.customer_id,
        enc.datetime(o.created_at),
        enc.date(o.day),
        currency,
        o.units,
        o.gross,
        o.discounts,
        o.shipping,
        o.tax,
        refunded,
        ingested_at,
    )


def line_rows(o: StoredOrder) -> list[Row]:
    """``o``'s ``order_lines`` rows (``LINE_COLUMNS``), numbered from 1 in the order's order."""
    return [
        (o.order_id, n, sku, quantity, price, discount)
        for n, (sku, quantity, price, discount) in enumerate(o.lines, start=1)
    ]


@dataclass
class StoredRefund:
    """One refund in stored form: money as integer ten-thousandths, UTC ``created_at``, and the
    store-local day its returns land on."""

    refund_id: str
    order_id: str
    amount: int
    created_at: datetime
    day: date
    reason: str | None
    # (sku, quantity, amount)
    lines: list[tuple[str, int, int]]


def stored_refund(
    order_id: str, body: RefundIn, store: StoreSettings, now: datetime
) -> StoredRefund:
    """``body`` against ``order_id`` as stored: without ``created_at`` it happened ``now``,
    without ``refund_id`` it gets a random one."""
    created_at = (body.created_at or now).astimezone(UTC)
    return StoredRefund(
        refund_id=body.refund_id or uuid.uuid4().hex,
        order_id=order_id,
        amount=scaled(body.amount),
        created_at=created_at,
        day=local_day(created_at, store.timezone),
        reason=body.reason,
        lines=[(line.sku, line.quantity, scaled(line.amount)) for line in body.lines or []],
    )


def refund_row(r: StoredRefund, enc: Encoders) -> Row:
    """``r``'s ``refunds`` row (``REFUND_COLUMNS``), encoded."""
    return (
        r.refund_id,
        r.order_id,
        r.amount,
        enc.datetime(r.created_at),
        enc.date(r.day),
        r.reason,
    )


def refund_line_rows(r: StoredRefund) -> list[Row]:
    """``r``'s ``refund_lines`` rows (``REFUND_LINE_COLUMNS``)."""
    return [(r.refund_id, sku, quantity, amount) for sku, quantity, amount in r.lines]
