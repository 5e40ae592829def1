"""Campaigns and coupons: create, activate, issue, print, void, expire, and the figures per campaign.

Every change of a coupon is a `coupon_ledger` row with an idempotency key, written in the same transaction as the
coupon's new state, and every staff action is audited. Role rules live here, not only in the screens: a manager
creates, activates, issues and voids; a manager or owner ends; any operator prints and looks up.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Result, String, case, func, insert, literal, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.changes import Changes
from app.clock import Clock
from app.coupons.campaigns import TRANSITIONS, CampaignDraft, Offer, offer_text, validate_draft
from app.coupons.codes import is_well_formed, new_codes, normalise
from app.coupons.redemption import CouponQuote, quote_coupon
from app.errors import ConflictError, MemberDeskError, NotFoundError, PermissionDenied, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.importing.tables import write_table
from app.insights.saved import saved_segment_members
from app.security.operator import Operator, require_role
from app.security.sign_in import SignInService
from app.settings import read_settings
from app.trust.audit import record_audit, record_export, row_marks, tie_new_rows, tie_object
from db.bulk import DriverValues
from db.engine import Database
from db.enums import (
    CampaignStatus,
    CampaignTarget,
    CouponAction,
    CouponKind,
    CouponStatus,
    MemberStatus,
    SaleKind,
    StaffRole,
)
from db.models import Coupon, CouponCampaign, CouponLedger, Member, Sale, Tier

MAX_ISSUE = 200_000
ISSUE_CHUNK = 10_000
PROGRESS_ISSUING = S("Actions", "Issuing coupons")
Progress = Callable[[int, int, str], bool]
EXPORT_COLUMNS = ["code", "member_no", "status", "issued_at", "redeemed_at", "print_count"]


@dataclass(frozen=True)
class CampaignRow:
    """A campaign as the campaigns screen lists it, with its figures."""

    id: int
    code: str
    name: str
    kind: CouponKind
    status: CampaignStatus
    target: CampaignTarget
    offer: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    total_quantity: int
    issued: int
    printed: int
    redeemed: int
    automatic: str | None

    @property
    def redemption_rate_pct(self) -> float:
        return 100 * self.redeemed / self.issued if self.issued else 0.0


@dataclass(frozen=True)
class CampaignFigures:
    campaign_id: int
    issued: int
    printed: int
    reprints: int
    redeemed: int
    voided: int
    expired: int
    sales: int
    sales_fen: int
    discount_fen: int

    @property
    def redemption_rate_pct(self) -> float:
        return 100 * self.redeemed / self.issued if self.issued else 0.0


@dataclass(frozen=True)
class CampaignSaved:
    campaign_id: int
    changes: Changes = Changes.COUPONS


@dataclass(frozen=True)
class IssueResult:
    campaign_id: int
    issued: int
    replayed: bool = False
    changes: Changes = Changes.COUPONS


@dataclass(frozen=True)
class TargetedCampaign:
    campaign_id: int
    code: str
    issued: int
    replayed: bool = False
    changes: Changes = Changes.COUPONS | Changes.MEMBERS


class IssueCancelled(MemberDeskError):
    """The progress callback asked to stop; no campaign and no coupon were kept."""

    def __init__(self) -> None:
        super().__init__(S("Errors", "Cancelled: no campaign was made and no coupon issued."))


@dataclass(frozen=True)
class PrintableCoupon:
    id: int
    code: str
    member_name: str | None
    print_count: int


@dataclass(frozen=True)
class PrintJob:
    """What a coupon printout needs, read in one go."""

    campaign_id: int
    store_name: str
    campaign_name: str
    offer: str
    terms: str
    first_day: dt.date
    last_day: dt.date
    """The validity in the store's days, the last one included."""
    coupons: tuple[PrintableCoupon, ...]
    logo_file: str


@dataclass(frozen=True)
class MemberCoupon:
    id: int
    code: str
    campaign_name: str
    offer: str
    status: CouponStatus
    valid_until: dt.datetime
    usable: bool


@dataclass(frozen=True)
class CouponChanged:
    coupon_id: int
    status: CouponStatus
    changes: Changes = Changes.COUPONS


@dataclass(frozen=True)
class CampaignChoices:
    """What the campaign form offers to choose from."""

    tiers: tuple[tuple[int, str, str], ...]  # id, name, English name
    timezone: str


@dataclass(frozen=True)
class StoreDays:
    """A campaign's validity as the store's days (the last one included)."""

    first: dt.date
    last: dt.date


@dataclass(frozen=True)
class CompensationOffer:
    """A running member campaign whose coupon a complaint's resolution can give."""

    campaign_id: int
    name: str
    offer: str
    last_day: dt.date


@dataclass(frozen=True)
class GivenCoupon:
    coupon_id: int
    code: str
    replayed: bool = False


class CouponService:
    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    # ---- campaigns -------------------------------------------------------------------------------------------
    def choices(self) -> CampaignChoices:
        with self.db.session() as session:
            tiers = tuple(
                (tier_id, name, name_en)
                for tier_id, name, name_en in session.execute(
                    select(Tier.id, Tier.name, Tier.name_en).order_by(Tier.rank)
                )
            )
            return CampaignChoices(tiers, read_settings(session).store_timezone)

    @staticmethod
    def bounds(days: StoreDays, timezone: str) -> tuple[dt.datetime, dt.datetime]:
        """The UTC instants a campaign of these store days starts and stops being valid (midnight after the last)."""
        zone = ZoneInfo(timezone)
        start = dt.datetime.combine(days.first, dt.time(), zone).astimezone(dt.UTC)
        until = dt.datetime.combine(days.last + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
        return start, until

    @staticmethod
    def days(valid_from: dt.datetime, valid_until: dt.datetime, timezone: str) -> StoreDays:
        zone = ZoneInfo(timezone)
        return StoreDays(
            valid_from.astimezone(zone).date(), (valid_until - dt.timedelta(microseconds=1)).astimezone(zone).date()
        )

    def member_ids(self, member_numbers: Sequence[str]) -> list[int]:
        """The members with these numbers (or cards, or phones); an unknown one is refused by name."""
        wanted = [n.strip() for n in member_numbers if n.strip()]
        if not wanted:
            raise ValidationError(S("Errors", "Choose the members to issue coupons to."), field="members")
        with self.db.session() as session:
            found: dict[str, int] = {}
            for column in (Member.member_no, Member.card_no, Member.phone):
                rows = session.execute(
                    select(column, Member.id).where(column.in_(wanted), Member.status == MemberStatus.ACTIVE)
                )
                for number, member_id in rows:
                    if number is not None:
                        found.setdefault(number, member_id)
        unknown = [n for n in wanted if n not in found]
        if unknown:
            raise ValidationError(
                S("Errors", "No active member with the number {numbers}."),
                field="members",
                numbers=", ".join(unknown[:5]),
            )
        return sorted(set(found[n] for n in wanted))

    def campaigns(self) -> list[CampaignRow]:
        counts = (
            select(
                Coupon.campaign_id,
                func.count().label("issued"),
                func.sum(case((Coupon.print_count > 0, 1), else_=0)).label("printed"),
                func.sum(case((Coupon.status == CouponStatus.REDEEMED, 1), else_=0)).label("redeemed"),
            )
            .group_by(Coupon.campaign_id)
            .subquery()
        )
        query = (
            select(CouponCampaign, counts.c.issued, counts.c.printed, counts.c.redeemed)
            .outerjoin(counts, counts.c.campaign_id == CouponCampaign.id)
            .order_by(CouponCampaign.valid_from.desc(), CouponCampaign.id.desc())
        )
        with self.db.session() as session:
            return [
                CampaignRow(
                    c.id,
                    c.code,
                    c.name,
                    c.kind,
                    c.status,
                    c.target,
                    offer_text(_offer(c), c.gift_name),
                    c.valid_from,
                    c.valid_until,
                    c.total_quantity,
                    issued or 0,
                    printed or 0,
                    redeemed or 0,
                    c.automatic,
                )
                for c, issued, printed, redeemed in session.execute(query)
            ]

    def draft_of(self, campaign_id: int) -> CampaignDraft:
        """The stored campaign as a draft, for the edit form."""
        with self.db.session() as session:
            c = _campaign(session, campaign_id)
            return CampaignDraft(
                code=c.code,
                name=c.name,
                kind=c.kind,
                valid_from=c.valid_from,
                valid_until=c.valid_until,
                value_fen=c.value_fen,
                percent_off=c.percent_off,
                max_discount_fen=c.max_discount_fen,
                points_multiplier_pct=c.points_multiplier_pct,
                gift_name=c.gift_name or "",
                min_spend_fen=c.min_spend_fen,
                target=c.target,
                tier_id=c.tier_id,
                branch_ids=tuple(c.branch_ids or ()),
                excluded_categories=tuple(c.excluded_categories or ()),
                total_quantity=c.total_quantity,
                per_member_limit=c.per_member_limit,
                terms=c.description or "",
                automatic=c.automatic,
                saved_segment_id=c.saved_segment_id,
            )

    def find_campaign(self, code_or_name: str) -> int:
        """A campaign by its code (any case) or its exact name, as the command line names it."""
        text = code_or_name.strip()
        with self.db.session() as session:
            found = session.scalar(select(CouponCampaign.id).where(CouponCampaign.code == text.upper()))
            if found is None:
                found = session.scalar(select(CouponCampaign.id).where(CouponCampaign.name == text))
        if found is None:
            raise NotFoundError(S("Errors", "No campaign with the code or name {name}."), name=text)
        return found

    def create_campaign(self, draft: CampaignDraft) -> CampaignSaved:
        """A new campaign, in draft. Manager or owner."""
        require_role(self.operator, StaffRole.MANAGER)
        return self._create(draft)

    def _create(self, draft: CampaignDraft, status: CampaignStatus = CampaignStatus.DRAFT) -> CampaignSaved:
        clean = validate_draft(draft)

        def work(session: Session) -> CampaignSaved:
            self._check_references(session, clean)
            if session.scalar(select(CouponCampaign.id).where(CouponCampaign.code == clean.code)) is not None:
                raise ConflictError(S("Errors", "A campaign with the code {code} exists already."), code=clean.code)
            campaign = CouponCampaign(
                code=clean.code,
                status=status,
                branch_id=self.operator.branch_id,
                created_by_id=self.operator.staff_id,
                created_at=self.clock.now(),
            )
            _fill(campaign, clean)
            session.add(campaign)
            session.flush()
            record_audit(session, self.operator, "create", "coupon_campaign", campaign.id, {"code": clean.code})
            return CampaignSaved(campaign.id)

        try:
            return self.db.write(work)
        except IntegrityError as exc:
            raise ConflictError(
                S("Errors", "A campaign with the code {code} exists already."), code=clean.code
            ) from exc

    def update_campaign(self, campaign_id: int, draft: CampaignDraft) -> CampaignSaved:
        """Only a draft can be changed: once coupons may have been handed out, their offer is what was printed."""
        require_role(self.operator, StaffRole.MANAGER)
        clean = validate_draft(draft)

        def work(session: Session) -> CampaignSaved:
            campaign = _campaign(session, campaign_id, lock=True)
            if campaign.status != CampaignStatus.DRAFT:
                raise ConflictError(S("Errors", "Only a draft campaign can be changed."))
            if clean.code != campaign.code:
                raise ValidationError(S("Errors", "A campaign's code cannot be changed."), field="code")
            self._check_references(session, clean)
            _fill(campaign, clean)
            record_audit(session, self.operator, "update", "coupon_campaign", campaign.id, {"code": clean.code})
            return CampaignSaved(campaign.id)

        return self.db.write(work)

    def activate(self, campaign_id: int) -> CampaignSaved:
        return self._move(campaign_id, CampaignStatus.ACTIVE)

    def end(self, campaign_id: int) -> CampaignSaved:
        """Ends the campaign: its coupons are no longer taken (they stay in the ledger as they are)."""
        return self._move(campaign_id, CampaignStatus.ENDED)

    def _move(self, campaign_id: int, to: CampaignStatus) -> CampaignSaved:
        def work(session: Session) -> CampaignSaved:
            campaign = _campaign(session, campaign_id, lock=True)
            if campaign.status == to:
                return CampaignSaved(campaign.id)
            role = TRANSITIONS.get((campaign.status, to))
            if role is None:
                raise ConflictError(S("Errors", "An ended campaign cannot start again."))
            require_role(self.operator, role)
            before = campaign.status
            campaign.status = to
            record_audit(
                session, self.operator, f"campaign_{to.value}", "coupon_campaign", campaign.id, {"from": before.value}
            )
            return CampaignSaved(campaign.id)

        return self.db.write(work)

    def _check_references(self, session: Session, draft: CampaignDraft) -> None:
        if draft.tier_id is not None and session.get(Tier, draft.tier_id) is None:
            raise ValidationError(S("Errors", "Choose the tier the campaign is for."), field="tier")
        if draft.saved_segment_id is not None:
            saved_segment_members(session, draft.saved_segment_id)

    def create_for_members(
        self,
        draft: CampaignDraft,
        members: Callable[[Session], Sequence[int]],
        idempotency_key: str,
        progress: Progress | None = None,
    ) -> TargetedCampaign:
        """A campaign made active and issued at once, one coupon to each of exactly the members `members` reads
        (in the same transaction). Manager or owner. The same key again returns the first campaign, issuing
        nothing; a progress callback returning False cancels (nothing is kept)."""
        require_role(self.operator, StaffRole.MANAGER)
        if draft.target not in (CampaignTarget.CHOSEN_MEMBERS, CampaignTarget.SAVED_SEGMENT):
            raise ValueError("a campaign for a set of members targets chosen members or a saved segment")
        clean = validate_draft(draft)

        def work(session: Session) -> TargetedCampaign:
            found = session.execute(
                select(CouponCampaign.id, CouponCampaign.code).where(CouponCampaign.idempotency_key == idempotency_key)
            ).first()
            if found is not None:
                issued = session.scalar(select(func.count()).where(Coupon.campaign_id == found.id)) or 0
                return TargetedCampaign(found.id, found.code, issued, replayed=True)
            self._check_references(session, clean)
            if session.scalar(select(CouponCampaign.id).where(CouponCampaign.code == clean.code)) is not None:
                raise ConflictError(S("Errors", "A campaign with the code {code} exists already."), code=clean.code)
            holders: list[int | None] = list(members(session))
            if not holders:
                raise ValidationError(S("Errors", "Nobody to issue coupons to."), field="members")
            if clean.total_quantity and len(holders) > clean.total_quantity:
                raise ValidationError(
                    S("Errors", "Only {left} of the campaign's {total} coupons are left to issue."),
                    field="quantity",
                    left=clean.total_quantity,
                    total=clean.total_quantity,
                )
            campaign = CouponCampaign(
                code=clean.code,
                status=CampaignStatus.ACTIVE,
                branch_id=self.operator.branch_id,
                created_by_id=self.operator.staff_id,
                created_at=self.clock.now(),
                idempotency_key=idempotency_key,
            )
            _fill(campaign, clean)
            session.add(campaign)
            session.flush()
            for start in range(0, len(holders), ISSUE_CHUNK):
                if progress is not None and not progress(start, len(holders), PROGRESS_ISSUING):
                    raise IssueCancelled()
                self._insert_coupons(session, campaign, holders[start : start + ISSUE_CHUNK], idempotency_key)
            record_audit(
                session,
                self.operator,
                "create_targeted",
                "coupon_campaign",
                campaign.id,
                {"code": clean.code, "target": clean.target.value, "count": len(holders)},
            )
            return TargetedCampaign(campaign.id, campaign.code, len(holders))

        try:
            return self.db.write(work)
        except IntegrityError:  # a code drawn twice (~1 in 10^9), or the same request on another counter
            return self.db.write(work)

    # ---- issuing ---------------------------------------------------------------------------------------------
    def issue(
        self,
        campaign_id: int,
        idempotency_key: str,
        count: int = 0,
        member_ids: Sequence[int] = (),
    ) -> IssueResult:
        """Issue coupons: `count` bearer coupons, or one coupon to each targeted member who holds fewer than the
        campaign's per-member limit (all members, the tier, or `member_ids` for chosen members). Manager or owner.
        One transaction; the same key again returns the first result."""
        require_role(self.operator, StaffRole.MANAGER)
        return self._issue(campaign_id, idempotency_key, count, member_ids)

    def _issue(
        self,
        campaign_id: int,
        idempotency_key: str,
        count: int = 0,
        member_ids: Sequence[int] = (),
        marketing_consent_only: bool = False,
    ) -> IssueResult:
        def work(session: Session) -> IssueResult:
            campaign = _campaign(session, campaign_id, lock=True)
            done = session.scalar(
                select(func.count()).where(
                    CouponLedger.idempotency_key >= f"{idempotency_key}:",
                    CouponLedger.idempotency_key < f"{idempotency_key};",
                )
            )
            if done:
                return IssueResult(campaign_id, done, replayed=True)
            if campaign.status == CampaignStatus.ENDED:
                raise ConflictError(S("Errors", "An ended campaign issues no coupons."))
            holders = self._recipients(session, campaign, count, member_ids, marketing_consent_only)
            issued_before = session.scalar(select(func.count()).where(Coupon.campaign_id == campaign.id)) or 0
            if campaign.total_quantity and issued_before + len(holders) > campaign.total_quantity:
                raise ValidationError(
                    S("Errors", "Only {left} of the campaign's {total} coupons are left to issue."),
                    field="count",
                    left=campaign.total_quantity - issued_before,
                    total=campaign.total_quantity,
                )
            if not holders:
                raise ValidationError(S("Errors", "Nobody to issue coupons to."), field="count")
            issued = self._insert_coupons(session, campaign, holders, idempotency_key)
            record_audit(session, self.operator, "issue", "coupon_campaign", campaign.id, {"count": issued})
            return IssueResult(campaign.id, issued)

        try:
            return self.db.write(work)
        except IntegrityError:  # a code drawn twice across the store (~1 in 10^9): draw again
            return self.db.write(work)

    def _recipients(
        self,
        session: Session,
        campaign: CouponCampaign,
        count: int,
        member_ids: Sequence[int],
        marketing_consent_only: bool,
    ) -> list[int | None]:
        if campaign.target == CampaignTarget.BEARER:
            if not 0 < count <= MAX_ISSUE:
                raise ValidationError(
                    S("Errors", "Issue between 1 and {most} coupons at a time."), field="count", most=MAX_ISSUE
                )
            return [None] * count
        held = (
            select(Coupon.member_id)
            .where(Coupon.campaign_id == campaign.id, Coupon.member_id.is_not(None))
            .group_by(Coupon.member_id)
            .having(func.count() >= campaign.per_member_limit)
        )
        query = select(Member.id).where(Member.status == MemberStatus.ACTIVE, Member.id.not_in(held))
        if marketing_consent_only:
            query = query.where(Member.marketing_consent.is_(True))
        if campaign.target == CampaignTarget.TIER:
            query = query.where(Member.tier_id == campaign.tier_id)
        elif campaign.target == CampaignTarget.SAVED_SEGMENT:
            query = query.where(Member.id.in_(saved_segment_members(session, campaign.saved_segment_id)))
        elif campaign.target == CampaignTarget.CHOSEN_MEMBERS:
            if not member_ids:
                raise ValidationError(S("Errors", "Choose the members to issue coupons to."), field="members")
            query = query.where(Member.id.in_(list(member_ids)))
        query = query.order_by(Member.id)
        return list(session.scalars(query.limit(count) if count else query))

    def _insert_coupons(
        self, session: Session, campaign: CouponCampaign, holders: list[int | None], idempotency_key: str
    ) -> int:
        now = self.clock.now()
        conn = session.connection()
        last_before = conn.scalar(select(func.coalesce(func.max(Coupon.id), 0))) or 0
        # In index order: 100,000 random keys inserted in order touch each index page once, not once per row. Straight
        # to the driver: SQLAlchemy's per-row parameter processing would take longer than the writes themselves.
        codes = sorted(new_codes(len(holders)))
        at = DriverValues(sqlite=conn.dialect.name == "sqlite")(now)  # converted once, not by the driver per row
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        conn.exec_driver_sql(
            "INSERT INTO coupons (client_uuid, code, campaign_id, member_id, status, issued_at, print_count, branch_id)"
            f" VALUES ({', '.join([mark] * 8)})",
            [
                (client_uuid, code, campaign.id, member_id, CouponStatus.ISSUED.value, at, 0, self.operator.branch_id)
                for client_uuid, code, member_id in zip(ordered_uuids(len(codes)), codes, holders, strict=True)
            ],
        )
        # One statement for the ledger rows of the coupons just made (the campaign row is locked, so no other
        # counter issues into it meanwhile); the issue's audit entry vouches for them.
        tie_new_rows(session, self.operator, row_marks(session, ("coupon_ledger",)))
        made = select(
            literal(f"{idempotency_key}:") + sql_cast(Coupon.id, String),
            Coupon.id,
            literal(CouponAction.ISSUE.value),
            literal(self.operator.staff_id),
            literal(self.operator.branch_id),
            literal(now, CouponLedger.created_at.type),
        ).where(Coupon.campaign_id == campaign.id, Coupon.id > last_before)
        conn.execute(
            insert(CouponLedger).from_select(
                ["idempotency_key", "coupon_id", "action", "staff_id", "branch_id", "created_at"], made
            )
        )
        return len(codes)

    # ---- compensation ----------------------------------------------------------------------------------------
    def compensation_offers(self) -> list[CompensationOffer]:
        """Campaigns a complaint can be settled with: active, not past their last day, for members (not bearer)."""
        now = self.clock.now()
        with self.db.session() as session:
            zone = ZoneInfo(read_settings(session).store_timezone)
            campaigns = session.scalars(
                select(CouponCampaign)
                .where(
                    CouponCampaign.status == CampaignStatus.ACTIVE,
                    CouponCampaign.valid_until > now,
                    CouponCampaign.target != CampaignTarget.BEARER,
                )
                .order_by(CouponCampaign.valid_until, CouponCampaign.id)
            ).all()
            return [
                CompensationOffer(
                    c.id,
                    c.name,
                    offer_text(_offer(c), c.gift_name),
                    self.days(c.valid_from, c.valid_until, str(zone)).last,
                )
                for c in campaigns
            ]

    def approve_compensation(self, approver_pin: str | None) -> int:
        """Who approves giving a coupon away: a manager or owner themselves, for a cashier a manager's PIN (checked,
        throttled and audited in its own transaction, as for a points adjustment)."""
        if self.operator.at_least(StaffRole.MANAGER):
            return self.operator.staff_id or 0
        return SignInService(self.db, self.clock).approve(self.operator, approver_pin)

    def give(
        self, session: Session, campaign_id: int, member_id: int, idempotency_key: str, approver_id: int
    ) -> GivenCoupon:
        """One coupon of the campaign to the member, inside the caller's write transaction (a complaint's
        resolution), with its `issue` ledger row under `idempotency_key`. The campaign's target is not applied —
        staff chose the member — but its quantity and per-member limit are. The same key again returns that coupon."""
        if not approver_id:
            raise PermissionDenied(S("Errors", "A manager must approve this with their PIN."))
        campaign = _campaign(session, campaign_id, lock=True)
        done = _issued_under(session, idempotency_key).first()
        if done is not None:
            return GivenCoupon(done.id, done.code, replayed=True)
        if campaign.status != CampaignStatus.ACTIVE or campaign.valid_until <= self.clock.now():
            raise ConflictError(S("Errors", "Campaign {name} is not running: choose another."), name=campaign.name)
        if campaign.target == CampaignTarget.BEARER:
            raise ValidationError(
                S("Errors", "Bearer coupons belong to nobody: choose a campaign for members."), field="coupon"
            )
        issued = session.scalar(select(func.count()).where(Coupon.campaign_id == campaign.id)) or 0
        if campaign.total_quantity and issued >= campaign.total_quantity:
            raise ValidationError(
                S("Errors", "All {total} coupons of {name} are issued."),
                field="coupon",
                total=campaign.total_quantity,
                name=campaign.name,
            )
        held = session.scalar(
            select(func.count()).where(Coupon.campaign_id == campaign.id, Coupon.member_id == member_id)
        )
        if held and held >= campaign.per_member_limit:
            raise ValidationError(
                S("Errors", "The member already holds {held} coupons of {name}, its limit."),
                field="coupon",
                held=held,
                name=campaign.name,
            )
        self._insert_coupons(session, campaign, [member_id], idempotency_key)
        coupon = _issued_under(session, idempotency_key).one()
        record_audit(
            session,
            self.operator,
            "give_coupon",
            "coupon",
            coupon.id,
            {"campaign": campaign.id, "member": member_id, "approved_by": approver_id},
        )
        return GivenCoupon(coupon.id, coupon.code)

    # ---- printing --------------------------------------------------------------------------------------------
    def print_job(self, campaign_id: int, only_unprinted: bool = False, coupon_ids: Sequence[int] = ()) -> PrintJob:
        """The coupons to print (all still valid ones of the campaign, or those given), and their campaign."""
        with self.db.session() as session:
            campaign = _campaign(session, campaign_id)
            if campaign.status == CampaignStatus.ENDED:
                raise ConflictError(S("Errors", "An ended campaign's coupons are not printed any more."))
            query = (
                select(Coupon.id, Coupon.code, Member.name, Coupon.print_count)
                .outerjoin(Member, Member.id == Coupon.member_id)
                .where(Coupon.campaign_id == campaign_id, Coupon.status == CouponStatus.ISSUED)
                .order_by(Coupon.id)
            )
            if only_unprinted:
                query = query.where(Coupon.print_count == 0)
            if coupon_ids:
                query = query.where(Coupon.id.in_(list(coupon_ids)))
            coupons = tuple(PrintableCoupon(*row) for row in session.execute(query))
            if not coupons and only_unprinted:
                raise ValidationError(S("Errors", "Every valid coupon of this campaign was printed already."))
            if not coupons:
                raise ValidationError(S("Errors", "No valid coupons to print: issue some first."))
            settings = read_settings(session)
            days = self.days(campaign.valid_from, campaign.valid_until, settings.store_timezone)
            return PrintJob(
                campaign.id,
                settings.store_name,
                campaign.name,
                offer_text(_offer(campaign), campaign.gift_name),
                campaign.description or "",
                days.first,
                days.last,
                coupons,
                settings.coupons_logo_file,
            )

    def mark_printed(self, coupon_ids: Sequence[int], idempotency_key: str) -> int:
        """Count a print of these coupons (a reprint counts again). The same key again counts nothing."""
        if not coupon_ids:
            return 0
        ids = sorted(set(coupon_ids))

        def work(session: Session) -> int:
            conn = session.connection()
            first_key = f"{idempotency_key}:{ids[0]}"
            if conn.scalar(select(CouponLedger.id).where(CouponLedger.idempotency_key == first_key)) is not None:
                return 0
            now = self.clock.now()
            tie_new_rows(session, self.operator, row_marks(session, ("coupon_ledger",)))
            for start in range(0, len(ids), 5000):
                chunk = ids[start : start + 5000]
                conn.execute(update(Coupon).where(Coupon.id.in_(chunk)).values(print_count=Coupon.print_count + 1))
                conn.execute(
                    insert(CouponLedger),
                    [
                        {
                            "idempotency_key": f"{idempotency_key}:{coupon_id}",
                            "coupon_id": coupon_id,
                            "action": CouponAction.PRINT,
                            "staff_id": self.operator.staff_id,
                            "branch_id": self.operator.branch_id,
                            "created_at": now,
                        }
                        for coupon_id in chunk
                    ],
                )
            record_audit(session, self.operator, "print", "coupon", None, {"count": len(ids), "first": ids[0]})
            return len(ids)

        return self.db.write(work)

    # ---- at the counter --------------------------------------------------------------------------------------
    def check(self, code: str, member_id: int | None, goods: Sequence[tuple[int, str | None]]) -> CouponQuote:
        """Every redemption rule for this purchase; changes nothing (the purchase redeems)."""
        now = self.clock.now()
        return self.db.read(lambda session: quote_coupon(session, self.operator.branch_id, code, member_id, goods, now))

    def holder_member_no(self, scanned: str) -> str | None:
        """The number of the member holding the coupon with this code (for the lookup box); None when it is not a
        member's coupon. Anything that is not a well-formed code costs no query."""
        code = normalise(scanned)
        if not is_well_formed(code):
            return None
        return self.db.read(
            lambda session: session.scalar(
                select(Member.member_no).join(Coupon, Coupon.member_id == Member.id).where(Coupon.code == code)
            )
        )

    def member_coupons(self, member_id: int) -> list[MemberCoupon]:
        """The member's coupons, the usable ones first (soonest to expire first), then the rest, newest first."""
        now = self.clock.now()
        with self.db.session() as session:
            rows = session.execute(
                select(Coupon, CouponCampaign)
                .join(CouponCampaign, CouponCampaign.id == Coupon.campaign_id)
                .where(Coupon.member_id == member_id)
            ).all()
            found = [
                MemberCoupon(
                    coupon.id,
                    coupon.code,
                    campaign.name,
                    offer_text(_offer(campaign), campaign.gift_name),
                    coupon.status,
                    campaign.valid_until,
                    coupon.status == CouponStatus.ISSUED
                    and campaign.status == CampaignStatus.ACTIVE
                    and campaign.valid_from <= now < campaign.valid_until,
                )
                for coupon, campaign in rows
            ]
        usable = sorted((c for c in found if c.usable), key=lambda c: (c.valid_until, c.id))
        rest = sorted((c for c in found if not c.usable), key=lambda c: -c.id)
        return usable + rest

    def void(self, coupon_id: int, reason: str, idempotency_key: str) -> CouponChanged:
        """A manager takes a coupon out of use (lost, given by mistake); the reason is audited."""
        require_role(self.operator, StaffRole.MANAGER)
        reason = reason.strip()
        if not reason:
            raise ValidationError(S("Errors", "Voiding a coupon needs a reason."), field="reason")

        def work(session: Session) -> CouponChanged:
            if session.scalar(select(CouponLedger.id).where(CouponLedger.idempotency_key == idempotency_key)):
                return CouponChanged(coupon_id, CouponStatus.VOID)
            coupon = session.scalar(select(Coupon).where(Coupon.id == coupon_id).with_for_update())
            if coupon is None:
                raise NotFoundError(S("Errors", "Coupon not found."))
            if coupon.status != CouponStatus.ISSUED:
                raise ConflictError(S("Errors", "Only a coupon not yet used can be voided."))
            coupon.status = CouponStatus.VOID
            row = CouponLedger(
                idempotency_key=idempotency_key,
                coupon_id=coupon.id,
                action=CouponAction.VOID,
                staff_id=self.operator.staff_id,
                branch_id=self.operator.branch_id,
                created_at=self.clock.now(),
            )
            session.add(row)
            session.flush()
            tie_object(session, self.operator, "coupon_ledger", row)
            record_audit(session, self.operator, "void", "coupon", coupon.id, {"reason": reason})
            return CouponChanged(coupon.id, CouponStatus.VOID)

        return self.db.write(work)

    def expire_due(self) -> int:
        """Coupons whose campaign has run out become expired (a ledger row each); campaigns past their end date
        end. Part of the daily maintenance; safe on several counters at once."""
        now = self.clock.now()

        def work(session: Session) -> int:
            conn = session.connection()
            due = (
                select(Coupon.id)
                .join(CouponCampaign, CouponCampaign.id == Coupon.campaign_id)
                .where(Coupon.status == CouponStatus.ISSUED, CouponCampaign.valid_until <= now)
            )
            made = select(
                literal("expire:") + sql_cast(Coupon.id, String),
                Coupon.id,
                literal(CouponAction.EXPIRE.value),
                literal(self.operator.branch_id),
                literal(now, CouponLedger.created_at.type),
            ).where(Coupon.id.in_(due))
            marks = row_marks(session, ("coupon_ledger",))
            conn.execute(
                insert(CouponLedger).from_select(
                    ["idempotency_key", "coupon_id", "action", "branch_id", "created_at"], made
                )
            )
            result = conn.execute(update(Coupon).where(Coupon.id.in_(due)).values(status=CouponStatus.EXPIRED))
            expired = cast(CursorResult[Any], result).rowcount
            if expired:
                tie_new_rows(session, self.operator, marks)
                record_audit(session, self.operator, "expire", "coupon", None, {"count": expired})
            ended = conn.execute(
                update(CouponCampaign)
                .where(CouponCampaign.status == CampaignStatus.ACTIVE, CouponCampaign.valid_until <= now)
                .values(status=CampaignStatus.ENDED)
            )
            if cast(CursorResult[Any], ended).rowcount:
                record_audit(
                    session,
                    self.operator,
                    "campaign_ended_by_date",
                    "coupon_campaign",
                    None,
                    {"count": cast(CursorResult[Any], ended).rowcount},
                )
            return expired

        return self.db.write(work)

    # ---- figures and export ----------------------------------------------------------------------------------
    def figures(self, campaign_id: int) -> CampaignFigures:
        """Issued, printed (and reprints), redeemed, voided, expired; the sales that took a coupon of the campaign
        and the discount given, net of returns."""
        with self.db.session() as session:
            _campaign(session, campaign_id)
            counts = session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(case((Coupon.print_count > 0, 1), else_=0)), 0),
                    func.coalesce(func.sum(case((Coupon.print_count > 1, Coupon.print_count - 1), else_=0)), 0),
                    *(
                        func.coalesce(func.sum(case((Coupon.status == status, 1), else_=0)), 0)
                        for status in (CouponStatus.REDEEMED, CouponStatus.VOID, CouponStatus.EXPIRED)
                    ),
                ).where(Coupon.campaign_id == campaign_id)
            ).one()
            sales = session.execute(
                select(
                    func.coalesce(func.sum(case((Sale.kind == SaleKind.SALE, 1), else_=-1)), 0),
                    func.coalesce(func.sum(Sale.total_fen), 0),
                    func.coalesce(func.sum(Sale.coupon_discount_fen), 0),
                )
                .join(Coupon, Coupon.id == Sale.coupon_id)
                .where(Coupon.campaign_id == campaign_id)
            ).one()
        return CampaignFigures(campaign_id, *(int(v) for v in counts), *(int(v) for v in sales))

    def export(self, campaign_id: int, path: Path) -> int:
        """The campaign's coupons to CSV or XLSX: code, member_no, status, issued/redeemed times (store time)."""
        require_role(self.operator, StaffRole.MANAGER)
        if path.suffix.lower() not in (".csv", ".xlsx"):
            raise ValidationError(S("Errors", "Export to a .csv or .xlsx file."))

        def rows(session: Session) -> Iterator[list[object]]:
            zone = ZoneInfo(read_settings(session).store_timezone)
            query = (
                select(
                    Coupon.code,
                    Member.member_no,
                    Coupon.status,
                    Coupon.issued_at,
                    Coupon.redeemed_at,
                    Coupon.print_count,
                )
                .outerjoin(Member, Member.id == Coupon.member_id)
                .where(Coupon.campaign_id == campaign_id)
                .order_by(Coupon.id)
                .execution_options(yield_per=5000)
            )
            for code, member_no, status, issued_at, redeemed_at, printed in session.execute(query):
                yield [code, member_no, status.value, _local(issued_at, zone), _local(redeemed_at, zone), printed]

        with self.db.session() as session:
            _campaign(session, campaign_id)
            count = write_table(path, EXPORT_COLUMNS, rows(session))
        record_export(self.db, self.operator, "coupons", path, count)
        return count

    def export_figures(self, path: Path) -> int:
        """Every campaign with its figures, one row each (money in fen, as the other exports)."""
        require_role(self.operator, StaffRole.MANAGER)
        if path.suffix.lower() not in (".csv", ".xlsx"):
            raise ValidationError(S("Errors", "Export to a .csv or .xlsx file."))
        campaigns = self.campaigns()
        zone = ZoneInfo(self.db.read(read_settings).store_timezone)

        def rows() -> Iterator[list[object]]:
            for c in campaigns:
                f = self.figures(c.id)
                yield [
                    c.code,
                    c.name,
                    c.kind.value,
                    c.status.value,
                    _local(c.valid_from, zone),
                    _local(c.valid_until, zone),
                    f.issued,
                    f.printed,
                    f.reprints,
                    f.redeemed,
                    round(f.redemption_rate_pct, 1),
                    f.voided,
                    f.expired,
                    f.sales,
                    f.sales_fen,
                    f.discount_fen,
                ]

        count = write_table(path, FIGURE_COLUMNS, rows())
        record_export(self.db, self.operator, "campaign_figures", path, count)
        return count


FIGURE_COLUMNS = [
    "code",
    "name",
    "kind",
    "status",
    "valid_from",
    "valid_until",
    "issued",
    "printed",
    "reprints",
    "redeemed",
    "redemption_rate_pct",
    "voided",
    "expired",
    "sales",
    "sales_fen",
    "discount_fen",
]


def ordered_uuids(count: int) -> list[str]:
    """`count` UUIDs (version 4) that share random high bits and count up in the last ones: unique like any, but
    inserted in the order of their unique index (a batch of coupons is made on one PC, not replayed from others)."""
    prefix = str(uuid.uuid4())[:-8]
    return [f"{prefix}{index:08x}" for index in range(count)]


def _local(value: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value else None


def _issued_under(session: Session, idempotency_key: str) -> Result[tuple[int, str]]:
    """The coupons an issue under `idempotency_key` made (their ledger keys are `key:coupon id`)."""
    return session.execute(
        select(Coupon.id, Coupon.code)
        .join(CouponLedger, CouponLedger.coupon_id == Coupon.id)
        .where(
            CouponLedger.idempotency_key >= f"{idempotency_key}:",
            CouponLedger.idempotency_key < f"{idempotency_key};",
        )
    )


def _campaign(session: Session, campaign_id: int, lock: bool = False) -> CouponCampaign:
    query = select(CouponCampaign).where(CouponCampaign.id == campaign_id)
    campaign = session.scalar(query.with_for_update() if lock else query)
    if campaign is None:
        raise NotFoundError(S("Errors", "Campaign not found."))
    return campaign


def _offer(campaign: CouponCampaign) -> Offer:
    return Offer(
        campaign.kind,
        campaign.value_fen,
        campaign.percent_off,
        campaign.max_discount_fen,
        campaign.points_multiplier_pct,
        campaign.min_spend_fen,
        frozenset(campaign.excluded_categories or ()),
    )


def _fill(campaign: CouponCampaign, draft: CampaignDraft) -> None:
    campaign.name = draft.name
    campaign.description = draft.terms or None
    campaign.kind = draft.kind
    campaign.value_fen = draft.value_fen if draft.kind in (CouponKind.AMOUNT_OFF, CouponKind.GIFT) else 0
    campaign.percent_off = draft.percent_off if draft.kind == CouponKind.PERCENT_OFF else 0
    campaign.max_discount_fen = draft.max_discount_fen if draft.kind == CouponKind.PERCENT_OFF else 0
    campaign.points_multiplier_pct = draft.points_multiplier_pct if draft.kind == CouponKind.POINTS_MULTIPLIER else 100
    campaign.gift_name = draft.gift_name if draft.kind == CouponKind.GIFT else None
    campaign.min_spend_fen = draft.min_spend_fen
    campaign.valid_from = draft.valid_from
    campaign.valid_until = draft.valid_until
    campaign.target = draft.target
    campaign.tier_id = draft.tier_id
    campaign.branch_ids = list(draft.branch_ids) or None
    campaign.excluded_categories = list(draft.excluded_categories) or None
    campaign.total_quantity = draft.total_quantity
    campaign.per_member_limit = draft.per_member_limit
    campaign.automatic = draft.automatic
    campaign.saved_segment_id = draft.saved_segment_id
