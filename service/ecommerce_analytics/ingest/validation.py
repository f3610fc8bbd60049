"""What an order or refund may hold beyond its schema: the limits (dates, the largest order,
decimal places) and ``validate_orders``, the batch checks pydantic cannot make alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..config import StoreSettings
from ..errors import validation_problem
from ..schemas import OrderIn
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
