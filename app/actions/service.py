"""Acting on a set of members: a coupon campaign for exactly them, follow-up tasks, or a contact list to call or
message. Permissions are checked here, not only by the screens:

- a campaign or follow-up tasks for a set: manager or owner;
- a contact list: any operator, but the phones are in full only for roles that see full phones (manager, owner)
  and masked (138****5678) for the others; only members with marketing consent are listed; every export is audited.

Follow-up tasks for a set are made only for members with marketing consent (a win-back call is marketing); a
campaign's coupons go to every active member of the set (a coupon held in the account is not a message: whoever
announces it uses the contact list, which keeps to consent). Big sets are worked in chunks with progress; a progress
callback returning False cancels and nothing is kept.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.actions.member_sets import ID_CHUNK, MemberSet, chunks
from app.care.follow_ups import FollowUpPlan, check_assignee, insert_tasks, task_rows
from app.changes import Changes
from app.clock import Clock
from app.coupons.campaigns import CampaignDraft, CampaignTarget, CouponKind
from app.coupons.service import CouponService, StoreDays, TargetedCampaign
from app.errors import MemberDeskError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.importing.tables import write_table
from app.members.validation import mask_phone
from app.security.operator import Operator, require_role
from app.settings import read_settings
from app.trust.audit import record_audit
from db.engine import Database
from db.enums import StaffRole, TaskStatus
from db.models import FollowUpTask, Member, Tier

Progress = Callable[[int, int, str], bool]
CONTACT_COLUMNS = ["member_no", "name", "phone", "tier", "points", "last_visit"]
WIN_BACK_DAYS = 30
WIN_BACK_VALUE_FEN = 2000
WIN_BACK_MIN_SPEND_FEN = 10000
TASK_CHUNK = 5000
READING = S("Actions", "Reading the members")
MAKING_TASKS = S("Actions", "Making follow-up tasks")
WRITING = S("Actions", "Writing the list")


class ActionCancelled(MemberDeskError):
    def __init__(self) -> None:
        super().__init__(S("Errors", "Cancelled: nothing was changed."))


@dataclass(frozen=True)
class SetSummary:
    """How many active members the set holds now, and how many of them agreed to marketing."""

    members: int
    with_consent: int


@dataclass(frozen=True)
class FollowUpsMade:
    created: int
    without_consent: int
    """Members of the set left out: no marketing consent."""
    already_open: int
    """Members of the set left out: they have an open follow-up for the same reason already."""
    replayed: bool = False
    changes: Changes = Changes.FOLLOW_UPS | Changes.MEMBERS


@dataclass(frozen=True)
class ContactList:
    path: Path
    rows: int
    full_phones: bool


class ActionService:
    def __init__(self, db: Database, operator: Operator, clock: Clock, coupons: CouponService) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock
        self.coupons = coupons

    def summary(self, members: MemberSet) -> SetSummary:
        def work(session: Session) -> SetSummary:
            return SetSummary(len(members.resolve(session)), len(members.resolve(session, consent_only=True)))

        return self.db.read(work)

    def win_back_draft(self) -> CampaignDraft:
        """A ready-made win-back offer (满100减20 for 30 days from today), for the manager to adjust."""
        zone = ZoneInfo(self.db.read(read_settings).store_timezone)
        today = self.clock.now().astimezone(zone).date()
        first, until = CouponService.bounds(StoreDays(today, today + dt.timedelta(days=WIN_BACK_DAYS - 1)), str(zone))
        return CampaignDraft(
            code=f"WB-{today:%Y%m%d}",
            name=translate("Actions", S("Actions", "Win-back {date}")).format(date=today.isoformat()),
            kind=CouponKind.AMOUNT_OFF,
            valid_from=first,
            valid_until=until,
            value_fen=WIN_BACK_VALUE_FEN,
            min_spend_fen=WIN_BACK_MIN_SPEND_FEN,
            target=CampaignTarget.CHOSEN_MEMBERS,
            terms=translate("Actions", S("Actions", "We miss you! For the member named on the coupon.")),
        )

    def create_campaign(
        self, members: MemberSet, draft: CampaignDraft, idempotency_key: str, progress: Progress | None = None
    ) -> TargetedCampaign:
        """A campaign for exactly the set's active members, active at once with one coupon each. A saved segment's
        campaign keeps targeting the segment (issuing again later reaches its new members)."""
        if members.segment_id is not None:
            draft = _with_target(draft, CampaignTarget.SAVED_SEGMENT, members.segment_id)
        else:
            draft = _with_target(draft, CampaignTarget.CHOSEN_MEMBERS, None)
        return self.coupons.create_for_members(draft, members.resolve, idempotency_key, progress)

    def create_follow_ups(
        self, members: MemberSet, plan: FollowUpPlan, idempotency_key: str, progress: Progress | None = None
    ) -> FollowUpsMade:
        """A follow-up task for each member of the set who agreed to marketing and has no open task for the same
        reason. Manager or owner. The same key again makes none."""
        require_role(self.operator, StaffRole.MANAGER)
        clean = plan.cleaned()

        def work(session: Session) -> FollowUpsMade:
            keyed = session.scalar(
                select(func.count()).where(
                    FollowUpTask.idempotency_key >= f"{idempotency_key}:",
                    FollowUpTask.idempotency_key < f"{idempotency_key};",
                )
            )
            if keyed:
                return FollowUpsMade(keyed, 0, 0, replayed=True)
            check_assignee(session, clean.assignee_id)
            everyone = members.resolve(session)
            consenting = members.resolve(session, consent_only=True)
            busy: set[int] = set()
            for chunk in chunks(consenting):
                busy.update(
                    session.scalars(
                        select(FollowUpTask.member_id).where(
                            FollowUpTask.member_id.in_(chunk),
                            FollowUpTask.status == TaskStatus.OPEN,
                            FollowUpTask.reason == clean.reason,
                        )
                    )
                )
            todo = [member_id for member_id in consenting if member_id not in busy]
            if not todo:
                raise ValidationError(
                    S("Errors", "Nobody in this set to follow up: {reason}"), reason=_nobody(everyone, consenting)
                )
            zone = ZoneInfo(read_settings(session).store_timezone)
            now = self.clock.now()
            for start in range(0, len(todo), TASK_CHUNK):
                if progress is not None and not progress(start, len(todo), MAKING_TASKS):
                    raise ActionCancelled()
                rows = task_rows(clean, todo[start : start + TASK_CHUNK], self.operator, now, zone, idempotency_key)
                insert_tasks(session.connection(), rows)
            record_audit(
                session,
                self.operator,
                "create_for_set",
                "follow_up",
                None,
                {**members.describe(), "count": len(todo), "reason": clean.reason.value, "due": clean.due.isoformat()},
            )
            return FollowUpsMade(len(todo), len(everyone) - len(consenting), len(busy))

        return self.db.write(work)

    def export_contacts(self, members: MemberSet, path: Path, progress: Progress | None = None) -> ContactList:
        """The set's members with marketing consent to CSV or XLSX: member no., name, phone (in full or masked, by
        the operator's role), tier, points, last visit (store time). Audited with the file's name and the count."""
        if path.suffix.lower() not in (".csv", ".xlsx"):
            raise ValidationError(S("Errors", "Export to a .csv or .xlsx file."))
        full = self.operator.sees_full_phone
        partial = path.with_name(f".{path.stem}.part{path.suffix}")  # the suffix chooses the format

        def rows(session: Session, ids: list[int]) -> Iterator[list[object]]:
            zone = ZoneInfo(read_settings(session).store_timezone)
            for done, chunk in enumerate(chunks(ids)):
                if progress is not None and not progress(done * ID_CHUNK, len(ids), WRITING):
                    raise ActionCancelled()
                query = (
                    select(
                        Member.member_no,
                        Member.name,
                        Member.phone,
                        Tier.name,
                        Member.points_balance,
                        Member.last_visit_at,
                    )
                    .outerjoin(Tier, Tier.id == Member.tier_id)
                    .where(Member.id.in_(chunk))
                    .order_by(Member.member_no)
                )
                for member_no, name, phone, tier, points, last_visit in session.execute(query):
                    shown = (phone or "") if full else mask_phone(phone)
                    visit = last_visit.astimezone(zone).strftime("%Y-%m-%d") if last_visit else None
                    yield [member_no, name, shown, tier, points, visit]

        try:
            with self.db.session() as session:
                if progress is not None and not progress(0, 1, READING):
                    raise ActionCancelled()
                ids = members.resolve(session, consent_only=True)
                count = write_table(partial, CONTACT_COLUMNS, rows(session, ids))

            def audit(session: Session) -> None:
                details = {**members.describe(), "file": path.name, "count": count, "full_phones": full}
                record_audit(session, self.operator, "export", "contact_list", None, details)

            self.db.write(audit)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return ContactList(path, count, full)


def _with_target(draft: CampaignDraft, target: CampaignTarget, segment_id: int | None) -> CampaignDraft:
    return CampaignDraft(**{**draft.__dict__, "target": target, "saved_segment_id": segment_id, "tier_id": None})


def _nobody(everyone: list[int], consenting: list[int]) -> str:
    if not everyone:
        return translate("Errors", S("Errors", "the set has no active members."))
    if not consenting:
        return translate("Errors", S("Errors", "none of its members agreed to marketing."))
    return translate("Errors", S("Errors", "each already has an open follow-up for this reason."))
