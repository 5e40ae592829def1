"""A whole-sale return: reverse exactly the points the sale earned and pay back the points it used."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.coupons.redemption import restore_coupon
from app.errors import NotFoundError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.insights.aggregates import recount_members
from app.loyalty.book import refund_expiry
from app.loyalty.job import LoyaltyJob
from app.loyalty.ledger import LockedMember, Posting, find_posting, lock_member, post_points, save_member
from app.loyalty.results import ReturnResult
from app.loyalty.rules import expiry_for
from app.loyalty.tiers import move_tier, settings_and_ladder
from app.settings import StoreSettings
from app.trust.audit import record_audit, tie_object
from db import day_totals, spend_months
from db.day_totals import SaleFact
from db.enums import LedgerSource, SaleKind
from db.models import PointsLot, PointsLotUse, Sale, SaleLine


class Returns(LoyaltyJob):
    def return_sale(self, sale_id: int, idempotency_key: str, reason: str = "") -> ReturnResult:
        """If the member already spent the earned points the balance goes negative, and later earnings pay it back
        first."""

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
            settings, tiers = settings_and_ladder(session)
            now = self.clock.now()
            return_id, coupon_restored = self._write_return(
                session, member, original, idempotency_key, reason, now, settings
            )
            if original.points_earned:
                earn_entry = find_posting(session, f"{original.idempotency_key}:earn")
                own_lots = (
                    list(session.scalars(select(PointsLot.id).where(PointsLot.ledger_id == earn_entry)))
                    if earn_entry is not None
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
                        sale_id=return_id,
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
                        sale_id=return_id,
                        expires_at=refund_expiry(self._expiries_used(session, original), expiry_for(now, settings)),
                    ),
                )
            member.lifetime_spend_fen -= original.total_fen
            move_tier(session, self.operator, tiers, member, now, settings)
            save_member(session, member)
            # Last, the rows every counter of the branch writes (the chain head, the day totals): each stays locked
            # from here to the commit only.
            record_audit(
                session,
                self.operator,
                "return",
                "sale",
                original.id,
                {"return_sale_id": return_id, "reason": reason},
            )
            self._take_from_day_totals(session, original, now, settings)
            return ReturnResult(
                return_id,
                original.points_earned,
                original.points_used,
                member.points_balance,
                coupon_restored=coupon_restored,
            )

        return self._write_once(work)

    def _write_return(
        self,
        session: Session,
        member: LockedMember,
        original: Sale,
        idempotency_key: str,
        reason: str,
        now: dt.datetime,
        settings: StoreSettings,
    ) -> tuple[int, bool]:
        """THE PLACE A RETURN WRITES ITS SALE ROW, in the return's transaction with the member locked: the
        original's figures negated. What must be undone with every return, in the same transaction, goes here:
        the member's monthly totals (segments; recounted from the sales), restoring the original's coupon (the day
        totals are taken at the end of the transaction, `_take_from_day_totals`). Returns the return row's id and
        whether the coupon was given back."""
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
            coupon_id=original.coupon_id,
            coupon_discount_fen=-original.coupon_discount_fen,
            paid_fen=-original.paid_fen,
            points_earned=-original.points_earned,
            original_sale_id=original.id,
            note=(reason or "").strip()[:200] or None,
        )
        session.add(ret)
        session.flush()
        tie_object(session, self.operator, "sales", ret)
        recount_members(session.connection(), [member.id], settings.store_timezone)
        spend_months.recount_members(session.connection(), [member.id], settings.store_timezone)
        restored = restore_coupon(session, self.operator, original.coupon_id, ret.id, idempotency_key, now)
        return ret.id, restored

    def _take_from_day_totals(
        self, session: Session, original: Sale, now: dt.datetime, settings: StoreSettings
    ) -> None:
        """The return in the branch's and categories' day totals (dashboard). Every counter of the branch writes
        these rows, so the return does it last, after its audit entry (see Purchases._add_to_day_totals)."""
        conn = session.connection()
        branch_id = self.operator.branch_id
        fact = SaleFact(
            now, branch_id, self.operator.staff_id, True, True, original.coupon_id is not None, -original.total_fen
        )
        day_totals.add_sales(conn, [fact], settings.store_timezone)
        lines = session.execute(
            select(SaleLine.category_id, SaleLine.amount_fen, SaleLine.quantity).where(SaleLine.sale_id == original.id)
        )
        day_totals.add_lines(
            conn,
            now,
            branch_id,
            [(c, amount, quantity) for c, amount, quantity in lines],
            settings.store_timezone,
            sign=-1,
        )

    @staticmethod
    def _expiries_used(session: Session, original: Sale) -> list[dt.datetime | None]:
        """The expiries of the lots the sale's points were taken from."""
        redeem_entry = find_posting(session, f"{original.idempotency_key}:redeem")
        if redeem_entry is None:
            return []
        return list(
            session.scalars(
                select(PointsLot.expires_at)
                .join(PointsLotUse, PointsLotUse.lot_id == PointsLot.id)
                .where(PointsLotUse.ledger_id == redeem_entry)
            )
        )
