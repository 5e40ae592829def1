"""Members' rights under PIPL: withdraw marketing consent, get their data, be deleted; and the review of members
who stopped coming.

Deletion anonymises: the personal fields are cleared and the member can no longer be found or served, while their
sales, points ledger and the audit trail stay as they were, so the books and `db check` still add up."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.changes import Changes
from app.clock import Clock
from app.errors import NotFoundError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.importing.tables import write_table
from app.members.validation import fold_width, mask_phone
from app.security.crypto import FieldCipher
from app.security.operator import Operator, require_role
from app.settings import read_settings
from app.trust.audit import record_audit, record_export
from app.trust.chain import utc_text
from app.trust.notice import write_privacy_notice
from db.engine import Database
from db.enums import MemberStatus, StaffRole
from db.models import (
    Complaint,
    Coupon,
    FollowUpTask,
    GiftRedemption,
    Member,
    MemberTag,
    PointsLedger,
    Sale,
    Tag,
    Tier,
)

REVIEW_LIMIT = 500
MAX_INACTIVE_DAYS = 36_500
INACTIVE_COLUMNS = ["member_no", "name", "phone", "joined_at", "last_visit_at", "points"]
PERSONAL_FIELDS = (
    "name",
    "phone",
    "phone_last4",
    "pinyin_initials",
    "pinyin_full",
    "birthday",
    "birthday_mmdd",
    "id_number_enc",
    "id_number_hash",
    "card_no",
    "notes",
)


@dataclass(frozen=True)
class PrivacyDone:
    member_id: int
    changes: Changes = Changes.MEMBERS | Changes.AUDIT


@dataclass(frozen=True)
class MemberDataFile:
    path: Path
    purchases: int
    ledger_rows: int
    changes: Changes = Changes.AUDIT


@dataclass(frozen=True)
class InactiveMember:
    id: int
    member_no: str
    name: str
    masked_phone: str
    joined_at: dt.datetime
    last_visit_at: dt.datetime | None
    points: int


@dataclass(frozen=True)
class InactiveReview:
    months: int
    """The review setting (隐私复核); `days` is the cut-off actually used (the setting's, unless one was asked for)."""
    total: int
    members: list[InactiveMember]
    days: int


def _check_days(days: int | None) -> None:
    if days is not None and not 1 <= days <= MAX_INACTIVE_DAYS:
        raise ValidationError(S("Errors", "The number of days must be between 1 and 36,500."), field="days")


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else utc_text(value)


class PrivacyService:
    def __init__(self, db: Database, operator: Operator, clock: Clock, cipher: FieldCipher) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock
        self.cipher = cipher

    @staticmethod
    def _member(session: Session, member_id: int, lock: bool = False) -> Member:
        member = session.get(Member, member_id, with_for_update={"of": Member} if lock else None)
        if member is None or member.status == MemberStatus.ANONYMISED:
            raise NotFoundError(S("Errors", "Member not found."))
        return member

    def find_member(self, number: str) -> int:
        """The member a request names by member number, card number or phone (any staff: nothing is shown)."""
        wanted = fold_width(number).strip()

        def read(session: Session) -> int | None:
            for column in (Member.member_no, Member.card_no, Member.phone):
                found = session.scalar(
                    select(Member.id).where(column == wanted, Member.status != MemberStatus.ANONYMISED).limit(1)
                )
                if found is not None:
                    return found
            return None

        member_id = self.db.read(read) if wanted else None
        if member_id is None:
            raise NotFoundError(S("Errors", "No member with number {number}."), number=number)
        return member_id

    def withdraw_marketing_consent(self, member_id: int) -> PrivacyDone:
        """One step, any staff at the member's request; withdrawing twice changes nothing the second time."""

        def work(session: Session) -> PrivacyDone:
            member = self._member(session, member_id, lock=True)
            if member.marketing_consent:
                member.marketing_consent = False
                member.marketing_consent_at = self.clock.now()
                record_audit(
                    session,
                    self.operator,
                    "withdraw_consent",
                    "member",
                    member_id,
                    {"marketing_consent": {"before": True, "after": False}},
                )
            return PrivacyDone(member_id)

        return self.db.write(work)

    def export_member_data(self, member_id: int, dest: Path) -> MemberDataFile:
        """Everything the store holds on one member, as readable JSON (UTF-8), for the member. Managers and owners
        (it holds the full phone and ID number); the export is audited."""
        require_role(self.operator, StaffRole.MANAGER)

        def work(session: Session) -> dict[str, Any]:
            member = self._member(session, member_id)
            data = self._gather(session, member)
            record_audit(session, self.operator, "export_member_data", "member", member_id, {"file": dest.name})
            return data

        data = self.db.write(work)
        target = dest / f"member-{data['profile']['member_no']}.json" if dest.is_dir() else dest
        target.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        return MemberDataFile(target, len(data["purchases"]), len(data["points"]))

    def _gather(self, session: Session, member: Member) -> dict[str, Any]:
        tier = session.get(Tier, member.tier_id)
        tags = list(
            session.scalars(
                select(Tag.name).join(MemberTag, MemberTag.tag_id == Tag.id).where(MemberTag.member_id == member.id)
            )
        )
        sales = session.scalars(select(Sale).where(Sale.member_id == member.id).order_by(Sale.id))
        ledger = session.scalars(
            select(PointsLedger).where(PointsLedger.member_id == member.id).order_by(PointsLedger.id)
        )
        complaints = session.scalars(select(Complaint).where(Complaint.member_id == member.id).order_by(Complaint.id))
        gifts = session.scalars(select(GiftRedemption).where(GiftRedemption.member_id == member.id))
        coupons = session.scalars(select(Coupon).where(Coupon.member_id == member.id))
        return {
            "exported_at": utc_text(self.clock.now()),
            "profile": {
                "member_no": member.member_no,
                "name": member.name,
                "phone": member.phone,
                "gender": member.gender.value,
                "birthday": member.birthday.isoformat() if member.birthday else None,
                "id_number": self.cipher.decrypt(member.id_number_enc) if member.id_number_enc else None,
                "card_no": member.card_no,
                "tier": tier.name if tier else None,
                "points_balance": member.points_balance,
                "lifetime_spend_fen": member.lifetime_spend_fen,
                "joined_at": _when(member.joined_at),
                "last_visit_at": _when(member.last_visit_at),
                "tags": tags,
                "notes": member.notes,
            },
            "consents": {
                "membership_consent_at": _when(member.membership_consent_at),
                "marketing_consent": member.marketing_consent,
                "marketing_consent_changed_at": _when(member.marketing_consent_at),
            },
            "purchases": [
                {
                    "kind": s.kind.value,
                    "receipt_no": s.receipt_no,
                    "at": _when(s.sold_at),
                    "total_fen": s.total_fen,
                    "paid_fen": s.paid_fen,
                    "points_used": s.points_used,
                    "points_earned": s.points_earned,
                }
                for s in sales
            ],
            "points": [
                {"at": _when(p.created_at), "change": p.delta, "balance": p.balance_after, "reason": p.reason}
                for p in ledger
            ],
            "gifts": [{"at": _when(g.created_at), "gift_id": g.gift_id, "points": g.points} for g in gifts],
            "coupons": [{"code": c.code, "status": c.status.value, "issued_at": _when(c.issued_at)} for c in coupons],
            "complaints": [
                {
                    "at": _when(c.created_at),
                    "category": c.category,
                    "subject": c.subject,
                    "description": c.description,
                    "status": c.status.value,
                }
                for c in complaints
            ],
        }

    def anonymise(self, member_id: int, reason: str) -> PrivacyDone:
        """Owner only, and final. Personal fields, tags and the member's words in complaints and tasks are cleared;
        sales, points and the audit trail stay (the member number remains as a pseudonym)."""
        require_role(self.operator, StaffRole.OWNER)

        def work(session: Session) -> PrivacyDone:
            member = self._member(session, member_id, lock=True)
            cleared = [f for f in PERSONAL_FIELDS if getattr(member, f) is not None]
            for name in PERSONAL_FIELDS:
                setattr(member, name, None)
            member.marketing_consent = False
            member.marketing_consent_at = self.clock.now()
            member.status = MemberStatus.ANONYMISED
            session.execute(delete(MemberTag).where(MemberTag.member_id == member_id))
            session.execute(
                update(Complaint).where(Complaint.member_id == member_id).values(subject="", description=None)
            )
            session.execute(update(FollowUpTask).where(FollowUpTask.member_id == member_id).values(title=""))
            record_audit(
                session,
                self.operator,
                "anonymise",
                "member",
                member_id,
                {"member_no": member.member_no, "cleared": cleared, "reason": reason.strip()[:200]},
            )
            return PrivacyDone(member_id)

        return self.db.write(work)

    def privacy_notice(self, dest: Path) -> Path:
        """The notice for members to read and sign, with this store's name and review period (any staff)."""
        settings = self.db.read(read_settings)
        return write_privacy_notice(dest, settings.store_name, settings.privacy_inactive_months)

    def inactive_members(self, days: int | None = None) -> InactiveReview:
        """Active members with no visit (or, never having bought, no joining) within the set time — the review
        setting's months, or `days` when given — oldest first, for the owner or a manager to review and delete.
        Masked phones: the list is for review, not contact."""
        require_role(self.operator, StaffRole.MANAGER)
        _check_days(days)

        def read(session: Session) -> InactiveReview:
            months = read_settings(session).privacy_inactive_months
            cutoff_days, where = self._inactive(session, days)
            total = session.scalar(select(func.count(Member.id)).where(*where)) or 0
            members = list(self._inactive_rows(session, where, REVIEW_LIMIT))
            return InactiveReview(months, total, members, cutoff_days)

        return self.db.read(read)

    def export_inactive(self, dest: Path, days: int | None = None) -> int:
        """The whole inactive list (not only the first screenful) to CSV or XLSX, phones masked; audited."""
        require_role(self.operator, StaffRole.MANAGER)
        if dest.suffix.lower() not in (".csv", ".xlsx"):
            raise ValidationError(S("Errors", "Export to a .csv or .xlsx file."))
        _check_days(days)

        def rows(session: Session) -> Iterator[list[object]]:
            zone = ZoneInfo(read_settings(session).store_timezone)
            _, where = self._inactive(session, days)
            for m in self._inactive_rows(session, where, None):
                last = None if m.last_visit_at is None else f"{m.last_visit_at.astimezone(zone):%Y-%m-%d %H:%M}"
                yield [m.member_no, m.name, m.masked_phone, f"{m.joined_at.astimezone(zone):%Y-%m-%d}", last, m.points]

        with self.db.session() as session:
            count = write_table(dest, INACTIVE_COLUMNS, rows(session))
        record_export(self.db, self.operator, "inactive_members", dest, count)
        return count

    def _inactive(self, session: Session, days: int | None) -> tuple[int, tuple[ColumnElement[bool], ...]]:
        if days is None:
            days = read_settings(session).privacy_inactive_months * 365 // 12
        cutoff = self.clock.now() - dt.timedelta(days=days)
        return days, (
            Member.status == MemberStatus.ACTIVE,
            or_(Member.last_visit_at < cutoff, Member.last_visit_at.is_(None) & (Member.joined_at < cutoff)),
        )

    @staticmethod
    def _inactive_rows(
        session: Session, where: tuple[ColumnElement[bool], ...], limit: int | None
    ) -> Iterator[InactiveMember]:
        last_seen = func.coalesce(Member.last_visit_at, Member.joined_at)
        query = (
            select(
                Member.id,
                Member.member_no,
                Member.name,
                Member.phone,
                Member.joined_at,
                Member.last_visit_at,
                Member.points_balance,
            )
            .where(*where)
            .order_by(last_seen, Member.id)
            .limit(limit)
            .execution_options(yield_per=5000)
        )
        for r in session.execute(query):
            yield InactiveMember(r[0], r[1], r[2] or "", mask_phone(r[3]), r[4], r[5], r[6])
