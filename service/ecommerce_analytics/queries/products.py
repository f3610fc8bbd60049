"""Product performance from ``product_daily_sales``: O(product-days in the range)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..config import StoreSettings
from ..errors import validation_problem
from ..models import ProductDailySales as P
from ..money import ZERO, as_money, fmt, ratio
from ..schemas import Pagination, ProductFigures, ProductPerformance, ProductQuery, ProductRow

_SUMS: dict[str, Any] = {
    "orders": func.sum(P.orders),
    "units": func.sum(P.units),
    "units_returned": func.sum(P.units_returned),
    "gross_sales": func.sum(P.gross_sales),
    "discounts": func.sum(P.discounts),
    "returns": func.sum(P.returns),
}


def _aggregate(session: Session, start: Any, end: Any) -> Any:
    net = as_money(_SUMS["gross_sales"] - _SUMS["discounts"] - _SUMS["returns"]).label("net_sales")
    columns = [P.sku, *(expr.label(name) for name, expr in _SUMS.items()), net]
    return select(*columns).where(P.day.between(start, end)).group_by(P.sku), net


def _values(row: Any) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in (*_SUMS, "net_sales")}
    for name in ("orders", "units", "units_returned"):
        values[name] = int(values[name] or 0)
    for name in ("gross_sales", "discounts", "returns", "net_sales"):
        values[name] = Decimal(values[name] or ZERO)
    return values


def product_performance(
    session: Session, q: ProductQuery, store: StoreSettings
) -> ProductPerformance:
    """Products with sales or returns in the range, ranked by ``metric``, with the same
    figures for the previous period of equal length (ending the day before ``start``)."""
    length = q.end - q.start
    if q.start - date.min <= length:
        raise validation_problem(
            [
                {
                    "pointer": "/start",
                    "detail": "the previous period of equal length would begin before "
                    "0001-01-01, the first day of the calendar",
                }
            ],
            status=400,
        )
    prev_end = q.start - timedelta(days=1)
    prev_start = prev_end - length
    stmt, net = _aggregate(session, q.start, q.end)
    metric = {"net_sales": net, "units": _SUMS["units"], "orders": _SUMS["orders"]}[q.metric]
    ordering = metric.desc() if q.order == "top" else metric.asc()
    rows = list(session.execute(stmt.order_by(ordering, P.sku).limit(q.limit + 1).offset(q.offset)))
    has_more = len(rows) > q.limit
    rows = rows[: q.limit]
    skus = [row.sku for row in rows]
    previous: dict[str, dict[str, Any]] = {}
    if skus:
        prev_stmt, _ = _aggregate(session, prev_start, prev_end)
        for row in session.execute(prev_stmt.where(P.sku.in_(skus))):
            previous[row.sku] = _values(row)
    exp = store.exponent
    data = []
    for row in rows:
        cur = _values(row)
        prev = previous.get(row.sku, {"net_sales": ZERO, "units": 0, "orders": 0})
        data.append(
            ProductRow(
                sku=row.sku,
                net_sales=fmt(cur["net_sales"], exp),
                units=cur["units"],
                orders=cur["orders"],
                gross_sales=fmt(cur["gross_sales"], exp),
                discounts=fmt(cur["discounts"], exp),
                returns=fmt(cur["returns"], exp),
                units_returned=cur["units_returned"],
                previous=ProductFigures(
                    net_sales=fmt(prev["net_sales"], exp),
                    units=prev["units"],
                    orders=prev["orders"],
                ),
                change_pct={
                    name: ratio((cur[name] - prev[name]) * 100, prev[name], 2)
                    for name in ("net_sales", "units", "orders")
                },
            )
        )
    return ProductPerformance(
        start=q.start,
        end=q.end,
        previous_start=prev_start,
        previous_end=prev_end,
        metric=q.metric,
        order=q.order,
        currency=store.currency,
        data=data,
        pagination=Pagination(
            limit=q.limit, offset=q.offset, next_offset=q.offset + q.limit if has_more else None
        ),
    )
