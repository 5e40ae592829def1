"""Points expiry, run when the counter starts and daily: every lot past its date, one transaction per member."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.loyalty.job import LoyaltyJob
from app.loyalty.ledger import Posting, lock_member, post_points, save_member
from app.trust.audit import record_audit
from db.enums import LedgerSource
from db.models import PointsLot


class Expiry(LoyaltyJob):
    def expire_points(self) -> int:
        """Expire every lot whose date has passed. Returns the points expired."""
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
            total = sum(remaining for _id, remaining in lots)
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
                    from_lots=[lot_id for lot_id, _remaining in lots],
                    only_lots=True,
                ),
            )
            save_member(session, member)
            record_audit(session, self.operator, "expire_points", "member", member_id, {"points": total})
            return total

        return self.db.write(work)
