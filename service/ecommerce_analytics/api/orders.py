"""Writes: order batches and refunds (scope ``write``); reading one order (scope ``read``)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint
from sqlalchemy.orm import Session

from ..config import current_store
from ..db import get_db, run_in_transaction
from ..ingest import IngestResult, RefundResult, ingest_orders, record_refund, validate_orders
from ..money import fmt
from ..queries.orders import order_detail
from ..schemas import (
    OrderBatchIn,
    OrderBatchOut,
    OrderOut,
    OrderPath,
    RefundIn,
    RefundLineOut,
    RefundOut,
)
from .routing import Link, endpoint

bp = Blueprint("orders", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "/orders",
    method="POST",
    summary="Ingest a batch of orders",
    scope="write",
    body=OrderBatchIn,
    response=OrderBatchOut,
    status=201,
    responses={
        201: "At least one order was created (`created` lists them)",
        200: "Every order was already stored (a retry); nothing was written",
    },
    links=(
        Link(201, "get_order", {"order_id": "$response.body#/created/0"}),
        Link(201, "post_refund", {"order_id": "$response.body#/created/0"}),
    ),
)
def post_orders(body: OrderBatchIn) -> OrderBatchOut | tuple[OrderBatchOut, int]:
    """Store 1-1000 orders, all or nothing. Idempotent on `order_id`: orders already stored
    are listed under `existing` and not counted again (the first version wins). 201 when at
    least one order was created, 200 when all already existed.

    Beyond the schema, each order must: be in the store currency (`STORE_CURRENCY`, default
    USD); have `created_at` from 2000-01-01 to one day after the time of the request; list each
    `sku` once; keep each line's `discount` at most `quantity` × `unit_price`; have a gross
    (`quantity` × `unit_price` over its lines) of at most 1,000,000,000,000; use at most the
    currency's decimal places (2 for USD) in every amount. `order_id`s are unique in a batch.
    A violation is a 422 naming each failing field."""
    store = current_store()
    now = datetime.now(UTC)
    validate_orders(body.orders, store, now)

    def work(session: Session) -> IngestResult:
        return ingest_orders(session, body.orders, store, now)

    result = run_in_transaction(get_db(), work)
    out = OrderBatchOut(created=result.created, existing=result.existing)
    return out, 201 if result.created else 200


@endpoint(
    bp,
    "/orders/<order_id>/refunds",
    method="POST",
    summary="Record a refund",
    scope="write",
    path=OrderPath,
    not_found="order",
    body=RefundIn,
    response=RefundOut,
    status=201,
    responses={
        201: "The refund was recorded (`status`: `created`)",
        200: "A refund with this `refund_id` was already recorded for this order (a retry; "
        "`status`: `existing`); nothing was written",
    },
    errors=(404, 409),
    links=(Link(201, "get_order", {"order_id": "$response.body#/order_id"}),),
)
def post_refund(order_id: str, body: RefundIn) -> RefundOut | tuple[RefundOut, int]:
    """Refund part or all of an order's merchandise (gross - discounts), optionally naming
    the returned lines. Idempotent on `refund_id`. Returns count on the refund's day.

    404 `order-not-found` for an unknown `order_id`, including one that is not a valid
    identifier (checked before the API key). 409 when the order's refunds would exceed its
    gross - discounts or return more units than were ordered, or the `refund_id` belongs to
    another order. Amounts use at most the currency's decimal places (2 for USD)."""
    store = current_store()
    now = datetime.now(UTC)

    def work(session: Session) -> RefundResult:
        return record_refund(session, order_id, body, store, now)

    result = run_in_transaction(get_db(), work)
    refund = result.refund
    exp = store.exponent
    out = RefundOut(
        refund_id=refund.refund_id,
        order_id=refund.order_id,
        amount=fmt(refund.amount, exp),
        created_at=refund.created_at,
        reason=refund.reason,
        lines=[
            RefundLineOut(sku=ln.sku, quantity=ln.quantity, amount=fmt(ln.amount, exp))
            for ln in result.lines
        ],
        status="created" if result.created else "existing",
    )
    return out, 201 if result.created else 200


@endpoint(
    bp,
    "/orders/<order_id>",
    summary="Read one order",
    scope="read",
    path=OrderPath,
    not_found="order",
    response=OrderOut,
    errors=(404,),
    links=(Link(200, "post_refund", {"order_id": "$response.body#/order_id"}),),
)
def get_order(order_id: str) -> OrderOut:
    """The stored order with its lines and refunded totals. 404 `order-not-found` for an
    unknown `order_id`, including one that is not a valid identifier (checked before the API
    key). Ids are compared exactly (case-sensitive)."""
    return order_detail(get_db(), order_id, current_store())
