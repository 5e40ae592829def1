"""The one-key actions of the close-of-day work lists: follow-up calls for the VIPs and major customers at risk,
today's birthdays marked as greeted, the week's birthday coupons found for printing, and the list of members whose
points expire soon, exported to notify them. Each write is one transaction with an audit row; running one twice does
nothing twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session

from app.actions.member_sets import MemberSet
from app.changes import Changes
from app.clock import Clock, store_zone, to_store_time
from app.dashboard.figures import (
    BIRTHDAY_WEEK_DAYS,
    CHURN_LEVELS,
    WORK_LISTS,
    DayWindow,
    expiring_lots,
    work_list_members,
)
from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.importing.tables import write_table
from app.insights.saved import SegmentFilter
from app.members.validation import mask_phone
from app.security.operator import Operator, require_role
from app.settings import read_settings
from app.trust.audit import record_audit, record_export
from db.base import new_uuid
from db.engine import Database
from db.enums import CouponStatus, MemberStatus, StaffRole, TaskStatus
from db.models import Coupon, CouponCampaign, FollowUpTask, Member, MemberSegment, PointsLot

CHURN_TITLE = S("Dashboard", "Churn warning: call to win back")
BIRTHDAY_TITLE = S("Dashboard", "Birthday greeted")
EXPIRY_COLUMNS = (
    S("Dashboard", "Member no."),
    S("Dashboard", "Name"),
    S("Dashboard", "Phone"),
    S("Dashboard", "Points expiring"),
    S("Dashboard", "First expiry"),
)


@dataclass(frozen=True)
class WorkDone:
    count: int
    changes: Changes


@dataclass(frozen=True)
class BirthdayCoupons:
    campaign_id: int
    coupon_ids: tuple[int, ...]


class WorkListActions:
    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    def follow_up_churn_risks(self) -> WorkDone:
        """A follow-up call, due tomorrow and assigned to whoever asks, for each VIP or major customer with a churn
        warning who has no open follow-up yet."""
        require_role(self.operator, StaffRole.MANAGER)

        def work(session: Session) -> WorkDone:
            now = self.clock.now()
            has_open = (
                select(FollowUpTask.id)
                .where(FollowUpTask.member_id == Member.id, FollowUpTask.status == TaskStatus.OPEN)
                .exists()
            )
            members = list(
                session.scalars(
                    select(Member.id)
                    .join(MemberSegment, MemberSegment.member_id == Member.id)
                    .where(
                        Member.status == MemberStatus.ACTIVE,
                        MemberSegment.churn_warning.is_(True),
                        MemberSegment.pyramid_level.in_(CHURN_LEVELS),
                        ~has_open,
                    )
                    .order_by(Member.id)
                )
            )
            self._add_tasks(session, members, translate("Dashboard", CHURN_TITLE), now + dt.timedelta(days=1), None)
            if members:
                record_audit(session, self.operator, "create", "follow_up", None, {"churn_warning": len(members)})
            return WorkDone(len(members), Changes.FOLLOW_UPS if members else Changes.NONE)

        return self.db.write(work)

    def greet_birthdays(self) -> WorkDone:
        """Today's birthdays marked as greeted: a finished follow-up per member (their history shows it), once a
        day however often the key is pressed."""
        require_role(self.operator, StaffRole.MANAGER)

        def work(session: Session) -> WorkDone:
            now = self.clock.now()
            zone = store_zone(read_settings(session).store_timezone)
            window = DayWindow(now.astimezone(zone).date(), zone)
            title = translate("Dashboard", BIRTHDAY_TITLE)
            greeted = (
                select(FollowUpTask.id)
                .where(
                    FollowUpTask.member_id == Member.id,
                    FollowUpTask.title == title,
                    and_(FollowUpTask.created_at >= window.start, FollowUpTask.created_at < window.end),
                )
                .exists()
            )
            members = list(
                session.scalars(
                    select(Member.id)
                    .where(
                        Member.status == MemberStatus.ACTIVE,
                        Member.birthday_mmdd == window.day.strftime("%m-%d"),
                        ~greeted,
                    )
                    .order_by(Member.id)
                )
            )
            self._add_tasks(session, members, title, now, now)
            if members:
                record_audit(session, self.operator, "greet", "member", None, {"birthdays": len(members)})
            return WorkDone(len(members), Changes.FOLLOW_UPS if members else Changes.NONE)

        return self.db.write(work)

    def birthday_coupons(self) -> BirthdayCoupons:
        """This year's birthday coupons (campaign BDAY-YYYY, issued by the daily maintenance when birthday coupons
        are switched on) still valid and held by members whose birthday falls in the coming week, to print."""
        require_role(self.operator, StaffRole.MANAGER)

        def work(session: Session) -> BirthdayCoupons:
            zone = store_zone(read_settings(session).store_timezone)
            today = self.clock.now().astimezone(zone).date()
            week = [(today + dt.timedelta(days=n)).strftime("%m-%d") for n in range(BIRTHDAY_WEEK_DAYS)]
            rows = session.execute(
                select(CouponCampaign.id, Coupon.id)
                .join(Coupon, Coupon.campaign_id == CouponCampaign.id)
                .join(Member, Member.id == Coupon.member_id)
                .where(
                    CouponCampaign.code == f"BDAY-{today.year}",
                    Coupon.status == CouponStatus.ISSUED,
                    Member.status == MemberStatus.ACTIVE,
                    Member.birthday_mmdd.in_(week),
                )
                .order_by(Coupon.id)
            ).all()
            if not rows:
                raise ValidationError(
                    S(
                        "Errors",
                        "No birthday coupons to print for this week's birthdays. Birthday coupons are issued by the "
                        "daily maintenance to members with marketing consent once they are switched on in the "
                        "settings.",
                    )
                )
            return BirthdayCoupons(rows[0][0], tuple(coupon_id for _campaign, coupon_id in rows))

        return self.db.read(work)

    def members_of(self, code: str, day: dt.date | None = None) -> MemberSet:
        """The members behind a work list, for an action on all of them (a campaign, follow-up tasks, a contact
        list): the VIPs and major customers at risk as the filter the count uses (resolved when the action runs),
        the birthdays of `day` (default today) and its week and the members with points expiring by id."""
        require_role(self.operator, StaffRole.MANAGER)
        label = translate("Dashboard", dict(WORK_LISTS)[code])
        if code == "churn_risks":
            return MemberSet.of_filter(SegmentFilter(pyramid_levels=CHURN_LEVELS, churn_warning=True), label)

        def work(session: Session) -> list[int]:
            zone = store_zone(read_settings(session).store_timezone)
            now = self.clock.now()
            window = DayWindow(day or now.astimezone(zone).date(), zone)
            query = work_list_members(code, window, now)
            if query is None:
                raise ValidationError(S("Errors", "This work list has no members to act on."))
            return list(session.scalars(query))

        return MemberSet.of_members(self.db.read(work), label)

    def _add_tasks(
        self, session: Session, members: Sequence[int], title: str, due_at: dt.datetime, done_at: dt.datetime | None
    ) -> None:
        if not members:
            return
        session.execute(
            insert(FollowUpTask),
            [
                {
                    "client_uuid": new_uuid(),
                    "member_id": member_id,
                    "branch_id": self.operator.branch_id,
                    "title": title,
                    "due_at": due_at,
                    "status": TaskStatus.DONE if done_at else TaskStatus.OPEN,
                    "assigned_to_id": self.operator.staff_id,
                    "created_by_id": self.operator.staff_id,
                    "created_at": self.clock.now(),
                    "done_at": done_at,
                }
                for member_id in members
            ],
        )

    def export_expiring_points(self, path: Path) -> WorkDone:
        """Members with marketing consent whose points expire within 30 days, to notify them (CSV or XLSX). Full
        phones only for roles that see them; the export is audited."""
        require_role(self.operator, StaffRole.MANAGER)
        if path.suffix.lower() not in (".csv", ".xlsx"):
            raise ValidationError(S("Errors", "Export to a .csv or .xlsx file."))

        def work(session: Session) -> int:
            now = self.clock.now()
            zone = store_zone(read_settings(session).store_timezone)
            query = (
                select(
                    Member.member_no,
                    Member.name,
                    Member.phone,
                    func.sum(PointsLot.remaining),
                    func.min(PointsLot.expires_at),
                )
                .join(PointsLot, PointsLot.member_id == Member.id)
                .where(
                    *expiring_lots(now),
                    Member.status == MemberStatus.ACTIVE,
                    Member.marketing_consent.is_(True),
                )
                .group_by(Member.id, Member.member_no, Member.name, Member.phone)
                .order_by(func.min(PointsLot.expires_at), Member.member_no)
            )
            full = self.operator.sees_full_phone

            def rows() -> Iterator[list[object]]:
                for member_no, name, phone, points, first in session.execute(query):
                    shown = phone if full else mask_phone(phone)
                    yield [
                        member_no,
                        name,
                        shown,
                        int(points),
                        f"{to_store_time(first, zone):%Y-%m-%d}" if first else "",
                    ]

            columns = [translate("Dashboard", c) for c in EXPIRY_COLUMNS]
            return write_table(path, columns, rows())

        count = self.db.read(work)
        record_export(self.db, self.operator, "points_expiring", path, count)
        return WorkDone(count, Changes.AUDIT)
