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


def _bgnbd_log_likelihood(params: Floats, x: Floats, t_x: Floats, big_t: Floats, weights: Floats) -> float:
    r, alpha, a, b = np.exp(params)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + big_t)
    repeat = x > 0
    a4 = np.full_like(x, -np.inf)
    a4[repeat] = np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    return float(np.sum(weights * (a1 + a2 + np.logaddexp(a3, a4))))


def _distinct(*columns: Floats) -> tuple[list[Floats], Floats]:
    stacked = np.stack(columns, axis=1)
    rows, counts = np.unique(stacked, axis=0, return_counts=True)
    return [rows[:, i] for i in range(rows.shape[1])], counts.astype(np.float64)


def fit_bgnbd(x: Floats, t_x: Floats, big_t: Floats) -> BgNbd:
    (ux, ut, u_big), weights = _distinct(x, t_x, big_t)

    def objective(params: Floats) -> float:
        return -_bgnbd_log_likelihood(params, ux, ut, u_big, weights) / weights.sum()

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


def _gg_log_likelihood(params: Floats, x: Floats, zbar: Floats) -> float:
    p, q, gamma = np.exp(params)
    px = p * x
    ll = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(zbar)
        + px * np.log(x)
        - (px + q) * np.log(x * zbar + gamma)
    )
    return float(np.sum(ll))


def fit_gamma_gamma(x: Floats, zbar: Floats) -> GammaGamma:
    """Fitted on members with repeat purchases and a positive mean spend."""

    def objective(params: Floats) -> float:
        return -_gg_log_likelihood(params, x, zbar) / len(x)

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
