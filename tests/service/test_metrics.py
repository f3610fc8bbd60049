"""Every metric against an independent plain-Python computation over the raw payloads."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import combinations
from typing import Any

import pytest

from .factories import (
    expected_cohorts,
    line_discount,
    line_gross,
    money,
    order,
    order_day,
    period_of,
    random_orders,
)

START, END = date(2024, 1, 10), date(2024, 4, 20)
ZERO = Decimal(0)


@pytest.fixture
def dataset(api):
    orders = random_orders(150)
    response = api.post("/api/v1/orders", {"orders": orders})
    assert response.status_code == 201, response.json
    refunds = []
    for o in orders[::15]:
        line = o["lines"][0]
        amount = line_gross(line) - line_discount(line)
        day = order_day(o) + timedelta(days=5)
        body = {
            "refund_id": f"RF-{o['order_id']}",
            "amount": f"{amount}",
            "created_at": f"{day.isoformat()}T12:00:00Z",
            "lines": [{"sku": line["sku"], "quantity": line["quantity"], "amount": f"{amount}"}],
        }
        r = api.post(f"/api/v1/orders/{o['order_id']}/refunds", body)
        assert r.status_code == 201, r.json
        refunds.append((o, body, day))
    return orders, refunds


def aov(gross: Decimal, discounts: Decimal, orders: int) -> str | None:
    if not orders:
        return None
    return money(((gross - discounts) / orders).quantize(Decimal("0.01"), ROUND_HALF_EVEN))


def first_order_days(orders):
    first: dict[str, date] = {}
    for o in orders:
        day = order_day(o)
        first[o["customer_id"]] = min(first.get(o["customer_id"], day), day)
    return first


def expected_sales(orders, refunds, start, end, granularity):
    rows: dict[date, dict[str, Any]] = defaultdict(
        lambda: {"orders": 0, "units": 0, "gross": ZERO, "disc": ZERO, "ret": ZERO, "cust": set()}
    )
    total: dict[str, Any] = {
        "orders": 0,
        "units": 0,
        "gross": ZERO,
        "disc": ZERO,
        "ret": ZERO,
        "cust": set(),
    }
    for o in orders:
        day = order_day(o)
        if not start <= day <= end:
            continue
        for bucket in (rows[period_of(day, granularity)], total):
            bucket["orders"] += 1
            bucket["units"] += sum(ln["quantity"] for ln in o["lines"])
            bucket["gross"] += sum(line_gross(ln) for ln in o["lines"])
            bucket["disc"] += sum(line_discount(ln) for ln in o["lines"])
            bucket["cust"].add(o["customer_id"])
    for _o, body, day in refunds:
        if start <= day <= end:
            rows[period_of(day, granularity)]["ret"] += Decimal(body["amount"])
            total["ret"] += Decimal(body["amount"])
    new: dict[date, int] = defaultdict(int)
    for day in first_order_days(orders).values():
        if start <= day <= end:
            new[period_of(day, granularity)] += 1

    def figures(b, new_customers):
        return {
            "orders": b["orders"],
            "units": b["units"],
            "gross_sales": money(b["gross"]),
            "discounts": money(b["disc"]),
            "returns": money(b["ret"]),
            "net_sales": money(b["gross"] - b["disc"] - b["ret"]),
            "average_order_value": aov(b["gross"], b["disc"], b["orders"]),
            "customers": len(b["cust"]),
            "new_customers": new_customers,
        }

    expected_rows = {p.isoformat(): figures(b, new[p]) for p, b in rows.items()}
    return expected_rows, figures(total, sum(new.values()))


@pytest.mark.parametrize("granularity", ["day", "week", "month"])
def test_sales_match_independent_computation(api, dataset, granularity):
    orders, refunds = dataset
    response = api.get("/api/v1/sales", start=START, end=END, granularity=granularity)
    assert response.status_code == 200
    report = response.json
    expected_rows, expected_totals = expected_sales(orders, refunds, START, END, granularity)
    got = {row.pop("period"): row for row in report["rows"]}
    # One row per period, empty periods included with zeros.
    assert list(got)[0] == period_of(START, granularity).isoformat()
    for period, row in got.items():
        if period in expected_rows:
            assert row == expected_rows[period], period
        else:
            assert row["orders"] == 0 and row["net_sales"] == "0.00" and row["returns"] == "0.00"
            assert row["average_order_value"] is None
    assert set(expected_rows) <= set(got)
    assert report["totals"] == expected_totals


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2024, 1, 1), date(2024, 4, 30)),  # whole months only
        (date(2024, 2, 1), date(2024, 2, 29)),  # one whole month
        (date(2024, 1, 10), date(2024, 1, 20)),  # inside one month
        (date(2024, 1, 31), date(2024, 3, 1)),  # one day, a whole month, one day
        (date(2024, 2, 1), date(2024, 3, 15)),  # whole then partial
    ],
)
def test_monthly_customer_counts_for_whole_and_partial_months(api, dataset, start, end):
    """Whole months count customers from the cohort rollup, partial ones from customer days:
    both must equal the distinct customers who ordered in the part of the month in range."""
    orders, refunds = dataset
    response = api.get("/api/v1/sales", start=start, end=end, granularity="month")
    assert response.status_code == 200
    expected_rows, expected_totals = expected_sales(orders, refunds, start, end, "month")
    got = {row["period"]: (row["customers"], row["new_customers"]) for row in response.json["rows"]}
    expected = {
        period: (row["customers"], row["new_customers"]) for period, row in expected_rows.items()
    }
    # Every month overlapping the range has a row; months without orders count zero.
    assert got == {period: expected.get(period, (0, 0)) for period in got}
    assert set(expected) <= set(got)
    assert response.json["totals"]["customers"] == expected_totals["customers"]


def product_figures(orders, refunds, start, end):
    figures: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"orders": 0, "units": 0, "gross": ZERO, "disc": ZERO, "ret": ZERO, "uret": 0}
    )
    for o in orders:
        if start <= order_day(o) <= end:
            for ln in o["lines"]:
                f = figures[ln["sku"]]
                f["orders"] += 1
                f["units"] += ln["quantity"]
                f["gross"] += line_gross(ln)
                f["disc"] += line_discount(ln)
    for _o, body, day in refunds:
        if start <= day <= end:
            for ln in body["lines"]:
                figures[ln["sku"]]["ret"] += Decimal(ln["amount"])
                figures[ln["sku"]]["uret"] += ln["quantity"]
    for f in figures.values():
        f["net"] = f["gross"] - f["disc"] - f["ret"]
    return figures


@pytest.mark.parametrize(("metric", "order_"), [("net_sales", "top"), ("units", "bottom")])
def test_product_performance_matches(api, dataset, metric, order_):
    orders, refunds = dataset
    start, end = date(2024, 3, 1), date(2024, 4, 29)
    current = product_figures(orders, refunds, start, end)
    previous = product_figures(orders, refunds, start - timedelta(days=60), start - timedelta(1))
    key = {"net_sales": "net", "units": "units"}[metric]
    sign = -1 if order_ == "top" else 1
    ranked = sorted(current, key=lambda sku: (sign * current[sku][key], sku))
    response = api.get(
        "/api/v1/products/performance", start=start, end=end, metric=metric, order=order_, limit=5
    )
    assert response.status_code == 200
    body = response.json
    assert body["previous_start"] == (start - timedelta(days=60)).isoformat()
    assert [row["sku"] for row in body["data"]] == ranked[:5]
    assert body["pagination"]["next_offset"] == 5
    for row in body["data"]:
        cur, prev = current[row["sku"]], previous[row["sku"]]
        assert row["net_sales"] == money(cur["net"])
        assert (row["units"], row["orders"], row["units_returned"]) == (
            cur["units"],
            cur["orders"],
            cur["uret"],
        )
        assert row["returns"] == money(cur["ret"])
        assert row["previous"] == {
            "net_sales": money(prev["net"]),
            "units": prev["units"],
            "orders": prev["orders"],
        }
        if prev["units"]:
            change = (cur["units"] - prev["units"]) * 100 / Decimal(prev["units"])
            assert row["change_pct"]["units"] == money(change)
    page2 = api.get(
        "/api/v1/products/performance",
        start=start,
        end=end,
        metric=metric,
        order=order_,
        limit=5,
        offset=5,
    ).json
    assert [row["sku"] for row in page2["data"]] == ranked[5:10]


def customer_figures(orders, refunds):
    customers: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"orders": 0, "gross": ZERO, "disc": ZERO, "ret": ZERO, "days": []}
    )
    for o in orders:
        c = customers[o["customer_id"]]
        c["orders"] += 1
        c["gross"] += sum(line_gross(ln) for ln in o["lines"])
        c["disc"] += sum(line_discount(ln) for ln in o["lines"])
        c["days"].append(order_day(o))
        c.setdefault("created", []).append(o["created_at"])
    for o, body, _day in refunds:
        customers[o["customer_id"]]["ret"] += Decimal(body["amount"])
    for c in customers.values():
        c["net"] = c["gross"] - c["disc"] - c["ret"]
    return customers


def test_customer_lifetime_value_matches(api, dataset):
    orders, refunds = dataset
    customers = customer_figures(orders, refunds)
    ranked = sorted(customers, key=lambda cid: (-customers[cid]["net"], cid))
    body = api.get("/api/v1/customers", limit=10).json
    assert [c["customer_id"] for c in body["data"]] == ranked[:10]
    for row in body["data"]:
        c = customers[row["customer_id"]]
        assert row["net_sales"] == money(c["net"])
        assert row["orders"] == c["orders"]
        assert row["average_order_value"] == aov(c["gross"], c["disc"], c["orders"])
        assert row["first_order_at"][:10] == min(c["days"]).isoformat()
        assert row["last_order_at"][:10] == max(c["days"]).isoformat()

    by_orders = api.get("/api/v1/customers", sort="orders", limit=500).json
    assert len(by_orders["data"]) == len(customers)
    assert by_orders["pagination"]["next_offset"] is None

    distribution = api.get("/api/v1/customers/ltv-distribution", buckets=4).json
    values = sorted(c["net"] for c in customers.values())
    n = len(values)
    assert distribution["customers"] == n
    assert distribution["total"] == money(sum(values))
    assert distribution["percentiles"]["p50"] == money(values[-(-50 * n // 100) - 1])
    assert distribution["percentiles"]["p90"] == money(values[-(-90 * n // 100) - 1])
    assert (distribution["min"], distribution["max"]) == (money(values[0]), money(values[-1]))
    assert sum(b["customers"] for b in distribution["histogram"]) == n


def test_returning_rate_matches(api, dataset):
    orders, _ = dataset
    first = first_order_days(orders)
    start, end = date(2024, 2, 1), date(2024, 3, 31)
    in_range: dict[str, int] = defaultdict(int)
    for o in orders:
        if start <= order_day(o) <= end:
            in_range[o["customer_id"]] += 1
    returning = [c for c, n in in_range.items() if n >= 2 or first[c] < start]
    body = api.get("/api/v1/customers/returning-rate", start=start, end=end).json
    assert body["customers"] == len(in_range)
    assert body["returning_customers"] == len(returning)
    assert body["returning_rate"] == f"{Decimal(len(returning)) / len(in_range):.4f}"

    all_time = api.get("/api/v1/customers/returning-rate").json
    counts: dict[str, int] = defaultdict(int)
    for o in orders:
        counts[o["customer_id"]] += 1
    assert all_time["customers"] == len(counts)
    assert all_time["returning_customers"] == sum(1 for n in counts.values() if n >= 2)


def test_cohorts_match(api, dataset):
    orders, _ = dataset
    expected = expected_cohorts(orders, months=3)
    body = api.get("/api/v1/customers/cohorts", start="2024-01", end="2024-03", months=3).json
    assert [c["cohort"] for c in body["cohorts"]] == ["2024-01", "2024-02", "2024-03"]
    for cohort in body["cohorts"]:
        size, months = expected[cohort["cohort"]]
        assert cohort["customers"] == size
        assert len(cohort["months"]) == 4
        assert cohort["months"][0]["retention"] == "1.0000"
        for m in cohort["months"]:
            active, revenue = months[m["month"]]
            assert m["active_customers"] == active
            assert m["revenue"] == revenue
            assert m["retention"] == f"{Decimal(active) / size:.4f}"


def test_bought_together_matches(api, dataset):
    orders, _ = dataset
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    singles: dict[str, int] = defaultdict(int)
    for o in orders:
        skus = sorted(ln["sku"] for ln in o["lines"])
        for sku in skus:
            singles[sku] += 1
        for pair in combinations(skus, 2):
            pairs[pair] += 1
    n = len(orders)
    ranked = sorted(pairs, key=lambda p: (-pairs[p], p))
    body = api.get("/api/v1/insights/bought-together", sort="support", limit=5).json
    assert body["total_orders"] == n
    assert [(r["sku_a"], r["sku_b"]) for r in body["data"]] == ranked[:5]
    for row in body["data"]:
        both = pairs[(row["sku_a"], row["sku_b"])]
        a, b = singles[row["sku_a"]], singles[row["sku_b"]]
        assert row["orders"] == both
        assert row["support"] == f"{Decimal(both) / n:.4f}"
        assert row["confidence_a_to_b"] == f"{Decimal(both) / a:.4f}"
        assert row["lift"] == f"{Decimal(both * n) / (a * b):.4f}"
    by_lift = api.get("/api/v1/insights/bought-together", limit=3, min_orders=3).json["data"]
    lifts = [Decimal(r["lift"]) for r in by_lift]
    assert lifts == sorted(lifts, reverse=True)
    assert all(r["orders"] >= 3 for r in by_lift)
    focus = api.get("/api/v1/insights/bought-together", sku="P03", min_orders=1).json["data"]
    assert focus and all(r["sku_a"] == "P03" for r in focus)


def test_rfm_and_churn_risk(api, dataset):
    orders, refunds = dataset
    customers = customer_figures(orders, refunds)
    latest = max(order_day(o) for o in orders)
    rfm = api.get("/api/v1/customers/rfm", limit=500).json
    assert rfm["as_of"] == latest.isoformat()
    assert sum(s["customers"] for s in rfm["segments"]) == len(customers)
    for row in rfm["data"]:
        c = customers[row["customer_id"]]
        assert row["recency_days"] == (latest - max(c["days"])).days
        assert row["frequency"] == c["orders"]
        assert row["monetary"] == money(c["net"])
        if row["segment"] == "champions":
            assert min(row["r"], row["f"], row["m"]) >= 4
    champions = api.get("/api/v1/customers/rfm", segment="champions").json["data"]
    assert all(r["segment"] == "champions" for r in champions)

    as_of = latest + timedelta(days=30)
    values = sorted(c["net"] for c in customers.values())
    threshold = values[-(-80 * len(values) // 100) - 1]
    expected = []
    for cid, c in customers.items():
        if c["net"] < threshold or c["net"] <= 0:
            continue
        days = (as_of - max(c["days"])).days
        interval = 0
        if c["orders"] >= 2:
            first, last = min(c["created"]), max(c["created"])
            from datetime import datetime

            span = datetime.fromisoformat(last) - datetime.fromisoformat(first)
            interval = round(span.days / (c["orders"] - 1))
        if days > max(30, 2 * interval):
            expected.append(cid)
    body = api.get(
        "/api/v1/insights/churn-risk", as_of=as_of, min_days=30, value_percentile=80, limit=500
    ).json
    assert body["value_threshold"] == money(threshold)
    assert sorted(r["customer_id"] for r in body["data"]) == sorted(expected)


def test_churn_risk_order_and_pages(api, dataset):
    orders, refunds = dataset
    customers = customer_figures(orders, refunds)
    as_of = max(order_day(o) for o in orders) + timedelta(days=30)
    query = {"as_of": as_of, "min_days": 30, "value_percentile": 50}
    full = api.get("/api/v1/insights/churn-risk", **query, limit=500).json["data"]
    ids = [r["customer_id"] for r in full]
    assert ids == sorted(ids, key=lambda cid: (-customers[cid]["net"], cid))
    assert len(ids) > 6
    page = api.get("/api/v1/insights/churn-risk", **query, limit=3, offset=2).json
    assert [r["customer_id"] for r in page["data"]] == ids[2:5]
    assert page["pagination"]["next_offset"] == 5
    last = api.get("/api/v1/insights/churn-risk", **query, limit=3, offset=len(ids) - 3).json
    assert [r["customer_id"] for r in last["data"]] == ids[-3:]
    assert last["pagination"]["next_offset"] is None


def test_bought_together_with_large_counts(api, app):
    """Order counts whose product overflows a 32-bit integer (best sellers at 1M orders)."""
    from datetime import UTC, datetime

    from ecommerce_analytics.db import get_db
    from ecommerce_analytics.models import Product, ProductPair

    with app.app_context(), get_db().sessionmaker.begin() as session:
        moment = datetime(2024, 1, 1, tzinfo=UTC)
        session.add_all(
            [
                Product(sku="BIG-A", first_sold_at=moment, orders=150_000, units=150_000),
                Product(sku="BIG-B", first_sold_at=moment, orders=120_000, units=120_000),
                ProductPair(sku_a="BIG-A", sku_b="BIG-B", orders=60_000),
            ]
        )
    body = api.get("/api/v1/insights/bought-together", min_orders=1).json
    assert [(r["sku_a"], r["sku_b"], r["orders"]) for r in body["data"]] == [
        ("BIG-A", "BIG-B", 60_000)
    ]


def _quintile_score(value: Any, values: list[Any]) -> int:
    ordered = sorted(values)
    n = len(ordered)
    cuts = [ordered[min(n - 1, (n * k) // 5)] for k in (1, 2, 3, 4)]
    return 1 + sum(1 for cut in cuts if value > cut)


def _segment(r: int, f: int, m: int) -> str:
    rules = [
        (r >= 4 and f >= 4 and m >= 4, "champions"),
        (r <= 2 and f >= 4 and m >= 4, "cant_lose"),
        (r >= 3 and f >= 4, "loyal"),
        (r >= 4 and f >= 2, "potential_loyalist"),
        (r >= 4, "new"),
        (r == 3 and f <= 2, "promising"),
        (r <= 2 and f >= 3, "at_risk"),
        (r == 2, "hibernating"),
        (r == 1, "lost"),
    ]
    return next((name for hit, name in rules if hit), "need_attention")


def test_rfm_scores_segments_and_order_match_independent_computation(api, dataset):
    orders, refunds = dataset
    customers = customer_figures(orders, refunds)
    latest = max(order_day(o) for o in orders)
    recency = {cid: (latest - max(c["days"])).days for cid, c in customers.items()}
    expected = {}
    for cid, c in customers.items():
        r = _quintile_score(-recency[cid], [-d for d in recency.values()])
        f = _quintile_score(c["orders"], [x["orders"] for x in customers.values()])
        m = _quintile_score(c["net"], [x["net"] for x in customers.values()])
        expected[cid] = (r, f, m, _segment(r, f, m))
    ranked = sorted(expected, key=lambda cid: (-sum(expected[cid][:3]), cid))
    body = api.get("/api/v1/customers/rfm", limit=500).json
    assert [row["customer_id"] for row in body["data"]] == ranked
    for row in body["data"]:
        assert (row["r"], row["f"], row["m"], row["segment"]) == expected[row["customer_id"]]
    counts: dict[str, int] = defaultdict(int)
    nets: dict[str, Decimal] = defaultdict(Decimal)
    for cid, (_r, _f, _m, name) in expected.items():
        counts[name] += 1
        nets[name] += customers[cid]["net"]
    assert [(s["segment"], s["customers"], s["net_sales"]) for s in body["segments"]] == [
        (name, counts[name], money(nets[name]))
        for name in sorted(counts, key=lambda name: (-counts[name], name))
    ]
    # Pages start and end anywhere across score totals (read one total at a time).
    for offset in range(0, len(ranked) + 7, 5):
        page = api.get("/api/v1/customers/rfm", limit=7, offset=offset).json
        assert [row["customer_id"] for row in page["data"]] == ranked[offset : offset + 7]
        more = offset + 7 < len(ranked)
        assert page["pagination"]["next_offset"] == (offset + 7 if more else None)
    name = expected[ranked[0]][3]
    in_segment = [c for c in ranked if expected[c][3] == name]
    only = api.get("/api/v1/customers/rfm", segment=name, limit=500).json["data"]
    assert [row["customer_id"] for row in only] == in_segment
    tail = api.get("/api/v1/customers/rfm", segment=name, limit=3, offset=2).json["data"]
    assert [row["customer_id"] for row in tail] == in_segment[2:5]


def test_ltv_percentiles_and_histogram_match(api, dataset):
    orders, refunds = dataset
    values = sorted(c["net"] for c in customer_figures(orders, refunds).values())
    n = len(values)
    body = api.get("/api/v1/customers/ltv-distribution", buckets=5).json
    for p in (10, 25, 50, 75, 90, 99):
        assert body["percentiles"][f"p{p}"] == money(values[max(1, -(-p * n // 100)) - 1])
    low, high = values[0], values[-1]
    counts = [0] * 5
    for v in values:
        counts[min(int((v - low) * 5 // (high - low)), 4)] += 1
    assert [b["customers"] for b in body["histogram"]] == counts


def test_day_boundaries_follow_the_store_time_zone(make_app):
    from .conftest import Api, new_key

    app = make_app(STORE_TIMEZONE="America/New_York")
    api = Api(app.test_client(), new_key(app, "read", "write"))
    # 03:00 UTC on 5 March is still 4 March in New York.
    api.post("/api/v1/orders", {"orders": [order("TZ1", created_at="2024-03-05T03:00:00Z")]})
    api.post("/api/v1/orders", {"orders": [order("TZ2", created_at="2024-03-05T09:00:00+05:00")]})
    body = api.get("/api/v1/sales", start="2024-03-04", end="2024-03-05").json
    assert body["timezone"] == "America/New_York"
    assert [(r["period"], r["orders"]) for r in body["rows"]] == [
        ("2024-03-04", 2),
        ("2024-03-05", 0),
    ]
    assert api.get("/api/v1/orders/TZ1").json["order_date"] == "2024-03-04"
