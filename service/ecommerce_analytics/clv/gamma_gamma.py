"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value
Curves", after Colombo & Jiang 1999): a customer's spend per order varies around their own
mean, Gamma(``p``, ``nu``) per order with ``nu`` Gamma(``q``, ``gamma``) across customers.

Fitted on customers with at least one repeat purchase, from ``x`` (repeat purchase periods) and
``m`` (their mean spend per period); independent of the purchase counts by assumption.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import gammaln

Array = NDArray[np.float64]


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float


def log_likelihood(g: GammaGamma, x: Array, m: Array) -> Array:
    """Each customer's log-likelihood of their mean spend ``m`` over ``x`` purchases (the
    density of the mean, so it compares across customers with different ``x``)."""
    px = g.p * x
    return np.asarray(
        gammaln(px + g.q)
        - gammaln(px)
        - gammaln(g.q)
        + g.q * np.log(g.gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + g.q) * np.log(g.gamma + m * x),
        dtype=np.float64,
    )


def fit(x: Array, m: Array) -> tuple[GammaGamma, float]:
    """Maximum-likelihood parameters and the total log-likelihood. ``m`` must be positive
    (the caller leaves out customers whose repeat orders were all free)."""

    def objective(logs: np.ndarray[tuple[int], np.dtype[np.float64]]) -> float:
        p, q, gamma = np.exp(logs)
        return -float(log_likelihood(GammaGamma(p, q, gamma), x, m).mean())

    # Quasi-Newton on finite differences, as the purchase model: far fewer passes over the
    # repeat customers than a simplex.
    best = minimize(objective, np.zeros(3), method="L-BFGS-B", options={"ftol": 1e-12})
    p, q, gamma = (float(v) for v in np.exp(best.x))
    return GammaGamma(p, q, gamma), -float(best.fun) * len(x)


def expected_spend(g: GammaGamma, x: Array, m: Array) -> Array:
    """E[spend per order | x, m]: the customer's own mean weighted against the population's
    ``p * gamma / (q - 1)`` by how many orders it rests on (the population mean for ``x = 0``).
    Needs ``q > 1`` (else the population mean is infinite): the caller checks."""
    return np.asarray((g.gamma + m * x) * g.p / (g.p * x + g.q - 1), dtype=np.float64)
