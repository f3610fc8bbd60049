"""What an order or refund may hold beyond its schema: the limits (dates, the largest order,
decimal places), ``validate_orders``, the batch checks pydantic cannot make alone, and
``refund_problems``, a refund's checks against its order."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ..config import StoreSettings
from ..errors import validation_problem
from ..money import ZERO
from ..schemas import OrderIn, RefundIn
from .stored_form import INT_SCALE, scaled

# Accept a little clock skew from order sources, not timestamps from the future.
MAX_FUTURE_SKEW = timedelta(days=1)
MAX_ORDER_GROSS = 10**12
"""Largest gross of one order (quantity x unit_price over its lines), in currency units.
Money is stored as 64-bit integers of ten-thousandths (at most ~9.2 x 10^14 units): the cap
keeps one order's amounts exact on every database (MySQL's ``INSERT IGNORE`` would otherwise
clamp an overflowing amount, the others fail the whole batch) and leaves room for rollups."""
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def places_ok(value: str | None, exponent: int) -> bool:
    return value is None or len(value.partition(".")[2]) <= exponent


_ONE_SKU = "each sku at most once per order; merge the quantities"


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
        if not places_ok(order.shipping, exponent):
            err(f"{base}/shipping", places)
        if not places_ok(order.tax, exponent):
            err(f"{base}/tax", places)
        skus: set[str] = set()
        gross = 0
        for j, line in enumerate(order.lines):
            line_total = line.quantity * scaled(line.unit_price)
            gross += line_total
            if line.sku in skus:
                err(f"{base}/lines/{j}/sku", _ONE_SKU)
            skus.add(line.sku)
            if not places_ok(line.unit_price, exponent):
                err(f"{base}/lines/{j}/unit_price", places)
            if not places_ok(line.discount, exponent):
                err(f"{base}/lines/{j}/discount", places)
            if scaled(line.discount) > line_total:
                err(f"{base}/lines/{j}/discount", "must not exceed quantity x unit_price")
        if gross > MAX_ORDER_GROSS * INT_SCALE:
            err(
                f"{base}/lines",
                f"the order's gross (quantity x unit_price, summed) must not exceed "
                f"{MAX_ORDER_GROSS:,}",
            )
    if errors:
        raise validation_problem(errors)


def refund_problems(
    body: RefundIn,
    amount: Decimal,
    created_at: datetime,
    order_created_at: datetime,
    order_skus: Collection[str],
    store: StoreSettings,
    now: datetime,
) -> list[dict[str, str]]:
    """What is wrong with refund ``body`` (``amount`` its ``Decimal``, ``created_at`` when it
    happened) against an order placed at ``order_created_at`` with ``order_skus`` (only read
    when the refund has lines): the fields ``validation_problem`` reports, none when it may be
    stored. Whether it exceeds the order is checked as it is written (``record_refund``)."""
    errors: list[dict[str, str]] = []
    if amount <= 0:
        errors.append({"pointer": "/amount", "detail": "must be greater than 0"})
    if not places_ok(body.amount, store.exponent):
        errors.append({"pointer": "/amount", "detail": f"at most {store.exponent} decimal places"})
    if created_at < order_created_at or created_at > now + MAX_FUTURE_SKEW:
        errors.append(
            {"pointer": "/created_at", "detail": "must be after the order and not in the future"}
        )
    if body.lines:
        seen: set[str] = set()
        for i, line in enumerate(body.lines):
            if line.sku not in order_skus:
                errors.append({"pointer": f"/lines/{i}/sku", "detail": "not a sku of this order"})
            if line.sku in seen:
                errors.append({"pointer": f"/lines/{i}/sku", "detail": "sku listed twice"})
            seen.add(line.sku)
            if not places_ok(line.amount, store.exponent):
                errors.append(
                    {
                        "pointer": f"/lines/{i}/amount",
                        "detail": f"at most {store.exponent} decimal places",
                    }
                )
        if sum((Decimal(ln.amount) for ln in body.lines), ZERO) != amount:
            errors.append({"pointer": "/lines", "detail": "line amounts must add up to amount"})
    return errors
