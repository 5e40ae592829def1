"""Close of day, the parts added for issue 13's last gaps (SQLite and PostgreSQL): the CSAT / NPS chart follows the
survey chosen, the lifecycle moves list exactly the members the refresh counted, a chart's figures are kept per
filter but never outlive a change, the sales trend read from the day totals equals the sales, and the members
behind a work list are those it counts."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from alembic import command
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.actions.member_sets import MemberSet
from app.care.questions import Question, QuestionKind
from app.care.surveys import TemplateDraft
from app.charts.model import ChartFilter, ChartId, Grain
from app.context import Services, Store
from app.demo import DemoOptions, generate_demo
from app.errors import ValidationError
from app.integrity import POINTS_TOTALS_DIFFER, check_database
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from db import points_totals
from db.enums import SaleKind
from db.migrate import alembic_config, upgrade
from db.models import PointsDayTotal, Sale

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOVEMBER = ChartFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
BY_DAY = ChartFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 18), grain=Grain.DAY)


def local(month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def register(svc: Services, phone: str, name: str, birthday: dt.date | None = None) -> int:
    return svc.members.register(MemberForm(phone=phone, name=name, membership_consent=True, birthday=birthday))


def enter(svc: Services, code: str, typed: dict[str, str]) -> None:
    form = svc.care.surveys.print_forms(code, 1, None, lambda batch: None).forms[0].form_no
    svc.care.surveys.enter(form, typed, str(uuid.uuid4()), code)


def test_the_satisfaction_chart_follows_the_survey_chosen(boss: Services) -> None:
    boss.care.surveys.save_template(TemplateDraft("QUICK", "快速调查", [Question("", QuestionKind.RATING, "总体")]))
    full = {"quality": "5", "range": "4", "price": "3", "service": "5", "checkout": "2", "clean": "4", "nps": "9"}
    for _ in range(2):
        enter(boss, "SAT", full)
    enter(boss, "QUICK", {"q1": "1"})
    surveys = boss.charts.surveys()
    assert [(s.code, s.responses) for s in surveys] == [("SAT", 2), ("QUICK", 1)]
    busiest = boss.charts.chart(ChartId.SATISFACTION, NOVEMBER)
    assert "SAT" in busiest.notes[0] and busiest.series[0].values[0] == pytest.approx(200 / 3)  # 4 of 6 are 4 or 5
    quick = boss.charts.chart(ChartId.SATISFACTION, ChartFilter(NOVEMBER.since, NOVEMBER.until, survey="QUICK"))
    assert "QUICK" in quick.notes[0] and quick.series[0].values == (0.0,)
    assert quick.series[1].values == (None,)  # no 0–10 question: no NPS, not a zero
    answered = boss.charts.members(ChartId.SATISFACTION, NOVEMBER, quick.keys[0], 0, "")
    assert answered.count == 0  # the forms were anonymous


def test_lifecycle_moves_list_exactly_the_members_the_refresh_counted(boss: Services, store: Store) -> None:
    generate_demo(store, DemoOptions(members=150, days=400, seed=3), lambda _d, _t, _w: True)
    boss.segments.refresh(per_member=False)
    moves = boss.charts.chart(ChartId.MOVES, NOVEMBER)
    assert moves.drill and moves.empty is None and len(moves.categories) == 12
    listed_any = 0
    for series, figures in enumerate(moves.series):
        for index, month in enumerate(moves.categories):
            members = boss.charts.members(ChartId.MOVES, NOVEMBER, moves.keys[index], series, "")
            assert members.count == figures.values[index], (figures.name, month)
            listed_any += members.count
    assert listed_any > 0


def test_figures_kept_for_a_filter_follow_every_change(boss: Services) -> None:
    member = register(boss, "13800000001", "张伟")
    at = local(11, 2)
    boss.loyalty.record_purchase(PurchaseRequest(member, 10_000, str(uuid.uuid4()), sold_at=at))
    first = boss.charts.chart(ChartId.SALES, NOVEMBER)
    assert boss.charts.chart(ChartId.SALES, NOVEMBER) is first  # asked again: kept
    other = register(boss, "13800000002", "李娜")
    boss.loyalty.record_purchase(PurchaseRequest(other, 5_000, str(uuid.uuid4()), sold_at=at))
    second = boss.charts.chart(ChartId.SALES, NOVEMBER)
    assert first.series[0].values == (10_000.0,) and second.series[0].values == (15_000.0,)
    by_day = boss.charts.chart(ChartId.SALES, ChartFilter(NOVEMBER.since, NOVEMBER.until, grain=Grain.DAY))
    assert by_day is not second and len(by_day.categories) == 18  # 1 to 18 November, cut at today (the 18th)


def test_the_sales_trend_from_the_day_totals_equals_the_sales(boss: Services, store: Store) -> None:
    generate_demo(store, DemoOptions(members=80, days=60, seed=5), lambda _d, _t, _w: True)
    data = boss.charts.chart(ChartId.SALES, ChartFilter(None, dt.date(2026, 11, 18), grain=Grain.MONTH))
    member, walk_in, purchases = (s.values for s in data.series[:3])

    def raw(session: object) -> tuple[int, int, int]:
        total = select(func.coalesce(func.sum(Sale.total_fen), 0))
        at_members = total.where(Sale.member_id.is_not(None))
        count = select(func.count()).where(Sale.kind == SaleKind.SALE)
        return tuple(int(session.scalar(q) or 0) for q in (total, at_members, count))  # type: ignore[attr-defined]

    everything, of_members, sales = store.db.read(raw)
    assert sum(v or 0 for v in member) == of_members
    assert sum(v or 0 for v in member) + sum(v or 0 for v in walk_in) == everything
    assert sum(v or 0 for v in purchases) == sales


def test_the_members_of_a_work_list_are_those_it_counts(boss: Services) -> None:
    today = dt.date(2026, 11, 18)
    born = [
        register(boss, f"1380000000{n}", f"会员{n}", today.replace(year=1990) + dt.timedelta(days=n)) for n in (0, 3)
    ]
    register(boss, "13800000009", "不过生日", dt.date(1990, 1, 1))
    lists = {w.code: w.count for w in boss.close_of_day.work_lists(today)}
    week = boss.work_lists.members_of("birthdays_week", today)
    assert isinstance(week, MemberSet) and week.member_ids == tuple(born) and lists["birthdays_week"] == 2
    assert boss.work_lists.members_of("birthdays_today", today).member_ids == (born[0],)
    two_years_ago = local(12, 1).replace(year=2024)  # points last 24 months: they end on 2 December
    boss.loyalty.record_purchase(PurchaseRequest(born[1], 50_000, str(uuid.uuid4()), sold_at=two_years_ago))
    boss.loyalty.record_purchase(PurchaseRequest(born[0], 50_000, str(uuid.uuid4())))
    expiring = boss.work_lists.members_of("points_expiring", today)
    assert expiring.member_ids == (born[1],) and boss.close_of_day.work_lists(today)[-1].count == 1
    risks = boss.work_lists.members_of("churn_risks", today)
    assert risks.flt is not None and risks.flt.churn_warning and risks.label
    with pytest.raises(ValidationError):
        boss.work_lists.members_of("overdue_complaints", today)


def test_the_points_chart_reads_the_day_totals_and_the_rows_after_their_mark(boss: Services, store: Store) -> None:
    member = register(boss, "13800000001", "张伟")
    for day in (3, 9):
        boss.loyalty.record_purchase(PurchaseRequest(member, 20_000, str(uuid.uuid4()), sold_at=local(11, day)))

    def fresh() -> tuple[tuple[float | None, ...], ...]:
        """The figures worked out anew (the service keeps figures per data version)."""
        data = store.services(store.operator("owner")).charts.chart(ChartId.POINTS, BY_DAY)
        return tuple(s.values for s in data.series)

    def balance() -> int:
        return boss.members.profile(member).points_balance

    from_the_ledger = fresh()  # nothing counted yet: every row is after the mark
    earned = balance()
    assert earned > 0 and sum(v or 0 for v in from_the_ledger[0]) == earned and from_the_ledger[3][-1] == earned
    assert boss.charts.catch_up_points() > 0  # the first catch-up counts everything
    assert fresh() == from_the_ledger
    boss.loyalty.record_purchase(PurchaseRequest(member, 10_000, str(uuid.uuid4()), sold_at=local(11, 3)))
    with_a_late_row = fresh()  # dated on a day already counted, written after the mark
    assert with_a_late_row[0][2] - from_the_ledger[0][2] == balance() - earned > 0
    assert with_a_late_row[3][-1] == balance()
    one_row = store.db.write(lambda s: points_totals.catch_up(s.connection(), "Asia/Shanghai", most=1))
    assert one_row == 1 and boss.charts.catch_up_points() >= 0 and fresh() == with_a_late_row
    assert boss.charts.catch_up_points() == 0
    assert [p for p in check_database(store.db) if p.message == POINTS_TOTALS_DIFFER] == []

    def tamper(session: Session) -> None:
        session.execute(update(PointsDayTotal).values(points=PointsDayTotal.points + 1))

    store.db.write(tamper)
    found = [p for p in check_database(store.db) if p.message == POINTS_TOTALS_DIFFER]
    assert found and "2026-11-03 branch" in str(found[0])
    boss.close_of_day.recount()
    assert [p for p in check_database(store.db) if p.message == POINTS_TOTALS_DIFFER] == []


def test_migration_0015_counts_the_points_of_the_existing_ledger(boss: Services, store: Store) -> None:
    member = register(boss, "13800000001", "张伟")
    for day in (2, 16):
        boss.loyalty.record_purchase(PurchaseRequest(member, 30_000, str(uuid.uuid4()), sold_at=local(11, day)))
    config = alembic_config(store.db)
    with store.db.engine.begin() as conn:  # the store's own engine, as db.migrate.upgrade does
        config.attributes["connection"] = conn
        command.downgrade(config, "0015-1")
    store.db.dispose()
    upgrade(store.db)
    with store.db.session() as session:
        conn = session.connection()
        assert points_totals.mark(conn) is not None and points_totals.differences(conn, "Asia/Shanghai") == []
        days = {day for day, _branch, _kind in points_totals.stored(conn)}
    assert days == {dt.date(2026, 11, 2), dt.date(2026, 11, 16)}


def test_tier_moves_count_and_list_the_members_moved(boss: Services) -> None:
    climber = register(boss, "13800000001", "张伟")
    register(boss, "13800000002", "李娜")
    boss.loyalty.record_purchase(PurchaseRequest(climber, 250_000, str(uuid.uuid4()), sold_at=local(11, 5)))
    data = boss.charts.chart(ChartId.TIER_MOVES, NOVEMBER)
    ups, downs = (s.values for s in data.series)
    assert downs == (0.0,) and (ups[0] or 0) >= 1
    moved_up = boss.charts.members(ChartId.TIER_MOVES, NOVEMBER, data.keys[0], 0, "")
    assert climber in moved_up.member_ids and moved_up.count <= (ups[0] or 0)
    assert boss.charts.members(ChartId.TIER_MOVES, NOVEMBER, data.keys[0], 1, "").count == 0
