"""Charts over what happened in the period: the sales trend with the member share, the Pareto curve and the points
(issued, redeemed, expired, outstanding and the store's liability in yuan). The branch is where it happened."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import Select, func, select

from app.charts.base import Ask
from app.charts.model import ChartData, ChartId, Look, Series, Unit
from app.charts.periods import (
    EPOCH,
    between,
    bucket_key,
    bucket_label,
    bucket_start,
    buckets,
    span,
)
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from db import points_totals, spend_months
from db.enums import SaleKind
from db.models import PointsDayTotal, PointsLedger, Sale, SalesDayTotal
from db.spend_months import month_key

NOTHING = S("Charts", "Nothing in this period.")


def _t(text: str) -> str:
    return translate("Charts", text)


def _bucketed(ask: Ask, rows: list[tuple[int, Any]]) -> tuple[list[dt.date], dict[dt.date, list[Any]]]:
    """Day-number rows folded into the filter's buckets over the whole period (zeros included)."""
    grain = ask.filter.grain
    found: dict[dt.date, list[Any]] = defaultdict(list)
    for day_no, value in rows:
        found[bucket_start(EPOCH + dt.timedelta(days=int(day_no)), grain)].append(value)
    first = ask.period.first or (min(found) if found else ask.period.last)
    return buckets(first, ask.period.last, grain), found


def _labels(ask: Ask, starts: list[dt.date]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    years = len({s.year for s in starts})
    grain = ask.filter.grain
    return tuple(bucket_label(s, grain, years) for s in starts), tuple(bucket_key(s, grain) for s in starts)


def _x_title(ask: Ask) -> str:
    return _t(
        {"day": S("Charts", "Day"), "week": S("Charts", "Week (from Monday)"), "month": S("Charts", "Month")}[
            ask.filter.grain.value
        ]
    )


class SalesTrend:
    """Sales net of returns per bucket, member and walk-in stacked, and the members' share of the amount."""

    def figures(self, ask: Ask) -> ChartData:
        # The day totals kept with every sale and return (db/day_totals.py), a few rows a day, not the sales.
        query = select(
            SalesDayTotal.day,
            func.sum(SalesDayTotal.member_sales_fen - SalesDayTotal.member_returns_fen),
            func.sum(
                SalesDayTotal.sales_fen
                - SalesDayTotal.returns_fen
                - SalesDayTotal.member_sales_fen
                + SalesDayTotal.member_returns_fen
            ),
            func.sum(SalesDayTotal.sales),
        ).where(SalesDayTotal.day <= ask.period.last)
        if ask.period.first is not None:
            query = query.where(SalesDayTotal.day >= ask.period.first)
        if ask.filter.branch_id is not None:
            query = query.where(SalesDayTotal.branch_id == ask.filter.branch_id)
        rows = ask.session.execute(query.group_by(SalesDayTotal.day)).all()
        facts: list[tuple[int, tuple[bool, int, int]]] = []
        for day, member_fen, walk_in_fen, sales in rows:
            number = (day - EPOCH).days
            facts += [(number, (True, int(member_fen), int(sales))), (number, (False, int(walk_in_fen), 0))]
        starts, found = _bucketed(ask, facts)
        member = [sum(f for m, f, _ in found.get(s, []) if m) for s in starts]
        walk_in = [sum(f for m, f, _ in found.get(s, []) if not m) for s in starts]
        count = [sum(n for _, _, n in found.get(s, [])) for s in starts]
        share = [(100.0 * m / (m + w)) if (m + w) > 0 else None for m, w in zip(member, walk_in, strict=True)]
        labels, keys = _labels(ask, starts)
        total = sum(member) + sum(walk_in)
        notes = (
            _t(S("Charts", "Sales net of returns (a return counts on its own day), in yuan; {n} purchases.")).format(
                n=f"{sum(count):,}"
            ),
        )
        return ChartData(
            ChartId.SALES,
            Look.STACKED,
            _x_title(ask),
            _t(S("Charts", "Sales (yuan)")),
            labels,
            (
                Series(_t(S("Charts", "Member sales")), tuple(map(float, member)), Unit.FEN),
                Series(_t(S("Charts", "Walk-in sales")), tuple(map(float, walk_in)), Unit.FEN, clickable=False),
                Series(
                    _t(S("Charts", "Purchases")),
                    tuple(map(float, count)),
                    Unit.COUNT,
                    clickable=False,
                    line=True,
                    right_axis=True,
                    drawn=False,
                ),
                Series(_t(S("Charts", "Member share (%)")), tuple(share), Unit.PERCENT, right_axis=True, line=True),
            ),
            keys,
            notes=notes,
            empty=None if rows and (total or sum(count)) else _t(NOTHING),
            right_title=_t(S("Charts", "Member share (%)")),
        )

    def members(self, ask: Ask, key: str, series: int) -> Select[Any]:
        start, end = span(ask.period, key)
        query = select(Sale.member_id).where(
            Sale.member_id.is_not(None), Sale.kind == SaleKind.SALE, *between(Sale.sold_at, start, end)
        )
        if ask.filter.branch_id is not None:
            query = query.where(Sale.branch_id == ask.filter.branch_id)
        return query


PARETO_STEPS = 100


class Pareto:
    """What share of the members' sales the top x % of buying members bring: each member's spend in the whole
    calendar months of the period (sales not returned), at the branch asked or all of them, read from the packed
    monthly spend kept with every purchase and return (db/spend_months.py), never from the sales."""

    def _spend(self, ask: Ask) -> tuple[Any, Any]:
        """The buying members (spend > 0), ids ascending, and their spend, as int64 arrays."""
        first = None if ask.period.first is None else month_key(ask.period.first)
        ids, spend = spend_months.spend_by_member(
            ask.session.connection(), first, month_key(ask.period.last), ask.filter.branch_id
        )
        buying = spend > 0
        return ids[buying], spend[buying]

    def figures(self, ask: Ask) -> ChartData:
        import numpy as np  # loaded with the first Pareto curve, not with the charts

        _ids, spend = self._spend(ask)
        spend = np.sort(spend)[::-1]  # most first: only the amounts matter here, not who
        x_title = _t(S("Charts", "Top share of buying members (%)"))
        y_title = _t(S("Charts", "Share of member sales (%)"))
        if not len(spend):
            return ChartData(ChartId.PARETO, Look.CURVE, x_title, y_title, empty=_t(NOTHING))
        running = spend.cumsum()  # integer fen; only the 101 points of the curve become Python numbers
        total = int(running[-1])
        n = len(spend)
        steps = range(0, PARETO_STEPS + 1)
        shares = tuple(100.0 * (int(running[top - 1]) if top else 0) / total for top in (_top(n, p) for p in steps))
        notes = [
            _t(S("Charts", "{members} buying members; the top {pct}% bring {share:.1f}% of their sales.")).format(
                members=f"{n:,}", pct=pct, share=shares[pct]
            )
            for pct in (1, 5, 20)
        ]
        notes.append(_t(S("Charts", "Whole calendar months of the period are counted, sales not returned.")))
        return ChartData(
            ChartId.PARETO,
            Look.CURVE,
            x_title,
            y_title,
            tuple(f"{pct}%" for pct in steps),
            (Series(_t(S("Charts", "Share of member sales (%)")), shares, Unit.PERCENT),),
            tuple(str(pct) for pct in steps),
            notes=tuple(notes),
        )

    def members(self, ask: Ask, key: str, series: int) -> list[int]:
        """The top `key` % of buying members (equal spend: lower id first)."""
        import numpy as np

        ids, spend = self._spend(ask)
        ranked = ids[np.argsort(-spend, kind="stable")]
        return [int(m) for m in ranked[: _top(len(ranked), int(key))].tolist()]


def _top(n: int, pct: int) -> int:
    """How many members are the top `pct` % of `n` (rounded up: the top 1 % of 50 members is one member)."""
    return min(n, -(-n * pct // 100))


POINT_GROUPS = (points_totals.ISSUED_SOURCES, points_totals.REDEEMED_SOURCES, points_totals.EXPIRED_SOURCES)


class Points:
    """Points issued (positive earnings and adjustments), redeemed, expired per bucket; outstanding at each bucket's
    end and what it is worth to the members (the liability) at the store's redemption rate. Read from the points
    day totals (db/points_totals.py), not the ledger."""

    def figures(self, ask: Ask) -> ChartData:
        by_day = _points_by_day(ask)
        first = ask.period.first
        outstanding = sum(sum(kinds) for day, kinds in by_day.items() if first is not None and day < first)
        inside = [
            ((day - EPOCH).days, kinds)
            for day, kinds in by_day.items()
            if (first is None or day >= first) and day <= ask.period.last
        ]
        starts, found = _bucketed(ask, inside)
        figures: list[list[float]] = [[], [], [], [], []]
        for start in starts:
            sums = [0, 0, 0, 0]
            for kinds in found.get(start, []):
                for kind, points in enumerate(kinds):
                    sums[kind] += points
            outstanding += sum(sums)
            figures[0].append(float(sums[points_totals.ISSUED]))
            figures[1].append(float(-sums[points_totals.REDEEMED]))
            figures[2].append(float(-sums[points_totals.EXPIRED]))
            figures[3].append(float(outstanding))
            figures[4].append(float(_liability_fen(outstanding, ask.settings.points_redeem_points_per_yuan)))
        labels, keys = _labels(ask, starts)
        per_yuan = ask.settings.points_redeem_points_per_yuan
        notes = (
            _t(S("Charts", "Liability: outstanding points at the end of each period at {points} points = ¥1.")).format(
                points=per_yuan
            ),
            _t(S("Charts", "Outstanding now: {points} points, ¥{yuan}.")).format(
                points=f"{outstanding:,}", yuan=f"{_liability_fen(outstanding, per_yuan) / 100:,.2f}"
            ),
        )
        return ChartData(
            ChartId.POINTS,
            Look.BARS,
            _x_title(ask),
            _t(S("Charts", "Points")),
            labels,
            (
                Series(_t(S("Charts", "Issued")), tuple(figures[0]), Unit.POINTS),
                Series(_t(S("Charts", "Redeemed")), tuple(figures[1]), Unit.POINTS),
                Series(_t(S("Charts", "Expired")), tuple(figures[2]), Unit.POINTS),
                Series(_t(S("Charts", "Outstanding")), tuple(figures[3]), Unit.POINTS, drawn=False, clickable=False),
                Series(
                    _t(S("Charts", "Liability (yuan)")),
                    tuple(figures[4]),
                    Unit.FEN,
                    right_axis=True,
                    line=True,
                    clickable=False,
                ),
            ),
            keys,
            notes=notes,
            empty=None if inside or outstanding else _t(NOTHING),
            right_title=_t(S("Charts", "Liability (yuan)")),
        )

    def members(self, ask: Ask, key: str, series: int) -> Select[Any]:
        start, end = span(ask.period, key)
        query = select(PointsLedger.member_id).where(
            PointsLedger.source.in_(POINT_GROUPS[series]), *between(PointsLedger.created_at, start, end)
        )
        if series == 0:
            query = query.where(PointsLedger.delta > 0)
        if ask.filter.branch_id is not None:
            query = query.where(PointsLedger.branch_id == ask.filter.branch_id)
        return query


def _points_by_day(ask: Ask) -> dict[dt.date, list[int]]:
    """The points posted each day (of the branch asked, else all), by kind: the stored day totals up to their mark
    (db/points_totals.py) and the ledger rows after it, so the whole ledger is counted without reading it."""
    conn = ask.session.connection()
    timezone = ask.settings.store_timezone
    found = points_totals.mark(conn)
    counted_to = found[0] if found is not None and found[1] == timezone else 0
    by_day: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    if counted_to:
        query = select(PointsDayTotal.day, PointsDayTotal.kind, func.sum(PointsDayTotal.points))
        if ask.filter.branch_id is not None:
            query = query.where(PointsDayTotal.branch_id == ask.filter.branch_id)
        for day, kind, points in ask.session.execute(query.group_by(PointsDayTotal.day, PointsDayTotal.kind)):
            by_day[day][int(kind)] += int(points)
    for (day, branch_id, kind), (points,) in points_totals.after_mark(conn, counted_to, timezone).items():
        if ask.filter.branch_id in (None, branch_id):
            by_day[day][kind] += points
    return by_day


def _liability_fen(points: int, points_per_yuan: int) -> int:
    """What `points` are worth when redeemed, in fen (rounded down: a member cannot redeem a part of a fen)."""
    return max(points, 0) * 100 // max(points_per_yuan, 1)
