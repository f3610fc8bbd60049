"""What the benchmark reads and with which settings: ``/healthz`` and every read endpoint
(``HEALTH``, ``READS``), the seeded year of orders they query (``seeded_period``), and
``Mode``, a run's sizes, durations, connections and live-phase rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

HEALTH = ("healthz", "/healthz")
# Every read endpoint, with the query a dashboard would send over the seeded year of data.
READS: tuple[tuple[str, str], ...] = (
    ("sales", "/api/v1/sales?start=2024-07-01&end=2025-06-30&granularity=month"),
    ("sales_daily", "/api/v1/sales?start=2025-04-01&end=2025-06-30&granularity=day"),
    ("products", "/api/v1/products/performance?start=2025-04-01&end=2025-06-30&limit=10"),
    ("customers", "/api/v1/customers?limit=20"),
    ("ltv_distribution", "/api/v1/customers/ltv-distribution"),
    ("returning_rate", "/api/v1/customers/returning-rate?start=2025-01-01&end=2025-06-30"),
    ("cohorts", "/api/v1/customers/cohorts?start=2024-07&end=2024-12&months=6"),
    ("rfm", "/api/v1/customers/rfm?limit=20"),
    ("bought_together", "/api/v1/insights/bought-together?limit=10"),
    ("churn_risk", "/api/v1/insights/churn-risk?limit=20"),
    ("order", "/api/v1/orders/SEED-000001"),
    ("openapi", "/api/v1/openapi.json"),
)


@dataclass(frozen=True)
class Mode:
    """A run's settings: order counts per backend, wrk seconds per run, warm-up seconds,
    rounds, wrk connections and seconds of the 1000-connection run (0: none)."""

    sizes: dict[str, tuple[int, ...]]
    duration: float
    warmup: float
    repeat: int
    connections: int
    c1000_duration: float
    # Live phase: seconds per endpoint while the writer runs, and its orders/s (0: no live phase).
    live_duration: float = 0
    live_rate: float = 0
    live_batch: int = 10


def seeded_period() -> tuple[date, date]:
    """First and last day of the year of orders ``seed`` writes."""
    from ecommerce_analytics import seed

    return seed.DEFAULT_END - timedelta(days=seed.DAYS - 1), seed.DEFAULT_END
