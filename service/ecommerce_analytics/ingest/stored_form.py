"""An order's input (``OrderIn``) in the form ingest stores and sums it: money as integer
ten-thousandths, ``created_at`` in UTC, the store-local day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from ..config import StoreSettings
from ..money import SCALE
from ..periods import local_day
from ..schemas import OrderIn

INT_SCALE = int(SCALE)  # Money's stored unit: ten-thousandths


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
    created_at = order.created_at.astimezone(UTC)
    lines = [
        (line.sku, line.quantity, scaled(line.unit_price), scaled(line.discount))
        for line in order.lines
    ]
    return StoredOrder(
        order_id=order.order_id,
        customer_id=order.customer_id,
        created_at=created_at,
        day=local_day(created_at, store.timezone),
        lines=lines,
        units=sum(quantity for _, quantity, _, _ in lines),
        gross=sum(quantity * price for _, quantity, price, _ in lines),
        discounts=sum(discount for *_, discount in lines),
        shipping=scaled(order.shipping),
        tax=scaled(order.tax),
    )
