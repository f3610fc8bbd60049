"""The value at each rank of customers' net spend, as the percentile, RFM and churn figures
read it, against a plain sort in Python, on every engine (PostgreSQL reads it through
``percentile_disc`` fractions, the others by numbering rows)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from ecommerce_analytics.models import Customer
from ecommerce_analytics.queries.customers import net_sales, ranked

from .conftest import get_engine


def _customer(i: int, net: Decimal) -> Customer:
    day = date(2026, 1, 1)
    at = datetime(2026, 1, 1, 12, tzinfo=UTC)
    return Customer(
        customer_id=f"C{i:05d}",
        first_order_at=at,
        last_order_at=at,
        first_order_date=day,
        first_order_month=day,
        last_order_date=day,
        orders=1,
        units=1,
        gross_sales=net + Decimal("1.5"),
        discounts=Decimal("1.5"),
        returns=Decimal(0),
    )


@pytest.mark.parametrize("n", [1, 2, 3, 7, 100, 997])
def test_every_rank_is_the_value_a_sort_puts_there(app, n):
    rng = random.Random(n)
    # Few distinct values, so most ranks fall inside runs of ties; one negative (refunds).
    nets = [Decimal(rng.randrange(-3, 12)) / 4 for _ in range(n)]
    with Session(get_engine(app)) as session:
        session.add_all(_customer(i, net) for i, net in enumerate(nets))
        session.flush()
        found = ranked(session, net_sales(), range(1, n + 1), n)
        session.rollback()
    assert found == dict(enumerate(sorted(nets), start=1))
