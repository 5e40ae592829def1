"""Points expiry, run when the counter starts and daily: every lot past its date, in short batches of members.

Only the lots now due are read: the due-date index (`ix_points_lots_due`, open lots by expiry; migration 0011) makes
the check at start-up a search of a few index entries even on a store with millions of lots, nothing due or not."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, literal_column, select
from sqlalchemy.orm import Session

from app.i18n import QT_TRANSLATE_NOOP as S
from app.loyalty.job import LoyaltyJob, Progress
from app.loyalty.ledger import Posting, lock_member, post_points, save_member
from app.trust.audit import record_audit
from db.enums import LedgerSource
from db.models import PointsLot


def due_lots(now: dt.datetime) -> Select[int, int]:
    """(member, lot) of every open lot due by `now`. `remaining > 0` is written as a literal, not a parameter: only
    then can the database see that the query matches the partial index's condition."""
    return select(PointsLot.member_id, PointsLot.id).where(
        PointsLot.expires_at <= now, PointsLot.remaining > literal_column("0")
    )


class Expiry(LoyaltyJob):
    def expire_points(self, progress: Progress | None = None) -> int:
        """Expire every lot whose date has passed. Returns the points expired."""
        now = self.clock.now()
        last_lot: dict[int, int] = {}
        with self.db.session() as session:
            for member_id, lot_id in session.execute(due_lots(now)):
                last_lot[member_id] = max(lot_id, last_lot.get(member_id, 0))
        members = sorted(last_lot)
        return sum(
            self.in_batches(
                members,
                lambda session, member_id: self._expire_member(session, member_id, last_lot[member_id], now),
                progress,
                S("Maintenance", "Expiring points"),
            )
        )

    def _expire_member(self, session: Session, member_id: int, last_lot: int, now: dt.datetime) -> int:
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
