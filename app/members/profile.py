"""What the member panel (客户画像) shows, read in one short session, and the paged histories behind it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.errors import NotFoundError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.insights.labels import segment_line
from app.loyalty.ledger import expiring_points
from app.loyalty.tiers import TierProgress, progress
from app.members.validation import mask_phone
from app.security.operator import Operator
from app.settings import read_settings
from db.enums import ComplaintStatus, CouponStatus, Gender, LedgerSource, MemberStatus, SaleKind, TaskStatus
from db.models import (
    Category,
    Complaint,
    Coupon,
    FollowUpTask,
    Member,
    MemberSegment,
    MemberTag,
    PointsLedger,
    Sale,
    SaleLine,
    Staff,
    Tag,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    next: Any = None
    """Where the next page starts, for a list paged by key (app.members.lookup.ListCursor); None at its end."""


@dataclass(frozen=True)
class TaskItem:
    id: int
    title: str
    due_at: dt.datetime | None


@dataclass(frozen=True)
class CategoryShare:
    name: str
    name_en: str
    amount_fen: int


@dataclass(frozen=True)
class MemberProfile:
    id: int
    member_no: str
    name: str
    masked_phone: str
    phone: str | None
    card_no: str | None
    gender: Gender
    birthday: dt.date | None
    birthday_today: bool
    birthday_this_week: bool
    tier_name: str
    tier_name_en: str
    tier_progress: TierProgress
    points_balance: int
    points_expiring: int
    points_expiring_at: dt.datetime | None
    tags: list[str]
    segment: str | None
    open_complaints: int
    coupons_held: int
    open_tasks: list[TaskItem]
    preferred_categories: list[CategoryShare]
    visit_count: int
    lifetime_spend_fen: int
    last_visit_at: dt.datetime | None
    joined_at: dt.datetime
    marketing_consent: bool
    status: MemberStatus
    notes: str | None
    referrer_name: str | None


@dataclass(frozen=True)
class SaleRow:
    id: int
    sold_at: dt.datetime
    kind: SaleKind
    receipt_no: str | None
    total_fen: int
    paid_fen: int
    points_used: int
    points_earned: int
    returned: bool


@dataclass(frozen=True)
class LedgerRow:
    id: int
    created_at: dt.datetime
    source: LedgerSource
    delta: int
    balance_after: int
    reason: str
    staff_name: str | None


def _birthday_flags(birthday: dt.date | None, today: dt.date) -> tuple[bool, bool]:
    if birthday is None:
        return False, False
    week = [today + dt.timedelta(days=i) for i in range(-today.weekday(), 7 - today.weekday())]
    same = [(d.month, d.day) for d in week]
    key = (birthday.month, birthday.day)
    if key == (2, 29):
        key = (2, 28) if not any(d.month == 2 and d.day == 29 for d in week) else key
    return key == (today.month, today.day), key in same


def _segment(session: Session, member_id: int) -> str | None:
    row = session.get(MemberSegment, member_id)
    if row is None:
        return None
    return segment_line(row.pyramid_level, row.rfm_class, row.lifecycle_stage, row.churn_warning, row.p_alive_permille)


def load_profile(session: Session, operator: Operator, member_id: int, now: dt.datetime) -> MemberProfile:
    member = session.get(Member, member_id)
    if member is None or member.status == MemberStatus.ANONYMISED:
        raise NotFoundError(S("Errors", "Member not found."))
    settings = read_settings(session)
    today = now.astimezone(ZoneInfo(settings.store_timezone)).date()
    is_today, this_week = _birthday_flags(member.birthday, today)
    warn_until = now + dt.timedelta(days=settings.points_expiry_warning_days)
    expiring, expiring_at = expiring_points(session, member.id, warn_until)
    tags = list(
        session.scalars(
            select(Tag.name).join(MemberTag, MemberTag.tag_id == Tag.id).where(MemberTag.member_id == member.id)
        )
    )
    open_complaints = session.scalar(
        select(func.count()).where(
            Complaint.member_id == member.id,
            Complaint.status.in_([ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS]),
        )
    )
    coupons = session.scalar(
        select(func.count()).where(Coupon.member_id == member.id, Coupon.status == CouponStatus.ISSUED)
    )
    tasks = [
        TaskItem(t.id, t.title, t.due_at)
        for t in session.scalars(
            select(FollowUpTask)
            .where(FollowUpTask.member_id == member.id, FollowUpTask.status == TaskStatus.OPEN)
            .order_by(FollowUpTask.due_at)
            .limit(10)
        )
    ]
    categories = [
        CategoryShare(name, name_en, int(amount))
        for name, name_en, amount in session.execute(
            select(Category.name, Category.name_en, func.sum(SaleLine.amount_fen).label("amount"))
            .join(SaleLine, SaleLine.category_id == Category.id)
            .join(Sale, Sale.id == SaleLine.sale_id)
            .where(Sale.member_id == member.id)
            .group_by(Category.id, Category.name, Category.name_en)
            .order_by(func.sum(SaleLine.amount_fen).desc())
            .limit(3)
        )
        if amount and amount > 0
    ]
    referrer = aliased(Member)
    referrer_name = (
        session.scalar(select(referrer.name).where(referrer.id == member.referrer_id)) if member.referrer_id else None
    )
    return MemberProfile(
        id=member.id,
        member_no=member.member_no,
        name=member.name or "",
        masked_phone=mask_phone(member.phone),
        phone=member.phone if operator.sees_full_phone else None,
        card_no=member.card_no,
        gender=member.gender,
        birthday=member.birthday,
        birthday_today=is_today,
        birthday_this_week=this_week,
        tier_name=member.tier.name,
        tier_name_en=member.tier.name_en,
        tier_progress=progress(session, member, now, settings),
        points_balance=member.points_balance,
        points_expiring=expiring,
        points_expiring_at=expiring_at,
        tags=sorted(tags),
        segment=_segment(session, member.id),
        open_complaints=open_complaints or 0,
        coupons_held=coupons or 0,
        open_tasks=tasks,
        preferred_categories=categories,
        visit_count=member.visit_count,
        lifetime_spend_fen=member.lifetime_spend_fen,
        last_visit_at=member.last_visit_at,
        joined_at=member.joined_at,
        marketing_consent=member.marketing_consent,
        status=member.status,
        notes=member.notes,
        referrer_name=referrer_name,
    )


def load_sales_page(session: Session, member_id: int, offset: int, limit: int) -> Page[SaleRow]:
    total = session.scalar(select(func.count()).where(Sale.member_id == member_id)) or 0
    returned_ids = select(Sale.original_sale_id).where(Sale.member_id == member_id, Sale.original_sale_id.is_not(None))
    returned = set(session.scalars(returned_ids))
    sales = list(
        session.scalars(
            select(Sale)
            .where(Sale.member_id == member_id)
            .order_by(Sale.sold_at.desc(), Sale.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )
    # A return shows the receipt number of the purchase it returned, so the two can be matched on the till roll.
    originals = {s.original_sale_id for s in sales if s.original_sale_id is not None and not s.receipt_no}
    receipts: dict[int, str | None] = {}
    if originals:
        for sale_id, receipt_no in session.execute(select(Sale.id, Sale.receipt_no).where(Sale.id.in_(originals))):
            receipts[sale_id] = receipt_no
    rows = [
        SaleRow(
            s.id,
            s.sold_at,
            s.kind,
            s.receipt_no or receipts.get(s.original_sale_id or 0),
            s.total_fen,
            s.paid_fen,
            s.points_used,
            s.points_earned,
            s.id in returned,
        )
        for s in sales
    ]
    return Page(rows, total)


def load_ledger_page(session: Session, member_id: int, offset: int, limit: int) -> Page[LedgerRow]:
    total = session.scalar(select(func.count()).where(PointsLedger.member_id == member_id)) or 0
    rows = [
        LedgerRow(e.id, e.created_at, e.source, e.delta, e.balance_after, e.reason, staff_name)
        for e, staff_name in session.execute(
            select(PointsLedger, Staff.display_name)
            .outerjoin(Staff, Staff.id == PointsLedger.staff_id)
            .where(PointsLedger.member_id == member_id)
            .order_by(PointsLedger.id.desc())
            .offset(offset)
            .limit(limit)
        )
    ]
    return Page(rows, total)
