"""The write-time cohort rollup (``customer_months``, ``cohort_months``): exact when a
customer's first order arrives after later ones, across batches and concurrent writers."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import func, select

from ecommerce_analytics.models import CohortMonthly, Customer, CustomerDay, CustomerMonth

from .conftest import Api, get_engine, new_key
from .factories import (
    expected_cohorts,
    ingest_concurrently,
    line_discount,
    line_gross,
    order,
    random_orders,
)

MONTHS = 5


def reported_cohorts(api: Api, start: str = "2023-01", end: str = "2024-12") -> dict[str, Any]:
    response = api.get("/api/v1/customers/cohorts", start=start, end=end, months=MONTHS)
    assert response.status_code == 200, response.json
    return {
        c["cohort"]: (
            c["customers"],
            [(m["active_customers"], m["revenue"]) for m in c["months"]],
        )
        for c in response.json["cohorts"]
    }


def assert_rollups_consistent(app: Any) -> None:
    """``cohort_months`` equals a regrouping of ``customer_days`` by the current cohorts."""
    with get_engine(app).connect() as conn:
        tagged = conn.execute(
            select(func.count())
            .select_from(CustomerMonth)
            .join(Customer, Customer.customer_id == CustomerMonth.customer_id)
            .where(CustomerMonth.cohort_month != Customer.first_order_month)
        ).scalar()
        assert tagged == 0
        stored = {
            (c, m): (n, int(v))
            for c, m, n, v in conn.execute(
                select(
                    CohortMonthly.cohort_month,
                    CohortMonthly.month_start,
                    CohortMonthly.customers,
                    CohortMonthly.revenue,
                ).where(CohortMonthly.customers != 0)
            )
        }
        leftover = conn.execute(
            select(func.count())
            .select_from(CohortMonthly)
            .where(CohortMonthly.customers == 0, CohortMonthly.revenue != 0)
        ).scalar()
        assert leftover == 0
        per_customer_month = (
            select(
                Customer.first_order_month.label("cohort"),
                CustomerDay.month_start.label("month"),
                CustomerDay.customer_id,
                func.sum(CustomerDay.order_value).label("value"),
            )
            .join(Customer, Customer.customer_id == CustomerDay.customer_id)
            .group_by(Customer.first_order_month, CustomerDay.month_start, CustomerDay.customer_id)
            .subquery()
        )
        recomputed = {
            (c, m): (n, int(v))
            for c, m, n, v in conn.execute(
                select(
                    per_customer_month.c.cohort,
                    per_customer_month.c.month,
                    func.count(),
                    func.sum(per_customer_month.c.value),
                ).group_by(per_customer_month.c.cohort, per_customer_month.c.month)
            )
        }
    assert stored == recomputed


def test_older_first_order_moves_the_customer_to_an_earlier_cohort(app, api):
    march = order("M1", "C1", "2024-03-05T12:00:00+00:00", [("S", 1, "10.00", None)])
    april = order("A1", "C1", "2024-04-07T12:00:00+00:00", [("S", 2, "10.00", None)])
    other = order("M2", "C2", "2024-03-09T12:00:00+00:00", [("S", 1, "5.00", None)])
    assert api.post("/api/v1/orders", {"orders": [march, april, other]}).status_code == 201
    before = reported_cohorts(api)
    assert before["2024-03"][0] == 2
    assert before["2024-03"][1][1] == (1, "20.00")
    # C1's real first order, from January, arrives last.
    january = order("J1", "C1", "2024-01-20T12:00:00+00:00", [("S", 3, "10.00", "1.00")])
    assert api.post("/api/v1/orders", {"orders": [january]}).status_code == 201
    after = reported_cohorts(api)
    assert after == expected_cohorts([march, april, other, january], MONTHS)
    assert after["2024-01"] == (
        1,
        [(1, "29.00"), (0, "0.00"), (1, "10.00"), (1, "20.00"), (0, "0.00"), (0, "0.00")],
    )
    assert after["2024-03"][0] == 1  # only C2 is left in March
    # Retrying the old order changes nothing.
    assert api.post("/api/v1/orders", {"orders": [january]}).status_code == 200
    assert reported_cohorts(api) == after
    assert_rollups_consistent(app)


def test_newest_first_batches_match_the_raw_orders(app, api):
    orders = random_orders(240, seed=11, days=150)
    orders.sort(key=lambda o: o["created_at"], reverse=True)
    for i in range(0, len(orders), 17):
        response = api.post("/api/v1/orders", {"orders": orders[i : i + 17]})
        assert response.status_code == 201, response.json
    # A refund does not change cohort revenue (orders' gross - discounts).
    o = orders[-1]
    line = o["lines"][0]
    amount = line_gross(line) - line_discount(line)
    body = {"refund_id": "RF-1", "amount": f"{amount}"}
    assert api.post(f"/api/v1/orders/{o['order_id']}/refunds", body).status_code == 201
    assert reported_cohorts(api) == expected_cohorts(orders, MONTHS)
    assert_rollups_consistent(app)


def test_concurrent_out_of_order_writers_are_exact(make_app, backend):
    app = make_app()
    key = new_key(app, "write", "read")
    orders = random_orders(200 if backend != "sqlite" else 90, seed=5, days=180)
    # Few customers, so writers keep moving the same customers between cohorts.
    for i, o in enumerate(orders):
        o["customer_id"] = f"K{i % 12:02d}"
    chunks = [orders[i : i + 8] for i in range(0, len(orders), 8)]
    threads_n = 5 if backend != "sqlite" else 3
    plan = []
    for t in range(threads_n):
        # Every thread sends every chunk (idempotent retries), each in its own order.
        mine = list(chunks)
        random.Random(t).shuffle(mine)
        plan.append(mine)
    errors = ingest_concurrently(app, key, plan)
    assert errors == []
    api = Api(app.test_client(), key)
    assert reported_cohorts(api) == expected_cohorts(orders, MONTHS)
    assert_rollups_consistent(app)


def test_migration_backfills_the_rollups_from_existing_data(app, api):
    from flask_migrate import downgrade, upgrade  # type: ignore[import-untyped]

    orders = random_orders(120, seed=3, days=150)
    orders.sort(key=lambda o: o["created_at"], reverse=True)
    for i in range(0, len(orders), 40):
        assert api.post("/api/v1/orders", {"orders": orders[i : i + 40]}).status_code == 201
    get_engine(app).dispose()
    with app.app_context():
        downgrade(revision="0002")
        upgrade()
    assert reported_cohorts(api) == expected_cohorts(orders, MONTHS)
    assert_rollups_consistent(app)
    # Writes after the backfill keep it exact, including a cohort move.
    late = order("LATE", orders[0]["customer_id"], "2023-12-30T12:00:00+00:00")
    assert api.post("/api/v1/orders", {"orders": [late]}).status_code == 201
    assert reported_cohorts(api) == expected_cohorts([*orders, late], MONTHS)
    assert_rollups_consistent(app)
