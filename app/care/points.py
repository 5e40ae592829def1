"""The one place where the care desk moves points: every call into app/loyalty is here.

Goodwill points for a complaint are a loyalty adjustment (the same manager-PIN rule as any adjustment), approved first
and then posted inside the resolution's own transaction, so the points and the resolution commit together. A survey
reward is posted through the ledger's one posting function inside the caller's transaction,
keyed on the form, so the response and its reward commit together and a second entry can never pay twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.clock import Clock
from app.loyalty.ledger import Posting, find_posting, lock_member, post_points, save_member
from app.loyalty.rules import expiry_for
from app.loyalty.service import LoyaltyService
from app.security.operator import Operator
from app.settings import read_settings
from db.engine import Database
from db.enums import LedgerSource


def goodwill_key(complaint_id: int, step: int) -> str:
    return f"complaint:{complaint_id}:goodwill:{step}"


def survey_reward_key(form_no: str) -> str:
    return f"survey-reward:{form_no}"


class Goodwill:
    """Goodwill points for one resolution: approved (a cashier's manager PIN, in its own transaction) when made,
    posted later inside the resolution's transaction."""

    def __init__(self, db: Database, operator: Operator, clock: Clock, points: int, approver_pin: str | None) -> None:
        self.points = points
        self._loyalty = LoyaltyService(db, operator, clock)
        self._approver_id = self._loyalty.approve_adjustment(points, approver_pin)

    def post(self, session: Session, member_id: int, reason: str, idempotency_key: str) -> int:
        """The ledger row's id (the first one's, for a key already used)."""
        entry = self._loyalty.post_adjustment(
            session, member_id, self.points, reason, idempotency_key, self._approver_id
        )
        return entry.ledger_id


def post_survey_reward(
    session: Session, operator: Operator, member_id: int, points: int, reason: str, form_no: str, at: dt.datetime
) -> bool:
    """Inside the caller's write transaction. False when this form was already rewarded."""
    key = survey_reward_key(form_no)
    member = lock_member(session, member_id)
    if find_posting(session, key) is not None:
        return False
    post_points(
        session,
        operator,
        Posting(
            member=member,
            delta=points,
            source=LedgerSource.SURVEY_REWARD,
            reason=reason,
            idempotency_key=key,
            at=at,
            expires_at=expiry_for(at, read_settings(session)),
            key_checked=True,
        ),
    )
    save_member(session, member)
    return True
