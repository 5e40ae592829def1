"""The figures behind every chart on hand-made data (SQLite and PostgreSQL), the members behind a click, the empty
states, the refusal for cashiers and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from pathlib import Path

import pytest

from app.care.complaints import ComplaintDraft, Resolution
from app.care.exports import write_atomically
from app.charts.model import ChartFilter, ChartId, Grain, Look
from app.clock import FixedClock
from app.context import Services
from app.errors import PermissionDenied
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from db.enums import ComplaintSeverity

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOVEMBER = ChartFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def local(month: int, day: int, hour: int = 12, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def register(svc: Services, phone: str, name: str) -> int:
    return svc.members.register(MemberForm(phone=phone, name=name, membership_consent=True))


def buy(svc: Services, member: int, fen: int, at: dt.datetime) -> int:
    return svc.loyalty.record_purchase(PurchaseRequest(member, fen, str(uuid.uuid4()), sold_at=at)).sale_id


@pytest.fixture
def shop(boss: Services) -> dict[str, int]:
    """Three members: 张伟 spends ¥600 in three visits, 李娜 ¥300 (and ¥50 returned today), 王芳 ¥100 in October."""
    ids = {
        "zhang": register(boss, "13800000001", "张伟"),
        "li": register(boss, "13800000002", "李娜"),
        "wang": register(boss, "13800000003", "王芳"),
    }
    buy(boss, ids["zhang"], 20_000, local(11, 2))
    buy(boss, ids["zhang"], 20_000, local(11, 9))
    buy(boss, ids["zhang"], 20_000, local(11, 16))
    buy(boss, ids["li"], 30_000, local(11, 3, hour=0))  # 00:00 in Shanghai is still 2 November in UTC
    returned = buy(boss, ids["li"], 5_000, local(11, 10))
    boss.loyalty.return_sale(returned, str(uuid.uuid4()))
    buy(boss, ids["wang"], 10_000, local(10, 20))
    return ids


def test_cashiers_are_refused(svc: Services) -> None:
    with pytest.raises(PermissionDenied):
        svc.charts.chart(ChartId.SALES, NOVEMBER)
    with pytest.raises(PermissionDenied):
        svc.charts.members(ChartId.SALES, NOVEMBER, "day:2026-11-02", 0, "")


def test_sales_trend_by_day_week_and_month(boss: Services, shop: dict[str, int]) -> None:
    by_day = boss.charts.chart(ChartId.SALES, ChartFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 18), grain=Grain.DAY))
    assert by_day.look == Look.STACKED and by_day.empty is None
    assert len(by_day.categories) == 18 and by_day.categories[0] == "11-01"  # days without sales are zeros
    member = dict(zip(by_day.categories, by_day.series[0].values, strict=True))
    assert member["11-02"] == 20_000 and member["11-03"] == 30_000 and member["11-01"] == 0
    assert member["11-10"] == 5_000 and member["11-18"] == -5_000  # the return counts on its own day
    purchases = dict(zip(by_day.categories, by_day.series[2].values, strict=True))
    assert purchases["11-10"] == 1  # the purchase counts, the return does not
    share = dict(zip(by_day.categories, by_day.series[3].values, strict=True))
    assert share["11-02"] == 100.0 and share["11-01"] is None  # no sales: no share, not 0 %

    by_week = boss.charts.chart(
        ChartId.SALES, ChartFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 18), grain=Grain.WEEK)
    )
    assert by_week.categories == ("10-26", "11-02", "11-09", "11-16")
    assert by_week.series[0].values == (0.0, 50_000.0, 25_000.0, 15_000.0)

    by_month = boss.charts.chart(ChartId.SALES, ChartFilter(dt.date(2026, 10, 1), dt.date(2026, 11, 30)))
    assert by_month.categories == ("2026-10", "2026-11")
    assert by_month.series[0].values == (10_000.0, 90_000.0)

    week = boss.charts.members(ChartId.SALES, NOVEMBER, by_week.keys[1], 0, "week")
    assert set(week.member_ids) == {shop["zhang"], shop["li"]} and week.count == 2
    assert {r.name for r in week.rows} == {"张伟", "李娜"}
    assert all("****" in r.phone for r in week.rows) is False  # the owner sees phones in full


def test_a_branch_without_sales_and_a_future_period_are_empty(boss: Services, shop: dict[str, int]) -> None:
    branches = boss.charts.branches()
    assert branches
    nowhere = max(b for b, _ in branches) + 1000
    for chart in (ChartId.SALES, ChartId.POINTS, ChartId.PARETO, ChartId.NEW_MEMBERS, ChartId.COMPLAINTS):
        data = boss.charts.chart(chart, ChartFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 18), nowhere))
        assert data.empty, chart
    future = ChartFilter(dt.date(2027, 1, 1), dt.date(2027, 3, 1))
    for chart in ChartId:
        data = boss.charts.chart(chart, future)
        assert data.empty is not None and "future" in data.empty, chart
        assert boss.charts.members(chart, future, "month:2027-01-01", 0, "").count == 0
    backwards = boss.charts.chart(ChartId.SALES, ChartFilter(dt.date(2026, 11, 5), dt.date(2026, 11, 1)))
    assert backwards.empty is not None


def test_pareto_curve_and_its_top_members(boss: Services, shop: dict[str, int]) -> None:
    data = boss.charts.chart(ChartId.PARETO, ChartFilter(dt.date(2026, 10, 1), dt.date(2026, 11, 18)))
    shares = data.series[0].values
    # spend: 张伟 60,000, 李娜 30,000 (the returned 5,000 is not counted), 王芳 10,000; 100,000 in all
    assert shares[0] == 0.0 and shares[1] == pytest.approx(60.0) and shares[50] == pytest.approx(90.0)
    assert shares[100] == pytest.approx(100.0)
    assert boss.charts.members(ChartId.PARETO, NOVEMBER, "1", 0, "").member_ids == (shop["zhang"],)
    branch = boss.charts.branches()[0][0]
    at_branch = boss.charts.chart(ChartId.PARETO, ChartFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 18), branch))
    assert at_branch.series[0].values[1] == pytest.approx(100.0 * 60_000 / 90_000)  # the sales net of the return


def test_points_issued_redeemed_outstanding_and_liability(boss: Services, shop: dict[str, int]) -> None:
    data = boss.charts.chart(ChartId.POINTS, ChartFilter(dt.date(2026, 10, 1), dt.date(2026, 11, 18)))
    issued, redeemed, expired, outstanding, liability = (s.values for s in data.series)
    balances = sum(boss.members.profile(m).points_balance for m in shop.values())
    assert outstanding[-1] == balances and issued[0] > 0 and expired == (0.0, 0.0)
    assert liability[-1] == balances * 100 // 100  # 100 points = ¥1: one point is one fen
    assert redeemed == (0.0, 0.0)
    earners = boss.charts.members(ChartId.POINTS, NOVEMBER, data.keys[1], 0, "")
    assert set(earners.member_ids) == {shop["zhang"], shop["li"]}


def test_new_members_and_tiers(boss: Services, shop: dict[str, int], clock: FixedClock) -> None:
    data = boss.charts.chart(ChartId.NEW_MEMBERS, NOVEMBER)
    assert data.series[0].values == (3.0,) and data.series[1].values == (0.0,)
    assert boss.charts.members(ChartId.NEW_MEMBERS, NOVEMBER, data.keys[0], 0, "").count == 3
    tiers = boss.charts.chart(ChartId.TIERS, NOVEMBER)
    assert sum(v or 0 for v in tiers.series[0].values) == 3
    lowest = boss.charts.members(ChartId.TIERS, NOVEMBER, tiers.keys[0], 0, "")
    assert lowest.count == int(tiers.series[0].values[0] or 0)


def test_complaints_by_category_with_hours_to_resolve(boss: Services, shop: dict[str, int], clock: FixedClock) -> None:
    complaints = boss.care.complaints
    first = complaints.log(ComplaintDraft("酸奶胀袋", "counter", "商品质量", ComplaintSeverity.HIGH, shop["li"]), "c1")
    complaints.log(ComplaintDraft("标签错", "counter", "价格标签", ComplaintSeverity.LOW, shop["zhang"]), "c2")
    complaints.log(ComplaintDraft("又胀袋", "counter", "商品质量", ComplaintSeverity.LOW), "c3")
    clock.advance(dt.timedelta(hours=6))
    complaints.resolve(first.complaint_id, Resolution("退货并致歉", follow_up=False))
    data = boss.charts.chart(ChartId.COMPLAINTS, NOVEMBER)
    assert data.categories == ("商品质量", "价格标签")
    assert data.series[0].values == (2.0, 1.0)
    assert data.series[1].values[0] == pytest.approx(6.0) and data.series[1].values[1] is None
    assert boss.charts.members(ChartId.COMPLAINTS, NOVEMBER, "商品质量", 0, "").member_ids == (shop["li"],)


def test_segment_charts_follow_the_latest_refresh(boss: Services, shop: dict[str, int]) -> None:
    before = boss.charts.chart(ChartId.PYRAMID, NOVEMBER)
    assert before.empty is not None and "Segments" in before.empty
    boss.segments.refresh()
    pyramid = boss.charts.chart(ChartId.PYRAMID, NOVEMBER)
    assert sum(v or 0 for v in pyramid.series[0].values) == 3
    assert pyramid.notes and "2026-11-17" in pyramid.notes[0]
    rfm = boss.charts.chart(ChartId.RFM, NOVEMBER)
    assert sum(v or 0 for v in rfm.series[0].values) == 3 and len(rfm.notes) == 9  # as-of line and 8 actions
    heat = boss.charts.chart(ChartId.HEAT, NOVEMBER)
    assert sum(map(sum, heat.heat)) == 3
    row, column = next((r, c) for r, counts in enumerate(heat.heat) for c, n in enumerate(counts) if n)
    cell = boss.charts.members(ChartId.HEAT, NOVEMBER, heat.keys[row], column, "")
    assert cell.count == heat.heat[row][column]
    stages = boss.charts.chart(ChartId.LIFECYCLE, NOVEMBER)
    assert sum(v or 0 for v in stages.series[0].values) == 3
    moves = boss.charts.chart(ChartId.MOVES, NOVEMBER)
    assert not moves.drill and len(moves.categories) == 12


def test_an_empty_store_shows_a_message_for_every_chart(boss: Services) -> None:
    for chart in ChartId:
        data = boss.charts.chart(chart, NOVEMBER)
        if chart == ChartId.TIERS:
            continue  # the tiers exist in an empty store; their counts are zero
        assert data.empty, chart
    assert boss.charts.chart(ChartId.TIERS, NOVEMBER).empty


def test_csv_export_writes_the_figures_in_yuan(boss: Services, shop: dict[str, int], tmp_path: Path) -> None:
    data = boss.charts.chart(ChartId.SALES, ChartFilter(dt.date(2026, 10, 1), dt.date(2026, 11, 30)))
    header, rows = data.table()
    out = tmp_path / "sales.csv"
    assert write_atomically(out, header, iter(rows)) == 2
    with out.open(encoding="utf-8-sig", newline="") as fh:
        read = list(csv.reader(fh))
    assert read[0] == [data.x_title, *[s.name for s in data.series]]
    assert read[1][:2] == ["2026-10", "100.00"] and read[2][:2] == ["2026-11", "900.00"]
    assert read[2][4] == "100.0"
    heat = boss.charts.chart(ChartId.HEAT, NOVEMBER)
    assert heat.empty  # no refresh yet
