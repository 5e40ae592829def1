"""Segments for the GUI and the command line. Importing this is cheap: numpy and scipy load when a refresh runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import Clock
from app.security.operator import Operator, require_role
from app.settings import read_settings
from db.engine import Database
from db.enums import StaffRole
from db.models import MemberSegment, SegmentRun

if TYPE_CHECKING:
    from app.insights.refresh import Progress, SegmentReport


@dataclass(frozen=True)
class MemberSegmentView:
    """What the member panel shows: codes (labels and actions are in app.insights.labels)."""

    as_of: dt.date
    pyramid_level: str
    rfm_class: str | None
    lifecycle_stage: str
    churn_warning: bool
    p_alive_permille: int | None
    model: str


@dataclass(frozen=True)
class SegmentRunView:
    """The latest stored refresh: as of which day, the model or rule, its parameters and the counts."""

    as_of: dt.date
    model: str
    parameters: dict[str, float]
    counts: dict[str, dict[str, int]]
    members: int
    duration_ms: int
    created_at: dt.datetime


class SegmentService:
    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    def refresh(
        self,
        as_of: dt.date | None = None,
        horizon_days: int | None = None,
        progress: Progress | None = None,
        recount: bool = False,
        with_numbers: bool = False,
        per_member: bool = True,
    ) -> SegmentReport:
        """Segments as of the end of `as_of` (default yesterday), stored when that is the latest whole day.
        `recount` counts the monthly totals again from every sale first; `with_numbers` adds the member and card
        numbers (for a file); without `per_member` the report carries the counts and the fit but not every
        member's figures (they are stored all the same). Managers and owners only: it reads every
        member's purchases."""
        require_role(self.operator, StaffRole.MANAGER)
        from app.insights.refresh import Refresher

        return Refresher(self.db, self.operator, self.clock).refresh(
            as_of, horizon_days, progress, recount, with_numbers, per_member
        )

    def refresh_if_due(self) -> SegmentReport | None:
        """The daily maintenance's refresh: as of yesterday, unless a refresh as of yesterday is already stored
        (another counter of the chain did it). Not a staff action, so no role is needed."""
        from app.insights.refresh import Refresher

        refresher = Refresher(self.db, self.operator, self.clock)
        last = self.last_run()
        timezone = self.db.read(read_settings).store_timezone
        if last is not None and last.as_of >= refresher.latest_day(timezone):
            return None
        return refresher.refresh(per_member=False)

    def last_run(self) -> SegmentRunView | None:
        def work(session: Session) -> SegmentRunView | None:
            run = session.scalar(select(SegmentRun).order_by(SegmentRun.id.desc()).limit(1))
            if run is None:
                return None
            return SegmentRunView(
                run.as_of, run.model, run.parameters, run.counts, run.members, run.duration_ms, run.created_at
            )

        return self.db.read(work)

    def member_segment(self, member_id: int) -> MemberSegmentView | None:
        """The member's stored segment, or None before the first refresh."""
        row = self.db.read(lambda s: s.get(MemberSegment, member_id))
        if row is None:
            return None
        return MemberSegmentView(
            row.as_of,
            row.pyramid_level,
            row.rfm_class,
            row.lifecycle_stage,
            row.churn_warning,
            row.p_alive_permille,
            row.model,
        )
