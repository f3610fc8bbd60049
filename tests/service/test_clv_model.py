"""The CLV closed forms against arbitrary-precision evaluations of the papers' equations, where
double precision would fail: frequent buyers (large ``x``), long horizons, recent or long-gone
last purchases (``t_x`` near ``T`` or near 0)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from ecommerce_analytics.clv import bgnbd
from ecommerce_analytics.clv.bgnbd import BgNbd

CDNOW = BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)
mpmath.mp.dps = 60


def reference_expected(p: BgNbd, t: float, x: int, t_x: float, T: float) -> float:
    """Equation 10 as printed (the untransformed 2F1), in 60 significant digits."""
    r, alpha, a, b = (mpmath.mpf(v) for v in (p.r, p.alpha, p.a, p.b))
    z = t / (alpha + T + t)
    hyp = mpmath.hyp2f1(r + x, b + x, a + b + x - 1, z)
    num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    den = 1 + (a / (b + x - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 1
    return float(num / den)


def reference_loglik(p: BgNbd, x: int, t_x: float, T: float) -> float:
    r, alpha, a, b = (mpmath.mpf(v) for v in (p.r, p.alpha, p.a, p.b))
    a1 = mpmath.gamma(r + x) * alpha**r / mpmath.gamma(r)
    a2 = mpmath.gamma(a + b) * mpmath.gamma(b + x) / (mpmath.gamma(b) * mpmath.gamma(a + b + x))
    a3 = (1 / (alpha + T)) ** (r + x)
    a4 = (a / (b + x - 1)) / (alpha + t_x) ** (r + x) if x > 0 else 0
    return float(mpmath.log(a1 * a2 * (a3 + a4)))


CASES = [
    # (t, x, t_x, T): one-time buyer, typical, frequent and recent, frequent and long gone,
    # a decade-long horizon, a decade of weekly buying.
    (39.0, 0, 0.0, 38.86),
    (39.0, 2, 30.43, 38.86),
    (52.0, 300, 299.0, 300.0),
    (52.0, 300, 20.0, 300.0),
    (520.0, 5, 30.0, 39.0),
    (520.0, 520, 519.9, 520.0),
]


@pytest.mark.parametrize(("t", "x", "t_x", "T"), CASES)
def test_expected_orders_match_the_papers_equation(t: float, x: int, t_x: float, T: float) -> None:
    got = bgnbd.expected_orders(CDNOW, t, np.array([x]), np.array([t_x]), np.array([T]))[0]
    assert got == pytest.approx(reference_expected(CDNOW, t, x, t_x, T), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("t", "x", "t_x", "T"), CASES)
def test_log_likelihood_matches_the_papers_equation(t: float, x: int, t_x: float, T: float) -> None:
    got = bgnbd.log_likelihood(CDNOW, np.array([x]), np.array([t_x]), np.array([T]))[0]
    assert got == pytest.approx(reference_loglik(CDNOW, x, t_x, T), rel=1e-10)


def test_a_thousand_purchases_stay_finite_where_the_printed_form_overflows() -> None:
    """x = 5,000 purchases: ``((alpha+T)/(alpha+t_x)) ** (r+x)`` overflows a double when the last
    purchase was long ago; P(alive) is then ~0 and expected orders too, not NaN."""
    x, t_x, T = np.array([5000.0]), np.array([100.0]), np.array([1000.0])
    alive = bgnbd.p_alive(CDNOW, x, t_x, T)[0]
    expected = bgnbd.expected_orders(CDNOW, 52.0, x, t_x, T)[0]
    assert 0 <= alive < 1e-300
    assert 0 <= expected < 1e-290
    assert np.isfinite(bgnbd.log_likelihood(CDNOW, x, t_x, T)[0])


def test_unconditional_expectation_matches_equation_9() -> None:
    r, alpha, a, b = (mpmath.mpf(v) for v in (CDNOW.r, CDNOW.alpha, CDNOW.a, CDNOW.b))
    for t in (1.0, 39.0, 78.0, 1000.0):
        hyp = mpmath.hyp2f1(r, b, a + b - 1, t / (alpha + t))
        want = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)
        got = bgnbd.expected_orders_new(CDNOW, np.array([t]))[0]
        assert got == pytest.approx(float(want), rel=1e-9)
