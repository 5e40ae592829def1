"""BG/NBD (Fader, Hardie & Lee 2005) and the Gamma-Gamma spend model, fitted by maximum likelihood.

Per member: x = repeat purchase occasions (purchase days after the first), t_x = time from the first to the last
purchase day, T = time from the first purchase day to the end of the as-of day, all in weeks; zbar = mean spend of
the repeat purchase days. Identical (x, t_x, T) are fitted once with a weight, so a million members cost what their
few hundred thousand distinct histories cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    @property
    def mean_spend(self) -> float:
        """The population's expected spend per purchase (needs q > 1)."""
        return self.p * self.gamma / (self.q - 1)


class FitFailed(Exception):
    """The optimiser did not reach finite parameters: the caller falls back to the interval rule."""


class _Histories:
    """The distinct (x, t_x, T) histories with how many members have each, ordered as np.unique orders rows, and
    the distinct values of each column: the likelihood's special functions are taken once per distinct x, t_x or
    T and gathered (the same numbers, element by element, as computing them on every history)."""

    def __init__(self, x: Floats, t_x: Floats, big_t: Floats) -> None:
        order = np.lexsort((big_t, t_x, x))
        sx, st, s_big = x[order], t_x[order], big_t[order]
        starts = np.ones(len(x), dtype=np.bool_)
        starts[1:] = (sx[1:] != sx[:-1]) | (st[1:] != st[:-1]) | (s_big[1:] != s_big[:-1])
        first = np.flatnonzero(starts)
        self.weights = np.diff(np.append(first, len(x))).astype(np.float64)
        self.member_history = np.empty(len(x), dtype=np.int64)
        """For each member (input order), the index of their history."""
        self.member_history[order] = np.cumsum(starts) - 1
        self.x, self.t_x, self.big_t = sx[first], st[first], s_big[first]
        self.x_values, self.x_of = np.unique(self.x, return_inverse=True)
        self.t_values, self.t_of = np.unique(self.t_x, return_inverse=True)
        self.big_t_values, self.big_t_of = np.unique(self.big_t, return_inverse=True)
        self.repeats = np.flatnonzero(self.x > 0)
        self.x_of_repeats = self.x_of[self.repeats]
        self.t_of_repeats = self.t_of[self.repeats]


def _bgnbd_log_likelihood(params: Floats, h: _Histories) -> float:
    r, alpha, a, b = np.exp(params)
    xs = h.x_values
    a1 = special.gammaln(r + xs) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.gammaln(a + b) + special.gammaln(b + xs) - special.gammaln(b) - special.gammaln(a + b + xs)
    r_x = r + xs
    a3 = -r_x[h.x_of] * np.log(alpha + h.big_t_values)[h.big_t_of]
    repeat_x = xs > 0
    a4_by_x = np.full_like(xs, -np.inf)
    a4_by_x[repeat_x] = np.log(a) - np.log(b + xs[repeat_x] - 1)
    a4 = np.full_like(h.x, -np.inf)
    a4[h.repeats] = a4_by_x[h.x_of_repeats] - r_x[h.x_of_repeats] * np.log(alpha + h.t_values)[h.t_of_repeats]
    return float(np.sum(h.weights * ((a1 + a2)[h.x_of] + np.logaddexp(a3, a4))))


def fit_bgnbd(x: Floats, t_x: Floats, big_t: Floats) -> BgNbd:
    histories = _Histories(x, t_x, big_t)
    weights = histories.weights

    def objective(params: Floats) -> float:
        return -_bgnbd_log_likelihood(params, histories) / weights.sum()

    start = np.log(np.array([1.0, max(float(np.mean(big_t)), 1.0), 1.0, 1.0]))
    result = optimize.minimize(objective, start, method="L-BFGS-B")
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    if not all(np.isfinite(v) and 0 < v < 1e6 for v in (r, alpha, a, b)):
        raise FitFailed
    return BgNbd(r, alpha, a, b)


def p_alive(m: BgNbd, x: Floats, t_x: Floats, big_t: Floats) -> Floats:
    odds = np.zeros_like(x)
    repeat = x > 0
    xr = x[repeat]
    odds[repeat] = np.exp(
        np.log(m.a)
        - np.log(m.b + xr - 1)
        + (m.r + xr) * (np.log(m.alpha + big_t[repeat]) - np.log(m.alpha + t_x[repeat]))
    )
    return 1.0 / (1.0 + odds)


def expected_purchases(m: BgNbd, horizon: float, x: Floats, t_x: Floats, big_t: Floats) -> Floats:
    """Expected purchase occasions in the next `horizon` (weeks) given each member's history."""
    r, alpha, a, b = m.r, m.alpha, m.a, m.b
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, horizon / (alpha + big_t + horizon))
    ratio = np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + horizon)))
    numerator = (a + b + x - 1) / (a - 1) * (1 - ratio * hyp)
    return numerator * p_alive(m, x, t_x, big_t)


class _Repeaters:
    """What the spend likelihood needs that does not depend on the parameters, and the distinct x."""

    def __init__(self, x: Floats, zbar: Floats) -> None:
        self.x_values, self.x_of = np.unique(x, return_inverse=True)
        self.log_x = np.log(self.x_values)
        self.log_zbar = np.log(zbar)
        self.x_zbar = x * zbar
        self.count = len(x)


def _gg_log_likelihood(params: Floats, m: _Repeaters) -> float:
    p, q, gamma = np.exp(params)
    px = p * m.x_values
    by_x = special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(gamma)
    ll = (
        by_x[m.x_of]
        + (px - 1)[m.x_of] * m.log_zbar
        + (px * m.log_x)[m.x_of]
        - (px + q)[m.x_of] * np.log(m.x_zbar + gamma)
    )
    return float(np.sum(ll))


def fit_gamma_gamma(x: Floats, zbar: Floats) -> GammaGamma:
    """Fitted on members with repeat purchases and a positive mean spend."""
    repeaters = _Repeaters(x, zbar)

    def objective(params: Floats) -> float:
        return -_gg_log_likelihood(params, repeaters) / repeaters.count

    start = np.log(np.array([1.0, 2.0, max(float(np.mean(zbar)), 1.0)]))
    result = optimize.minimize(objective, start, method="L-BFGS-B")
    p, q, gamma = (float(v) for v in np.exp(result.x))
    if not all(np.isfinite(v) and 0 < v < 1e9 for v in (p, q, gamma)) or q <= 1:
        raise FitFailed
    return GammaGamma(p, q, gamma)


def expected_spend(m: GammaGamma, x: Floats, zbar: Floats) -> Floats:
    """Expected spend per purchase: the member's own mean shrunk toward the population's, more so for few repeats."""
    px = m.p * x
    weight = px / (px + m.q - 1)
    return (1 - weight) * m.mean_spend + weight * np.where(x > 0, zbar, 0.0)
