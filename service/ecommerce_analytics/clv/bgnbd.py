"""The BG/NBD model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"):
its log-likelihood, maximum-likelihood fit, P(alive) and conditional expected orders.

Per customer: ``x`` repeat purchase periods (days with an order after the first), ``t_x`` the
time from the first to the last of them, ``T`` from the first to the end of the calibration,
all in the fit's time unit. Customers sharing ``(x, t_x, T)`` are one weighted row: with
day-granular times most one-time buyers share few rows, which keeps a fit of millions of
customers to seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, gammaln, hyp2f1, logsumexp

Array = NDArray[np.float64]


@dataclass(frozen=True)
class BgNbd:
    """Fitted parameters: purchase rates are Gamma(``r``, ``alpha``) across customers, the
    probability of dropping out after a purchase Beta(``a``, ``b``)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class Weighted:
    """Distinct ``(x, t_x, T)`` rows and how many customers share each."""

    x: Array
    t_x: Array
    T: Array
    weight: Array

    @classmethod
    def of(cls, x: Array, t_x: Array, T: Array) -> Weighted:
        rows, counts = np.unique(np.stack([x, t_x, T], axis=1), axis=0, return_counts=True)
        return cls(rows[:, 0], rows[:, 1], rows[:, 2], counts.astype(np.float64))


def log_likelihood(p: BgNbd, x: Array, t_x: Array, T: Array) -> Array:
    x = np.asarray(x, dtype=np.float64)
    """Each customer's log-likelihood (the paper's equation 6 as ln(A1..A4), the sum of its two
    terms by log-sum-exp, so large ``x`` or ``T`` neither overflow nor cancel)."""
    a1 = gammaln(p.r + x) - gammaln(p.r) + p.r * np.log(p.alpha)
    a2 = gammaln(p.a + p.b) + gammaln(p.b + x) - gammaln(p.b) - gammaln(p.a + p.b + x)
    a3 = -(p.r + x) * np.log(p.alpha + T)
    repeat = x > 0
    # ln(a / (b + x - 1)) - (r + x) ln(alpha + t_x): only customers with a repeat purchase.
    a4 = np.full_like(x, -np.inf)
    xr = x[repeat]
    a4[repeat] = np.log(p.a) - np.log(p.b + xr - 1) - (p.r + xr) * np.log(p.alpha + t_x[repeat])
    both = np.stack([a3, a4])
    return np.asarray(a1 + a2 + logsumexp(both, axis=0), dtype=np.float64)


def fit(data: Weighted) -> tuple[BgNbd, float]:
    """Maximum-likelihood parameters and the total log-likelihood. Optimised over the
    parameters' logarithms (all four are positive), from ``r = alpha = a = b = 1``."""
    total = float(data.weight.sum())

    def objective(logs: np.ndarray[tuple[int], np.dtype[np.float64]]) -> float:
        r, alpha, a, b = np.exp(logs)
        ll = log_likelihood(BgNbd(r, alpha, a, b), data.x, data.t_x, data.T)
        # Per customer, so the optimiser's tolerances mean the same at any sample size.
        return -float(np.dot(ll, data.weight)) / total

    # Quasi-Newton on finite differences: ~100 evaluations where a simplex took ~600, each
    # a pass over every distinct history (seconds at a million customers).
    best = minimize(objective, np.zeros(4), method="L-BFGS-B", options={"ftol": 1e-12})
    r, alpha, a, b = (float(v) for v in np.exp(best.x))
    return BgNbd(r, alpha, a, b), -float(best.fun) * total


def p_alive(p: BgNbd, x: Array, t_x: Array, T: Array) -> Array:
    """The probability that a customer with this history has not dropped out by ``T``
    (equation 11), 1 for one-time buyers (the model lets a customer drop out only right after
    a repeat purchase). In log space: ``((alpha + T) / (alpha + t_x)) ** (r + x)`` overflows for
    large ``x``."""
    x = np.asarray(x, dtype=np.float64)
    log_odds = np.full_like(x, -np.inf)
    repeat = x > 0
    xr = x[repeat]
    log_odds[repeat] = (
        np.log(p.a)
        - np.log(p.b + xr - 1)
        + (p.r + xr) * (np.log(p.alpha + T[repeat]) - np.log(p.alpha + t_x[repeat]))
    )
    return np.asarray(expit(-log_odds), dtype=np.float64)


def expected_orders(p: BgNbd, t: float | Array, x: Array, t_x: Array, T: Array) -> Array:
    """E[Y(t) | x, t_x, T]: the expected repeat purchase periods in the next ``t`` time units
    (equation 10).

    The equation's ``((alpha+T)/(alpha+T+t)) ** (r+x) * 2F1(r+x, b+x; a+b+x-1; z)`` with
    ``z = t / (alpha+T+t)`` is evaluated through Euler's transformation as
    ``(1-z) ** (a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z)``: the same value, but the original series
    diverges like ``(1-z) ** (a-1-r-x)`` as ``z`` nears 1 and loses every digit to
    cancellation for large ``x`` (a frequent buyer over a long horizon), while the transformed
    one has bounded parameters and a denominator growing with ``x``, so its terms shrink.
    Undefined at ``a = 1`` exactly (a fit never lands there)."""
    t = np.asarray(t, dtype=np.float64)
    z = t / (p.alpha + T + t)
    tail = (1 - z) ** (p.a - 1) * hyp2f1(p.a + p.b - 1 - p.r, p.a - 1, p.a + p.b + x - 1, z)
    lead = (p.a + p.b + x - 1) / (p.a - 1)
    return np.asarray(lead * (1 - tail) * p_alive(p, x, t_x, T), dtype=np.float64)


def expected_orders_new(p: BgNbd, t: Array) -> Array:
    """E[X(t)]: the expected repeat purchase periods of a customer ``t`` time units after their
    first purchase, knowing nothing else (equation 9); what the papers sum over a cohort's
    first purchase days to track its cumulative repeat purchases week by week. By the same
    Euler transformation as :func:`expected_orders` (``x = 0``, ``T = 0``)."""
    t = np.asarray(t, dtype=np.float64)
    z = t / (p.alpha + t)
    tail = (1 - z) ** (p.a - 1) * hyp2f1(p.a + p.b - 1 - p.r, p.a - 1, p.a + p.b - 1, z)
    return np.asarray((p.a + p.b - 1) / (p.a - 1) * (1 - tail), dtype=np.float64)
