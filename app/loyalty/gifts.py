"""Gifts from the catalogue, paid for with points: the points and the stock move in one transaction."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app.errors import ConflictError, InsufficientPoints, NotFoundError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.loyalty.job import LoyaltyJob
from app.loyalty.ledger import Posting, lock_member, post_points, save_member
from app.loyalty.results import GiftOffer, GiftResult
from app.trust.audit import record_audit
from db.enums import LedgerSource
from db.models import Gift, GiftRedemption

GIFT_OFFER_COLUMNS = (Gift.id, Gift.name, Gift.name_en, Gift.points_price, Gift.stock)


class Gifts(LoyaltyJob):
    def gifts(self) -> list[GiftOffer]:
        """The active gifts this branch offers, cheapest first."""
        with self.db.session() as session:
            rows = session.execute(
                select(*GIFT_OFFER_COLUMNS)
                .where(
                    Gift.active.is_(True),
                    (Gift.branch_id.is_(None)) | (Gift.branch_id == self.operator.branch_id),
                )
                .order_by(Gift.points_price)
            )
            return [GiftOffer(*row) for row in rows]

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
            save_member(session, member)
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
            # Last, the rows every counter of the branch writes (the chain head, this gift's stock): each stays
            # locked from here to the commit only. Too little stock undoes it all.
            record_audit(
                session, self.operator, "redeem_gift", "member", member.id, {"gift_id": gift.id, "points": points}
            )
            taken = session.execute(
                update(Gift)
                .where(Gift.id == gift_id, Gift.stock >= quantity)
                .values(stock=Gift.stock - quantity)
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[Any], taken).rowcount != 1:
                raise ConflictError(S("Errors", "Not enough {gift} in stock."), gift=gift.name)
            return GiftResult(redemption.id, points, member.points_balance)

        return self._write_once(work)
