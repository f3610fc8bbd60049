"""The order-day rollups (``customer_gaps``, ``lone_first_orders``) behind sales' customer
counts and the ranged returning rate: exact whatever the order in which orders arrive, across
batches, retries and concurrent writers, and after the migration that backfills them."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select

from ecommerce_analytics.models import CustomerDay, CustomerGap, LoneFirstOrder

from .conftest import Api, get_engine, new_key
from .factories import ingest_concurrently, order, order_day, period_of, random_orders

# Ranges with partial first and last periods, whole months, one day, and one before any order.
RANGES = [
    (date(2024, 1, 1), date(2024, 6, 30)),
    (date(2024, 1, 17), date(2024, 3, 9)),
    (date(2024, 2, 1), date(2024, 2, 29)),
    (date(2024, 3, 4), date(2024, 3, 4)),
    (date(2024, 2, 26), date(2024, 4, 14)),
    (date(2023, 1, 1), date(2023, 1, 31)),
]


def expected_counts(orders: list[dict[str, Any]], start: date, end: date, granularity: str):
    """Per period: (distinct customers, new customers); and the range's distinct customers."""
    first: dict[str, date] = {}
    for o in orders:
        c, d = o["customer_id"], order_day(o)
        first[c] = min(first.get(c, d), d)
    seen: dict[date, set[str]] = defaultdict(set)
    for o in orders:
        d = order_day(o)
        if start <= d <= end:
            seen[period_of(d, granularity)].add(o["customer_id"])
    new: dict[date, int] = defaultdict(int)
    for d in first.values():
        if start <= d <= end:
            new[period_of(d, granularity)] += 1
    periods = {p.isoformat(): (len(s), new[p]) for p, s in seen.items()}
    return periods, len(set().union(*seen.values()) if seen else set())


def expected_returning(orders: list[dict[str, Any]], start: date, end: date) -> tuple[int, int]:
    first: dict[str, date] = {}
    in_range: dict[str, int] = defaultdict(int)
    for o in orders:
        c, d = o["customer_id"], order_day(o)
        first[c] = min(first.get(c, d), d)
        if start <= d <= end:
            in_range[c] += 1
    returning = sum(1 for c, n in in_range.items() if n >= 2 or first[c] < start)
    return len(in_range), returning


def assert_counts_match(api: Api, orders: list[dict[str, Any]]) -> None:
    for start, end in RANGES:
        for granularity in ("day", "week", "month"):
            body = api.get("/api/v1/sales", start=start, end=end, granularity=granularity).json
            periods, total = expected_counts(orders, start, end, granularity)
            reported = {
                r["period"]: (r["customers"], r["new_customers"])
                for r in body["rows"]
                if r["customers"] or r["new_customers"]
            }
            assert reported == periods, (start, end, granularity)
            assert body["totals"]["customers"] == total, (start, end, granularity)
            assert body["totals"]["new_customers"] == sum(n for _, n in periods.values())
        rate = api.get("/api/v1/customers/returning-rate", start=start, end=end).json
        assert (rate["customers"], rate["returning_customers"]) == expected_returning(
            orders, start, end
        ), (start, end)


def assert_rollups_match_customer_days(app: Any) -> None:
    """Both rollups equal their definition over ``customer_days`` (zero rows aside)."""
    days: dict[str, dict[date, int]] = defaultdict(dict)
    with get_engine(app).connect() as conn:
        for c, d, n in conn.execute(
            select(CustomerDay.customer_id, CustomerDay.day, CustomerDay.orders)
        ):
            days[c][d] = n
        gaps = {
            (d, p): n
            for d, p, n in conn.execute(
                select(CustomerGap.day, CustomerGap.previous_day, CustomerGap.customers)
            )
            if n
        }
        lone = {
            (d, p): n
            for d, p, n in conn.execute(
                select(LoneFirstOrder.first_day, LoneFirstOrder.next_day, LoneFirstOrder.customers)
            )
            if n
        }
    want_gaps: dict[tuple[date, date], int] = defaultdict(int)
    want_lone: dict[tuple[date, date], int] = defaultdict(int)
    for per_day in days.values():
        ordered = sorted(per_day)
        for i, d in enumerate(ordered):
            want_gaps[(d, ordered[i - 1] if i else d)] += 1
        if per_day[ordered[0]] == 1:
            want_lone[(ordered[0], ordered[1] if len(ordered) > 1 else ordered[0])] += 1
    assert gaps == dict(want_gaps)
    assert lone == dict(want_lone)


def few_customers(n: int, seed: int) -> list[dict[str, Any]]:
    """Orders over five months from a handful of regulars (several orders on some days) and
    one-off customers (a single order ever)."""
    orders: list[dict[str, Any]] = random_orders(n, seed=seed, days=150)
    rng = random.Random(seed)
    for i, o in enumerate(orders):
        o["customer_id"] = f"G{rng.randint(0, 14):02d}" if i % 3 else f"ONCE-{i}"
    return orders


def test_counts_stay_exact_as_orders_arrive_in_any_order(api, app):
    """Batches arrive newest first, then shuffled, with repeats: after every step, every
    period's distinct and new customers and every range's returning rate are exact."""
    orders = few_customers(90, seed=11)
    newest_first = sorted(orders[:45], key=lambda o: o["created_at"], reverse=True)
    rest = orders[45:]
    random.Random(3).shuffle(rest)
    sent: list[dict[str, Any]] = []
    for batch in [newest_first[i : i + 9] for i in range(0, 45, 9)] + [
        rest[i : i + 5] for i in range(0, len(rest), 5)
    ]:
        assert api.post("/api/v1/orders", {"orders": batch}).status_code == 201
        sent.extend(batch)
        assert_rollups_match_customer_days(app)
    assert_counts_match(api, sent)
    # A retry of everything changes nothing; a second order on a customer's first day ends
    # their lone first order.
    assert api.post("/api/v1/orders", {"orders": orders[:30]}).status_code == 200
    first = min(orders, key=lambda o: o["created_at"])
    twin = order("TWIN", first["customer_id"], first["created_at"])
    assert api.post("/api/v1/orders", {"orders": [twin]}).status_code == 201
    assert_rollups_match_customer_days(app)
    assert_counts_match(api, [*sent, twin])


def test_concurrent_out_of_order_writers_keep_the_counts_exact(make_app, backend):
    app = make_app()
    key = new_key(app, "write", "read")
    orders = few_customers(160 if backend != "sqlite" else 80, seed=21)
    chunks = [orders[i : i + 6] for i in range(0, len(orders), 6)]
    plan = []
    for t in range(4 if backend != "sqlite" else 2):
        mine = list(chunks)  # every thread sends every chunk (retries), in its own order
        random.Random(t).shuffle(mine)
        plan.append(mine)
    assert ingest_concurrently(app, key, plan) == []
    assert_rollups_match_customer_days(app)
    assert_counts_match(Api(app.test_client(), key), orders)


def test_migration_backfills_the_order_day_rollups(app, api):
    from flask_migrate import downgrade, upgrade  # type: ignore[import-untyped]

    orders = few_customers(80, seed=4)
    assert api.post("/api/v1/orders", {"orders": orders}).status_code == 201
    get_engine(app).dispose()
    with app.app_context():
        downgrade(revision="0008")
        upgrade()
    assert_rollups_match_customer_days(app)
    assert_counts_match(api, orders)
    late = order("LATE", orders[0]["customer_id"], "2023-12-30T12:00:00+00:00")
    assert api.post("/api/v1/orders", {"orders": [late]}).status_code == 201
    assert_rollups_match_customer_days(app)
    assert_counts_match(api, [*orders, late])


def _probed(days: dict[date, int], batch_days: set[date]) -> dict[date, int]:
    """What ``day_probes`` reads of one customer's order days (after the batch): around each
    batch day the day before, the day and the two after; and the first day."""
    ordered = sorted(days)
    keep = {ordered[0]}
    for day in batch_days:
        i = ordered.index(day)
        keep.update(ordered[max(i - 1, 0) : i + 3])
    return {day: days[day] for day in keep}


def test_the_days_around_a_batch_give_the_same_deltas_as_the_whole_history():
    """The order-day deltas from the few days ``day_probes`` reads equal those from every
    order day of the customer, for random histories and batches anywhere in them (at the
    start, inside gaps, on existing days, several at once)."""
    from ecommerce_analytics.ingest.order_days import order_day_rows
    from ecommerce_analytics.upsert import dialect_encoders

    enc = dialect_encoders("postgresql")
    rng = random.Random(11)
    for _ in range(3000):
        span = rng.randint(1, 28)
        history = {
            date(2024, 1, 1 + rng.randrange(span)): rng.randint(1, 3)
            for _ in range(rng.randint(0, 8))
        }
        batch = {
            date(2024, 1, 1 + rng.randrange(span)): rng.randint(1, 2)
            for _ in range(rng.randint(1, 4))
        }
        after = dict(history)
        for day, n in batch.items():
            after[day] = after.get(day, 0) + n
        keyed = {("C", day): n for day, n in batch.items()}
        whole = [("C", day, n) for day, n in after.items()]
        probed = [("C", day, n) for day, n in _probed(after, set(batch)).items()]
        expected = order_day_rows(keyed, whole, enc)
        got = order_day_rows(keyed, probed, enc)
        assert sorted(got[0]) == sorted(expected[0]), (history, batch)
        assert sorted(got[1]) == sorted(expected[1]), (history, batch)
        assert sorted(got[2]) == sorted(expected[2]), (history, batch)
        # And the last order day moved from the old history's last to the new one's.
        moved = {enc.date(max(after)): 1}
        if history:
            moved[enc.date(max(history))] = moved.get(enc.date(max(history)), 0) - 1
        assert sorted(got[2]) == sorted((d, n) for d, n in moved.items() if n), (history, batch)
