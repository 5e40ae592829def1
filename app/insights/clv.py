"""BG/NBD (Fader, Hardie & Lee 2005) and the Gamma-Gamma spend model, fitted by maximum likelihood.

Per member: x = repeat purchase occasions (purchase days after the first), t_x = time from the first to the last
purchase day, T = time from the first purchase day to the end of the as-of day, all in weeks; zbar = mean spend of
the repeat purchase days. Identical (x, t_x, T) are fitted once with a weight, so a million members cost what their
few hundred thousand distinct histories cost.

Plain numpy, no SciPy (which alone was a quarter of the installed program, issue 15): x is a whole number of
purchase days, so every log-gamma term is taken once per distinct x (`math.lgamma`), and the likelihood is maximised
over the logs of the parameters by BFGS (`_minimise`). The CDNOW sample gives the published parameters
(tests/services/test_segments.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Indexes = npt.NDArray[np.intp]


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


def _lgamma(values: Floats) -> Floats:
    """log Γ of each value (all positive); called on the few distinct purchase counts, not on every member."""
    return np.array([math.lgamma(v) for v in values.tolist()], dtype=np.float64)


def _minimise(objective: Callable[[Floats], float], start: Floats) -> Floats:
    """A minimum of a smooth `objective` by BFGS with forward-difference gradients and a backtracking line search.
    A step that leaves the objective's domain (a value that is not finite, or a log-gamma of zero when a parameter
    underflows) counts as a worse point."""

    def value(point: Floats) -> float:
        try:
            found = objective(point)
        except (ValueError, OverflowError):
            return math.inf
        return found if math.isfinite(found) else math.inf

    def gradient(point: Floats, at_point: float) -> Floats:
        steps = 1e-7 * np.maximum(1.0, np.abs(point))
        grad = np.empty_like(point)
        for i, h in enumerate(steps):
            moved = point.copy()
            moved[i] += h
            grad[i] = (value(moved) - at_point) / h
        return grad

    point, current = start.astype(np.float64), value(start)
    if not math.isfinite(current):
        raise FitFailed
    grad, inverse = gradient(point, current), np.eye(len(start))
    for _ in range(500):
        direction = -inverse @ grad
        if not np.all(np.isfinite(direction)) or grad @ direction >= 0:
            inverse, direction = np.eye(len(start)), -grad
        step = 1.0
        while step > 1e-12 and value(point + step * direction) > current + 1e-4 * step * (grad @ direction):
            step /= 2
        if step <= 1e-12:
            break
        moved = step * direction
        point = point + moved
        previous, current = current, value(point)
        new_grad = gradient(point, current)
        change = new_grad - grad
        grad = new_grad
        if previous - current <= 1e-13 * (1 + abs(current)) or float(np.max(np.abs(grad))) < 1e-8:
            break
        curvature = float(change @ moved)
        if curvature > 1e-14:
            rho = 1 / curvature
            left = np.eye(len(start)) - rho * np.outer(moved, change)
            inverse = left @ inverse @ left.T + rho * np.outer(moved, moved)
    if not np.all(np.isfinite(grad)):
        raise FitFailed
    return point


@dataclass(frozen=True)
class _Histories:
    """Distinct (x, t_x, T) histories with their weights, and for each value the likelihood takes a log or a
    log-gamma of, its distinct values and where each history finds its own: the logs are taken once per distinct
    value (a few hundred ages and spans, not a million members) and gathered."""

    x: Floats
    weights: Floats
    counts: Floats
    """The distinct values of x, and x = counts[at]."""
    at: Indexes
    ages: Floats
    """The distinct values of T, and T = ages[age_at]."""
    age_at: Indexes
    repeat: Indexes
    """The histories with x > 0."""
    spans: Floats
    """The distinct values of t_x among those, and t_x[repeat] = spans[span_at]."""
    span_at: Indexes

    @classmethod
    def of(cls, x: Floats, t_x: Floats, big_t: Floats) -> _Histories:
        (ux, ut, u_big), rows = _distinct(x, t_x, big_t)
        counts, at = np.unique(ux, return_inverse=True)
        ages, age_at = np.unique(u_big, return_inverse=True)
        repeat = np.flatnonzero(ux > 0)
        spans, span_at = np.unique(ut[repeat], return_inverse=True)
        weights = np.bincount(rows).astype(np.float64)
        return cls(ux, weights, counts, at, ages, age_at, repeat, spans, span_at)


def _bgnbd_log_likelihood(params: Floats, h: _Histories) -> float:
    r, alpha, a, b = np.exp(params)
    # lgamma(r + x) - lgamma(r) + lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x), per distinct x
    gammas = (
        _lgamma(r + h.counts)
        - math.lgamma(r)
        + math.lgamma(a + b)
        + _lgamma(b + h.counts)
        - math.lgamma(b)
        - _lgamma(a + b + h.counts)
    )
    a12 = gammas[h.at] + r * np.log(alpha)
    a3 = -(r + h.x) * np.log(alpha + h.ages)[h.age_at]
    a4 = np.full_like(h.x, -np.inf)
    x_repeat = h.x[h.repeat]
    # log(b + x - 1) for x >= 1, per distinct x (a purchase count of 0 takes log(b), never used)
    log_b = np.log(b + np.maximum(h.counts, 1.0) - 1)
    a4[h.repeat] = np.log(a) - log_b[h.at[h.repeat]] - (r + x_repeat) * np.log(alpha + h.spans)[h.span_at]
    return float(np.sum(h.weights * (a12 + np.logaddexp(a3, a4))))


def _distinct(*columns: Floats) -> tuple[list[Floats], Indexes]:
    """The distinct rows of `columns` (as columns) and, for each original row, the index of its distinct row."""
    order = np.lexsort(columns[::-1])
    ordered = [column[order] for column in columns]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = np.any([np.diff(column) != 0 for column in ordered], axis=0)
    at = np.empty(len(order), dtype=np.intp)
    at[order] = np.cumsum(starts) - 1
    return [column[starts] for column in ordered], at


def fit_bgnbd(x: Floats, t_x: Floats, big_t: Floats) -> BgNbd:
    histories = _Histories.of(x, t_x, big_t)
    total = float(histories.weights.sum())

    def objective(params: Floats) -> float:
        return -_bgnbd_log_likelihood(params, histories) / total

    start = np.log(np.array([1.0, max(float(np.mean(big_t)), 1.0), 1.0, 1.0]))
    r, alpha, a, b = (float(v) for v in np.exp(_minimise(objective, start)))
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


def _scaled_hyp2f1(log_factor: Floats, a: Floats, b: Floats, c: Floats, z: Floats) -> Floats:
    """exp(log_factor) · 2F1(a, b; c; z) for 0 <= z < 1, by the power series: each element is summed until its terms
    shrink below 1e-15 of the sum, rescaled as it goes so that a huge sum and a tiny factor do not overflow."""
    total, term, scale = np.ones_like(z), np.ones_like(z), np.zeros_like(z)
    active = np.arange(len(z))
    n = 0
    while active.size:
        ratio = (a[active] + n) * (b[active] + n) / ((c[active] + n) * (n + 1)) * z[active]
        term[active] *= ratio
        total[active] += term[active]
        huge = active[np.abs(total[active]) > 1e250]
        total[huge] /= 1e250
        term[huge] /= 1e250
        scale[huge] += math.log(1e250)
        done = (np.abs(term[active]) <= 1e-15 * np.abs(total[active])) & (np.abs(ratio) < 1)
        active = active[~done]
        n += 1
    return np.sign(total) * np.exp(log_factor + np.log(np.abs(total)) + scale)


def expected_purchases(m: BgNbd, horizon: float, x: Floats, t_x: Floats, big_t: Floats) -> Floats:
    """Expected purchase occasions in the next `horizon` (weeks) given each member's history."""
    r, alpha, a, b = m.r, m.alpha, m.a, m.b
    # ((α+T)/(α+T+h))^(r+x) · 2F1(r+x, b+x; a+b+x-1; z), z = h/(α+T+h), summed once per distinct (x, T). Its series
    # needs about (r+x)·z/(1-z) terms; Euler's transformation, (1-z)^(a-1) · 2F1(a+b-1-r, a-1; a+b+x-1; z), about
    # |a-1|·z/(1-z): each member gets the shorter one.
    (ux, u_big), at = _distinct(x, big_t)
    z = horizon / (alpha + u_big + horizon)
    euler = abs(a - 1) < r + ux
    c = a + b + ux - 1
    scaled = np.empty_like(z)
    e, o = euler, ~euler
    scaled[e] = _scaled_hyp2f1(
        (a - 1) * np.log1p(-z[e]), np.full_like(z[e], a + b - 1 - r), np.full_like(z[e], a - 1), c[e], z[e]
    )
    scaled[o] = _scaled_hyp2f1((r + ux[o]) * np.log1p(-z[o]), r + ux[o], b + ux[o], c[o], z[o])
    numerator = (a + b + x - 1) / (a - 1) * (1 - scaled[at])
    return numerator * p_alive(m, x, t_x, big_t)


def _gg_log_likelihood(
    params: Floats, x: Floats, logs: tuple[Floats, Floats, Floats], counts: Floats, at: Indexes
) -> float:
    """`logs` are log(zbar), log(x) and x·zbar (taken once, they do not depend on the parameters); `counts` are
    the distinct values of x, and x = counts[at]."""
    p, q, gamma = np.exp(params)
    log_zbar, log_x, spend = logs
    gammas = _lgamma(p * counts + q) - _lgamma(p * counts) - math.lgamma(q)
    px = p * x
    ll = gammas[at] + q * np.log(gamma) + (px - 1) * log_zbar + px * log_x - (px + q) * np.log(spend + gamma)
    return float(np.sum(ll))


def fit_gamma_gamma(x: Floats, zbar: Floats) -> GammaGamma:
    """Fitted on members with repeat purchases and a positive mean spend."""

    counts, at = np.unique(x, return_inverse=True)
    logs = (np.log(zbar), np.log(x), x * zbar)

    def objective(params: Floats) -> float:
        return -_gg_log_likelihood(params, x, logs, counts, at) / len(x)

    start = np.log(np.array([1.0, 2.0, max(float(np.mean(zbar)), 1.0)]))
    p, q, gamma = (float(v) for v in np.exp(_minimise(objective, start)))
    if not all(np.isfinite(v) and 0 < v < 1e9 for v in (p, q, gamma)) or q <= 1:
        raise FitFailed
    return GammaGamma(p, q, gamma)


def expected_spend(m: GammaGamma, x: Floats, zbar: Floats) -> Floats:
    """Expected spend per purchase: the member's own mean shrunk toward the population's, more so for few repeats."""
    px = m.p * x
    weight = px / (px + m.q - 1)
    return (1 - weight) * m.mean_spend + weight * np.where(x > 0, zbar, 0.0)
