"""One stored order with its lines (``GET /orders/{order_id}``): the only read of the raw
``orders`` and ``order_lines`` tables, by primary key.

Unlike the other query modules it takes the ``Database``, not a ``Session``: the read is one
statement at the driver level, outside a transaction (``db.fetch_all``)."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from ..config import StoreSettings
from ..db import Database, fetch_all
from ..errors import Problem
from ..models import Order, OrderLine
from ..money import fmt
from ..schemas import LineOut, OrderOut

_ORDERS = Order.__table__
_LINES = OrderLine.__table__
# One statement at the driver level, outside a transaction (``db.fetch_all``): the order and
# its lines as of one moment, with no ORM or ``Connection`` work and no BEGIN/ROLLBACK.
_READ_ORDER = (
    select(
        _ORDERS,
        _LINES.c.sku,
        _LINES.c.quantity,
        _LINES.c.unit_price,
        _LINES.c.discount,
        _LINES.c.returned_quantity,
    )
    .select_from(_ORDERS.outerjoin(_LINES, _LINES.c.order_id == _ORDERS.c.order_id))
    .where(_ORDERS.c.order_id == bindparam("order_id"))
    .order_by(_LINES.c.line_number)
)


def order_detail(database: Database, order_id: str, store: StoreSettings) -> OrderOut:
    """The stored order ``order_id`` with its lines and refunded totals; 404
    ``order-not-found`` when there is none."""
    rows = fetch_all(database, _READ_ORDER, {"order_id": order_id})
    if not rows:
        raise Problem(404, "order-not-found", "Order not found", f"No order {order_id!r}.")
    order = rows[0]
    exp = store.exponent
    return OrderOut(
        order_id=order.order_id,
        customer_id=order.customer_id,
        created_at=order.created_at,
        order_date=order.order_date,
        currency=order.currency,
        units=order.units,
        gross_sales=fmt(order.gross_sales, exp),
        discounts=fmt(order.discounts, exp),
        shipping=fmt(order.shipping, exp),
        tax=fmt(order.tax, exp),
        refunded=fmt(order.refunded, exp),
        lines=[
            LineOut(
                sku=ln.sku,
                quantity=ln.quantity,
                unit_price=fmt(ln.unit_price, exp),
                discount=fmt(ln.discount, exp),
                returned_quantity=ln.returned_quantity,
            )
            for ln in rows
            if ln.sku is not None
        ],
    )
