"""Segments computed from the members' histories, for every member at once (numpy, no Qt).

Pyramid, RFM, lifecycle, and P(alive) / expected purchases / value from BG/NBD + Gamma-Gamma, or from the interval
rule when the data are too few for a fit. Every figure is as of the end of the as-of day; time is in whole days of
the store's time zone; the RFM and pyramid period is the as-of month and the months before it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, TypeVar

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
from db import member_histories

if TYPE_CHECKING:
    from app.settings import StoreSettings

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Stages = npt.NDArray[np.int8]
Days = npt.NDArray[np.int32]
"""Day numbers and counts of days, months and bits, in 32 bits where a million of them go through every month end."""
Small = npt.NDArray[np.int8]
"""A month's purchase days or day of the month, one per buyer and month."""
Whole = TypeVar("Whole", Ints, Days)

EPOCH = dt.date(1970, 1, 1)
MIN_FIT_MEMBERS = 50
"""Fewer buyers than this, or fewer than MIN_FIT_REPEATERS who came back, and the models are not fitted."""
MIN_FIT_REPEATERS = 20

MODELS = ("bgnbd+gg", "interval rule", "no purchase")
REGISTERED, NEW, ACTIVE, LOYAL, DORMANT, LOST = (
    STAGES.index(stage) for stage in ("registered", "new", "active", "loyal", "dormant", "lost")
)
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


def _month_start_days(month_index: Ints) -> Ints:
    """The day number of each month's first day, worked out once per month of the range, not once per row."""
    if len(month_index) == 0:
        return np.zeros(0, dtype=np.int64)
    low = int(month_index.min())
    months = np.arange(low - 1970 * 12, int(month_index.max()) - 1970 * 12 + 1)
    starts = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return starts[month_index - low]


def quintile_scores(values: Ints | Days | Floats, higher_is_better: bool = True) -> Ints:
    """Scores 1–5 by quintile of rank: the top fifth scores 5. Equal values share the score of the lowest rank
    among them (so a tie never splits across two scores).

    The score is 1 + ⌊5·b/n⌋, b being how many values are strictly worse. b ≥ k exactly when the value is above
    the k-th worst, so four order statistics (the ⌈s·n/5⌉-th worst, s = 1–4, found by one partition, no sort)
    decide every score."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    keyed = values if higher_is_better else -values
    places = [-(-s * n // 5) - 1 for s in range(1, 5)]
    if keyed.dtype.kind == "i" and int(keyed.max()) - int(keyed.min()) < n:
        # Few distinct whole values (days, purchase days): the order statistics from a count of each value, and
        # each value's score from a table of them, where a partition and four comparisons would pass over all.
        low = int(keyed.min())
        shifted = keyed - low
        at_most = np.cumsum(np.bincount(shifted))  # how many values are at most each value
        cut_values = np.searchsorted(at_most, places, side="right")
        table = 1 + np.searchsorted(cut_values, np.arange(len(at_most)), side="left")
        return table.astype(np.int64)[shifted]
    cuts = np.partition(keyed, sorted(set(places)))[places]
    scores = np.ones(n, dtype=np.int64)
    for cut in cuts:
        scores += keyed > cut
    return scores


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


HEAD_FIELDS = (
    ("member_id", "<i4"),
    ("first_day", "<i4"),
    ("head_month", "<i4"),
    ("months", "u1"),
    ("days_before", "<i4"),
    ("last_before", "<i4"),
    ("first_spend", "<i8"),
    ("spend_before", "<i8"),
)
"""A history row's `head` (db/member_histories.py HEAD), as numpy reads it."""
MONTH_FIELDS = (("back", "u1"), ("days_mask", "<u4"), ("spend", "<i8"))
"""One month of a history row's `months` (db/member_histories.py MONTH)."""
HEAD = np.dtype(list(HEAD_FIELDS))
MONTH = np.dtype(list(MONTH_FIELDS))


@dataclass(frozen=True)
class HistoryRows:
    """Members' history rows (db/member_histories.py) as read: every `head` joined, and every `months` joined in
    the same member order."""

    heads: bytes = b""
    months: bytes = b""

    @classmethod
    def from_month_rows(cls, rows: MonthRows) -> HistoryRows:
        """The rows the monthly totals (ordered by member and month) make, packed as the stored rows are."""
        columns = (rows.member_id, rows.month, rows.spend_fen, rows.days_mask, rows.first_day_spend_fen)
        made = member_histories.expected(zip(*(column.tolist() for column in columns), strict=True))
        return cls(b"".join(head for head, _ in made.values()), b"".join(m for _, m in made.values()))

    def records(self) -> HistoryRecords:
        """The rows as numpy records, without copying the bytes."""
        return HistoryRecords(np.frombuffer(self.heads, dtype=HEAD), np.frombuffer(self.months, dtype=MONTH))


@dataclass(frozen=True)
class HistoryRecords:
    """History rows as numpy records (HEAD, MONTH): one `head` per member, and every member's `months` together,
    members in the same order. Members are left out as records, before the columns are made."""

    head: npt.NDArray[np.void]
    month: npt.NDArray[np.void]

    def last_days(self) -> Ints:
        """Each member's last purchase day (in the head month, each member's first month)."""
        counts = self.head["months"].astype(np.int64)
        mask = self.month["days_mask"][np.cumsum(counts) - counts].astype(np.float64)
        starts = _month_start_days(self.head["head_month"].astype(np.int64))
        return starts + np.frexp(mask)[1].astype(np.int64) - 1

    def without(self, leave: Bools) -> HistoryRecords:
        """These rows but those where `leave` is set (one flag per member)."""
        if not leave.any():
            return self
        kept = ~leave
        return HistoryRecords(self.head[kept], self.month[np.repeat(kept, self.head["months"])])


@dataclass
class Histories:
    """Members' history rows as columns: the head's fields, one entry per member with a purchase; then the months'
    fields, each member's months together, members in the same order. `head_month` is a month index (year * 12 +
    month - 1); days are days since 1970-01-01."""

    member_id: Ints
    first_day: Ints
    head_month: Ints
    months: Ints
    days_before: Ints
    last_before: Ints
    first_spend: Ints
    spend_before: Ints
    back: Ints
    days_mask: Ints
    spend: Ints

    @classmethod
    def parse(cls, rows: HistoryRecords) -> Histories:
        return cls(
            *(rows.head[name].astype(np.int64) for name, _ in HEAD_FIELDS),
            *(rows.month[name].astype(np.int64) for name, _ in MONTH_FIELDS),
        )

    @classmethod
    def joined(cls, parts: list[Histories]) -> Histories:
        """The parts' members one after the other."""
        if not parts:
            return cls.parse(HistoryRows().records())
        return cls(*(np.concatenate([getattr(part, f.name) for part in parts]) for f in fields(cls)))


@dataclass
class Measured:
    """Each member's figures from their history, before the models (`measure`, then `score`)."""

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
    hist = Histories.parse(HistoryRows.from_month_rows(rows).records())
    return score(measure(member_ids, BuyerFigures.of(hist, as_of, options.period_months), as_of, options), options)


MOVE_MONTHS = 12
MAX_THREADS = 4
YEAR = (1 << 12) - 1
"""A month's bit and the 11 before it."""


def _running(values: Ints | Days | Bools) -> Ints:
    """0, then the running sums of `values` (int64; a sum past its range wraps, and differences stay exact)."""
    found = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, dtype=np.int64, out=found[1:])
    return found


class _Buyers:
    """The members with a purchase, from their history, as of the end of the as-of day: each figure one entry per
    buyer, in the history's order. `back` counts a month's distance from the as-of month."""

    def __init__(self, hist: Histories, as_of: dt.date) -> None:
        self.hist = hist
        self.n = len(hist.member_id)
        self.as_of_month = as_of.year * 12 + as_of.month - 1
        self.starts = np.cumsum(hist.months) - hist.months  # every row holds its head month
        self.position = np.repeat(np.arange(self.n), hist.months)
        self.back = np.repeat(self.as_of_month - hist.head_month, hist.months) + hist.back
        if (self.back < 0).any():
            raise ValueError("a history holds purchases after the as-of month")
        self.days: Days = np.bitwise_count(hist.days_mask).astype(np.int32)  # the month ends' figures in 32 bits
        self.last_of_month = np.frexp(hist.days_mask.astype(np.float64))[1].astype(np.int32)  # 1–31
        # Sums over each buyer's months from running sums over all the rows (a cumsum and two lookups a buyer,
        # where reduceat pays a call per buyer); a buyer's months in the period are their first ones.
        self.ends = self.starts + hist.months
        self.days_run = _running(self.days)
        self.spend_run = _running(hist.spend)
        self.total_days: Days = (hist.days_before + self.per(self.days_run)).astype(np.int32)
        self.total_spend = hist.spend_before + self.per(self.spend_run)
        # Every month 24 back or more adds to bit 24 and above, which the mask takes off.
        near = MOVE_MONTHS + 12
        bits = self.per(_running(np.left_shift(1, np.minimum(self.back, near))))
        self.month_bits = (bits & ((1 << near) - 1)).astype(np.int32)
        self.first_day = hist.first_day.astype(np.int32)

    def per(self, running: Ints) -> Ints:
        """Each buyer's months summed, from the running sums (`_running`) of a figure of the rows."""
        return running[self.ends] - running[self.starts]

    def in_months(self, months: int) -> tuple[Ints, Ints]:
        """Purchase days and spend in the as-of month and the `months` - 1 before it (a buyer's first months: they
        come newest first)."""
        last = self.starts + self.per(_running(self.back < months))
        return self.days_run[last] - self.days_run[self.starts], self.spend_run[last] - self.spend_run[self.starts]

    def last_days(self, rows: Ints) -> Ints:
        """The last purchase day in each of these month rows."""
        return _month_start_days(self.as_of_month - self.back[rows]) + self.last_of_month[rows] - 1

    def latest_older(self) -> Days:
        """Each buyer's last purchase day in the months more than MOVE_MONTHS before the as-of month (-1: none)."""
        latest: Days = self.hist.last_before.astype(np.int32)
        older = np.flatnonzero(self.back > MOVE_MONTHS)
        if len(older):  # a member's months come newest first: their first older month is the latest
            first = np.ones(len(older), dtype=np.bool_)
            first[1:] = self.position[older[1:]] != self.position[older[:-1]]
            older = older[first]
            at = self.position[older]
            latest[at] = np.maximum(latest[at], self.last_days(older))
        return latest


@dataclass
class BuyerFigures:
    """What `measure` needs of each member with a purchase, worked out from their history alone, so it can be made
    a slice of members at a time while the next slice is read (app/insights/refresh.py): `empty`, then `put` for
    each slice, then `first`; `of` for one history at once. One entry per buyer, in the history's order; the
    month rows (`month_days`, `month_last`) are one per month back from the as-of month (row 0: the as-of month),
    8 bits each, from which `ends` makes each month end's figures when they are needed."""

    member_id: Ints
    first_day: Days
    first_spend: Ints
    total_spend: Ints
    frequency: Ints
    """Purchase days in the RFM and pyramid period."""
    monetary: Ints
    """Spend in the period."""
    total_days: Days
    """Purchase days up to the as-of day."""
    last_day: Days
    """The last purchase day up to the as-of day."""
    month_bits: Days
    """Bit b: a purchase in the month b months before the as-of month (the last 24)."""
    latest_older: Days
    """The last purchase day in the months more than MOVE_MONTHS before the as-of month (-1: none)."""
    month_days: Small
    """Rows per month back (0 to MOVE_MONTHS): purchase days in that month."""
    month_last: Small
    """Rows per month back: the day of the month of the last purchase in it (0: none)."""
    as_of: dt.date = field(kw_only=True)
    period_months: int = field(kw_only=True)

    @classmethod
    def of(cls, hist: Histories, as_of: dt.date, period_months: int) -> BuyerFigures:
        """The figures of `hist`'s members (none with a purchase after the as-of day)."""
        found = cls.empty(len(hist.member_id), as_of, period_months)
        found.put(hist, 0)
        return found

    @classmethod
    def empty(cls, capacity: int, as_of: dt.date, period_months: int) -> BuyerFigures:
        """Room for the figures of `capacity` members, to be `put` a slice at a time (then taken with `first`)."""
        arrays = []
        for name in _FIGURES:
            rows = (MOVE_MONTHS + 1,) if name in _PER_MONTH else ()
            kind = np.int8 if name in _PER_MONTH else np.int32 if name in _DAYS else np.int64
            arrays.append(np.empty((*rows, capacity), dtype=kind))
        return cls(*arrays, as_of=as_of, period_months=period_months)

    def put(self, hist: Histories, start: int) -> None:
        """The figures of `hist`'s members (none with a purchase after the as-of day), from place `start` on."""
        buyers = _Buyers(hist, self.as_of)
        places = slice(start, start + buyers.n)
        self.member_id[places] = hist.member_id
        self.first_day[places] = buyers.first_day
        self.first_spend[places] = hist.first_spend
        self.total_spend[places] = buyers.total_spend
        self.frequency[places], self.monetary[places] = buyers.in_months(self.period_months)
        self.total_days[places] = buyers.total_days
        self.last_day[places] = buyers.last_days(buyers.starts)  # in each member's head month, their first
        self.month_bits[places] = buyers.month_bits
        self.latest_older[places] = buyers.latest_older()
        recent = np.flatnonzero(buyers.back <= MOVE_MONTHS)
        at = (buyers.back[recent], start + buyers.position[recent])
        for rows, values in ((self.month_days, buyers.days), (self.month_last, buyers.last_of_month)):
            rows[:, places] = 0
            rows[at] = values[recent]

    def first(self, count: int) -> BuyerFigures:
        """The first `count` members' figures (views, not copies)."""
        arrays = (getattr(self, name)[..., :count] for name in _FIGURES)
        return BuyerFigures(*arrays, as_of=self.as_of, period_months=self.period_months)

    def ends(self) -> Iterator[tuple[int, Days, Days, Days]]:
        """For the end of each of the MOVE_MONTHS months before the as-of month, oldest first, then for the as-of
        day (`back` 0): purchase days, last purchase day (-1: none) and months with a purchase among the 12 ending
        there. One pass over the buyers for each figure and month end: a month's purchase days are added to the
        month end before's, and its last purchase, if any, replaces the month end before's."""
        as_of_month = self.as_of.year * 12 + self.as_of.month - 1
        starts = _month_start_days(np.arange(as_of_month - MOVE_MONTHS, as_of_month + 1)).tolist()
        purchase_days = self.total_days - self.month_days[:MOVE_MONTHS].sum(axis=0, dtype=np.int32)
        latest = self.latest_older
        for back in range(MOVE_MONTHS, -1, -1):
            if back < MOVE_MONTHS:
                purchase_days = purchase_days + self.month_days[back]
            last_of_month = self.month_last[back]
            latest = np.where(
                last_of_month > 0, last_of_month.astype(np.int32) + (starts[MOVE_MONTHS - back] - 1), latest
            )
            bought = np.bitwise_count((self.month_bits >> back) & YEAR).astype(np.int32)
            yield back, purchase_days, latest, bought


_FIGURES = tuple(f.name for f in fields(BuyerFigures) if not f.kw_only)
_PER_MONTH = ("month_days", "month_last")
_DAYS = ("first_day", "total_days", "last_day", "month_bits", "latest_older")


def measure(member_ids: Ints, buyers: BuyerFigures, as_of: dt.date, options: SegmentOptions) -> Measured:
    """Pyramid, RFM, lifecycle and its moves, and what the models need, per member. `buyers` holds the figures of
    the members with a purchase (all of them in `member_ids`, made with the same as-of day and period)."""
    today = day_number(as_of)
    as_of_month = as_of.year * 12 + as_of.month - 1
    months_bought: Days = np.bitwise_count(buyers.month_bits & YEAR).astype(np.int32)

    with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, MAX_THREADS)) as pool:

        def month_ends() -> list[Future[Stages]]:
            """The month ends' figures, one after the other, each month end's stages handed to another thread."""
            return [
                pool.submit(_stage_at, buyers.first_day, figures, _month_end(as_of_month - back), options)
                for back, *figures in buyers.ends()
                if back
            ]

        ends = pool.submit(month_ends)  # worked out while this thread places and ranks the as-of day's figures
        current = _lifecycle(buyers.first_day, buyers.total_days, buyers.last_day, months_bought, today, options)
        measured = _measure(member_ids, buyers, current, today, options)
        stages = [end.result() for end in ends.result()]
    measured.segments.moves = _moves(as_of, [*stages, current[-1].astype(np.int8)])
    return measured


def _measure(
    member_ids: Ints,
    buyers: BuyerFigures,
    lifecycle: tuple[Bools, Days, Floats, Ints],
    today: int,
    options: SegmentOptions,
) -> Measured:
    """`measure` but the moves, given the buyers' lifecycle at the as-of day (`_lifecycle`)."""
    n = len(member_ids)
    purchase_days_b, last_day_b = buyers.total_days, buyers.last_day
    _bought, recency_b, usual_b, stage_b = lifecycle
    # Each buyer's place among all members (ids are row ids: small, positive).
    at = np.zeros(0, dtype=np.int64)
    if n:
        position = np.zeros(int(member_ids.max()) + 1, dtype=np.int64)
        position[member_ids] = np.arange(n)
        at = position[buyers.member_id]

    def placed(values: Ints | Days, fill: int) -> Ints:
        out = np.full(n, fill, dtype=np.int64)
        out[at] = values
        return out

    first_day = placed(buyers.first_day, -1)
    purchase_days = placed(purchase_days_b, 0)
    last_day = placed(last_day_b, -1)
    frequency = placed(buyers.frequency, 0)
    monetary = placed(buyers.monetary, 0)
    total_spend = placed(buyers.total_spend, 0)
    first_day_spend = placed(buyers.first_spend, 0)
    bought = np.zeros(n, dtype=np.bool_)
    bought[at] = True
    recency = placed(recency_b, -1)
    stage = placed(stage_b, REGISTERED)
    usual = np.full(n, np.nan)  # no interval for who never bought
    usual[at] = usual_b
    pyramid = pyramid_levels(monetary, (options.vip_pct, options.major_pct, options.regular_pct))

    # Scores rank the buyers among themselves: worked out in the buyers' order, then placed.
    r_b = quintile_scores(recency_b, higher_is_better=False)
    f_b = quintile_scores(buyers.frequency)
    m_b = quintile_scores(buyers.monetary)
    r_score, f_score, m_score = placed(r_b, 0), placed(f_b, 0), placed(m_b, 0)
    rfm = placed(rfm_classes(r_b, f_b, m_b), -1) if len(r_b) else np.full(n, -1, dtype=np.int64)

    x = np.maximum(purchase_days - 1, 0)
    span = np.where(bought, last_day - first_day, 0)
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
        moves={},
    )
    repeat_spend = (total_spend - first_day_spend).astype(np.float64)
    zbar = np.where(x > 0, repeat_spend / np.maximum(x, 1), 0.0)
    day_spend = total_spend / np.maximum(purchase_days, 1)
    return Measured(segments, bought, x, span, today - first_day, zbar, usual, day_spend)


def score(m: Measured, options: SegmentOptions) -> tuple[Segments, Fit]:
    """The models' figures (or the interval rule's) for the measured members, and the fit."""
    return m.segments, _value(m, options)


def _stage_of_flags() -> Ints:
    """The stage for each combination of: bought, new, lost, dormant, loyal (bits 0–4): the first that holds of
    registered (not bought), new, lost, dormant, loyal, else active."""
    stages = []
    for flags in range(32):
        bought, new, lost, dormant, loyal = ((flags >> bit) & 1 for bit in range(5))
        first = [(not bought, REGISTERED), (new, NEW), (lost, LOST), (dormant, DORMANT), (loyal, LOYAL)]
        stages.append(next((stage for holds, stage in first if holds), ACTIVE))
    return np.array(stages, dtype=np.int64)


_STAGE_OF_FLAGS = _stage_of_flags()
_STAGE_CODES = _STAGE_OF_FLAGS.astype(np.int8)


def _lifecycle(
    first_day: Whole,
    purchase_days: Whole,
    last_day: Whole,
    months_bought: Whole,
    today: int,
    options: SegmentOptions,
) -> tuple[Bools, Whole, Floats, Ints]:
    """Stages at the end of day `today` from each member's first purchase day and, counting the months up to
    today's, their purchase days, last purchase day and months with a purchase among the last 12: whether they
    bought, recency, usual interval and the stage of every member."""
    bought = purchase_days > 0
    recency = np.where(bought, today - last_day, -1)
    repeat, intervals, median = _intervals(first_day, purchase_days, last_day, options)
    usual = np.full(len(bought), median)
    usual[repeat] = intervals
    dormant = recency * 100 > usual * options.dormant_factor_pct
    stage = np.take(_STAGE_OF_FLAGS, _flags(bought, first_day, recency, dormant, months_bought, today, options))
    return bought, recency, usual, stage


def _intervals(
    first_day: Whole, purchase_days: Whole, last_day: Whole, options: SegmentOptions
) -> tuple[Ints, Floats, float]:
    """The members with two purchase days or more (an interval needs two), their usual interval (first to last
    purchase day over the purchase days less one), and the median of those intervals: the usual interval of who
    bought on one day only (`lost_days` when nobody came back)."""
    repeat = np.flatnonzero(purchase_days > 1)
    intervals = (last_day[repeat] - first_day[repeat]) / (purchase_days[repeat] - 1)
    if not len(repeat):
        return repeat, intervals, float(options.lost_days)
    # np.median's value from one partition: the middle value, or the mean of it and the largest below it.
    middle = len(intervals) // 2
    ordered = np.partition(intervals, middle)
    if len(intervals) % 2:
        return repeat, intervals, float(ordered[middle])
    return repeat, intervals, float((ordered[:middle].max() + ordered[middle]) / 2)


def _flags(
    bought: Bools,
    first_day: Ints | Days,
    recency: Ints | Days,
    dormant: Bools,
    months_bought: Ints | Days,
    today: int,
    options: SegmentOptions,
) -> npt.NDArray[np.uint8]:
    """Each member's flags (`_stage_of_flags`) at the end of day `today`."""
    flags = bought.astype(np.uint8)
    for bit, flag in enumerate(
        (
            first_day > today - options.new_days,
            recency > options.lost_days,
            dormant,
            months_bought >= options.loyal_months,
        ),
        start=1,
    ):
        flags |= flag.view(np.uint8) << bit
    return flags


def _month_end(month: int) -> int:
    """The day number of a month's last day (a month index)."""
    return day_number(dt.date((month + 1) // 12, (month + 1) % 12 + 1, 1) - dt.timedelta(days=1))


def _stage_at(first_day: Days, figures: list[Days], end: int, options: SegmentOptions) -> Stages:
    """The buyers' stages at the end of day `end` from their figures then (`BuyerFigures.ends`)."""
    purchase_days, last_day, months_bought = figures
    # `_lifecycle`'s stages without its other figures: a member who has not bought is registered whatever the other
    # flags say, so recency needs no case for them, and the dormant rule compares with the median interval
    # as a number but for the members who came back.
    recency = end - last_day
    repeat, intervals, median = _intervals(first_day, purchase_days, last_day, options)
    dormant = recency * 100 > median * options.dormant_factor_pct
    dormant[repeat] = recency[repeat] * 100 > intervals * options.dormant_factor_pct
    return np.take(_STAGE_CODES, _flags(purchase_days > 0, first_day, recency, dormant, months_bought, end, options))


def _moves(as_of: dt.date, stages: list[Stages]) -> dict[str, dict[str, int]]:
    """Moves between stages month by month, from the buyers' stages at the end of each of the MOVE_MONTHS months
    before the as-of month and at the as-of day: how many went from one stage to another, keyed "YYYY-MM" (a member
    who never bought stays registered: no move)."""
    as_of_month = as_of.year * 12 + as_of.month - 1
    kinds = len(STAGES)
    moves: dict[str, dict[str, int]] = {}
    for month, (previous, stage) in zip(
        range(as_of_month - MOVE_MONTHS + 1, as_of_month + 1), itertools.pairwise(stages), strict=True
    ):
        pairs = previous * np.int8(kinds) + stage  # fits in 8 bits: 6 stages
        found = np.bincount(pairs.view(np.uint8), minlength=kinds**2)
        moves[f"{month // 12:04d}-{month % 12 + 1:02d}"] = {
            f"{STAGES[i // kinds]}>{STAGES[i % kinds]}": int(c) for i, c in enumerate(found) if c and i % (kinds + 1)
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
