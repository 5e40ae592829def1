"""The one function through which every change of a member's points goes.

It must be called inside a write transaction with the member row locked (`lock_member`). It appends the ledger row,
moves points in or out of lots (oldest expiry first), and updates the cached balance — all in the caller's
transaction, so a crash leaves either everything or nothing. Invariants (`db check`):
  balance == sum(ledger.delta);  each row's balance_after == running sum;  max(balance, 0) == sum(lot.remaining).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InsufficientPoints, NotFoundError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.security.operator import Operator
from db.enums import LedgerSource, MemberStatus
from db.models import Member, PointsLedger, PointsLot, PointsLotUse, Sale


@dataclass(frozen=True)
class Posting:
    member: Member
    delta: int
    source: LedgerSource
    reason: str
    idempotency_key: str
    at: dt.datetime
    expires_at: dt.datetime | None = None
    sale: Sale | None = None
    approved_by_id: int | None = None
    allow_negative: bool = False
    """Only a reversal may take the balance below zero (the member already spent what a returned sale earned)."""
    from_lots: Sequence[int] = ()
    """Lots to take from first (a reversal takes back its own sale's lot before any other)."""
    only_lots: bool = False
    """Take from `from_lots` alone (expiry)."""
    key_checked: bool = False
    """The caller has just found no operation under this key while holding the member lock (skips one query)."""


def lock_member(session: Session, member_id: int) -> Member:
    member = session.scalar(select(Member).where(Member.id == member_id).with_for_update(of=Member))
    if member is None or member.status == MemberStatus.ANONYMISED:
        raise NotFoundError(S("Errors", "Member not found."))
    return member


def find_posting(session: Session, idempotency_key: str) -> PointsLedger | None:
    return session.scalar(select(PointsLedger).where(PointsLedger.idempotency_key == idempotency_key))


def post_points(session: Session, operator: Operator, posting: Posting) -> PointsLedger:
    """Nothing is flushed here: the rows join the caller's unit of work (relationships order the inserts), so a
    purchase costs one round of INSERTs instead of one per row."""
    if not posting.key_checked:
        existing = find_posting(session, posting.idempotency_key)
        if existing is not None:
            return existing
    member = posting.member
    entry = PointsLedger(
        idempotency_key=posting.idempotency_key,
        member_id=member.id,
        branch_id=operator.branch_id,
        staff_id=operator.staff_id,
        approved_by_id=posting.approved_by_id,
        source=posting.source,
        delta=posting.delta,
        balance_after=member.points_balance + posting.delta,
        reason=posting.reason[:200],
        sale=posting.sale,
        created_at=posting.at,
    )
    session.add(entry)
    if posting.delta > 0:
        debt = max(0, -member.points_balance)
        into_lot = posting.delta - min(debt, posting.delta)
        if into_lot:
            session.add(
                PointsLot(
                    member_id=member.id,
                    ledger=entry,
                    earned_at=posting.at,
                    expires_at=posting.expires_at,
                    points=into_lot,
                    remaining=into_lot,
                )
            )
    elif posting.delta < 0:
        _take_from_lots(session, member, entry, -posting.delta, posting)
    member.points_balance += posting.delta
    return entry


def _take_from_lots(session: Session, member: Member, entry: PointsLedger, need: int, posting: Posting) -> None:
    preferred = list(posting.from_lots)
    lots: list[PointsLot] = []
    if preferred:
        lots += session.scalars(
            select(PointsLot).where(PointsLot.id.in_(preferred), PointsLot.remaining > 0).order_by(PointsLot.id)
        ).all()
    if not posting.only_lots:
        lots += session.scalars(
            select(PointsLot)
            .where(
                PointsLot.member_id == member.id,
                PointsLot.remaining > 0,
                PointsLot.id.not_in(preferred or [0]),
            )
            .order_by(PointsLot.expires_at.asc().nulls_last(), PointsLot.earned_at, PointsLot.id)
        ).all()
    available = sum(lot.remaining for lot in lots)
    if available < need and not posting.allow_negative:
        raise InsufficientPoints(
            S("Errors", "Not enough points: {balance} available, {needed} needed."),
            balance=member.points_balance,
            needed=need,
        )
    for lot in lots:
        if need == 0:
            break
        take = min(lot.remaining, need)
        lot.remaining -= take
        need -= take
        session.add(PointsLotUse(ledger=entry, lot_id=lot.id, points=take))


def expiring_points(session: Session, member_id: int, until: dt.datetime) -> tuple[int, dt.datetime | None]:
    """Points that expire before `until`, and the first date among them."""
    rows = session.execute(
        select(PointsLot.remaining, PointsLot.expires_at).where(
            PointsLot.member_id == member_id, PointsLot.remaining > 0, PointsLot.expires_at <= until
        )
    ).all()
    dates = [r[1] for r in rows if r[1] is not None]
    return sum(r[0] for r in rows), min(dates) if dates else None
