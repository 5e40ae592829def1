"""The whole data model of MemberDesk (one metadata, so Alembic sees every table).

Rules kept here (docs/ARCHITECTURE.md §4): money in fen and points as integers; times in UTC; every table a chain needs
has `branch_id`; counter writes carry a client-made UUID and an idempotency key; the points ledger, the coupon ledger,
complaint events and the audit log are append-only (the services never update or delete their rows).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import UTC, Base, ClientUUID, Fen, IdemKey, IntPK, Points, Str20, Str40, Str100, Str200, utcnow
from db.enums import (
    CampaignStatus,
    CampaignTarget,
    ComplaintSeverity,
    ComplaintStatus,
    CouponAction,
    CouponKind,
    CouponStatus,
    FollowUpChannel,
    FollowUpReason,
    FormStatus,
    Gender,
    LedgerSource,
    MemberStatus,
    SaleKind,
    StaffRole,
    TaskStatus,
    str_enum,
)


def _created() -> Any:
    return mapped_column(default=utcnow)


class Branch(Base):
    __tablename__ = "branches"

    id: Mapped[IntPK]
    code: Mapped[Str20] = mapped_column(unique=True)
    name: Mapped[Str100]
    address: Mapped[Str200 | None]
    phone: Mapped[Str20 | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[UTC] = _created()


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[IntPK]
    username: Mapped[Str40] = mapped_column(unique=True)
    display_name: Mapped[Str100]
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[UTC] = _created()


class PinGuard(Base):
    """Wrong PINs in a row for one thing a PIN opens: an account's sign-in (`sign_in:{staff_id}`) or the manager
    approvals asked for by one operator (`approval:{staff_id}`). Kept in the database so every counter of a chain,
    and a restart, see the same count."""

    __tablename__ = "pin_guards"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[UTC | None]
    last_failed_at: Mapped[UTC | None]


class Tier(Base):
    """A membership level; a member qualifies by rolling 12-month spend or by points earned in that window."""

    __tablename__ = "tiers"

    id: Mapped[IntPK]
    code: Mapped[Str20] = mapped_column(unique=True)
    name: Mapped[Str40]
    name_en: Mapped[Str40]
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    min_spend_12m_fen: Mapped[Fen]
    min_points_12m: Mapped[Points]
    earn_multiplier_pct: Mapped[int] = mapped_column(Integer, default=100)
    created_at: Mapped[UTC] = _created()


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[IntPK]
    code: Mapped[Str20] = mapped_column(unique=True)
    name: Mapped[Str40]
    name_en: Mapped[Str40]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    earns_points: Mapped[bool] = mapped_column(Boolean, default=True)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[IntPK]
    sku: Mapped[Str40] = mapped_column(unique=True)
    barcode: Mapped[Str40 | None] = mapped_column(index=True)
    name: Mapped[Str100]
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    price_fen: Mapped[Fen]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[IntPK]
    name: Mapped[Str40] = mapped_column(unique=True)


class MemberTag(Base):
    __tablename__ = "member_tags"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), primary_key=True, index=True)


class Member(Base):
    """A member. `points_balance` caches the sum of the ledger (checked by `db check`); `phone_last4` and the
    pinyin columns exist so every counter lookup is an index range scan."""

    __tablename__ = "members"
    __table_args__ = (
        Index(
            "uq_members_active_phone",
            "phone",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # Last-4 lookups list the most recent visitors first: with the visit time in the index SQLite reads just the
        # rows it returns (~100 members share each last 4 digits at 1M) instead of reading and sorting them all.
        Index("ix_members_last4_visit", "phone_last4", "last_visit_at"),
        Index(
            "uq_members_active_card_no",
            "card_no",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # The few anonymised members, whom the member list leaves out: its count subtracts them using this small
        # index instead of reading every listed member's row for its status (app.members.lookup).
        Index(
            "ix_members_anonymised",
            "id",
            sqlite_where=text("status = 'anonymised'"),
            postgresql_where=text("status = 'anonymised'"),
        ),
        # New members by day, referred or not, per home branch (the new-members chart, the dashboard's count): read
        # from this index alone, never from the members' rows (migration 0015; it replaces the plain joined_at one).
        Index("ix_members_joined", "joined_at", "referrer_id", "home_branch_id"),
        # Members per tier of a home branch (the tier chart), from this index alone (migration 0020; it replaces the
        # plain home_branch_id one, which it serves as well).
        Index("ix_members_branch_tier", "home_branch_id", "tier_id"),
    )

    id: Mapped[IntPK]
    client_uuid: Mapped[ClientUUID]
    member_no: Mapped[Str40] = mapped_column(unique=True)
    card_no: Mapped[Str40 | None] = mapped_column(index=True)
    phone: Mapped[Str20 | None] = mapped_column(index=True)
    phone_last4: Mapped[str | None] = mapped_column(String(4))
    name: Mapped[Str40 | None] = mapped_column(index=True)
    pinyin_initials: Mapped[Str40 | None] = mapped_column(index=True)
    pinyin_full: Mapped[Str100 | None] = mapped_column(index=True)
    gender: Mapped[Gender] = mapped_column(str_enum(Gender), default=Gender.UNKNOWN)
    birthday: Mapped[dt.date | None] = mapped_column(Date)
    birthday_mmdd: Mapped[str | None] = mapped_column(String(5), index=True)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"), index=True)
    tier_review_at: Mapped[UTC | None] = mapped_column(index=True)
    """Indexed: the tier review at start-up reads only the members whose review is due."""
    home_branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    referral_rewarded: Mapped[bool] = mapped_column(Boolean, default=False)
    membership_consent_at: Mapped[UTC | None]
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    marketing_consent_at: Mapped[UTC | None]
    status: Mapped[MemberStatus] = mapped_column(str_enum(MemberStatus), default=MemberStatus.ACTIVE)
    notes: Mapped[str | None] = mapped_column(Text)
    points_balance: Mapped[Points]
    lifetime_spend_fen: Mapped[Fen]
    visit_count: Mapped[int] = mapped_column(Integer, default=0)
    first_visit_at: Mapped[UTC | None]
    last_visit_at: Mapped[UTC | None]
    joined_at: Mapped[UTC] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[UTC] = mapped_column(default=utcnow, onupdate=utcnow)

    tier: Mapped[Tier] = relationship(lazy="joined")


class TierChange(Base):
    __tablename__ = "tier_changes"

    id: Mapped[IntPK]
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    from_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    to_tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"))
    reason: Mapped[Str200]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    created_at: Mapped[UTC] = _created()


class Sale(Base):
    """A purchase or a return (kind=return, `original_sale_id` set). Amounts: `total_fen` is the goods' value,
    `points_value_fen` and `coupon_discount_fen` the parts not paid in money, `paid_fen` the rest."""

    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("branch_id", "receipt_no", name="uq_sales_branch_receipt"),
        Index("ix_sales_member_time_amount", "member_id", "sold_at", "total_fen"),
    )

    id: Mapped[IntPK]
    client_uuid: Mapped[ClientUUID]
    idempotency_key: Mapped[IdemKey]
    kind: Mapped[SaleKind] = mapped_column(str_enum(SaleKind), default=SaleKind.SALE)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    receipt_no: Mapped[Str40 | None]
    sold_at: Mapped[UTC] = mapped_column(index=True)
    total_fen: Mapped[Fen]
    points_used: Mapped[Points]
    points_value_fen: Mapped[Fen]
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    coupon_discount_fen: Mapped[Fen]
    paid_fen: Mapped[Fen]
    points_earned: Mapped[Points]
    original_sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"), index=True)
    note: Mapped[Str200 | None]
    created_at: Mapped[UTC] = _created()
    audit_id: Mapped[int | None] = mapped_column(Integer)
    """The audit entry that wrote this sale (`db check` ties them)."""

    lines: Mapped[list[SaleLine]] = relationship(back_populates="sale", cascade="all, delete-orphan")


class SaleLine(Base):
    __tablename__ = "sale_lines"

    id: Mapped[IntPK]
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    description: Mapped[Str100 | None]
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount_fen: Mapped[Fen]

    sale: Mapped[Sale] = relationship(back_populates="lines")


class PointsLedger(Base):
    """Append-only. One row per change of a member's points; `balance_after` makes each row self-checking."""

    __tablename__ = "points_ledger"
    __table_args__ = (
        Index("ix_points_ledger_member_id_id", "member_id", "id"),
        # The dashboard's points issued / redeemed / expired of a day read this index alone.
        Index("ix_points_ledger_day_figures", "created_at", "source", "delta"),
    )

    id: Mapped[IntPK]
    client_uuid: Mapped[ClientUUID]
    idempotency_key: Mapped[IdemKey]
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    source: Mapped[LedgerSource] = mapped_column(str_enum(LedgerSource), index=True)
    delta: Mapped[Points]
    balance_after: Mapped[Points]
    reason: Mapped[Str200]
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"), index=True)
    created_at: Mapped[UTC] = _created()
    audit_id: Mapped[int | None] = mapped_column(Integer)
    """The audit entry that wrote this row (`db check` ties them)."""

    sale: Mapped[Sale | None] = relationship()


class PointsLot(Base):
    """Points earned together, with one expiry. Redemption and expiry take from the oldest lots first."""

    __tablename__ = "points_lots"
    __table_args__ = (
        Index("ix_points_lots_member_open", "member_id", "remaining", "earned_at"),
        # The due-date record: open lots only, by expiry. The expiry check at start-up reads the lots now due and
        # nothing else (a plain `expires_at` index also held the millions of lots already used up or expired).
        # `remaining` is in it so that the dashboard's count of members with points expiring soon is read from the
        # index alone (SQLite counts a column of the query's condition as needed even when the index's own
        # condition covers it; migration 0015).
        Index(
            "ix_points_lots_due",
            "expires_at",
            "member_id",
            "remaining",
            sqlite_where=text("remaining > 0"),
            postgresql_where=text("remaining > 0"),
        ),
    )

    id: Mapped[IntPK]
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    ledger_id: Mapped[int] = mapped_column(ForeignKey("points_ledger.id"), unique=True)
    earned_at: Mapped[UTC]
    expires_at: Mapped[UTC | None]
    points: Mapped[Points]
    remaining: Mapped[Points]

    ledger: Mapped[PointsLedger] = relationship()


class PointsLotUse(Base):
    """Which lots a debit took its points from, so a reversal or an expiry can be traced lot by lot."""

    __tablename__ = "points_lot_uses"

    id: Mapped[IntPK]
    ledger_id: Mapped[int] = mapped_column(ForeignKey("points_ledger.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("points_lots.id"), index=True)
    points: Mapped[Points]

    ledger: Mapped[PointsLedger] = relationship()


class Gift(Base):
    __tablename__ = "gifts"

    id: Mapped[IntPK]
    name: Mapped[Str100]
    name_en: Mapped[Str100 | None]
    points_price: Mapped[Points]
    stock: Mapped[int] = mapped_column(Integer, default=0)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[UTC] = _created()


class GiftRedemption(Base):
    __tablename__ = "gift_redemptions"

    id: Mapped[IntPK]
    client_uuid: Mapped[ClientUUID]
    idempotency_key: Mapped[IdemKey]
    gift_id: Mapped[int] = mapped_column(ForeignKey("gifts.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("points_ledger.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    points: Mapped[Points]
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[UTC] = _created()


class CouponCampaign(Base):
    __tablename__ = "coupon_campaigns"

    id: Mapped[IntPK]
    code: Mapped[Str20] = mapped_column(unique=True)
    name: Mapped[Str100]
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[CouponKind] = mapped_column(str_enum(CouponKind))
    value_fen: Mapped[Fen]
    """Amount off; for a gift coupon the gift's value (shown, not deducted)."""
    percent_off: Mapped[int] = mapped_column(Integer, default=0)
    max_discount_fen: Mapped[Fen]
    """The cap of a percent-off coupon (0: no cap)."""
    points_multiplier_pct: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    gift_name: Mapped[Str100 | None]
    min_spend_fen: Mapped[Fen]
    valid_from: Mapped[UTC]
    valid_until: Mapped[UTC]
    total_quantity: Mapped[int] = mapped_column(Integer, default=0)
    per_member_limit: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus), default=CampaignStatus.DRAFT)
    target: Mapped[CampaignTarget] = mapped_column(
        str_enum(CampaignTarget), default=CampaignTarget.ALL_MEMBERS, server_default="all_members"
    )
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    branch_ids: Mapped[list[int] | None] = mapped_column(JSON)
    """Branches where the coupons are taken (empty: every branch)."""
    excluded_categories: Mapped[list[str] | None] = mapped_column(JSON)
    """Category codes whose goods neither count towards the minimum spend nor get the discount."""
    automatic: Mapped[Str40 | None]
    """Set on a campaign the daily maintenance made (birthday:YYYY, holiday:NAME:YYYY)."""
    saved_segment_id: Mapped[int | None] = mapped_column(ForeignKey("saved_segments.id"))
    """The saved segment a campaign targets (target saved_segment): issuing reads its members at that moment."""
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    """Set on a campaign made from a set of members (app/actions/): the same request again makes no second one."""
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[UTC] = _created()


class Coupon(Base):
    __tablename__ = "coupons"

    id: Mapped[IntPK]
    client_uuid: Mapped[ClientUUID]
    code: Mapped[Str40] = mapped_column(unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("coupon_campaigns.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[CouponStatus] = mapped_column(str_enum(CouponStatus), default=CouponStatus.ISSUED)
    issued_at: Mapped[UTC] = _created()
    redeemed_at: Mapped[UTC | None]
    print_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))


class CouponLedger(Base):
    """Append-only history of every coupon state change."""

    __tablename__ = "coupon_ledger"

    id: Mapped[IntPK]
    idempotency_key: Mapped[IdemKey]
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    action: Mapped[CouponAction] = mapped_column(str_enum(CouponAction))
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    created_at: Mapped[UTC] = _created()
    audit_id: Mapped[int | None] = mapped_column(Integer)
    """The audit entry that wrote this row (`db check` ties them)."""


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        # The analysis reads these alone (app/care/analysis.py): a period is a range of the first column, and every
        # dimension, the status and the resolve time come from the index without touching the complaints' text.
        # The list walks it newest first, filtering on status, category, branch, assignee and due time in it.
        Index(
            "ix_complaints_analysis",
            "created_at",
            "status",
            "resolved_at",
            "category",
            "product",
            "branch_id",
            "assigned_to_id",
            "due_at",
        ),
        # A member's complaints (the panel), and repeat complainers over a period grouped without a sort.
        Index("ix_complaints_member_created", "member_id", "created_at"),
    )

    id: Mapped[IntPK]
    client_uuid: Mapped[ClientUUID]
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    channel: Mapped[Str20]
    category: Mapped[Str40]
    severity: Mapped[ComplaintSeverity] = mapped_column(str_enum(ComplaintSeverity))
    status: Mapped[ComplaintStatus] = mapped_column(str_enum(ComplaintStatus), default=ComplaintStatus.OPEN, index=True)
    subject: Mapped[Str200]
    description: Mapped[str | None] = mapped_column(Text)
    product: Mapped[Str100 | None]
    """The product or supplier the complaint is about, as the customer named it."""
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[UTC] = mapped_column(default=utcnow, index=True)
    due_at: Mapped[UTC | None]
    resolved_at: Mapped[UTC | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    goodwill_points: Mapped[Points]
    """Sum of the goodwill points posted to the ledger for this complaint (each posting is an event's `ledger_id`)."""
    refund_fen: Mapped[Fen]
    """A refund noted with the resolution (paid at the till; not a points movement)."""


class ComplaintEvent(Base):
    __tablename__ = "complaint_events"

    id: Mapped[IntPK]
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    from_status: Mapped[ComplaintStatus | None] = mapped_column(str_enum(ComplaintStatus))
    to_status: Mapped[ComplaintStatus] = mapped_column(str_enum(ComplaintStatus))
    note: Mapped[str | None] = mapped_column(Text)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    ledger_id: Mapped[int | None] = mapped_column(ForeignKey("points_ledger.id"))
    """The goodwill points posting this step made, if any."""
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    """The coupon this step gave the member as compensation, if any."""
    created_at: Mapped[UTC] = _created()


class SurveyTemplate(Base):
    """One version of a survey. Editing a template that has answers adds a new version (same code) and retires the
    old one, so old answers keep the questions they answered."""

    __tablename__ = "survey_templates"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_survey_templates_code_version"),)

    id: Mapped[IntPK]
    code: Mapped[Str20] = mapped_column(index=True)
    title: Mapped[Str200]
    title_en: Mapped[Str200 | None]
    description: Mapped[str | None] = mapped_column(Text)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[UTC] = _created()


class SurveyForm(Base):
    """A printed, numbered survey form; the number is printed as a barcode so the returned form is scanned in."""

    __tablename__ = "survey_forms"

    id: Mapped[IntPK]
    form_no: Mapped[Str40] = mapped_column(unique=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("survey_templates.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    batch: Mapped[Str40]
    status: Mapped[FormStatus] = mapped_column(str_enum(FormStatus), default=FormStatus.PRINTED)
    printed_at: Mapped[UTC] = _created()


class SurveyResponse(Base):
    __tablename__ = "survey_responses"

    id: Mapped[IntPK]
    client_uuid: Mapped[ClientUUID]
    idempotency_key: Mapped[IdemKey]
    template_id: Mapped[int] = mapped_column(ForeignKey("survey_templates.id"), index=True)
    form_id: Mapped[int | None] = mapped_column(ForeignKey("survey_forms.id"), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[int | None] = mapped_column(Integer)
    reward_points: Mapped[Points]
    """Points the member got for this response (the ledger's survey_reward rows for its form add up to this)."""
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    answered_at: Mapped[UTC | None] = mapped_column(index=True)
    """When the customer filled the form in (the entry date, unless the form says otherwise)."""
    created_at: Mapped[UTC] = _created()


class FollowUpTask(Base):
    __tablename__ = "follow_up_tasks"

    id: Mapped[IntPK]
    client_uuid: Mapped[ClientUUID]
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    title: Mapped[Str200]
    reason: Mapped[FollowUpReason] = mapped_column(
        str_enum(FollowUpReason), default=FollowUpReason.CUSTOM, server_default="custom"
    )
    channel: Mapped[FollowUpChannel] = mapped_column(
        str_enum(FollowUpChannel), default=FollowUpChannel.PHONE, server_default="phone"
    )
    due_at: Mapped[UTC | None] = mapped_column(index=True)
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus), default=TaskStatus.OPEN)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[UTC] = _created()
    done_at: Mapped[UTC | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    """The customer's satisfaction (1–5) told on the follow-up call."""
    note: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    """Set on tasks made for a set of members at once (app/actions/): the same request again makes none."""


class AuditLog(Base):
    """Append-only record of every change staff make to members, points, coupons, complaints, settings, staff.

    Hash-chained per branch (app/trust/audit.py): `seq` counts the branch's entries, `row_hash` covers the entry and
    the previous entry's hash. Sales and ledger rows carry the `audit_id` of the entry that wrote them."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_branch_seq", "branch_id", "seq", unique=True),)

    id: Mapped[IntPK]
    created_at: Mapped[UTC] = mapped_column(default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    action: Mapped[Str40]
    entity: Mapped[Str40]
    entity_id: Mapped[str | None] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last entry of each branch's audit chain; locked by every audit write so two counters never fork it."""

    __tablename__ = "audit_heads"

    branch_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    row_hash: Mapped[str] = mapped_column(String(64))


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[UTC] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class MemberMonthTotal(Base):
    """A member's purchases in one calendar month of the store's time zone, kept in the same transaction as every
    purchase and return (app/insights/aggregates.py) so segments read these instead of every sale. Only sales not
    returned count. `days_mask` has bit d-1 set when the member bought on day d; `first_day_spend_fen` is the spend
    of the month's first purchase day (the BG/NBD clock starts there and the spend model leaves it out)."""

    __tablename__ = "member_month_totals"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    """year * 100 + month, e.g. 202611."""
    spend_fen: Mapped[Fen]
    sales: Mapped[int] = mapped_column(Integer, default=0)
    days_mask: Mapped[int] = mapped_column(Integer, default=0)
    first_day_spend_fen: Mapped[Fen]


class MemberBranchMonth(Base):
    """A member's spend at one branch in one calendar month of the store's time zone (sales not returned), kept in
    the same transaction as every purchase and return (db/spend_months.py): the Pareto curve reads these, never the
    sales. Clustered by month and branch (no row ids on SQLite), so a month of a branch is one range of the table."""

    __tablename__ = "member_branch_months"
    __table_args__ = (
        Index("ix_member_branch_months_member", "member_id"),
        # The rows changed since their month was packed: a reader puts them over the pack.
        Index(
            "ix_member_branch_months_since_pack",
            "month",
            "branch_id",
            "member_id",
            "spend_fen",
            sqlite_where=text("since_pack = true"),
            postgresql_where=text("since_pack = true"),
        ),
        {"sqlite_with_rowid": False},
    )

    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    """year * 100 + month, e.g. 202611."""
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    spend_fen: Mapped[Fen]
    since_pack: Mapped[bool] = mapped_column(Boolean, default=True)
    """Changed since its month was last packed (db/spend_months.py)."""


class SpendPack(Base):
    """One month of one branch of `member_branch_months` as two integer arrays (member ids ascending, their spend):
    a chart reads a few blobs instead of hundreds of thousands of rows, with the rows marked `since_pack` put over
    them. Made again for every month with marked rows by the daily catch-up (db/spend_months.py)."""

    __tablename__ = "spend_packs"

    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    members: Mapped[int] = mapped_column(Integer)
    """How many members: each blob holds that many int32 numbers, or int64 when they did not all fit."""
    member_ids: Mapped[bytes] = mapped_column(LargeBinary)
    spend_fen: Mapped[bytes] = mapped_column(LargeBinary)


class MemberHistory(Base):
    """One short row per member with purchases: their history as the segment refresh needs it, packed
    (db/member_histories.py), made from their monthly totals whenever those change."""

    __tablename__ = "member_histories"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    head: Mapped[bytes] = mapped_column(LargeBinary)
    months: Mapped[bytes] = mapped_column(LargeBinary)


class MemberSegment(Base):
    """The latest segment figures of a member (app/insights), read by the member panel and reports. No secondary
    indexes: the refresh rewrites every row daily, and counts by segment read the whole table anyway."""

    __tablename__ = "member_segments"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    recency_days: Mapped[int | None] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer, default=0)
    monetary_fen: Mapped[Fen]
    r_score: Mapped[int] = mapped_column(Integer, default=0)
    f_score: Mapped[int] = mapped_column(Integer, default=0)
    m_score: Mapped[int] = mapped_column(Integer, default=0)
    rfm_class: Mapped[Str20 | None]
    pyramid_level: Mapped[Str20]
    lifecycle_stage: Mapped[Str20]
    p_alive_permille: Mapped[int | None] = mapped_column(Integer)
    expected_purchases_milli: Mapped[int | None] = mapped_column(Integer)
    expected_spend_per_purchase_fen: Mapped[int | None] = mapped_column(BigInteger)
    value_over_horizon_fen: Mapped[int | None] = mapped_column(BigInteger)
    churn_warning: Mapped[bool] = mapped_column(Boolean, default=False)
    model: Mapped[Str20]


class SegmentRun(Base):
    """One stored segment refresh: as of which day, the fitted model parameters and the counts it found."""

    __tablename__ = "segment_runs"

    id: Mapped[IntPK]
    as_of: Mapped[dt.date] = mapped_column(Date)
    horizon_days: Mapped[int] = mapped_column(Integer)
    model: Mapped[Str20]
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    members: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[UTC] = _created()


class SegmentBranchCount(Base):
    """Members of each home branch per segment code of the latest stored refresh, counted when it stored its
    figures (app/charts/segment_counts.py): the segment charts of one branch read these few rows, not a million
    members. `chart` is pyramid, rfm, lifecycle or heat (code: recency score × 10 + frequency score)."""

    __tablename__ = "segment_branch_counts"

    run_id: Mapped[int] = mapped_column(ForeignKey("segment_runs.id", ondelete="CASCADE"), primary_key=True)
    branch_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chart: Mapped[Str20] = mapped_column(primary_key=True)
    code: Mapped[Str20] = mapped_column(primary_key=True)
    members: Mapped[int] = mapped_column(Integer)


class SavedSegment(Base):
    """A named filter over members and their segment figures (app/insights/saved.py); coupons and follow-ups
    target these."""

    __tablename__ = "saved_segments"

    id: Mapped[IntPK]
    name: Mapped[Str100] = mapped_column(unique=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[UTC] = _created()


class SalesDayTotal(Base):
    """The sales of one day of the store's time zone at one branch, by the staff member who recorded them (0: none),
    kept in the same transaction as every purchase and return (db/day_totals.py) so the dashboard reads a few
    thousand rows instead of every sale. A return counts on the day it is made (the till's view of a day)."""

    __tablename__ = "sales_day_totals"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    """The recording staff member's id, 0 when none (an import without an operator); not a foreign key."""
    sales: Mapped[int] = mapped_column(Integer, default=0)
    sales_fen: Mapped[Fen]
    member_sales: Mapped[int] = mapped_column(Integer, default=0)
    member_sales_fen: Mapped[Fen]
    returns: Mapped[int] = mapped_column(Integer, default=0)
    returns_fen: Mapped[Fen]
    """The value returned, as a positive amount."""
    member_returns_fen: Mapped[Fen]
    coupons_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    """Sales paid partly with a coupon, less returns that gave the coupon back."""


class PointsDayTotal(Base):
    """The points posted on one day of the store's time zone at one branch, by kind (0 issued, 1 redeemed, 2 expired,
    3 any other posting), for the ledger rows up to `points_day_marks.counted_to` (db/points_totals.py): the points
    chart reads these and the few rows after the mark instead of the whole ledger."""

    __tablename__ = "points_day_totals"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    kind: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[Points]


class PointsDayMark(Base):
    """One row: the last ledger id `points_day_totals` counts, and the time zone its days are days of."""

    __tablename__ = "points_day_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counted_to: Mapped[int] = mapped_column(BigInteger)
    timezone: Mapped[str] = mapped_column(String(64))


class CategoryDayTotal(Base):
    """The sale lines of one day at one branch by category (0: lines without one), net of the lines of purchases
    returned that day; kept with every purchase and return like `sales_day_totals`."""

    __tablename__ = "category_day_totals"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount_fen: Mapped[Fen]
    quantity: Mapped[int] = mapped_column(Integer, default=0)
