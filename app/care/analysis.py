"""Complaint analysis: counts and median time to resolve by category, product/supplier, branch and staff; repeat
complainers; this month's top issues against last month's. Grouped by the database, medians included (window
functions, which SQLite and PostgreSQL both have): only a row per group comes back, even at 100,000 complaints."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from app.care.complaints import OPEN_STATES
from app.clock import Clock
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.security.operator import Operator
from app.settings import read_settings
from db.engine import Database
from db.models import Branch, Complaint, Member, Staff

REPEAT_LIMIT = 20
NONE_LABEL = S("Care", "(none)")


class Dimension(enum.StrEnum):
    CATEGORY = "category"
    PRODUCT = "product"
    BRANCH = "branch"
    STAFF = "staff"


DIMENSION_LABELS = {
    Dimension.CATEGORY: S("Care", "Category"),
    Dimension.PRODUCT: S("Care", "Product or supplier"),
    Dimension.BRANCH: S("Care", "Branch"),
    Dimension.STAFF: S("Care", "Staff"),
}


@dataclass(frozen=True)
class GroupFigures:
    label: str
    count: int
    still_open: int
    resolved: int
    median_hours: float | None


@dataclass(frozen=True)
class RepeatComplainer:
    member_no: str
    name: str | None
    count: int
    last_at: dt.datetime


@dataclass(frozen=True)
class TopIssue:
    category: str
    this_month: int
    last_month: int


@dataclass(frozen=True)
class ComplaintAnalysis:
    dimension: Dimension
    since: dt.datetime | None
    until: dt.datetime | None
    total: int
    groups: list[GroupFigures]
    repeat: list[RepeatComplainer]
    top: list[TopIssue]


def _seconds(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def month_starts(now: dt.datetime, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The starts of this month and last month in the store's time zone, as UTC."""
    local = now.astimezone(zone)
    this = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = (this - dt.timedelta(days=1)).replace(day=1)
    return this.astimezone(dt.UTC), last.astimezone(dt.UTC)


class ComplaintAnalysisService:
    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    def analyse(
        self, dimension: Dimension, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> ComplaintAnalysis:
        def work(session: Session) -> ComplaintAnalysis:
            period: list[ColumnElement[bool]] = []
            if since is not None:
                period.append(Complaint.created_at >= since)
            if until is not None:
                period.append(Complaint.created_at < until)
            groups = self._groups(session, dimension, period)
            return ComplaintAnalysis(
                dimension,
                since,
                until,
                sum(g.count for g in groups),
                groups,
                self._repeat(session, period),
                self._top(session),
            )

        return self.db.read(work)

    def _groups(self, session: Session, dimension: Dimension, period: list[ColumnElement[bool]]) -> list[GroupFigures]:
        key: Any
        if dimension == Dimension.CATEGORY:
            key = Complaint.category
        elif dimension == Dimension.PRODUCT:
            key = Complaint.product
        elif dimension == Dimension.BRANCH:
            key = Branch.name
        else:
            key = Staff.display_name
        resolve_seconds = _seconds(session, Complaint.created_at, Complaint.resolved_at)
        rows = select(key.label("label"), Complaint.status.label("status"), resolve_seconds.label("seconds")).where(
            *period
        )
        if dimension == Dimension.BRANCH:
            rows = rows.join(Branch, Branch.id == Complaint.branch_id)
        elif dimension == Dimension.STAFF:
            rows = rows.outerjoin(Staff, Staff.id == Complaint.assigned_to_id)
        picked = rows.subquery()
        counts = session.execute(
            select(
                picked.c.label,
                func.count(),
                func.coalesce(func.sum(case((picked.c.status.in_(OPEN_STATES), 1), else_=0)), 0),
                func.count(picked.c.seconds),
            ).group_by(picked.c.label)
        ).all()
        # The median in the database: each group's resolve times numbered in order, the middle one (or two) kept.
        # 100,000 complaints then cost a sort, not 100,000 rows carried into Python.
        ranked = (
            select(
                picked.c.label,
                picked.c.seconds,
                func.row_number().over(partition_by=picked.c.label, order_by=picked.c.seconds).label("rank"),
                func.count().over(partition_by=picked.c.label).label("n"),
            )
            .where(picked.c.seconds.is_not(None))
            .subquery()
        )
        medians = dict(
            session.execute(
                select(ranked.c.label, func.avg(ranked.c.seconds))
                .where(ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
                .group_by(ranked.c.label)
            ).all()
        )
        none = translate("Care", NONE_LABEL)
        groups = [
            GroupFigures(
                label if label else none,
                int(total),
                int(still_open),
                int(resolved),
                float(medians[label]) / 3600 if label in medians else None,
            )
            for label, total, still_open, resolved in counts
        ]
        return sorted(groups, key=lambda g: (-g.count, g.label))

    def _repeat(self, session: Session, period: list[ColumnElement[bool]]) -> list[RepeatComplainer]:
        many = (
            select(Complaint.member_id, func.count().label("n"), func.max(Complaint.created_at).label("last"))
            .where(Complaint.member_id.is_not(None), *period)
            .group_by(Complaint.member_id)
            .having(func.count() >= 2)
            .subquery()
        )
        rows = session.execute(
            select(Member.member_no, Member.name, many.c.n, many.c.last)
            .join(many, many.c.member_id == Member.id)
            .order_by(many.c.n.desc(), many.c.last.desc())
            .limit(REPEAT_LIMIT)
        ).all()
        return [RepeatComplainer(no, name, int(n), _aware(last)) for no, name, n, last in rows]

    def _top(self, session: Session) -> list[TopIssue]:
        zone = ZoneInfo(read_settings(session).store_timezone)
        this_start, last_start = month_starts(self.clock.now(), zone)
        this = dict(
            session.execute(
                select(Complaint.category, func.count())
                .where(Complaint.created_at >= this_start)
                .group_by(Complaint.category)
            ).all()
        )
        last = dict(
            session.execute(
                select(Complaint.category, func.count())
                .where(Complaint.created_at >= last_start, Complaint.created_at < this_start)
                .group_by(Complaint.category)
            ).all()
        )
        issues = [TopIssue(c, int(this.get(c, 0)), int(last.get(c, 0))) for c in set(this) | set(last)]
        return sorted(issues, key=lambda i: (-i.this_month, -i.last_month, i.category))


def _aware(value: Any) -> dt.datetime:
    """`max()` over a UTC column comes back as the driver gives it (text on SQLite)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
