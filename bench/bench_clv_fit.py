"""Time the predictive lifetime value fit at a million customers (``make bench-clv``).

Usage: ``python bench/bench_clv_fit.py [--customers N] [--seed S] [--database-url URL]``

Customers are drawn from the BG/NBD and Gamma-Gamma models with the CDNOW parameters
(r=0.243, alpha=4.414, a=0.793, b=2.426; p=6.25, q=3.74, gamma=15.44), first orders spread over
two years, times in whole days expressed in weeks as the service derives them. Reported: the
wall time of each step ``flask clv fit`` runs after reading the histories (BG/NBD fit,
Gamma-Gamma fit, per-customer predictions over 12 months, the weekly and monthly forecast)
and the parameters recovered, which should be near the ones drawn from. With
``--database-url`` (a scratch database: it is migrated, and its predictions replaced), also the
write of every customer's prediction row, as the fit stores them. The read of the histories
(one grouped query over ``customer_days``) is not timed.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np

from ecommerce_analytics.clv import bgnbd, gamma_gamma
from ecommerce_analytics.clv.bgnbd import BgNbd
from ecommerce_analytics.clv.gamma_gamma import GammaGamma
from ecommerce_analytics.clv.history import Histories
from ecommerce_analytics.clv.predictions import forecast, predict

CDNOW = BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)
CDNOW_SPEND = GammaGamma(p=6.25, q=3.74, gamma=15.44)
UNIT_DAYS = 7.0


def draw(n: int, rng: np.random.Generator) -> Histories:
    """``n`` customers' histories drawn from the two models (in days, then weeks)."""
    age_days = rng.integers(1, 730, n)
    age = age_days / UNIT_DAYS
    rate = rng.gamma(CDNOW.r, 1 / CDNOW.alpha, n)
    drop = rng.beta(CDNOW.a, CDNOW.b, n)
    # Purchases a Poisson process while alive; alive for a geometric number of them.
    arrivals = rng.poisson(rate * age)
    lifetime = rng.geometric(drop)
    x = np.minimum(arrivals, lifetime)
    # The x-th of ``arrivals`` uniform times in (0, age), rounded to whole days.
    t_x = np.where(x > 0, age * rng.beta(np.maximum(x, 1), arrivals - x + 1), 0.0)
    t_x = np.minimum(np.round(t_x * UNIT_DAYS), age_days - 1).clip(0) / UNIT_DAYS
    nu = rng.gamma(CDNOW_SPEND.q, 1 / CDNOW_SPEND.gamma, n)
    mean = np.where(
        x > 0, rng.gamma(CDNOW_SPEND.p * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1))), 0.0
    )
    return Histories(
        customer_ids=[f"C{i}" for i in range(n)],
        frequency=x.astype(np.float64),
        recency=t_x,
        age=age,
        mean_repeat_spend=mean,
        first_day=(date(2026, 1, 1).toordinal() - age_days).astype(np.int64),
    )


def store(url: str, h: Histories, purchases: BgNbd, spend: GammaGamma) -> float:
    """Seconds to replace the predictions in the database at ``url`` (migrated first)."""
    from flask_migrate import upgrade  # type: ignore[import-untyped]

    from ecommerce_analytics import create_app
    from ecommerce_analytics.clv.fitting import store_predictions
    from ecommerce_analytics.db import get_db

    predicted = predict(purchases, spend, h, UNIT_DAYS, 12, 0.01)
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        with get_db().sessionmaker.begin() as session:
            store_predictions(session, 0, h, predicted)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--database-url", help="a scratch database to time the write on")
    args = parser.parse_args()
    h = draw(args.customers, np.random.default_rng(args.seed))
    repeat = (h.frequency > 0) & (h.mean_repeat_spend > 0)
    steps: list[tuple[str, float]] = []
    start = time.perf_counter()
    weighted = bgnbd.Weighted.of(h.frequency, h.recency, h.age)
    purchases, _ = bgnbd.fit(weighted)
    steps.append(("BG/NBD fit", time.perf_counter() - start))
    mark = time.perf_counter()
    spend, _ = gamma_gamma.fit(h.frequency[repeat], h.mean_repeat_spend[repeat])
    steps.append(("Gamma-Gamma fit", time.perf_counter() - mark))
    mark = time.perf_counter()
    predict(purchases, spend, h, UNIT_DAYS, 12, 0.01)
    steps.append(("predictions, 12 months", time.perf_counter() - mark))
    mark = time.perf_counter()
    forecast(purchases, h, UNIT_DAYS, date(2026, 1, 1), 12)
    steps.append(("forecast, weeks and months", time.perf_counter() - mark))
    if args.database_url:
        steps.append(("store predictions", store(args.database_url, h, purchases, spend)))
    total = time.perf_counter() - start
    print(
        f"{args.customers:,} customers ({int(repeat.sum()):,} repeat, "
        f"{len(weighted.x):,} distinct histories)"
    )
    for name, seconds in steps:
        print(f"  {name:<28} {seconds:7.2f} s")
    print(f"  {'total':<28} {total:7.2f} s")
    print(
        f"  recovered r={purchases.r:.3f} alpha={purchases.alpha:.3f} a={purchases.a:.3f} "
        f"b={purchases.b:.3f}; p={spend.p:.2f} q={spend.q:.2f} gamma={spend.gamma:.2f}"
    )


if __name__ == "__main__":
    main()
