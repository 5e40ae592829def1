"""The charts for the GUI: one call for a chart's figures, one for the members behind a bar or a cell, and the
CSV of a chart. Managers and owners only: the charts read every member's figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.care.surveys import SurveyService
from app.charts.activity import Pareto, Points, SalesTrend
from app.charts.base import Ask, Chart
from app.charts.care import ComplaintsByCategory, Satisfaction, answered_surveys
from app.charts.model import CHART_TITLES, ChartData, ChartFilter, ChartId, Look, MemberList, MemberRow
from app.charts.people import NewMembers, TierDistribution, TierMoves
from app.charts.periods import resolve
from app.charts.segments import LIFECYCLE_CHART, PYRAMID_CHART, RFM_CHART, LifecycleMoves, RecencyFrequency
from app.clock import Clock
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.members.validation import mask_phone
from app.security.operator import Operator, require_role
from app.settings import read_settings
from db import points_totals, spend_months
from db.engine import Database
from db.enums import StaffRole
from db.models import (
    AuditLog,
    Branch,
    Complaint,
    ComplaintEvent,
    Member,
    PointsLedger,
    Sale,
    SegmentRun,
    SurveyResponse,
    Tier,
    TierChange,
)


@dataclass(frozen=True)
class SurveyChoice:
    code: str
    title: str
    responses: int


CACHED = 64
"""Charts' figures kept for a filter asked again (a chart's figures are a few kilobytes)."""
LISTED = 500
"""Rows of a member list shown at once; the ids of all of them are kept for an action."""


class ChartService:
    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock
        self.survey_service = SurveyService(db, operator, clock)
        self._cache: dict[tuple[object, ...], ChartData] = {}
        """Figures already worked out, by chart, filter, day and the data's version (`_version`)."""
        self.charts: dict[ChartId, Chart] = {
            ChartId.PYRAMID: PYRAMID_CHART,
            ChartId.RFM: RFM_CHART,
            ChartId.HEAT: RecencyFrequency(),
            ChartId.LIFECYCLE: LIFECYCLE_CHART,
            ChartId.MOVES: LifecycleMoves(),
            ChartId.SALES: SalesTrend(),
            ChartId.PARETO: Pareto(),
            ChartId.POINTS: Points(),
            ChartId.TIERS: TierDistribution(),
            ChartId.TIER_MOVES: TierMoves(),
            ChartId.NEW_MEMBERS: NewMembers(),
            ChartId.COMPLAINTS: ComplaintsByCategory(),
            ChartId.SATISFACTION: Satisfaction(self.survey_service),
        }

    def today(self) -> dt.date:
        """Today in the store's time zone (the charts' periods end on it)."""
        return self.db.read(lambda s: self.clock.now().astimezone(ZoneInfo(read_settings(s).store_timezone)).date())

    def branches(self) -> list[tuple[int, str]]:
        """The branches to filter by (id, name), in the order they were opened."""
        require_role(self.operator, StaffRole.MANAGER)
        return self.db.read(
            lambda s: [(i, n) for i, n in s.execute(select(Branch.id, Branch.name).order_by(Branch.id))]
        )

    def catch_up_points(self) -> int:
        """The points posted since the last catch-up folded into the points day totals, a short transaction per
        CATCH_UP_ROWS ledger rows (the daily maintenance, any operator: it shows nothing). Returns how many ledger
        ids the mark moved on."""
        moved = 0
        while True:
            step = self.db.write(lambda s: points_totals.catch_up(s.connection(), read_settings(s).store_timezone))
            if not step:
                return moved
            moved += step

    def pack_spend_months(self) -> int:
        """The months of a branch whose spend changed since they were packed, packed again for the Pareto curve
        (db/spend_months.py), one transaction (the daily catch-up, any operator: it shows nothing). Returns how
        many it packed."""
        return self.db.write(lambda s: spend_months.pack_months(s.connection()))

    def surveys(self) -> list[SurveyChoice]:
        """The surveys the CSAT / NPS chart can follow (those answered at least once), most answered first: the
        first is the chart's default."""
        require_role(self.operator, StaffRole.MANAGER)
        return [SurveyChoice(t.code, t.title, t.responses) for t in answered_surveys(self.survey_service)]

    def _ask(self, session: Session, chart_filter: ChartFilter) -> Ask | None:
        settings = read_settings(session)
        zone = ZoneInfo(settings.store_timezone)
        today = self.clock.now().astimezone(zone).date()
        period = resolve(chart_filter, zone, today)
        return None if period is None else Ask(session, chart_filter, period, today, settings)

    def chart(self, chart: ChartId, chart_filter: ChartFilter) -> ChartData:
        require_role(self.operator, StaffRole.MANAGER)
        if (
            chart_filter.since is not None
            and chart_filter.until is not None
            and chart_filter.since > chart_filter.until
        ):
            return ChartData(
                chart, Look.BARS, "", "", empty=translate("Charts", S("Charts", "The period ends before it starts."))
            )

        def work(session: Session) -> ChartData:
            ask = self._ask(session, chart_filter)
            if ask is None:
                return ChartData(
                    chart,
                    Look.BARS,
                    "",
                    "",
                    empty=translate("Charts", S("Charts", "The period is in the future: nothing has happened yet.")),
                )
            language = translate("Charts", CHART_TITLES[chart])  # the figures hold translated words
            key = (chart, _asked(chart, chart_filter), ask.today, language, _version(session))
            found = self._cache.pop(key, None)
            if found is None:
                found = self.charts[chart].figures(ask)
            self._cache[key] = found  # the most recently used last
            while len(self._cache) > CACHED:
                del self._cache[next(iter(self._cache))]
            return found

        return self.db.read(work)

    def members(self, chart: ChartId, chart_filter: ChartFilter, key: str, series: int, title: str) -> MemberList:
        """The members behind category `key` of series `series` (for a heat map: row `key`, column `series`)."""
        require_role(self.operator, StaffRole.MANAGER)

        def work(session: Session) -> MemberList:
            ask = self._ask(session, chart_filter)
            if ask is None:
                return MemberList(title, ())
            found = self.charts[chart].members(ask, key, series)
            ids = found if isinstance(found, list) else _distinct(session, found)
            ids = sorted(set(ids))
            return MemberList(title, tuple(ids), self._rows(session, ids[:LISTED]))

        return self.db.read(work)

    def _rows(self, session: Session, ids: list[int]) -> tuple[MemberRow, ...]:
        full = self.operator.sees_full_phone
        rows = session.execute(
            select(Member.id, Member.member_no, Member.name, Member.phone, Tier.name)
            .join(Tier, Tier.id == Member.tier_id)
            .where(Member.id.in_(ids))
            .order_by(Member.member_no)
        )
        return tuple(
            MemberRow(i, no, name or "", (phone or "") if full else mask_phone(phone), tier)
            for i, no, name, phone, tier in rows
        )


VERSIONED = (AuditLog, Sale, PointsLedger, Member, TierChange, Complaint, ComplaintEvent, SurveyResponse, SegmentRun)
"""The tables whose newest row says whether a chart's figures may have changed: every staff change writes an audit
entry (a sale, a ledger row, a settings change, a member's anonymisation…); the others change without one."""


PERIOD_FREE = frozenset((ChartId.PYRAMID, ChartId.RFM, ChartId.HEAT, ChartId.LIFECYCLE, ChartId.MOVES, ChartId.TIERS))
"""Charts the period and grain do not change (the latest refresh; today's tiers)."""


def _asked(chart: ChartId, chart_filter: ChartFilter) -> ChartFilter:
    """What of the filter a chart's figures depend on: another period gives the same figures for PERIOD_FREE."""
    if chart in PERIOD_FREE:
        return ChartFilter(branch_id=None if chart == ChartId.MOVES else chart_filter.branch_id)
    return chart_filter


def _version(session: Session) -> tuple[int, ...]:
    """The newest id of each table a chart reads (each one index lookup): the same ids, the same figures."""
    newest = [select(func.max(table.id)).scalar_subquery() for table in VERSIONED]
    return tuple(int(v or 0) for v in session.execute(select(*newest)).one())


def _distinct(session: Session, query: Select[tuple[int]]) -> list[int]:
    sub = query.subquery()
    column = next(iter(sub.c))
    return [int(i) for i in session.scalars(select(column).distinct().where(column.is_not(None)))]
