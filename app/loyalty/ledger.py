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
from typing import Any, Protocol

from sqlalchemy import Connection, Insert, Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.errors import InsufficientPoints, NotFoundError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.security.operator import Operator
from app.trust.audit import tie_row
from db.enums import LedgerSource, MemberStatus
from db.models import Member, PointsLedger, PointsLot, PointsLotUse, Tier


class Account(Protocol):
    """Whose points a posting changes: an ORM Member, or a LockedMember on the purchase path."""

    id: int
    points_balance: int


@dataclass
class LockedMember:
    """A member row locked for a purchase, read and written with Core: the ORM's load and flush of the row cost
    a purchase more than half a millisecond, a third of its time (bench/README.md)."""

    id: int
    member_no: str
    points_balance: int
    lifetime_spend_fen: int
    visit_count: int
    first_visit_at: dt.datetime | None
    last_visit_at: dt.datetime | None
    referrer_id: int | None
    referral_rewarded: bool
    tier_id: int
    tier_review_at: dt.datetime | None
    tier_rank: int
    tier_multiplier_pct: int


@dataclass(frozen=True)
class Posting:
    member: Account
    delta: int
    source: LedgerSource
    reason: str
    idempotency_key: str
    at: dt.datetime
    expires_at: dt.datetime | None = None
    sale_id: int | None = None
    approved_by_id: int | None = None
    allow_negative: bool = False
    """Only a reversal may take the balance below zero (the member already spent what a returned sale earned)."""
    from_lots: Sequence[int] = ()
    """Lots to take from first (a reversal takes back its own sale's lot before any other)."""
    only_lots: bool = False
    """Take from `from_lots` alone (expiry)."""
    key_checked: bool = False
    """The caller has just found no operation under this key while holding the member lock (skips one query)."""


# The statements of the purchase path are built once: SQLAlchemy spends more on building and keying a statement
# (~0.13 ms for an INSERT with .values()) than SQLite on running it; a built one with parameters costs ~0.02 ms.
_LOCK_MEMBER = select(Member).where(Member.id == bindparam("member_id")).with_for_update(of=Member)
_FIND_POSTING = select(PointsLedger).where(PointsLedger.idempotency_key == bindparam("key"))
_INSERT_LEDGER = insert(PointsLedger)
_INSERT_LOT = insert(PointsLot)
_INSERT_LOT_USE = insert(PointsLotUse)
_LOT_COLUMNS = (PointsLot.id, PointsLot.remaining)
_PREFERRED_LOTS = (
    select(*_LOT_COLUMNS)
    .where(PointsLot.id.in_(bindparam("lots", expanding=True)), PointsLot.remaining > 0)
    .order_by(PointsLot.id)
)
_OPEN_LOTS = (
    select(*_LOT_COLUMNS)
    .where(
        PointsLot.member_id == bindparam("member_id"),
        PointsLot.remaining > 0,
        PointsLot.id.not_in(bindparam("skip", expanding=True)),
    )
    .order_by(PointsLot.expires_at.asc().nulls_last(), PointsLot.earned_at, PointsLot.id)
)
_lot = PointsLot.__table__.c
_TAKE_FROM_LOT = (
    update(PointsLot).where(_lot.id == bindparam("b_lot")).values(remaining=_lot.remaining - bindparam("b_take"))
)


_LOCK_FOR_PURCHASE = (
    select(
        Member.id,
        Member.member_no,
        Member.points_balance,
        Member.lifetime_spend_fen,
        Member.visit_count,
        Member.first_visit_at,
        Member.last_visit_at,
        Member.referrer_id,
        Member.referral_rewarded,
        Member.tier_id,
        Member.tier_review_at,
        Tier.rank.label("tier_rank"),
        Tier.earn_multiplier_pct.label("tier_multiplier_pct"),
    )
    .join(Tier, Tier.id == Member.tier_id)
    .where(Member.id == bindparam("member_id"), Member.status != MemberStatus.ANONYMISED)
    .with_for_update(of=Member.__table__)
)
_SAVE_MEMBER = (
    update(Member)
    .where(Member.__table__.c.id == bindparam("b_id"))
    .values(
        {
            name: bindparam(f"b_{name}")
            for name in (
                "points_balance",
                "lifetime_spend_fen",
                "visit_count",
                "first_visit_at",
                "last_visit_at",
                "referral_rewarded",
                "tier_id",
                "tier_review_at",
            )
        }
    )
)


def lock_for_purchase(session: Session, member_id: int) -> LockedMember:
    row = session.connection().execute(_LOCK_FOR_PURCHASE, {"member_id": member_id}).first()
    if row is None:
        raise NotFoundError(S("Errors", "Member not found."))
    return LockedMember(**row._asdict())


def save_member(session: Session, member: LockedMember) -> None:
    """Write back what a purchase changed on the member (and stamp updated_at)."""
    session.connection().execute(
        _SAVE_MEMBER,
        {
            "b_id": member.id,
            "b_points_balance": member.points_balance,
            "b_lifetime_spend_fen": member.lifetime_spend_fen,
            "b_visit_count": member.visit_count,
            "b_first_visit_at": member.first_visit_at,
            "b_last_visit_at": member.last_visit_at,
            "b_referral_rewarded": member.referral_rewarded,
            "b_tier_id": member.tier_id,
            "b_tier_review_at": member.tier_review_at,
        },
    )


def lock_member(session: Session, member_id: int) -> Member:
    member = session.scalar(_LOCK_MEMBER, {"member_id": member_id})
    if member is None or member.status == MemberStatus.ANONYMISED:
        raise NotFoundError(S("Errors", "Member not found."))
    return member


def find_posting(session: Session, idempotency_key: str) -> PointsLedger | None:
    return session.scalar(_FIND_POSTING, {"key": idempotency_key})


def post_points(session: Session, operator: Operator, posting: Posting) -> int:
    """Returns the ledger row's id (the existing row's, for a key already posted). The rows are written with Core
    statements, one each: the ORM's unit of work cost a purchase more than all its SQL (bench/README.md). The
    member's balance is set on the locked ORM row and goes out with the caller's other changes to it."""
    if not posting.key_checked:
        existing = find_posting(session, posting.idempotency_key)
        if existing is not None:
            return existing.id
    member = posting.member
    conn = session.connection()
    entry_id = insert_row(
        conn,
        _INSERT_LEDGER,
        row := {
            "idempotency_key": posting.idempotency_key,
            "member_id": member.id,
            "branch_id": operator.branch_id,
            "staff_id": operator.staff_id,
            "approved_by_id": posting.approved_by_id,
            "source": posting.source,
            "delta": posting.delta,
            "balance_after": member.points_balance + posting.delta,
            "reason": posting.reason[:200],
            "sale_id": posting.sale_id,
            "created_at": posting.at,
        },
    )
    tie_row(session, operator, "points_ledger", entry_id, row)
    if posting.delta > 0:
        debt = max(0, -member.points_balance)
        into_lot = posting.delta - min(debt, posting.delta)
        if into_lot:
            conn.execute(
                _INSERT_LOT,
                {
                    "member_id": member.id,
                    "ledger_id": entry_id,
                    "earned_at": posting.at,
                    "expires_at": posting.expires_at,
                    "points": into_lot,
                    "remaining": into_lot,
                },
            )
    elif posting.delta < 0:
        _take_from_lots(conn, member, entry_id, -posting.delta, posting)
    member.points_balance += posting.delta
    return entry_id


def insert_row(conn: Connection, statement: Insert, values: dict[str, Any]) -> int:
    """Run a built INSERT for one row; the new row's id (the driver's lastrowid on SQLite, RETURNING on
    PostgreSQL)."""
    key = conn.execute(statement, values).inserted_primary_key
    assert key is not None and key[0] is not None
    return int(key[0])


def _take_from_lots(conn: Connection, member: Account, entry_id: int, need: int, posting: Posting) -> None:
    preferred = list(posting.from_lots)
    lots: list[Row[int, int]] = []
    if preferred:
        lots += conn.execute(_PREFERRED_LOTS, {"lots": preferred}).all()
    if not posting.only_lots:
        lots += conn.execute(_OPEN_LOTS, {"member_id": member.id, "skip": preferred or [0]}).all()
    available = sum(remaining for _id, remaining in lots)
    if available < need and not posting.allow_negative:
        raise InsufficientPoints(
            S("Errors", "Not enough points: {balance} available, {needed} needed."),
            balance=member.points_balance,
            needed=need,
        )
    uses: list[dict[str, int]] = []
    for lot_id, remaining in lots:
        if need == 0:
            break
        take = min(remaining, need)
        uses.append({"b_lot": lot_id, "b_take": take})
        need -= take
    if uses:
        conn.execute(_TAKE_FROM_LOT, uses)
        conn.execute(
            _INSERT_LOT_USE,
            [{"ledger_id": entry_id, "lot_id": use["b_lot"], "points": use["b_take"]} for use in uses],
        )


def expiring_points(session: Session, member_id: int, until: dt.datetime) -> tuple[int, dt.datetime | None]:
    """Points that expire before `until`, and the first date among them."""
    rows = session.execute(
        select(PointsLot.remaining, PointsLot.expires_at).where(
            PointsLot.member_id == member_id, PointsLot.remaining > 0, PointsLot.expires_at <= until
        )
    ).all()
    dates = [r[1] for r in rows if r[1] is not None]
    return sum(r[0] for r in rows), min(dates) if dates else None
