"""The numpy BG/NBD expectation against the paper's figure and a plain series, including frequent buyers (the fit
itself is checked on the CDNOW sample in tests/services/test_segments.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.insights.clv import BgNbd, _minimise, expected_purchases, p_alive

PUBLISHED = BgNbd(r=0.2426, alpha=4.4135, a=0.7927, b=2.4248)


def plain_expectation(m: BgNbd, horizon: float, x: float, t_x: float, big_t: float) -> float:
    """Fader, Hardie & Lee (2005) eq. 10 with 2F1 summed term by term in Python floats."""
    a_, b_, c_ = m.r + x, m.b + x, m.a + m.b + x - 1
    z = horizon / (m.alpha + big_t + horizon)
    term, total, n = 1.0, 1.0, 0
    while abs(term) > 1e-17 * abs(total) or n < 10:
        term *= (a_ + n) * (b_ + n) / ((c_ + n) * (n + 1)) * z
        total += term
        n += 1
    ratio = ((m.alpha + big_t) / (m.alpha + big_t + horizon)) ** (m.r + x)
    alive = p_alive(m, np.array([x]), np.array([t_x]), np.array([big_t]))[0]
    return float((m.a + m.b + x - 1) / (m.a - 1) * (1 - ratio * total) * alive)


def test_the_papers_example() -> None:
    # "a customer who made 2 repeat purchases, the last at 30.43 weeks, observed for 38.86 weeks: 1.226 in 39 weeks"
    found = expected_purchases(PUBLISHED, 39.0, np.array([2.0]), np.array([30.43]), np.array([38.86]))
    assert found[0] == pytest.approx(1.226, abs=5e-4)


@pytest.mark.parametrize(
    "model", [PUBLISHED, BgNbd(r=0.6, alpha=3.7, a=40.0, b=120.0), BgNbd(r=0.36, alpha=1.95, a=0.14, b=0.2)]
)
def test_both_series_agree_with_the_plain_sum(model: BgNbd) -> None:
    x = np.arange(0.0, 60.0)
    big_t = np.linspace(1.0, 104.0, len(x))
    t_x = np.where(x > 0, big_t * 0.8, 0.0)
    found = expected_purchases(model, 52.0, x, t_x, big_t)
    wanted = [plain_expectation(model, 52.0, *row) for row in zip(x, t_x, big_t, strict=True)]
    np.testing.assert_allclose(found, wanted, rtol=1e-9)


def test_a_daily_buyer_gets_a_finite_expectation() -> None:
    # 600 repeat days: the plain series' terms pass 1e300 here (SciPy's hyp2f1 returned nan).
    x, t_x, big_t = np.array([600.0]), np.array([103.0]), np.array([104.0])
    found = expected_purchases(PUBLISHED, 52.0, x, t_x, big_t)[0]
    ceiling = 600 / 104 * 52 * p_alive(PUBLISHED, x, t_x, big_t)[0]  # its own rate for a year, if it stays alive
    assert math.isfinite(found) and 0.5 * ceiling < found < ceiling


def test_a_step_outside_the_objectives_domain_counts_as_worse() -> None:
    # A line search that overshoots where the objective cannot be taken (math raises, as math.lgamma(0.0) does when
    # a fitted parameter underflows) backs off instead of ending the fit with a traceback.
    def objective(point: np.ndarray) -> float:
        return float((point[0] - 4.0) ** 2 + 0.0 * math.sqrt(5.0 - point[0]))

    assert _minimise(objective, np.array([0.0]))[0] == pytest.approx(4.0, abs=1e-3)
