"""A purchase at the counter: price it (pricing), move the points (the book, through the ledger), record it.

record_purchase reads top to bottom: lock the member, return a replay, price, write the sale, post the points used
and earned, update the member's visits and tier, write the member back — one transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from app.coupons.redemption import CouponQuote, quote_coupon, redeem_coupon
from app.errors import ConflictError, MemberDeskError, NotFoundError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.insights.aggregates import add_sale
from app.loyalty.job import LoyaltyJob
from app.loyalty.ledger import LockedMember, Posting, insert_row, lock_member, post_points, save_member
from app.loyalty.pricing import Price, price_purchase
from app.loyalty.results import PurchasePreview, PurchaseRequest, PurchaseResult, SaleLineInput
from app.loyalty.rules import EarnPolicy, RedeemPolicy, expiry_for
from app.loyalty.tiers import move_tier, settings_and_ladder
from app.settings import StoreSettings, read_settings
from app.trust.audit import record_audit, tie_row
from db import day_totals, spend_months
from db.day_totals import SaleFact
from db.enums import LedgerSource, SaleKind
from db.models import Category, Member, Sale, SaleLine, Tier

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
    Sale.coupon_discount_fen,
)
_SALE_BY_KEY = _RECORDED_SALE.where(Sale.idempotency_key == bindparam("key"))
_SALE_BY_RECEIPT = _RECORDED_SALE.where(
    Sale.branch_id == bindparam("branch_id"), Sale.receipt_no == bindparam("receipt")
)
_PREVIEW_MEMBER = select(Member.points_balance, Tier.earn_multiplier_pct).join(Tier, Tier.id == Member.tier_id)

SaleLines = list[tuple[SaleLineInput, int | None]]
"""Each line with its category's id."""


class Purchases(LoyaltyJob):
    def preview_purchase(self, req: PurchaseRequest) -> PurchasePreview:
        """What the purchase would do, shown before the cashier confirms. Changes nothing."""
        with self.db.session() as session:
            row = session.execute(_PREVIEW_MEMBER.where(Member.id == req.member_id)).first()
            if row is None:
                raise NotFoundError(S("Errors", "Member not found."))
            balance, tier_pct = row
            at = req.sold_at or self.clock.now()
            settings = read_settings(session)
            price, _lines, coupon = self._price(session, req, balance, tier_pct, settings, at)
            return PurchasePreview(
                total_fen=price.total_fen,
                points_to_use=price.points_to_use,
                points_value_fen=price.points_value_fen,
                paid_fen=price.paid_fen,
                points_to_earn=price.points_to_earn,
                max_points_usable=price.max_points_usable,
                points_step=price.points_step,
                balance_before=balance,
                balance_after=balance - price.points_to_use + price.points_to_earn,
                member_day=EarnPolicy.from_settings(settings).multiplier_pct(at) > 100,
                coupon_discount_fen=price.coupon_discount_fen,
                coupon=coupon,
            )

    def record_purchase(self, req: PurchaseRequest) -> PurchaseResult:
        receipt = (req.receipt_no or "").strip() or None
        if receipt is not None and len(receipt) > 40:
            raise ValidationError(S("Errors", "A receipt number has at most 40 characters."), field="receipt_no")

        tries = 0

        def work(session: Session) -> PurchaseResult:
            nonlocal tries
            tries += 1
            member = lock_member(session, req.member_id)
            # A replay (a double click, a resend) is looked for first only when it can be told apart before the
            # sale is written: a receipt number, or a second try. Otherwise the sale's unique key finds it — the
            # INSERT fails, the transaction rolls back and `_write_once` tries again — and a replay refused earlier
            # (its points already spent, its coupon already used) is looked for when the refusal comes: one
            # statement less on every purchase (docs/ARCHITECTURE.md §3).
            if tries > 1 or receipt is not None:
                replay = self._replayed_sale(session, req, receipt)
                if replay is not None:
                    return replay
            settings, tiers = settings_and_ladder(session)
            at = req.sold_at or self.clock.now()
            tier_pct = tiers.rule(member.tier_id).earn_multiplier_pct
            try:
                price, lines, coupon = self._price(session, req, member.points_balance, tier_pct, settings, at)
            except MemberDeskError:
                replay = None if tries > 1 or receipt is not None else self._replayed_sale(session, req, receipt)
                if replay is not None:
                    return replay
                raise
            first_purchase = member.visit_count == 0
            sale_id = self._write_sale(session, member, req, receipt, price, lines, at, settings, coupon)
            if price.points_to_use:
                post_points(
                    session,
                    self.operator,
                    Posting(
                        member=member,
                        delta=-price.points_to_use,
                        source=LedgerSource.REDEMPTION,
                        reason=f"sale {sale_id}: points paid {price.points_value_fen} fen",
                        idempotency_key=f"{req.idempotency_key}:redeem",
                        at=at,
                        sale_id=sale_id,
                        key_checked=True,
                    ),
                )
            if price.points_to_earn:
                post_points(
                    session,
                    self.operator,
                    Posting(
                        member=member,
                        delta=price.points_to_earn,
                        source=LedgerSource.SALE,
                        reason=f"sale {sale_id}",
                        idempotency_key=f"{req.idempotency_key}:earn",
                        at=at,
                        expires_at=expiry_for(at, settings),
                        sale_id=sale_id,
                        key_checked=True,
                    ),
                )
            member.lifetime_spend_fen += req.total_fen
            member.visit_count += 1
            member.first_visit_at = member.first_visit_at or at
            if member.last_visit_at is None or at > member.last_visit_at:
                member.last_visit_at = at
            if first_purchase:
                self._reward_referrer(session, member, settings, at)
            new_tier = move_tier(session, self.operator, tiers, member, at, settings)
            save_member(session, member)
            # Last, the rows every counter of the branch writes (the chain head, the day totals): each stays locked
            # from here to the commit only.
            record_audit(session, self.operator, "purchase", "sale", sale_id, {"member_id": member.id})
            self._add_to_day_totals(session, at, price, lines, coupon, settings)
            return PurchaseResult(
                sale_id,
                price.points_to_earn,
                price.points_to_use,
                price.points_value_fen,
                price.paid_fen,
                member.points_balance,
                new_tier.name if new_tier else None,
                new_tier.name_en if new_tier else None,
                coupon_discount_fen=price.coupon_discount_fen,
            )

        return self._write_once(work)

    def _price(
        self,
        session: Session,
        req: PurchaseRequest,
        balance: int,
        tier_pct: int,
        settings: StoreSettings,
        at: dt.datetime,
    ) -> tuple[Price, SaleLines, CouponQuote | None]:
        """The lines checked against the catalogue's categories, the coupon against its rules (app.coupons: its
        discount and any points multiplier go into the pricing), then the pure pricing."""
        earn = EarnPolicy.from_settings(settings)
        lines: SaleLines = []
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
        coupon = (
            quote_coupon(
                session,
                self.operator.branch_id,
                req.coupon_code,
                req.member_id,
                [(line.amount_fen, line.category_code) for line in req.lines] or [(req.total_fen, None)],
                at,
            )
            if req.coupon_code
            else None
        )
        price = price_purchase(
            total_fen=req.total_fen,
            excluded_fen=excluded,
            points_to_use=req.points_to_use,
            balance=balance,
            tier_pct=tier_pct,
            day_pct=earn.multiplier_pct(at) * (coupon.points_multiplier_pct if coupon else 100) // 100,
            fen_per_point=earn.fen_per_point,
            redeem=RedeemPolicy.from_settings(settings),
            coupon_discount_fen=coupon.discount_fen if coupon else req.coupon_discount_fen,
        )
        return price, lines, coupon

    def _write_sale(
        self,
        session: Session,
        member: LockedMember,
        req: PurchaseRequest,
        receipt: str | None,
        price: Price,
        lines: SaleLines,
        at: dt.datetime,
        settings: StoreSettings,
        coupon: CouponQuote | None,
    ) -> int:
        """THE PLACE A PURCHASE WRITES ITS SALE ROW (and lines), in the purchase's transaction with the member
        locked. What must happen with every sale, in the same transaction, goes here: the member's monthly totals
        (segments), redeeming the coupon behind `coupon_discount_fen` (the day totals are added at the end of the
        transaction, `_add_to_day_totals`). Returns the sale's id."""
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
                "total_fen": price.total_fen,
                "points_used": price.points_to_use,
                "points_value_fen": price.points_value_fen,
                "coupon_id": coupon.coupon_id if coupon else None,
                "coupon_discount_fen": price.coupon_discount_fen,
                "paid_fen": price.paid_fen,
                "points_earned": price.points_to_earn,
                "note": (req.note or "").strip()[:200] or None,
            },
        )
        tie_row(session, self.operator, "sales", sale_id, sale)
        if lines:
            conn.execute(
                _INSERT_SALE_LINE,
                [
                    {
                        "sale_id": sale_id,
                        "product_id": line.product_id,
                        "category_id": category_id,
                        "description": line.description,
                        "quantity": line.quantity,
                        "amount_fen": line.amount_fen,
                    }
                    for line, category_id in lines
                ],
            )
        add_sale(conn, member.id, at, price.total_fen, settings.store_timezone)
        spend_months.add_sale(conn, member.id, self.operator.branch_id, at, price.total_fen, settings.store_timezone)
        if coupon is not None:  # taken in the sale's transaction, or the sale does not happen
            redeem_coupon(session, self.operator, coupon, sale_id, req.idempotency_key, at)
        return sale_id

    def _add_to_day_totals(
        self,
        session: Session,
        at: dt.datetime,
        price: Price,
        lines: SaleLines,
        coupon: CouponQuote | None,
        settings: StoreSettings,
    ) -> None:
        """The branch's and categories' day totals (dashboard), in the purchase's transaction. Every counter of the
        branch adds to the same rows, so the purchase does it last, after its audit entry (which locks the branch's
        chain head, the other row they all write): each stays locked only until the commit."""
        conn = session.connection()
        fact = SaleFact(
            at, self.operator.branch_id, self.operator.staff_id, False, True, coupon is not None, price.total_fen
        )
        day_totals.add_sales(conn, [fact], settings.store_timezone)
        if lines:
            day_totals.add_lines(
                conn,
                at,
                self.operator.branch_id,
                [(category_id, line.amount_fen, line.quantity) for line, category_id in lines],
                settings.store_timezone,
            )

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
            coupon_discount_fen=sale.coupon_discount_fen,
        )

    def _reward_referrer(
        self, session: Session, member: LockedMember, settings: StoreSettings, at: dt.datetime
    ) -> None:
        bonus = settings.referral_bonus_points
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
        save_member(session, referrer)
        member.referral_rewarded = True
