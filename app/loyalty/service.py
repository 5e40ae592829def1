"""Purchases, returns, redemptions, gifts, adjustments, expiry and tier reviews.

Each public method is one write transaction: the sale, its lines, the ledger rows, the lots, the balance, the tier
and the audit row commit together or not at all. Each takes an idempotency key made by the counter when the action
started, so a double click or a re-sent request returns the first result instead of doing the work twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import Clock
from app.errors import ConflictError, InsufficientPoints, NotFoundError, PermissionDenied, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.insights.aggregates import add_sale, recount_members
from app.loyalty.ledger import (
    LockedMember,
    Posting,
    find_posting,
    insert_row,
    lock_for_purchase,
    lock_member,
    post_points,
    save_member,
)
from app.loyalty.rules import EarnPolicy, RedeemPolicy, eligible_fen, expiry_for, points_for
from app.loyalty.tiers import decide_tier, evaluate_tier, record_tier_change
from app.security.operator import Operator
from app.security.pins import verify_pin
from app.settings import read_settings
from app.trust.audit import record_audit, tie_object, tie_row
from db.engine import Database
from db.enums import LedgerSource, SaleKind, StaffRole
from db.models import (
    Category,
    Gift,
    GiftRedemption,
    Member,
    PointsLedger,
    PointsLot,
    PointsLotUse,
    Sale,
    SaleLine,
    Staff,
    Tier,
)

R = TypeVar("R")

MAX_SALE_FEN = 100_000_000  # ¥1,000,000: a typo guard, not a business rule


@dataclass(frozen=True)
class SaleLineInput:
    amount_fen: int
    category_code: str | None = None
    product_id: int | None = None
    description: str | None = None
    quantity: int = 1


@dataclass(frozen=True)
class PurchaseRequest:
    member_id: int
    total_fen: int
    idempotency_key: str
    points_to_use: int = 0
    receipt_no: str | None = None
    lines: Sequence[SaleLineInput] = ()
    sold_at: dt.datetime | None = None
    note: str | None = None


@dataclass(frozen=True)
class PurchasePreview:
    total_fen: int
    points_to_use: int
    points_value_fen: int
    paid_fen: int
    points_to_earn: int
    max_points_usable: int
    points_step: int
    balance_before: int
    balance_after: int
    member_day: bool


@dataclass(frozen=True)
class PurchaseResult:
    sale_id: int
    points_earned: int
    points_used: int
    points_value_fen: int
    paid_fen: int
    balance_after: int
    tier_changed_to: str | None
    tier_changed_to_en: str | None = None
    replayed: bool = False


@dataclass(frozen=True)
class ReturnResult:
    return_sale_id: int
    points_reversed: int
    points_refunded: int
    balance_after: int
    replayed: bool = False


@dataclass(frozen=True)
class GiftResult:
    redemption_id: int
    points: int
    balance_after: int
    replayed: bool = False


@dataclass(frozen=True)
class MaintenanceResult:
    points_expired: int
    tiers_changed: int


@dataclass
class _Computed:
    preview: PurchasePreview
    lines: list[tuple[SaleLineInput, int | None]] = field(default_factory=list)


# Built once (see app.loyalty.ledger): the purchase path's statements.
_INSERT_SALE = insert(Sale)
_INSERT_SALE_LINE = insert(SaleLine)
_RECORDED_SALE = select(
    Sale.id,
    Sale.member_id,
    Sale.total_fen,
    Sale.points_earned,
    Sale.points_used,
    Sale.points_value_fen,
    Sale.paid_fen,
)
_SALE_BY_KEY = _RECORDED_SALE.where(Sale.idempotency_key == bindparam("key"))
_SALE_BY_RECEIPT = _RECORDED_SALE.where(
    Sale.branch_id == bindparam("branch_id"), Sale.receipt_no == bindparam("receipt")
)


class LoyaltyService:
    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    def _write_once(self, work: Callable[[Session], R]) -> R:
        """Run a write whose idempotency key or receipt number another counter may be committing right now: if the
        unique index refuses ours, the second try finds theirs and returns it as a replay."""
        try:
            return self.db.write(work)
        except IntegrityError:
            return self.db.write(work)

    # ---- purchases -------------------------------------------------------------------------------------------
    def _compute(
        self,
        session: Session,
        balance: int,
        tier_multiplier_pct: int,
        req: PurchaseRequest,
        settings: dict[str, Any],
        at: dt.datetime,
    ) -> _Computed:
        if not 0 < req.total_fen <= MAX_SALE_FEN:
            raise ValidationError(
                S("Errors", "The amount must be more than ¥0 and at most ¥1,000,000."), field="amount"
            )
        if req.points_to_use < 0:
            raise ValidationError(S("Errors", "Points to use cannot be negative."), field="points")
        earn = EarnPolicy.from_settings(settings)
        redeem = RedeemPolicy.from_settings(settings)
        lines: list[tuple[SaleLineInput, int | None]] = []
        excluded = 0
        if req.lines:
            if sum(line.amount_fen for line in req.lines) != req.total_fen:
                raise ValidationError(S("Errors", "The lines do not add up to the purchase amount."), field="lines")
            codes = {line.category_code for line in req.lines if line.category_code}
            ids = dict(session.execute(select(Category.code, Category.id).where(Category.code.in_(codes))).all())
            no_earn = set(
                session.scalars(select(Category.code).where(Category.code.in_(codes), Category.earns_points.is_(False)))
            )
            for line in req.lines:
                if line.amount_fen < 0 or line.quantity <= 0:
                    raise ValidationError(S("Errors", "A line has a negative amount or quantity."), field="lines")
                if line.category_code and line.category_code not in ids:
                    raise ValidationError(
                        S("Errors", "Unknown category: {code}"), field="lines", code=line.category_code
                    )
                lines.append((line, ids.get(line.category_code) if line.category_code else None))
                if line.category_code in earn.excluded_categories or line.category_code in no_earn:
                    excluded += line.amount_fen
        max_points = redeem.max_points(req.total_fen, balance)
        if req.points_to_use:
            if req.points_to_use % redeem.step:
                raise ValidationError(
                    S("Errors", "Points are used in steps of {step}."), field="points", step=redeem.step
                )
            if req.points_to_use > balance:
                raise InsufficientPoints(
                    S("Errors", "Not enough points: {balance} available, {needed} needed."),
                    balance=balance,
                    needed=req.points_to_use,
                )
            if req.points_to_use > max_points:
                raise ValidationError(
                    S("Errors", "At most {most} points can be used on this purchase."),
                    field="points",
                    most=max_points,
                )
        value = redeem.value_fen(req.points_to_use)
        paid = req.total_fen - value
        day_pct = earn.multiplier_pct(at)
        earned = points_for(
            eligible_fen(req.total_fen, excluded, paid),
            earn.fen_per_point,
            tier_multiplier_pct,
            day_pct,
        )
        preview = PurchasePreview(
            total_fen=req.total_fen,
            points_to_use=req.points_to_use,
            points_value_fen=value,
            paid_fen=paid,
            points_to_earn=earned,
            max_points_usable=max_points,
            points_step=redeem.step,
            balance_before=balance,
            balance_after=balance - req.points_to_use + earned,
            member_day=day_pct > 100,
        )
        return _Computed(preview, lines)

    def preview_purchase(self, req: PurchaseRequest) -> PurchasePreview:
        """What the purchase would do, shown before the cashier confirms. Changes nothing."""
        with self.db.session() as session:
            member = session.get(Member, req.member_id)
            if member is None:
                raise NotFoundError(S("Errors", "Member not found."))
            at = req.sold_at or self.clock.now()
            settings = read_settings(session)
            return self._compute(
                session, member.points_balance, member.tier.earn_multiplier_pct, req, settings, at
            ).preview

    def record_purchase(self, req: PurchaseRequest) -> PurchaseResult:
        receipt = (req.receipt_no or "").strip() or None
        if receipt is not None and len(receipt) > 40:
            raise ValidationError(S("Errors", "A receipt number has at most 40 characters."), field="receipt_no")

        def work(session: Session) -> PurchaseResult:
            member = lock_for_purchase(session, req.member_id)
            replay = self._replayed_sale(session, req, receipt)
            if replay is not None:
                return replay
            settings = read_settings(session)
            at = req.sold_at or self.clock.now()
            computed = self._compute(session, member.points_balance, member.tier_multiplier_pct, req, settings, at)
            p = computed.preview
            first_purchase = member.visit_count == 0
            conn = session.connection()
            sale_id = insert_row(
                conn,
                _INSERT_SALE,
                sale := {
                    "idempotency_key": req.idempotency_key,
                    "kind": SaleKind.SALE,
                    "member_id": member.id,
                    "branch_id": self.operator.branch_id,
                    "staff_id": self.operator.staff_id,
                    "receipt_no": receipt,
                    "sold_at": at,
                    "total_fen": req.total_fen,
                    "points_used": p.points_to_use,
                    "points_value_fen": p.points_value_fen,
                    "paid_fen": p.paid_fen,
                    "points_earned": p.points_to_earn,
                    "note": (req.note or "").strip()[:200] or None,
                },
            )
            tie_row(session, self.operator, "sales", sale_id, sale)
            if computed.lines:
                conn.execute(
                    _INSERT_SALE_LINE,
                    [
                        {
                            "sale_id": sale_id,
                            "product_id": line.product_id,
                            "category_id": cat_id,
                            "description": line.description,
                            "quantity": line.quantity,
                            "amount_fen": line.amount_fen,
                        }
                        for line, cat_id in computed.lines
                    ],
                )
            if p.points_to_use:
                post_points(
                    session,
                    self.operator,
                    Posting(
                        member=member,
                        delta=-p.points_to_use,
                        source=LedgerSource.REDEMPTION,
                        reason=f"points paid {p.points_value_fen} fen",
                        idempotency_key=f"{req.idempotency_key}:redeem",
                        at=at,
                        sale_id=sale_id,
                        key_checked=True,
                    ),
                )
            if p.points_to_earn:
                post_points(
                    session,
                    self.operator,
                    Posting(
                        member=member,
                        delta=p.points_to_earn,
                        source=LedgerSource.SALE,
                        reason="purchase",
                        idempotency_key=f"{req.idempotency_key}:earn",
                        at=at,
                        expires_at=expiry_for(at, settings),
                        sale_id=sale_id,
                        key_checked=True,
                    ),
                )
            add_sale(conn, member.id, at, req.total_fen, settings["store.timezone"])
            member.lifetime_spend_fen += req.total_fen
            member.visit_count += 1
            member.first_visit_at = member.first_visit_at or at
            if member.last_visit_at is None or at > member.last_visit_at:
                member.last_visit_at = at
            if first_purchase:
                self._reward_referrer(session, member, settings, at)
            new_tier = self._move_tier(session, member, at, settings)
            save_member(session, member)
            record_audit(session, self.operator, "purchase", "sale", sale_id, {"member_id": member.id})
            return PurchaseResult(
                sale_id,
                p.points_to_earn,
                p.points_to_use,
                p.points_value_fen,
                p.paid_fen,
                member.points_balance,
                new_tier.name if new_tier else None,
                new_tier.name_en if new_tier else None,
            )

        return self._write_once(work)

    def _move_tier(
        self, session: Session, member: LockedMember, at: dt.datetime, settings: dict[str, Any]
    ) -> Tier | None:
        """decide_tier for the purchase path's member row; the new tier when it changed."""
        move = decide_tier(session, member.id, member.tier_id, member.tier_rank, member.tier_review_at, at, settings)
        if move is None:
            return None
        member.tier_review_at = move.review_at
        if move.reason is None:
            return None
        record_tier_change(session, self.operator, member.id, member.tier_id, move, at)
        member.tier_id = move.tier_id
        return session.get(Tier, move.tier_id)

    def _replayed_sale(self, session: Session, req: PurchaseRequest, receipt: str | None) -> PurchaseResult | None:
        conn = session.connection()
        sale = conn.execute(_SALE_BY_KEY, {"key": req.idempotency_key}).first()
        if sale is None and receipt is not None:
            sale = conn.execute(_SALE_BY_RECEIPT, {"branch_id": self.operator.branch_id, "receipt": receipt}).first()
            if sale is not None and (sale.member_id != req.member_id or sale.total_fen != req.total_fen):
                raise ConflictError(
                    S("Errors", "Receipt {receipt} was already recorded for another purchase."),
                    existing_id=sale.id,
                    receipt=receipt,
                )
        if sale is None:
            return None
        balance = session.scalar(select(Member.points_balance).where(Member.id == sale.member_id)) or 0
        return PurchaseResult(
            sale.id,
            sale.points_earned,
            sale.points_used,
            sale.points_value_fen,
            sale.paid_fen,
            balance,
            None,
            replayed=True,
        )

    def _reward_referrer(
        self, session: Session, member: LockedMember, settings: dict[str, Any], at: dt.datetime
    ) -> None:
        bonus = settings["referral.bonus_points"]
        if member.referrer_id is None or member.referral_rewarded or bonus <= 0:
            return
        referrer = lock_member(session, member.referrer_id)
        post_points(
            session,
            self.operator,
            Posting(
                member=referrer,
                delta=bonus,
                source=LedgerSource.REFERRAL,
                reason=f"referral of member {member.member_no}",
                idempotency_key=f"referral:{member.id}",
                at=at,
                expires_at=expiry_for(at, settings),
            ),
        )
        member.referral_rewarded = True

    # ---- returns ---------------------------------------------------------------------------------------------
    def return_sale(self, sale_id: int, idempotency_key: str, reason: str = "") -> ReturnResult:
        """Reverse exactly the points the sale earned and refund the points it used. If the member already spent
        the earned points the balance goes negative, and later earnings pay it back first."""

        def work(session: Session) -> ReturnResult:
            original = session.get(Sale, sale_id)
            if original is None or original.kind != SaleKind.SALE or original.member_id is None:
                raise NotFoundError(S("Errors", "Sale not found."))
            member = lock_member(session, original.member_id)
            done = session.scalar(select(Sale).where(Sale.original_sale_id == sale_id))
            if done is not None:
                return ReturnResult(
                    done.id, -done.points_earned, -done.points_used, member.points_balance, replayed=True
                )
            settings = read_settings(session)
            now = self.clock.now()
            ret = Sale(
                idempotency_key=idempotency_key,
                kind=SaleKind.RETURN,
                member_id=member.id,
                branch_id=self.operator.branch_id,
                staff_id=self.operator.staff_id,
                sold_at=now,
                total_fen=-original.total_fen,
                points_used=-original.points_used,
                points_value_fen=-original.points_value_fen,
                paid_fen=-original.paid_fen,
                points_earned=-original.points_earned,
                original_sale_id=original.id,
                note=(reason or "").strip()[:200] or None,
            )
            session.add(ret)
            session.flush()
            tie_object(session, self.operator, "sales", ret)
            earn_entry = find_posting(session, f"{original.idempotency_key}:earn")
            if original.points_earned:
                own_lots = (
                    list(session.scalars(select(PointsLot.id).where(PointsLot.ledger_id == earn_entry.id)))
                    if earn_entry
                    else []
                )
                post_points(
                    session,
                    self.operator,
                    Posting(
                        member=member,
                        delta=-original.points_earned,
                        source=LedgerSource.REVERSAL,
                        reason=f"return of sale {original.id}: earned points",
                        idempotency_key=f"{idempotency_key}:earn",
                        at=now,
                        sale_id=ret.id,
                        allow_negative=True,
                        from_lots=own_lots,
                    ),
                )
            if original.points_used:
                post_points(
                    session,
                    self.operator,
                    Posting(
                        member=member,
                        delta=original.points_used,
                        source=LedgerSource.REVERSAL,
                        reason=f"return of sale {original.id}: points paid back",
                        idempotency_key=f"{idempotency_key}:refund",
                        at=now,
                        sale_id=ret.id,
                        expires_at=self._refund_expiry(session, original, now, settings),
                    ),
                )
            recount_members(session.connection(), [member.id], settings["store.timezone"])
            member.lifetime_spend_fen -= original.total_fen
            evaluate_tier(session, self.operator, member, now, settings)
            record_audit(
                session,
                self.operator,
                "return",
                "sale",
                original.id,
                {"return_sale_id": ret.id, "reason": reason},
            )
            session.flush()
            return ReturnResult(ret.id, original.points_earned, original.points_used, member.points_balance)

        return self._write_once(work)

    def _refund_expiry(
        self, session: Session, original: Sale, now: dt.datetime, settings: dict[str, Any]
    ) -> dt.datetime | None:
        """Refunded points keep the latest expiry of the lots they were taken from."""
        redeem_entry = find_posting(session, f"{original.idempotency_key}:redeem")
        if redeem_entry is not None:
            expiries = [
                e
                for e in session.scalars(
                    select(PointsLot.expires_at)
                    .join(PointsLotUse, PointsLotUse.lot_id == PointsLot.id)
                    .where(PointsLotUse.ledger_id == redeem_entry.id)
                )
                if e is not None
            ]
            if expiries:
                return max(expiries)
        return expiry_for(now, settings)

    # ---- gifts -----------------------------------------------------------------------------------------------
    def gifts(self) -> list[Gift]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(Gift)
                    .where(
                        Gift.active.is_(True),
                        (Gift.branch_id.is_(None)) | (Gift.branch_id == self.operator.branch_id),
                    )
                    .order_by(Gift.points_price)
                )
            )

    def redeem_gift(self, member_id: int, gift_id: int, quantity: int, idempotency_key: str) -> GiftResult:
        if quantity <= 0:
            raise ValidationError(S("Errors", "The quantity must be at least 1."), field="quantity")

        def work(session: Session) -> GiftResult:
            member = lock_member(session, member_id)
            done = session.scalar(select(GiftRedemption).where(GiftRedemption.idempotency_key == idempotency_key))
            if done is not None:
                return GiftResult(done.id, done.points, member.points_balance, replayed=True)
            gift = session.get(Gift, gift_id)
            if gift is None or not gift.active:
                raise NotFoundError(S("Errors", "Gift not found."))
            points = gift.points_price * quantity
            if points > member.points_balance:
                raise InsufficientPoints(
                    S("Errors", "Not enough points: {balance} available, {needed} needed."),
                    balance=member.points_balance,
                    needed=points,
                )
            taken = session.execute(
                update(Gift)
                .where(Gift.id == gift_id, Gift.stock >= quantity)
                .values(stock=Gift.stock - quantity)
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[Any], taken).rowcount != 1:
                raise ConflictError(S("Errors", "Not enough {gift} in stock."), gift=gift.name)
            now = self.clock.now()
            entry_id = post_points(
                session,
                self.operator,
                Posting(
                    member=member,
                    delta=-points,
                    source=LedgerSource.GIFT,
                    reason=f"gift {gift.name} x{quantity}",
                    idempotency_key=f"{idempotency_key}:points",
                    at=now,
                ),
            )
            session.flush()
            redemption = GiftRedemption(
                idempotency_key=idempotency_key,
                gift_id=gift.id,
                member_id=member.id,
                ledger_id=entry_id,
                quantity=quantity,
                points=points,
                branch_id=self.operator.branch_id,
                staff_id=self.operator.staff_id,
                created_at=now,
            )
            session.add(redemption)
            session.flush()
            record_audit(
                session,
                self.operator,
                "redeem_gift",
                "member",
                member.id,
                {"gift_id": gift.id, "quantity": quantity, "points": points},
            )
            return GiftResult(redemption.id, points, member.points_balance)

        return self._write_once(work)

    # ---- adjustments -----------------------------------------------------------------------------------------
    def adjust_points(
        self, member_id: int, delta: int, reason: str, idempotency_key: str, approver_pin: str | None = None
    ) -> PointsLedger:
        """A manual correction. A cashier needs a manager's (or owner's) PIN; the approver is recorded."""
        reason = (reason or "").strip()
        if delta == 0:
            raise ValidationError(S("Errors", "Enter a number of points other than zero."), field="points")
        if not reason:
            raise ValidationError(S("Errors", "An adjustment needs a reason."), field="reason")

        def work(session: Session) -> PointsLedger:
            member = lock_member(session, member_id)
            existing = find_posting(session, idempotency_key)
            if existing is not None:
                return existing
            approver_id = self.operator.staff_id
            if not self.operator.at_least(StaffRole.MANAGER):
                approver_id = self._approver(session, approver_pin)
            settings = read_settings(session)
            now = self.clock.now()
            entry_id = post_points(
                session,
                self.operator,
                Posting(
                    member=member,
                    delta=delta,
                    source=LedgerSource.ADJUSTMENT,
                    reason=reason,
                    idempotency_key=idempotency_key,
                    at=now,
                    approved_by_id=approver_id,
                    expires_at=expiry_for(now, settings) if delta > 0 else None,
                ),
            )
            record_audit(
                session,
                self.operator,
                "adjust_points",
                "member",
                member_id,
                {"delta": delta, "reason": reason, "approved_by": approver_id},
            )
            entry = session.get(PointsLedger, entry_id)
            assert entry is not None
            return entry

        return self._write_once(work)

    def _approver(self, session: Session, pin: str | None) -> int:
        if not pin:
            raise PermissionDenied(S("Errors", "A manager must approve this with their PIN."))
        managers = session.scalars(
            select(Staff).where(
                Staff.active.is_(True),
                Staff.role.in_([StaffRole.MANAGER, StaffRole.OWNER]),
                Staff.pin_hash.is_not(None),
            )
        )
        for staff in managers:
            if verify_pin(pin, staff.pin_hash):
                return staff.id
        raise PermissionDenied(S("Errors", "That PIN is not a manager's PIN."))

    # ---- expiry and reviews ----------------------------------------------------------------------------------
    def expire_points(self) -> int:
        """Expire every lot whose date has passed; one transaction per member. Returns points expired."""
        now = self.clock.now()
        with self.db.session() as session:
            due = session.execute(
                select(PointsLot.member_id, func.max(PointsLot.id))
                .where(PointsLot.remaining > 0, PointsLot.expires_at <= now)
                .group_by(PointsLot.member_id)
            ).all()
        return sum(self._expire_member(member_id, last_lot, now) for member_id, last_lot in due)

    def _expire_member(self, member_id: int, last_lot: int, now: dt.datetime) -> int:
        def work(session: Session) -> int:
            member = lock_member(session, member_id)
            lots = session.execute(
                select(PointsLot.id, PointsLot.remaining).where(
                    PointsLot.member_id == member_id, PointsLot.remaining > 0, PointsLot.expires_at <= now
                )
            ).all()
            total = sum(r[1] for r in lots)
            if not total:
                return 0
            post_points(
                session,
                self.operator,
                Posting(
                    member=member,
                    delta=-total,
                    source=LedgerSource.EXPIRY,
                    reason="points expired",
                    idempotency_key=f"expiry:{member_id}:{last_lot}:{now.isoformat()}",
                    at=now,
                    from_lots=[r[0] for r in lots],
                    only_lots=True,
                ),
            )
            record_audit(session, self.operator, "expire_points", "member", member_id, {"points": total})
            return total

        return self.db.write(work)

    def review_tiers(self) -> int:
        """Apply downgrades whose review date has come. Returns how many members changed tier."""
        now = self.clock.now()
        with self.db.session() as session:
            due = list(session.scalars(select(Member.id).where(Member.tier_review_at <= now)))
        changed = 0
        for member_id in due:

            def work(session: Session, member_id: int = member_id) -> bool:
                member = lock_member(session, member_id)
                return evaluate_tier(session, self.operator, member, now, read_settings(session))

            changed += self.db.write(work)
        return changed

    def daily_maintenance(self) -> MaintenanceResult:
        """What runs when the counter starts and once a day after: expire due points, apply due tier reviews.
        Safe to run on several counters at once: each step is idempotent and per-member."""
        return MaintenanceResult(self.expire_points(), self.review_tiers())
