"""Pyramid cuts, RFM scores and classes, lifecycle stages on small hand-made data, answers worked out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from app.insights.compute import MonthRows, SegmentOptions, compute, pyramid_levels, quintile_scores, rfm_classes
from app.insights.labels import RFM_CLASSES, STAGES


def ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_pyramid_cuts_with_ties_going_up() -> None:
    # 10 members: ⌈10·1%⌉ = 1 VIP, ⌈10·5%⌉ = 1 (VIP or major), ⌈10·20%⌉ = 2 (down to regular).
    spend = ints(900, 500, 500, 300, 100, 0, 0, 0, 0, 0)
    # The 2nd-highest (500) is the regular cut; the third member ties with it and goes up with it.
    assert pyramid_levels(spend, (1, 4, 15)).tolist() == [0, 2, 2, 3, 3, 3, 3, 3, 3, 3]
    # 200 members, spend 200..1: VIP = top 2, major = next 8 (to 10), regular = next 30 (to 40).
    levels = pyramid_levels(np.arange(200, 0, -1, dtype=np.int64), (1, 4, 15))
    assert [int((levels == lv).sum()) for lv in range(4)] == [2, 8, 30, 160]
    # A tie across the VIP cut: the 2nd and 3rd both spent 199, so both are VIP.
    spend = np.arange(200, 0, -1, dtype=np.int64)
    spend[2] = 199
    assert int((pyramid_levels(spend, (1, 4, 15)) == 0).sum()) == 3


def test_nobody_spent_means_everyone_is_small() -> None:
    assert pyramid_levels(ints(0, 0, 0), (1, 4, 15)).tolist() == [3, 3, 3]


def test_quintile_scores() -> None:
    # 10 values: ranks 0..9 -> 1 + 5·rank // 10 -> 1,1,2,2,3,3,4,4,5,5
    assert quintile_scores(ints(10, 20, 30, 40, 50, 60, 70, 80, 90, 100)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # Ties share the lower score: the three 30s have 1 value below them -> 1 + 5·1 // 5 = 2.
    assert quintile_scores(ints(10, 30, 30, 30, 50)).tolist() == [1, 2, 2, 2, 5]
    # Recency: fewer days is better.
    assert quintile_scores(ints(1, 100, 10, 50, 5), higher_is_better=False).tolist() == [5, 1, 3, 2, 4]


def test_rfm_classes_against_the_mean_score() -> None:
    # Mean R = 3, F = 3, M = 3; high means strictly above.
    r, f, m = ints(5, 1, 5, 1, 3), ints(5, 5, 1, 1, 3), ints(5, 5, 5, 1, 3)
    names = [RFM_CLASSES[c] for c in rfm_classes(r, f, m)]
    assert names == ["important_value", "important_keep", "important_develop", "general_retain", "general_retain"]


def test_lifecycle_stages_and_rfm_by_hand() -> None:
    """As of 2026-06-30, with the default thresholds (new 30 days, lost 180, loyal 6 of 12 months, dormant past
    twice the usual interval):
      1  never bought                                  -> registered
      2  first purchase 2026-06-20                     -> new
      3  bought on the 1st of every month 2025-07..2026-06 (12 months, every ~30 days) -> loyal
      4  bought 2025-10-05 and 2025-10-15, nothing since (usual interval 10 days, 258 days ago) -> lost
      5  bought 2026-03-01 and 2026-04-01 (interval 31), last 90 days ago > 62 -> dormant
      6  bought 2026-05-01 and 2026-06-10 (interval 40, last 20 days ago)          -> active
    """
    rows: list[tuple[int, int, int, int]] = [(2, 202606, 5000, 1 << 19)]
    rows += [(3, 202500 + m if m > 6 else 202600 + m, 1000, 1) for m in (7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6)]
    rows += [(4, 202510, 30000, (1 << 4) | (1 << 14))]
    rows += [(5, 202603, 2000, 1), (5, 202604, 2000, 1)]
    rows += [(6, 202605, 800, 1), (6, 202606, 800, 1 << 9)]
    rows.sort()
    first_day_spend = {(2, 202606): 5000, (4, 202510): 15000}
    table = MonthRows(
        ints(*(r[0] for r in rows)),
        ints(*(r[1] for r in rows)),
        ints(*(r[2] for r in rows)),
        ints(*(r[3] for r in rows)),
        ints(*(first_day_spend.get((r[0], r[1]), r[2]) for r in rows)),
    )
    seg, fit = compute(ints(1, 2, 3, 4, 5, 6), table, dt.date(2026, 6, 30), SegmentOptions())
    assert [STAGES[s] for s in seg.stage] == ["registered", "new", "loyal", "lost", "dormant", "active"]
    # Recency: 10, 29 (June 1), 258 (Oct 15), 90 (Apr 1), 20 (Jun 10).
    assert seg.recency_days.tolist() == [-1, 10, 29, 258, 90, 20]
    assert seg.frequency.tolist() == [0, 1, 12, 2, 2, 2]
    assert seg.monetary_fen.tolist() == [0, 5000, 12000, 30000, 4000, 1600]
    # Scored among the 5 buyers. R (fewer days better): 10 -> 5, 20 -> 4, 29 -> 3, 90 -> 2, 258 -> 1.
    assert seg.r_score.tolist() == [0, 5, 3, 1, 2, 4]
    # F: 1 < 2 = 2 = 2 < 12 -> 1, 2, 2, 2, 5.  M: 1600 < 4000 < 5000 < 12000 < 30000.
    assert seg.f_score.tolist() == [0, 1, 5, 2, 2, 2]
    assert seg.m_score.tolist() == [0, 3, 4, 5, 2, 1]
    # Means: R 3, F 2.4, M 3. Member 2: R 5 high, F 1 low, M 3 equal to the mean so low -> general development.
    # Member 3: R 3 (low) F 5 (high) M 4 (high) -> important keep. Member 4: R 1, F 2, M 5 -> important retention.
    assert [RFM_CLASSES[c] if c >= 0 else None for c in seg.rfm_class] == [
        None,
        "general_develop",
        "important_keep",
        "important_retain",
        "general_retain",
        "general_develop",
    ]
    # Moves from the end of May to June 30: member 2 bought for the first time, member 5's 60 days without a
    # purchase on May 31 were within twice their 31-day interval, 90 days on June 30 are not.
    assert seg.moves["2026-06"] == {"registered>new": 1, "active>dormant": 1}
    assert len(seg.moves) == 12
    # Five buyers are too few for a model: the interval rule is named, and no figure is NaN for a buyer.
    assert fit.model == "interval rule" and fit.reason is not None
    assert np.isfinite(seg.p_alive[1:]).all() and np.isfinite(seg.value_fen[1:]).all()
    # Member 4 bought twice and is past the rule's interval; churn warnings start at 3 purchase days.
    assert seg.churn_warning.tolist() == [False] * 6


def _reference_stages(days: dict[int, list[dt.date]], members: list[int], today: dt.date) -> dict[int, str]:
    """The lifecycle rules (default thresholds) member by member, in plain Python, from each member's purchase
    days up to `today`."""
    seen = {m: sorted(d for d in days.get(m, []) if d <= today) for m in members}
    usual = {m: (d[-1] - d[0]).days / (len(d) - 1) for m, d in seen.items() if len(d) > 1}
    store_usual = float(np.median(list(usual.values()))) if usual else 180.0
    month = today.year * 12 + today.month - 1
    stages = {}
    for m, bought in seen.items():
        if not bought:
            stages[m] = "registered"
            continue
        recency = (today - bought[-1]).days
        dormant = recency * 100 > usual.get(m, store_usual) * 200
        months = {d.year * 12 + d.month - 1 for d in bought if d.year * 12 + d.month - 1 > month - 12}
        if (today - min(days[m])).days < 30:
            stages[m] = "new"
        elif recency > 180:
            stages[m] = "lost"
        elif dormant:
            stages[m] = "dormant"
        elif len(months) >= 6:
            stages[m] = "loyal"
        else:
            stages[m] = "active"
    return stages


@pytest.mark.parametrize(("since", "spread_days"), [(dt.date(2024, 1, 1), 900), (dt.date(2019, 1, 1), 2700)])
def test_stages_and_moves_match_the_rules_member_by_member(since: dt.date, spread_days: int) -> None:
    """Random histories of 400 members over 30 months, and over 7 years (beyond the 36 months a history row keeps
    month by month): the stages at the as-of day and at each of the last 12 month ends, and the moves between
    them, as the rules give them one member at a time; purchase days and spend over a 36-month period too."""
    rng = np.random.default_rng(12)
    as_of = dt.date(2026, 6, 17)
    days: dict[int, list[dt.date]] = {}
    for member in range(1, 401):
        if rng.random() < 0.15:
            continue  # registered, never bought
        start = since + dt.timedelta(days=int(rng.integers(0, spread_days)))
        gap = int(rng.integers(3, 90))
        bought = [start + dt.timedelta(days=int(v)) for v in np.cumsum(rng.integers(1, 2 * gap, 40))]
        days[member] = sorted({d for d in bought if d <= as_of} | {start})
    days = {m: d for m, d in days.items() if d[0] <= as_of}
    rows = []
    for member, bought in sorted(days.items()):
        by_month: dict[int, int] = {}
        for d in bought:
            by_month[d.year * 100 + d.month] = by_month.get(d.year * 100 + d.month, 0) | 1 << (d.day - 1)
        rows += [(member, month, 100, mask, 100) for month, mask in sorted(by_month.items())]
    table = MonthRows(*(np.array(column, dtype=np.int64) for column in zip(*rows, strict=True)))
    members = list(range(1, 401))
    seg, _fit = compute(np.array(members, dtype=np.int64), table, as_of, SegmentOptions())

    assert [STAGES[s] for s in seg.stage] == list(_reference_stages(days, members, as_of).values())
    ends = [  # the ends of June 2025 .. May 2026
        dt.date((month + 1) // 12, (month + 1) % 12 + 1, 1) - dt.timedelta(days=1)
        for month in range(2025 * 12 + 5, 2026 * 12 + 5)
    ]
    stages = [_reference_stages(days, members, end) for end in [*ends, as_of]]
    expected = {}
    for before, after, end in zip(stages[:-1], stages[1:], [*ends[1:], as_of], strict=True):
        moved: dict[str, int] = {}
        for m in members:
            if before[m] != after[m]:
                moved[f"{before[m]}>{after[m]}"] = moved.get(f"{before[m]}>{after[m]}", 0) + 1
        expected[f"{end.year:04d}-{end.month:02d}"] = moved
    assert {k: dict(sorted(v.items())) for k, v in seg.moves.items()} == {
        k: dict(sorted(v.items())) for k, v in expected.items()
    }
    assert sum(len(v) for v in expected.values()) > 12  # the test moves members between many stages

    long, _fit = compute(np.array(members, dtype=np.int64), table, as_of, SegmentOptions(period_months=36))
    first_month = as_of.year * 12 + as_of.month - 1 - 35
    in_period = {m: [d for d in days.get(m, []) if d.year * 12 + d.month - 1 >= first_month] for m in members}
    assert long.frequency.tolist() == [len(in_period[m]) for m in members]
    assert long.monetary_fen.tolist() == [100 * len({(d.year, d.month) for d in in_period[m]}) for m in members]
    assert long.recency_days.tolist() == [(as_of - days[m][-1]).days if m in days else -1 for m in members]
