"""What the member panel (客户画像) shows, read in one short session, and the paged histories behind it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Connection,
    Select,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.util.typing import TupleAny

from app.errors import NotFoundError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.insights.labels import segment_line
from app.loyalty.tiers import ROLLING, YEAR, TierProgress
from app.members.validation import mask_phone
from app.security.operator import Operator
from app.settings import VERSION_KEY, SettingsMemo, StoreSettings, settings_on
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
    PointsLot,
    Sale,
    SaleLine,
    Setting,
    Staff,
    Tag,
    Tier,
)
from db.plain import utc_from_store

if TYPE_CHECKING:
    from db.driver import DriverReads

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    next: Any = None
    """Where the next page starts, for a list paged by key (app.members.lookup.ListCursor); None at its end."""
    more: bool = False
    """There are more than `total` rows: the count stopped there (a list paged by key pages on to the end)."""


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


_MEMBER: BindParameter[int] = bindparam("member_id")
_TIER = aliased(Tier, name="tier")
_NEXT = aliased(Tier, name="next_tier")
_HIGHER = aliased(Tier, name="higher_tier")
_REFERRER = aliased(Member, name="referrer")
_EXPIRING = (PointsLot.member_id == _MEMBER, PointsLot.remaining > 0, PointsLot.expires_at <= bindparam("until"))
TAG_SEPARATOR = "\x1f"
"""Between the member's tags in the one string the profile row carries them in (a tag never holds a control
character: app.members.validation.clean_tags refuses them)."""


def _profile_row(basis: str) -> Select[*TupleAny]:
    """The member with everything the panel shows that is one value: tier and the next tier up, referrer, segment,
    tags, the counts, the expiring points, and the tier figure (the very sum the purchase decides the tier on), in
    one statement: each part an index lookup by member id (tests/services/test_profile.py checks the plans)."""
    return (
        select(
            Member.id,
            Member.member_no,
            Member.name,
            Member.phone,
            Member.card_no,
            Member.gender,
            Member.birthday,
            Member.status,
            Member.points_balance,
            Member.visit_count,
            Member.lifetime_spend_fen,
            Member.last_visit_at,
            Member.joined_at,
            Member.marketing_consent,
            Member.notes,
            _TIER.name.label("tier_name"),
            _TIER.name_en.label("tier_name_en"),
            _NEXT.name.label("next_name"),
            _NEXT.name_en.label("next_name_en"),
            (_NEXT.min_spend_12m_fen if basis == "spend" else _NEXT.min_points_12m).label("next_threshold"),
            _REFERRER.name.label("referrer_name"),
            MemberSegment.pyramid_level,
            MemberSegment.rfm_class,
            MemberSegment.lifecycle_stage,
            MemberSegment.churn_warning,
            MemberSegment.p_alive_permille,
            select(func.aggregate_strings(Tag.name, TAG_SEPARATOR))
            .join(MemberTag, MemberTag.tag_id == Tag.id)
            .where(MemberTag.member_id == _MEMBER)
            .scalar_subquery()
            .label("tags"),
            select(func.count())
            .where(
                Complaint.member_id == _MEMBER,
                Complaint.status.in_([ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS]),
            )
            .scalar_subquery()
            .label("open_complaints"),
            select(func.count())
            .where(Coupon.member_id == _MEMBER, Coupon.status == CouponStatus.ISSUED)
            .scalar_subquery()
            .label("coupons_held"),
            select(func.coalesce(func.sum(PointsLot.remaining), 0))
            .where(*_EXPIRING)
            .scalar_subquery()
            .label("expiring"),
            select(func.min(PointsLot.expires_at)).where(*_EXPIRING).scalar_subquery().label("expiring_at"),
            ROLLING[basis].scalar_subquery().label("metric"),
        )
        .join(_TIER, _TIER.id == Member.tier_id)
        .outerjoin(
            _NEXT,
            _NEXT.rank
            == select(func.min(_HIGHER.rank)).where(_HIGHER.rank > _TIER.rank).correlate(_TIER).scalar_subquery(),
        )
        .outerjoin(_REFERRER, _REFERRER.id == Member.referrer_id)
        .outerjoin(MemberSegment, MemberSegment.member_id == Member.id)
        .where(Member.id == _MEMBER)
    )


_TASKS = (
    select(
        literal(0).label("kind"),
        FollowUpTask.id.label("number"),
        FollowUpTask.title.label("text"),
        cast(null(), Category.name_en.type).label("text_en"),
        FollowUpTask.due_at.label("due_at"),
    )
    .where(FollowUpTask.member_id == _MEMBER, FollowUpTask.status == TaskStatus.OPEN)
    .order_by(FollowUpTask.due_at.nulls_last(), FollowUpTask.id)
    .limit(10)
    .subquery()
)
_SPENT = func.sum(SaleLine.amount_fen)
_CATEGORIES = (
    select(
        literal(1).label("kind"),
        cast(_SPENT, BigInteger).label("number"),
        Category.name.label("text"),
        Category.name_en.label("text_en"),
        cast(null(), FollowUpTask.due_at.type).label("due_at"),
    )
    .join(SaleLine, SaleLine.category_id == Category.id)
    .join(Sale, Sale.id == SaleLine.sale_id)
    .where(Sale.member_id == _MEMBER)
    .group_by(Category.id, Category.name, Category.name_en)
    .order_by(_SPENT.desc())
    .limit(3)
    .subquery()
)
_LISTS = union_all(select(*_TASKS.c), select(*_CATEGORIES.c)).subquery("lists")
"""The open tasks (10 at most, dated ones first by due date) and the three categories the member spent most on, as
(kind 0 or 1, task id or amount, title or name, -, due) rows; the NULLs are cast so both halves agree on PostgreSQL."""
_SETTINGS_VERSION = select(Setting.value).where(Setting.key == VERSION_KEY).scalar_subquery()


def _profile(basis: str) -> Select[*TupleAny]:
    """The profile in one statement: the member's row (`_profile_row`) with the settings' version, once for each of
    the lists' rows (`_LISTS`, joined on nothing; once with NULLs when both lists are empty). One round trip on a
    server, planned once per connection (psycopg prepares it)."""
    return (
        _profile_row(basis)
        .add_columns(
            _SETTINGS_VERSION.label("settings_version"),
            _LISTS.c.kind.label("list_kind"),
            _LISTS.c.number.label("list_number"),
            _LISTS.c.text.label("list_text"),
            _LISTS.c.text_en.label("list_text_en"),
            _LISTS.c.due_at.label("list_due_at"),
        )
        .outerjoin(_LISTS, true())
    )


_PROFILE = {basis: _profile(basis) for basis in ROLLING}


def _segment(row: Any) -> str | None:
    if row.pyramid_level is None:
        return None
    return segment_line(row.pyramid_level, row.rfm_class, row.lifecycle_stage, row.churn_warning, row.p_alive_permille)


def profile_rows(
    reader: Connection | DriverReads, settings: StoreSettings, member_id: int, now: dt.datetime
) -> Sequence[Any]:
    params = {
        "member_id": member_id,
        "until": now + dt.timedelta(days=settings.points_expiry_warning_days),
        "since": now - YEAR,
    }
    return reader.execute(_PROFILE[settings.tiers_basis], params).all()


def load_profile(
    reader: Connection | DriverReads, memo: SettingsMemo | None, operator: Operator, member_id: int, now: dt.datetime
) -> MemberProfile:
    """One statement (`_profile`), with the settings last read (`memo`, the store's); when the version it read
    with them shows the settings changed since, they are read again and the statement run again. `reader`: a
    connection, or on a chain's server the driver's (`db.driver.DriverReads`: enums as text, times in the session's
    zone, made the same here)."""
    kept = memo.latest() if memo is not None else None
    settings = kept[1] if kept is not None else settings_on(reader, memo)
    rows = profile_rows(reader, settings, member_id, now)
    if kept is not None and rows and rows[0].settings_version != kept[0]:
        used, settings = settings, settings_on(reader, memo)
        if (settings.tiers_basis, settings.points_expiry_warning_days) != (
            used.tiers_basis,
            used.points_expiry_warning_days,
        ):
            rows = profile_rows(reader, settings, member_id, now)
    m = rows[0] if rows else None
    if m is None or MemberStatus(m.status) == MemberStatus.ANONYMISED:
        raise NotFoundError(S("Errors", "Member not found."))
    today = now.astimezone(ZoneInfo(settings.store_timezone)).date()
    is_today, this_week = _birthday_flags(m.birthday, today)
    tasks: list[TaskItem] = []
    categories: list[CategoryShare] = []
    for row in rows:
        if row.list_kind == 0:
            tasks.append(TaskItem(int(row.list_number), row.list_text, utc_from_store(row.list_due_at)))
        elif row.list_kind == 1 and row.list_number and row.list_number > 0:
            categories.append(CategoryShare(row.list_text, row.list_text_en, int(row.list_number)))
    tasks.sort(key=lambda t: (t.due_at is None, t.due_at or now, t.id))
    categories.sort(key=lambda c: -c.amount_fen)
    metric = int(m.metric or 0)
    if m.next_name is None:
        tier_progress = TierProgress(metric, settings.tiers_basis, None, None, 0)
    else:
        missing = max(0, m.next_threshold - metric)
        tier_progress = TierProgress(metric, settings.tiers_basis, m.next_name, m.next_name_en, missing)
    return MemberProfile(
        id=m.id,
        member_no=m.member_no,
        name=m.name or "",
        masked_phone=mask_phone(m.phone),
        phone=m.phone if operator.sees_full_phone else None,
        card_no=m.card_no,
        gender=Gender(m.gender),
        birthday=m.birthday,
        birthday_today=is_today,
        birthday_this_week=this_week,
        tier_name=m.tier_name,
        tier_name_en=m.tier_name_en,
        tier_progress=tier_progress,
        points_balance=m.points_balance,
        points_expiring=int(m.expiring or 0),
        points_expiring_at=utc_from_store(m.expiring_at),
        tags=sorted(m.tags.split(TAG_SEPARATOR)) if m.tags else [],
        segment=_segment(m),
        open_complaints=m.open_complaints or 0,
        coupons_held=m.coupons_held or 0,
        open_tasks=tasks,
        preferred_categories=categories,
        visit_count=m.visit_count,
        lifetime_spend_fen=m.lifetime_spend_fen,
        last_visit_at=utc_from_store(m.last_visit_at),
        joined_at=m.joined_at.astimezone(dt.UTC),
        marketing_consent=m.marketing_consent,
        status=MemberStatus(m.status),
        notes=m.notes,
        referrer_name=m.referrer_name,
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
