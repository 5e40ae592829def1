"""Manual corrections of a member's points, within the cashier's limit or approved by a manager's PIN."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.loyalty.job import LoyaltyJob
from app.loyalty.ledger import Posting, lock_member, post_points, save_member
from app.loyalty.results import AdjustmentResult
from app.loyalty.rules import expiry_for
from app.security.sign_in import SignInService
from app.settings import read_settings
from app.trust.audit import record_audit
from db.enums import LedgerSource, StaffRole
from db.models import PointsLedger


class Adjustments(LoyaltyJob):
    def adjust_points(
        self, member_id: int, delta: int, reason: str, idempotency_key: str, approver_pin: str | None = None
    ) -> AdjustmentResult:
        """A manager or owner adjusts on their own authority, and so does a cashier within the store's limit
        (`points.adjust_limit_without_approval`, in points either way); above it a cashier needs a manager's (or
        owner's) PIN, and the approver is recorded."""
        reason = (reason or "").strip()
        if delta == 0:
            raise ValidationError(S("Errors", "Enter a number of points other than zero."), field="points")
        if not reason:
            raise ValidationError(S("Errors", "An adjustment needs a reason."), field="reason")
        approver_id = self.approve_adjustment(delta, approver_pin)
        return self._write_once(
            lambda session: self.post_adjustment(session, member_id, delta, reason, idempotency_key, approver_id)
        )

    def approve_adjustment(self, delta: int, approver_pin: str | None) -> int | None:
        """Who approves an adjustment of `delta`: a manager or owner themselves; a cashier within the limit nobody,
        above it (or with a PIN typed anyway) the manager whose PIN it is. The PIN is checked (throttled and audited)
        in its own transaction, before the adjustment's, so a wrong PIN counts even when nothing else is written."""
        if self.operator.at_least(StaffRole.MANAGER):
            return self.operator.staff_id
        limit = self.db.read(read_settings).points_adjust_limit_without_approval
        needs_approval = abs(delta) > limit or approver_pin
        return SignInService(self.db, self.clock).approve(self.operator, approver_pin) if needs_approval else None

    def post_adjustment(
        self, session: Session, member_id: int, delta: int, reason: str, idempotency_key: str, approver_id: int | None
    ) -> AdjustmentResult:
        """The adjustment inside the caller's write transaction (approved beforehand with `approve_adjustment`), so
        that what it pays for — a complaint's resolution — commits with it. The same key again returns the first
        posting."""
        member = lock_member(session, member_id)
        existing = session.execute(
            select(PointsLedger.id, PointsLedger.delta, PointsLedger.approved_by_id).where(
                PointsLedger.idempotency_key == idempotency_key
            )
        ).first()
        if existing is not None:
            return AdjustmentResult(
                existing.id, existing.delta, member.points_balance, existing.approved_by_id, replayed=True
            )
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
                key_checked=True,
            ),
        )
        save_member(session, member)
        record_audit(
            session,
            self.operator,
            "adjust_points",
            "member",
            member_id,
            {"delta": delta, "reason": reason, "approved_by": approver_id},
        )
        return AdjustmentResult(entry_id, delta, member.points_balance, approver_id)
