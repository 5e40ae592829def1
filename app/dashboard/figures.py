"""The close-of-day figures: a day against the same weekday of the four weeks before, the work lists waiting, and
each staff member's figures. Sales come from the day totals (db/day_totals.py: a few rows a day, not every sale);
the rest are counted in index ranges of one day. Days are days of the store's time zone; money stays integer fen.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, literal_column, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import ColumnElement

from app.care.questions import csat
from app.clock import Clock, store_zone
from app.i18n import QT_TRANSLATE_NOOP as S
from app.security.operator import Operator, require_role
from app.settings import read_settings
from db import day_totals, points_totals
from db.engine import Database
from db.enums import ComplaintStatus, LedgerSource, MemberStatus, StaffRole, TaskStatus
from db.models import (
    Category,
    CategoryDayTotal,
    Complaint,
    ComplaintEvent,
    FollowUpTask,
    Member,
    MemberSegment,
    PointsLedger,
    PointsLot,
    SalesDayTotal,
    Staff,
    SurveyResponse,
    SurveyTemplate,
)

WEEKS_BACK = 4
TREND_DAYS = 28
EXPIRY_WARNING_DAYS = 30
BIRTHDAY_WEEK_DAYS = 7
CHURN_LEVELS = ("vip", "major")
ISSUED_SOURCES = (LedgerSource.SALE, LedgerSource.ADJUSTMENT, LedgerSource.SURVEY_REWARD, LedgerSource.REFERRAL)
REDEEMED_SOURCES = (LedgerSource.REDEMPTION, LedgerSource.GIFT)

# (code, label, unit): money in fen, count, points, permille (a share shown as a percentage)
FIGURES = (
    ("sales", S("Dashboard", "Sales"), "fen"),
    ("member_share", S("Dashboard", "Member sales share"), "permille"),
    ("member_purchases", S("Dashboard", "Member purchases"), "count"),
    ("new_members", S("Dashboard", "New members"), "count"),
    ("points_issued", S("Dashboard", "Points issued"), "points"),
    ("points_redeemed", S("Dashboard", "Points redeemed"), "points"),
    ("points_expired", S("Dashboard", "Points expired"), "points"),
    ("coupons_redeemed", S("Dashboard", "Coupons redeemed"), "count"),
    ("complaints_opened", S("Dashboard", "Complaints opened"), "count"),
    ("complaints_closed", S("Dashboard", "Complaints resolved"), "count"),
    ("csat", S("Dashboard", "Survey CSAT"), "permille"),
)

WORK_LISTS = (
    ("birthdays_today", S("Dashboard", "Birthdays today")),
    ("birthdays_week", S("Dashboard", "Birthdays this week")),
    ("churn_risks", S("Dashboard", "VIPs and major customers at risk")),
    ("overdue_complaints", S("Dashboard", "Overdue complaints")),
    ("follow_ups_due", S("Dashboard", "Follow-ups due today")),
    ("points_expiring", S("Dashboard", "Members with points expiring within 30 days")),
)


@dataclass(frozen=True)
class Figure:
    """One figure over the day and the same weekday of the weeks before: `values[-1]` is the day, `values[-2]` a
    week earlier; None where there is nothing to measure (a share of no sales, a CSAT without answers)."""

    code: str
    label: str
    unit: str
    values: tuple[int | None, ...]

    @property
    def today(self) -> int | None:
        return self.values[-1]

    @property
    def last_week(self) -> int | None:
        return self.values[-2]

    @property
    def average(self) -> int | None:
        """The average of the weeks before (those with a value), rounded half up; integer arithmetic."""
        known = [v for v in self.values[:-1] if v is not None]
        if not known:
            return None
        total = sum(known)
        return (2 * total + len(known)) // (2 * len(known))

    @property
    def vs_last_week(self) -> int | None:
        return None if self.today is None or self.last_week is None else self.today - self.last_week

    @property
    def vs_average(self) -> int | None:
        average = self.average
        return None if self.today is None or average is None else self.today - average


@dataclass(frozen=True)
class WorkList:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class StaffFigures:
    staff_id: int
    name: str
    members_registered: int
    purchases: int
    sales_fen: int
    complaints_resolved: int
    follow_ups_done: int
    satisfaction_tenths: int | None
    """The average satisfaction (1–5) customers told on this person's follow-up calls, in tenths (43 = 4.3)."""


@dataclass(frozen=True)
class CategorySales:
    name: str
    amount_fen: int
    quantity: int


@dataclass(frozen=True)
class DaySales:
    day: dt.date
    net_fen: int
    member_net_fen: int


@dataclass(frozen=True)
class CloseOfDay:
    day: dt.date
    store_name: str
    figures: tuple[Figure, ...]
    work_lists: tuple[WorkList, ...]
    staff: tuple[StaffFigures, ...]
    staff_from: dt.date
    categories: tuple[CategorySales, ...]
    trend: tuple[DaySales, ...]
    """Net sales of each of the TREND_DAYS days up to the day, oldest first."""
    sales_fen: int
    returns_fen: int
    member_sales_fen: int
    member_returns_fen: int

    @property
    def empty(self) -> bool:
        """Nothing happened in the whole comparison window (a new store): the page says so instead of zeros."""
        return all(all(not v for v in f.values) for f in self.figures) and not any(d.net_fen for d in self.trend)

    def figure(self, code: str) -> Figure:
        return next(f for f in self.figures if f.code == code)

    @property
    def sales_star(self) -> StaffFigures | None:
        """销售冠军: the most sales recorded in the period."""
        best = max(self.staff, key=lambda s: (s.sales_fen, s.purchases), default=None)
        return best if best is not None and best.sales_fen > 0 else None

    @property
    def service_star(self) -> StaffFigures | None:
        """服务明星: the most complaints resolved and follow-up calls made; satisfaction breaks a tie."""
        best = max(
            self.staff,
            key=lambda s: (s.complaints_resolved + s.follow_ups_done, s.satisfaction_tenths or 0),
            default=None,
        )
        return best if best is not None and best.complaints_resolved + best.follow_ups_done > 0 else None


def _birthdays(window: DayWindow, days: int) -> list[ColumnElement[bool]]:
    """Active members whose birthday falls on the `days` days from the window's day."""
    dates = [(window.day + dt.timedelta(days=n)).strftime("%m-%d") for n in range(days)]
    return [Member.status == MemberStatus.ACTIVE, Member.birthday_mmdd.in_(dates)]


def expiring_lots(now: dt.datetime) -> list[ColumnElement[bool]]:
    """Open points lots expiring within EXPIRY_WARNING_DAYS. `remaining > 0` is a literal, so that the database
    sees the due-date index's condition (`ix_points_lots_due`: open lots by expiry, member and points left; 0011,
    0015) and counts from that index alone."""
    return [
        PointsLot.expires_at >= now,
        PointsLot.expires_at < now + dt.timedelta(days=EXPIRY_WARNING_DAYS),
        PointsLot.remaining > literal_column("0"),
    ]


def work_list_members(code: str, window: DayWindow, now: dt.datetime) -> Select[int] | None:
    """The member ids behind a work list that lists members by id (birthdays, points expiring); None for the
    others (churn risks are a segment filter; complaints and follow-ups open their screens)."""
    if code == "birthdays_today":
        return select(Member.id).where(*_birthdays(window, 1)).order_by(Member.id)
    if code == "birthdays_week":
        return select(Member.id).where(*_birthdays(window, BIRTHDAY_WEEK_DAYS)).order_by(Member.id)
    if code == "points_expiring":
        return select(PointsLot.member_id).where(*expiring_lots(now)).distinct().order_by(PointsLot.member_id)
    return None


class DayWindow:
    """A day of the store's time zone as a UTC range."""

    def __init__(self, day: dt.date, zone: ZoneInfo) -> None:
        self.day = day
        self.start = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
        self.end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)


def _count_in(
    session: Session,
    query: Select[int],
    column: InstrumentedAttribute[dt.datetime] | InstrumentedAttribute[dt.datetime | None],
    window: DayWindow,
) -> int:
    return int(session.scalar(query.where(column >= window.start, column < window.end)) or 0)


def _share(part: int, whole: int) -> int | None:
    return (part * 1000 + whole // 2) // whole if whole > 0 else None


class CloseOfDayService:
    """Owner's and manager's figures (`require_role`): the page, the day report and `main.py report day`."""

    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    def store_now(self) -> dt.datetime:
        """Now on the store's clock (for a printout's footer)."""
        return self.db.read(lambda s: self.clock.now().astimezone(store_zone(read_settings(s).store_timezone)))

    def today(self) -> dt.date:
        return self.store_now().date()

    def recount(self) -> None:
        """The day totals counted again from every sale, and the points day totals from the whole ledger (`main.py
        report recount`, when `db check` says they differ). Owner only."""
        require_role(self.operator, StaffRole.OWNER)

        def work(session: Session) -> None:
            timezone = read_settings(session).store_timezone
            day_totals.rebuild(session.connection(), timezone)
            points_totals.rebuild(session.connection(), timezone)

        self.db.write(work)

    def close_of_day(self, day: dt.date | None = None, staff_days: int = 7, work_lists: bool = True) -> CloseOfDay:
        """The figures of `day` (default: today in the store's time zone); staff figures over the `staff_days`
        days ending on it. The page asks for the work lists separately (`work_lists`): on a big store they are
        the slow part, and the figures are painted first."""
        require_role(self.operator, StaffRole.MANAGER)
        return self.db.read(lambda session: self._build(session, day, staff_days, work_lists))

    def work_lists(self, day: dt.date | None = None) -> tuple[WorkList, ...]:
        """The work lists' counts as of now (birthdays of `day` and its week)."""
        require_role(self.operator, StaffRole.MANAGER)

        def work(session: Session) -> tuple[WorkList, ...]:
            zone = store_zone(read_settings(session).store_timezone)
            now = self.clock.now()
            return self._work_lists(session, DayWindow(day or now.astimezone(zone).date(), zone), now)

        return self.db.read(work)

    def _build(self, session: Session, day: dt.date | None, staff_days: int, with_work_lists: bool) -> CloseOfDay:
        settings = read_settings(session)
        zone = store_zone(settings.store_timezone)
        now = self.clock.now()
        day = day or now.astimezone(zone).date()
        days = [day - dt.timedelta(weeks=w) for w in range(WEEKS_BACK, -1, -1)]
        windows = [DayWindow(d, zone) for d in days]
        per_day = [self._day_values(session, w) for w in windows]
        figures = tuple(
            Figure(code, label, unit, tuple(values[code] for values in per_day)) for code, label, unit in FIGURES
        )
        staff_from = day - dt.timedelta(days=max(staff_days, 1) - 1)
        totals = self._sales_totals(session, day, day)
        return CloseOfDay(
            day=day,
            store_name=settings.store_name,
            figures=figures,
            work_lists=self._work_lists(session, DayWindow(day, zone), now) if with_work_lists else (),
            staff=self._staff(session, staff_from, day, zone),
            staff_from=staff_from,
            categories=self._categories(session, day),
            trend=self._trend(session, day),
            sales_fen=totals[0],
            returns_fen=totals[1],
            member_sales_fen=totals[2],
            member_returns_fen=totals[3],
        )

    @staticmethod
    def _sales_totals(session: Session, first: dt.date, last: dt.date) -> tuple[int, int, int, int, int, int]:
        row = session.execute(
            select(
                func.coalesce(func.sum(SalesDayTotal.sales_fen), 0),
                func.coalesce(func.sum(SalesDayTotal.returns_fen), 0),
                func.coalesce(func.sum(SalesDayTotal.member_sales_fen), 0),
                func.coalesce(func.sum(SalesDayTotal.member_returns_fen), 0),
                func.coalesce(func.sum(SalesDayTotal.member_sales), 0),
                func.coalesce(func.sum(SalesDayTotal.coupons_redeemed), 0),
            ).where(SalesDayTotal.day >= first, SalesDayTotal.day <= last)
        ).one()
        return tuple(int(v) for v in row)  # type: ignore[return-value]

    def _day_values(self, session: Session, window: DayWindow) -> dict[str, int | None]:
        sales, returns, member_sales, member_returns, member_purchases, coupons = self._sales_totals(
            session, window.day, window.day
        )
        net, member_net = sales - returns, member_sales - member_returns
        ledger = session.execute(
            select(
                func.coalesce(
                    func.sum(
                        case(
                            (and_(PointsLedger.source.in_(ISSUED_SOURCES), PointsLedger.delta > 0), PointsLedger.delta)
                        )
                    ),
                    0,
                ),
                func.coalesce(func.sum(case((PointsLedger.source.in_(REDEEMED_SOURCES), -PointsLedger.delta))), 0),
                func.coalesce(func.sum(case((PointsLedger.source == LedgerSource.EXPIRY, -PointsLedger.delta))), 0),
            ).where(PointsLedger.created_at >= window.start, PointsLedger.created_at < window.end)
        ).one()
        count = select(func.count())
        return {
            "sales": net,
            "member_share": _share(member_net, net),
            "member_purchases": member_purchases,
            "new_members": _count_in(session, count.select_from(Member), Member.joined_at, window),
            "points_issued": int(ledger[0]),
            "points_redeemed": int(ledger[1]),
            "points_expired": int(ledger[2]),
            "coupons_redeemed": coupons,
            "complaints_opened": _count_in(session, count.select_from(Complaint), Complaint.created_at, window),
            "complaints_closed": _count_in(session, count.select_from(Complaint), Complaint.resolved_at, window),
            "csat": self._csat(session, window),
        }

    @staticmethod
    def _csat(session: Session, window: DayWindow) -> int | None:
        """Share (‰) of the day's 1–5 ratings that are 4 or 5, over every rating question answered that day."""
        answered = func.coalesce(SurveyResponse.answered_at, SurveyResponse.created_at)
        rows = session.execute(
            select(SurveyResponse.answers, SurveyTemplate.questions)
            .join(SurveyTemplate, SurveyTemplate.id == SurveyResponse.template_id)
            .where(answered >= window.start, answered < window.end)
        ).all()
        ratings: Counter[int] = Counter()
        for answers, questions in rows:
            for question in questions:
                value = answers.get(question.get("key"))
                if question.get("kind") == "rating" and isinstance(value, int):
                    ratings[value] += 1
        share = csat(ratings)
        return None if share is None else round(share * 10)

    def _work_lists(self, session: Session, window: DayWindow, now: dt.datetime) -> tuple[WorkList, ...]:
        counts = self._work_list_queries(window, now)
        return tuple(WorkList(code, label, int(session.scalar(counts[code]) or 0)) for code, label in WORK_LISTS)

    @staticmethod
    def _work_list_queries(window: DayWindow, now: dt.datetime) -> dict[str, Select[tuple[int]] | Select[int]]:
        active = Member.status == MemberStatus.ACTIVE
        count = select(func.count())
        return {
            "birthdays_today": count.where(*_birthdays(window, 1)),
            "birthdays_week": count.where(*_birthdays(window, BIRTHDAY_WEEK_DAYS)),
            # The few members at risk first, then their rows: a join let SQLite walk all 1M members (8 s at 1M).
            "churn_risks": count.where(
                active,
                Member.id.in_(
                    select(MemberSegment.member_id).where(
                        MemberSegment.churn_warning.is_(True), MemberSegment.pyramid_level.in_(CHURN_LEVELS)
                    )
                ),
            ),
            "overdue_complaints": count.where(
                Complaint.status.in_((ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS)), Complaint.due_at < now
            ),
            "follow_ups_due": count.where(FollowUpTask.status == TaskStatus.OPEN, FollowUpTask.due_at < window.end),
            "points_expiring": select(func.count(func.distinct(PointsLot.member_id))).where(*expiring_lots(now)),
        }

    @staticmethod
    def _staff(session: Session, first: dt.date, last: dt.date, zone: ZoneInfo) -> tuple[StaffFigures, ...]:
        start, end = DayWindow(first, zone).start, DayWindow(last, zone).end
        registered = dict(
            session.execute(
                select(Member.created_by_id, func.count())
                .where(Member.joined_at >= start, Member.joined_at < end, Member.created_by_id.is_not(None))
                .group_by(Member.created_by_id)
            ).all()
        )
        sales = {
            staff_id: (int(n), int(fen))
            for staff_id, n, fen in session.execute(
                select(
                    SalesDayTotal.staff_id,
                    func.sum(SalesDayTotal.sales),
                    func.sum(SalesDayTotal.sales_fen - SalesDayTotal.returns_fen),
                )
                .where(SalesDayTotal.day >= first, SalesDayTotal.day <= last)
                .group_by(SalesDayTotal.staff_id)
            )
        }
        resolved = dict(
            session.execute(
                select(ComplaintEvent.staff_id, func.count())
                .where(
                    ComplaintEvent.to_status == ComplaintStatus.RESOLVED,
                    ComplaintEvent.created_at >= start,
                    ComplaintEvent.created_at < end,
                )
                .group_by(ComplaintEvent.staff_id)
            ).all()
        )
        calls = {
            staff_id: (int(n), int(rated), int(total or 0))
            for staff_id, n, rated, total in session.execute(
                select(
                    FollowUpTask.assigned_to_id,
                    func.count(),
                    func.count(FollowUpTask.satisfaction),
                    func.sum(FollowUpTask.satisfaction),
                )
                .where(
                    FollowUpTask.status == TaskStatus.DONE, FollowUpTask.done_at >= start, FollowUpTask.done_at < end
                )
                .group_by(FollowUpTask.assigned_to_id)
            )
        }
        people = session.execute(select(Staff.id, Staff.display_name, Staff.active).order_by(Staff.id)).all()
        found = []
        for staff_id, name, is_active in people:
            purchases, sales_fen = sales.get(staff_id, (0, 0))
            done, rated, total = calls.get(staff_id, (0, 0, 0))
            figures = StaffFigures(
                staff_id,
                name,
                int(registered.get(staff_id, 0)),
                purchases,
                sales_fen,
                int(resolved.get(staff_id, 0)),
                done,
                (total * 10 * 2 + rated) // (2 * rated) if rated else None,
            )
            if is_active or any((figures.members_registered, purchases, figures.complaints_resolved, done)):
                found.append(figures)
        return tuple(sorted(found, key=lambda s: (-s.sales_fen, s.staff_id)))

    @staticmethod
    def _categories(session: Session, day: dt.date) -> tuple[CategorySales, ...]:
        rows = session.execute(
            select(Category.name, func.sum(CategoryDayTotal.amount_fen), func.sum(CategoryDayTotal.quantity))
            .join(Category, Category.id == CategoryDayTotal.category_id)
            .where(CategoryDayTotal.day == day)
            .group_by(Category.name)
            .order_by(func.sum(CategoryDayTotal.amount_fen).desc())
        ).all()
        return tuple(CategorySales(name, int(amount), int(quantity)) for name, amount, quantity in rows if amount)

    @staticmethod
    def _trend(session: Session, day: dt.date) -> tuple[DaySales, ...]:
        first = day - dt.timedelta(days=TREND_DAYS - 1)
        found = {
            d: (int(net), int(member))
            for d, net, member in session.execute(
                select(
                    SalesDayTotal.day,
                    func.sum(SalesDayTotal.sales_fen - SalesDayTotal.returns_fen),
                    func.sum(SalesDayTotal.member_sales_fen - SalesDayTotal.member_returns_fen),
                )
                .where(SalesDayTotal.day >= first, SalesDayTotal.day <= day)
                .group_by(SalesDayTotal.day)
            )
        }
        days = [first + dt.timedelta(days=n) for n in range(TREND_DAYS)]
        return tuple(DaySales(d, *found.get(d, (0, 0))) for d in days)
