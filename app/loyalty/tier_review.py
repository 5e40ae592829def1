"""Tier reviews: a downgrade waits for the member's review date; this applies the ones whose date has come."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.i18n import QT_TRANSLATE_NOOP as S
from app.loyalty.job import LoyaltyJob, Progress
from app.loyalty.ledger import lock_member, save_member
from app.loyalty.tiers import move_tier, settings_and_ladder
from db.models import Member


def due_reviews(now: dt.datetime) -> Select[int]:
    """The members whose tier review date has come (an index search: most members' reviews are months away)."""
    return select(Member.id).where(Member.tier_review_at <= now)


class TierReview(LoyaltyJob):
    def review_tiers(self, progress: Progress | None = None) -> int:
        """Returns how many members changed tier."""
        now = self.clock.now()
        with self.db.session() as session:
            due = list(session.scalars(due_reviews(now)))

        def review(session: Session, member_id: int) -> bool:
            member = lock_member(session, member_id)
            settings, tiers = settings_and_ladder(session)
            moved = move_tier(session, self.operator, tiers, member, now, settings)
            save_member(session, member)
            return moved is not None

        return sum(self.in_batches(due, review, progress, S("Maintenance", "Reviewing tiers")))
