"""Segments computed from the monthly totals, for every member at once (numpy, no database, no Qt).

Pyramid, RFM, lifecycle, and P(alive) / expected purchases / value from BG/NBD + Gamma-Gamma, or from the interval
rule when the data are too few for a fit. Every figure is as of the end of the as-of day; time is in whole days of
the store's time zone; the RFM and pyramid period is the as-of month and the months before it.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import os
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from app.i18n import QT_TRANSLATE_NOOP as S
from app.insights.clv import (
    BgNbd,
    FitFailed,
    GammaGamma,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    p_alive,
)
from app.insights.labels import STAGES

if TYPE_CHECKING:
    from app.settings import StoreSettings

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Counts = npt.NDArray[np.int32]
"""Rows per member up to a month (small counts, kept by the dozen)."""
Stages = npt.NDArray[np.int8]

EPOCH = dt.date(1970, 1, 1)
MIN_FIT_MEMBERS = 50
"""Fewer buyers than this, or fewer than MIN_FIT_REPEATERS who came back, and the models are not fitted."""
MIN_FIT_REPEATERS = 20

MODELS = ("bgnbd+gg", "interval rule", "no purchase")
MODEL_BGNBD, MODEL_RULE, MODEL_NONE = range(3)


@dataclass(frozen=True)
class SegmentOptions:
    period_months: int = 12
    vip_pct: int = 1
    major_pct: int = 4
    regular_pct: int = 15
    new_days: int = 30
    lost_days: int = 180
    loyal_months: int = 6
    dormant_factor_pct: int = 200
    churn_p_alive_pct: int = 50
    churn_min_purchases: int = 3
    horizon_days: int = 365

    @classmethod
    def from_settings(cls, settings: StoreSettings, horizon_days: int | None = None) -> SegmentOptions:
        return cls(
            period_months=settings.segments_period_months,
            vip_pct=settings.segments_vip_pct,
            major_pct=settings.segments_major_pct,
            regular_pct=settings.segments_regular_pct,
            new_days=settings.segments_new_days,
            lost_days=settings.segments_lost_days,
            loyal_months=settings.segments_loyal_months,
            dormant_factor_pct=settings.segments_dormant_factor_pct,
            churn_p_alive_pct=settings.segments_churn_p_alive_pct,
            churn_min_purchases=settings.segments_churn_min_purchases,
            horizon_days=horizon_days or settings.segments_horizon_days,
        )


@dataclass
class MonthRows:
    """member_month_totals rows up to the as-of day, ordered by member and month."""

    member_id: Ints
    month: Ints
    spend_fen: Ints
    days_mask: Ints
    first_day_spend_fen: Ints

    def where(self, keep: Bools) -> MonthRows:
        """The rows where `keep` is true."""
        return MonthRows(*(getattr(self, column.name)[keep] for column in fields(self)))

    def release(self) -> None:
        """Let go of the arrays: the rows are empty afterwards (`measure` does this once it has what it needs, so
        a million members' rows are not kept through the month ends by whoever passed them)."""
        for column in fields(self):
            setattr(self, column.name, np.zeros(0, dtype=np.int64))


@dataclass
class Segments:
    """One entry per member, in `member_ids` order. Missing figures: -1 for days and classes, NaN for model
    figures (the writers turn both into empty cells)."""

    member_ids: Ints
    recency_days: Ints
    frequency: Ints
    monetary_fen: Ints
    r_score: Ints
    f_score: Ints
    m_score: Ints
    rfm_class: Ints
    pyramid: Ints
    stage: Ints
    p_alive: Floats
    expected_purchases: Floats
    expected_spend_fen: Floats
    value_fen: Floats
    churn_warning: Bools
    model: Ints
    moves: dict[str, dict[str, int]]
    """Lifecycle moves month by month ("YYYY-MM" -> "from>to" -> members), not per member."""


@dataclass(frozen=True)
class Fit:
    model: str
    bgnbd: BgNbd | None
    gamma_gamma: GammaGamma | None
    reason: str | None
    buyers: int
    repeat_buyers: int
    seconds: float
    """Time taken by the fit and the scoring (for the benchmark and the log)."""
    cpu_seconds: float
    """The CPU time of the same: the figure that a busy machine changes least."""


def _since(started: tuple[float, float]) -> tuple[float, float]:
    """Wall and CPU seconds since `started` (perf_counter, process_time)."""
    return time.perf_counter() - started[0], time.process_time() - started[1]


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def _month_index(month: Ints) -> Ints:
    return (month // 100) * 12 + month % 100 - 1


def _month_start_days(month_index: Ints) -> Ints:
    """The day number of each month's first day, worked out once per month of the range, not once per row."""
    if len(month_index) == 0:
        return np.zeros(0, dtype=np.int64)
    low = int(month_index.min())
    months = np.arange(low - 1970 * 12, int(month_index.max()) - 1970 * 12 + 1)
    starts = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return starts[month_index - low]


def quintile_scores(values: Ints | Floats, higher_is_better: bool = True) -> Ints:
    """Scores 1–5 by quintile of rank: the top fifth scores 5. Equal values share the score of the lowest rank
    among them (so a tie never splits across two scores)."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    keyed = values if higher_is_better else -values
    below = _count_below(keyed)  # how many are strictly worse
    return (1 + (5 * below) // n).astype(np.int64)


def _count_below(values: Ints | Floats) -> Ints:
    """For each value, how many values are smaller. Whole numbers in a range not much wider than their count
    (days, purchase days) are counted by value in one pass; anything else by sorting."""
    if values.dtype.kind == "i":
        low = int(values.min())
        if int(values.max()) - low <= 4 * len(values):
            shifted = values - low
            tally = np.bincount(shifted)
            return (np.cumsum(tally) - tally)[shifted]
    return np.searchsorted(np.sort(values), values, side="left")


def pyramid_levels(spend: Ints, shares_pct: tuple[int, int, int]) -> Ints:
    """0 VIP, 1 major, 2 regular, 3 small. The top ⌈N·1 %⌉ members are VIP, the next to ⌈N·5 %⌉ major, the next to
    ⌈N·20 %⌉ regular (default shares); a member tied with the last one inside a cut goes up with them; members
    with no spend are small."""
    n = len(spend)
    levels = np.full(n, 3, dtype=np.int64)
    if n == 0:
        return levels
    counts = []
    cumulative = 0
    for share in shares_pct:
        cumulative += share
        counts.append(min(n, -(-n * cumulative // 100)))
    # The count-th largest spend is the (n - count)-th smallest: a partition finds the three without sorting.
    ranks = sorted({n - count for count in counts if count > 0})
    ordered = np.partition(spend, ranks) if ranks else spend
    cuts = [ordered[n - count] if count > 0 else None for count in counts]
    for level in (2, 1, 0):
        threshold = cuts[level]
        if threshold is not None:
            levels[(spend >= threshold) & (spend > 0)] = level
    return levels


def rfm_classes(r: Ints, f: Ints, m: Ints) -> Ints:
    """Each score above its mean counts as high (equal to the mean is low)."""
    high_r = r > r.mean()
    high_f = f > f.mean()
    high_m = m > m.mean()
    return high_r.astype(np.int64) + 2 * high_f + 4 * high_m


class _PerMember:
    """Reductions of the month rows (ordered by member and month) into one value per member: each member's rows
    are one run, reduced in one pass (reduceat) and placed at the member's position."""

    def __init__(self, rows: MonthRows, member_ids: Ints) -> None:
        self.n = len(member_ids)
        runs = np.ones(len(rows.member_id), dtype=np.bool_)
        runs[1:] = rows.member_id[1:] != rows.member_id[:-1]
        self.starts = np.flatnonzero(runs)
        self.members = np.zeros(0, dtype=np.int64)
        if len(self.starts):  # each member's position, looked up by id (ids are row ids: small, positive)
            position = np.zeros(int(member_ids[-1]) + 1, dtype=np.int64)
            position[member_ids] = np.arange(self.n)
            self.members = position[rows.member_id[self.starts]]

    def _placed(self, per_run: Ints, fill: int) -> Ints:
        out = np.full(self.n, fill, dtype=np.int64)
        out[self.members] = per_run
        return out

    def add(self, values: Ints | Bools) -> Ints:
        if len(self.starts) == 0:
            return np.zeros(self.n, dtype=np.int64)
        return self._placed(np.add.reduceat(values, self.starts, dtype=np.int64), 0)

    def first(self, values: Ints, fill: int) -> Ints:
        """The value of each member's first row (rows are ordered by month), else `fill`."""
        return self._placed(values[self.starts], fill)


class _Months:
    """Each member's purchases up to the end of a month. A member's rows are ordered by month, so the last of
    their rows up to a month holds the latest purchase day, and a running total of purchase days taken there
    counts every purchase day up to it: what changes from month to month is only how many rows count."""

    def __init__(self, per: _PerMember, month_index: Ints, last_days: Ints, days: Ints) -> None:
        self.per = per
        self.month_index = month_index
        self.last_days = last_days
        self.running_days = np.cumsum(days)
        self.first_row = per.first(np.arange(len(days), dtype=np.int64), 0)
        self.days_before = per.first(self.running_days - days, 0)

    def rows_up_to(self, month: int) -> Ints:
        """How many of each member's rows are of months up to `month` (a month index)."""
        return self.per.add(self.month_index <= month)

    def rows_up_to_each(self, first: int, last: int) -> Iterator[Counts]:
        """`rows_up_to` for each month from `first` to `last` in turn: each month adds one to the members with a
        row of that month (a member has at most one row a month), found by comparing months, not by counting
        every member's rows again."""
        count = self.rows_up_to(first).astype(np.int32)  # the copies handed out are half the size
        yield count.copy()
        if len(self.per.starts) == 0:
            for _ in range(first + 1, last + 1):
                yield count.copy()
            return
        for month in range(first + 1, last + 1):
            found = np.flatnonzero(self.month_index == month)
            count[self.per.members[np.searchsorted(self.per.starts, found, side="right") - 1]] += 1
            yield count.copy()

    def at(self, count: Ints | Counts, year_before: Ints | Counts) -> tuple[Ints, Ints, Ints]:
        """Per member, from how many of their rows count up to a month and up to the same month a year before:
        purchase days, the last purchase day (-1: none) and how many of the 12 months ending with the month had
        a purchase."""
        count = count.astype(np.int64, copy=False)
        months_bought = count - year_before
        if len(self.running_days) == 0:
            return count, np.full(self.per.n, -1, dtype=np.int64), months_bought
        bought = count > 0
        last_row = np.where(bought, self.first_row + count - 1, 0)
        purchase_days = np.where(bought, self.running_days[last_row] - self.days_before, 0)
        return purchase_days, np.where(bought, self.last_days[last_row], -1), months_bought


@dataclass
class Measured:
    """Each member's figures from their month rows, before the models (`measure`, then `score`)."""

    segments: Segments
    """Everything but the model figures (NaN until scored)."""
    bought: Bools
    x: Ints
    span_days: Ints
    age_days: Ints
    zbar_fen: Floats
    usual: Floats
    day_spend_fen: Floats


def compute(member_ids: Ints, rows: MonthRows, as_of: dt.date, options: SegmentOptions) -> tuple[Segments, Fit]:
    """Every member's segments as of the end of `as_of`. `rows` must hold no purchase after `as_of`."""
    return score(measure(member_ids, rows, as_of, options), options)


def measure(member_ids: Ints, rows: MonthRows, as_of: dt.date, options: SegmentOptions) -> Measured:
    """Pyramid, RFM, lifecycle and its moves, and what the models need, per member. The month rows and everything
    made from them per row are let go: `rows` is emptied (`MonthRows.release`) once read."""
    n = len(member_ids)
    given = rows
    keep = rows.days_mask != 0
    if not keep.all():
        rows = rows.where(keep)
    per = _PerMember(rows, member_ids)
    month_index = _month_index(rows.month)
    starts = _month_start_days(month_index)
    last_days = starts + np.frexp(rows.days_mask.astype(np.float64))[1].astype(np.int64) - 1
    first_masks = rows.days_mask[per.starts]  # the first purchase day is in each member's first row
    first_day = per.first(starts, -1)
    first_day[per.members] += np.bitwise_count((first_masks & -first_masks) - 1).astype(np.int64)
    del starts
    days = np.bitwise_count(rows.days_mask).astype(np.int64)

    today = day_number(as_of)
    as_of_month = as_of.year * 12 + as_of.month - 1
    in_period = month_index > as_of_month - options.period_months
    frequency = per.add(np.where(in_period, days, 0))
    monetary = per.add(np.where(in_period, rows.spend_fen, 0))
    del in_period
    first_day_spend = per.first(rows.first_day_spend_fen, 0)
    total_spend = per.add(rows.spend_fen)
    given.release()
    rows.release()

    months = _Months(per, month_index, last_days, days)
    purchase_days, last_day, months_bought = months.at(
        months.rows_up_to(as_of_month), months.rows_up_to(as_of_month - 12)
    )
    bought, recency, usual, stage = _lifecycle(first_day, purchase_days, last_day, months_bought, today, options)
    pyramid = pyramid_levels(monetary, (options.vip_pct, options.major_pct, options.regular_pct))

    r_score = np.zeros(n, dtype=np.int64)
    f_score = np.zeros(n, dtype=np.int64)
    m_score = np.zeros(n, dtype=np.int64)
    rfm = np.full(n, -1, dtype=np.int64)
    if bought.any():
        r_score[bought] = quintile_scores(recency[bought], higher_is_better=False)
        f_score[bought] = quintile_scores(frequency[bought])
        m_score[bought] = quintile_scores(monetary[bought])
        rfm[bought] = rfm_classes(r_score[bought], f_score[bought], m_score[bought])

    x = np.maximum(purchase_days - 1, 0)
    span = np.where(bought, last_day - first_day, 0)
    moves = _monthly_moves(months, first_day, as_of_month, stage, options)

    segments = Segments(
        member_ids=member_ids,
        recency_days=recency,
        frequency=frequency,
        monetary_fen=monetary,
        r_score=r_score,
        f_score=f_score,
        m_score=m_score,
        rfm_class=rfm,
        pyramid=pyramid,
        stage=stage,
        p_alive=np.full(n, np.nan),
        expected_purchases=np.full(n, np.nan),
        expected_spend_fen=np.full(n, np.nan),
        value_fen=np.full(n, np.nan),
        churn_warning=np.zeros(n, dtype=np.bool_),
        model=np.where(bought, MODEL_BGNBD, MODEL_NONE).astype(np.int64),
        moves=moves,
    )
    repeat_spend = (total_spend - first_day_spend).astype(np.float64)
    zbar = np.where(x > 0, repeat_spend / np.maximum(x, 1), 0.0)
    day_spend = total_spend / np.maximum(purchase_days, 1)
    return Measured(segments, bought, x, span, today - first_day, zbar, usual, day_spend)


def score(m: Measured, options: SegmentOptions) -> tuple[Segments, Fit]:
    """The models' figures (or the interval rule's) for the measured members, and the fit."""
    return m.segments, _value(m, options)


def _lifecycle(
    first_day: Ints,
    purchase_days: Ints,
    last_day: Ints,
    months_bought: Ints,
    today: int,
    options: SegmentOptions,
) -> tuple[Bools, Ints, Floats, Ints]:
    """Stages at the end of day `today` from each member's first purchase day and, counting the months up to
    today's, their purchase days, last purchase day and months with a purchase among the last 12: whether they
    bought, recency, usual interval and the stage of every member."""
    bought = purchase_days > 0
    recency = np.where(bought, today - last_day, -1)
    x = np.maximum(purchase_days - 1, 0)
    span = np.where(bought, last_day - first_day, 0)
    usual_interval = np.where(x > 0, span / np.maximum(x, 1), np.nan)
    store_interval = float(np.median(usual_interval[x > 0])) if (x > 0).any() else float(options.lost_days)
    usual = np.where(x > 0, usual_interval, store_interval)

    stage = np.full(len(bought), STAGES.index("active"), dtype=np.int64)
    dormant = recency * 100 > usual * options.dormant_factor_pct
    stage[(months_bought >= options.loyal_months) & ~dormant] = STAGES.index("loyal")
    stage[dormant] = STAGES.index("dormant")
    stage[recency > options.lost_days] = STAGES.index("lost")
    stage[bought & (today - first_day < options.new_days)] = STAGES.index("new")
    stage[~bought] = STAGES.index("registered")
    return bought, recency, usual, stage


MOVE_MONTHS = 12
MAX_THREADS = 4


def _monthly_moves(
    months: _Months, first_day: Ints, as_of_month: int, current: Ints, options: SegmentOptions
) -> dict[str, dict[str, int]]:
    """Moves between stages month by month: the stages at the end of each of the last 12 months (and at the
    as-of day for the last step), and how many members went from one stage to another, keyed "YYYY-MM". The
    month ends are worked out side by side on the machine's cores (numpy lets go of the interpreter lock)."""
    first = as_of_month - MOVE_MONTHS

    def stage_at_end(month: int, count: Counts, year_before: Counts) -> Stages:
        end = dt.date((month + 1) // 12, (month + 1) % 12 + 1, 1) - dt.timedelta(days=1)
        return _lifecycle(first_day, *months.at(count, year_before), day_number(end), options)[-1].astype(np.int8)

    workers = min(os.cpu_count() or 1, MAX_THREADS)
    year: collections.deque[Counts] = collections.deque(maxlen=13)  # counts up to a month and the 12 before it
    stages: list[Stages] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        working: collections.deque[Future[Stages]] = collections.deque()
        for month, count in zip(
            range(first - 12, as_of_month), months.rows_up_to_each(first - 12, as_of_month - 1), strict=True
        ):
            year.append(count)
            if month >= first:
                if len(working) == workers:  # no more month ends under way than cores: memory stays bounded
                    stages.append(working.popleft().result())
                working.append(pool.submit(stage_at_end, month, count, year[0]))
        stages += [end.result() for end in working]
    stages.append(current.astype(np.int8))
    moves: dict[str, dict[str, int]] = {}
    for month, (previous, stage) in zip(range(first + 1, as_of_month + 1), itertools.pairwise(stages), strict=True):
        changed = previous != stage
        pairs = previous[changed].astype(np.int64) * len(STAGES) + stage[changed]
        found = np.bincount(pairs, minlength=len(STAGES) ** 2)
        moves[f"{month // 12:04d}-{month % 12 + 1:02d}"] = {
            f"{STAGES[i // len(STAGES)]}>{STAGES[i % len(STAGES)]}": int(c) for i, c in enumerate(found) if c
        }
    return moves


def _value(m: Measured, options: SegmentOptions) -> Fit:
    started = (time.perf_counter(), time.process_time())
    seg, bought = m.segments, m.bought
    x = m.x[bought].astype(np.float64)
    t_x = m.span_days[bought] / 7.0
    big_t = m.age_days[bought] / 7.0
    zbar = m.zbar_fen[bought] / 100.0  # the spend model in yuan, as published
    horizon = options.horizon_days / 7.0
    repeaters = (x > 0) & (zbar > 0)
    buyers, repeat_buyers = int(bought.sum()), int(repeaters.sum())
    reason: str | None = None
    if buyers < MIN_FIT_MEMBERS or repeat_buyers < MIN_FIT_REPEATERS:
        reason = S("Segments", "too few buyers for a model fit ({buyers} buyers, {repeaters} came back)")
    elif float(big_t.max()) <= 0:
        reason = S("Segments", "every purchase is on the as-of day")
    if reason is None:
        try:
            bgnbd = fit_bgnbd(x, t_x, big_t)
            gg = fit_gamma_gamma(x[repeaters], zbar[repeaters])
        except FitFailed:
            reason = S("Segments", "the model fit did not converge")
    often = m.x + 1 >= options.churn_min_purchases
    if reason is not None:
        _interval_rule(seg, bought, seg.recency_days, m.usual, m.day_spend_fen, options, often)
        return Fit("interval rule", None, None, reason, buyers, repeat_buyers, *_since(started))
    alive = p_alive(bgnbd, x, t_x, big_t)
    purchases = expected_purchases(bgnbd, horizon, x, t_x, big_t)
    spend = expected_spend(gg, x, np.where(repeaters, zbar, 0.0)) * 100.0
    seg.p_alive[bought] = alive
    seg.expected_purchases[bought] = purchases
    seg.expected_spend_fen[bought] = spend
    seg.value_fen[bought] = purchases * spend
    seg.churn_warning[bought] = (alive * 100 < options.churn_p_alive_pct) & often[bought]
    return Fit("bgnbd+gg", bgnbd, gg, None, buyers, repeat_buyers, *_since(started))


def _interval_rule(
    seg: Segments,
    bought: Bools,
    recency: Ints,
    usual: Floats,
    day_spend_fen: Floats,
    options: SegmentOptions,
    often: Bools,
) -> None:
    """Without a model: a member is taken as still buying while the days since the last purchase stay within
    the dormant factor of their usual interval; expected purchases follow that interval over the horizon, each
    worth the member's mean spend per purchase day."""
    seg.model[bought] = MODEL_RULE
    still = bought & (recency * 100 <= usual * options.dormant_factor_pct)
    seg.p_alive[bought] = np.where(still[bought], 1.0, 0.0)
    rate = np.where(still, options.horizon_days / np.maximum(usual, 1.0), 0.0)
    seg.expected_purchases[bought] = rate[bought]
    seg.expected_spend_fen[bought] = day_spend_fen[bought]
    seg.value_fen[bought] = (rate * day_spend_fen)[bought]
    seg.churn_warning[bought] = (~still & often)[bought]
