"""Tiers on the database: the 12-month figure, the ladder the book decides with, and the recorded change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from app.loyalty.book import NEVER, TierLadder, TierRule
from app.loyalty.ledger import LockedMember
from app.security.operator import Operator
from app.settings import VERSION_SQL, StoreSettings, settings_at
from db.bulk import DriverValues
from db.later import read
from db.models import Member, Sale, Tier, TierChange

YEAR = dt.timedelta(days=365)


@dataclass(frozen=True)
class TierProgress:
    metric: int
    """12-month spend in fen, or 12-month points, per the store's basis."""
    basis: str
    next_tier_name: str | None
    next_tier_name_en: str | None
    missing: int


ROLLING = {
    basis: select(func.coalesce(func.sum(column), 0)).where(
        Sale.member_id == bindparam("member_id"), Sale.sold_at > bindparam("since")
    )
    for basis, column in (("spend", Sale.total_fen), ("points", Sale.points_earned))
}
"""The 12-month figure of each basis (binds member_id and since): what a purchase decides the tier on, and what
the member panel shows as the tier progress."""
_INSERT_TIER_CHANGE = insert(TierChange)
# Read on every purchase, straight from the driver: plain integers in and out, so SQLAlchemy's execution (~50 Python
# calls a statement, more than SQLite's own work) buys nothing here. `{p}` is the driver's parameter marker.
# The settings' version rides on the same statement (app.settings.settings_at): one round trip for both.
_TIER_RULES = (
    f"SELECT id, rank, min_spend_12m_fen, min_points_12m, earn_multiplier_pct, ({VERSION_SQL}) FROM tiers ORDER BY rank"
)
_ROLLING_SQL = {
    "spend": "SELECT COALESCE(SUM(total_fen), 0) FROM sales WHERE member_id = {p} AND sold_at > {p}",
    "points": "SELECT COALESCE(SUM(points_earned), 0) FROM sales WHERE member_id = {p} AND sold_at > {p}",
}
_TIER_NAMES = select(Tier.name, Tier.name_en).where(Tier.id == bindparam("tier_id"))


@dataclass(frozen=True)
class NewTier:
    """The tier a member moved to."""

    id: int
    name: str
    name_en: str


def rolling_metric(session: Session, member_id: int, now: dt.datetime, basis: str) -> int:
    """The member's 12-month figure (ROLLING, sent straight to the driver with the writes queued before it,
    `db.later`)."""
    conn = session.connection()
    since = DriverValues(sqlite=conn.dialect.name == "sqlite")(now - YEAR)
    return int(read(conn, _ROLLING_SQL[basis], (member_id, since))[0][0] or 0)


def all_tiers(session: Session) -> list[Tier]:
    return list(session.scalars(select(Tier).order_by(Tier.rank)))


def settings_and_ladder(session: Session) -> tuple[StoreSettings, TierLadder]:
    """The store's settings and its tiers as the book decides with them: one query straight to the driver (the
    tiers and the settings' version), no ORM objects; read after the member's lock."""
    rows = read(session.connection(), _TIER_RULES)
    settings = settings_at(session, rows[0][5] if rows else None)
    return settings, TierLadder([TierRule(*row[:5]) for row in rows], settings.tiers_basis)


@dataclass(frozen=True)
class TierMove:
    """What a tier evaluation decided: a new tier for a reason, or (reason None) only the next review date."""

    tier_id: int
    review_at: dt.datetime
    reason: str | None


def decide_tier(
    session: Session,
    tiers: TierLadder,
    member_id: int,
    tier_id: int,
    review_at: dt.datetime | None,
    now: dt.datetime,
    settings: StoreSettings,
) -> TierMove | None:
    """The book's decision (TierLadder.decide) on the member's 12-month figure, with the next review date. A member
    with no tier above and no review due keeps their tier whatever the figure: it is not summed."""
    review_due = review_at is not None and review_at <= now
    if not review_due and tiers.upgrade_from[tier_id] == NEVER:
        return None
    metric = rolling_metric(session, member_id, now, tiers.basis)
    decision = tiers.decide(tier_id, metric, review_due)
    if decision is None:
        return None
    review_next = now + dt.timedelta(days=30 * settings.tiers_review_months)
    return TierMove(decision.tier_id, review_next, decision.reason)


def move_tier(
    session: Session,
    operator: Operator,
    tiers: TierLadder,
    member: LockedMember,
    now: dt.datetime,
    settings: StoreSettings,
) -> NewTier | None:
    """decide_tier applied to a locked member (saved by the caller); the new tier when it changed."""
    move = decide_tier(session, tiers, member.id, member.tier_id, member.tier_review_at, now, settings)
    if move is None:
        return None
    member.tier_review_at = move.review_at
    if move.reason is None:
        return None
    record_tier_change(session, operator, member.id, member.tier_id, move, now)
    member.tier_id = move.tier_id
    row = session.connection().execute(_TIER_NAMES, {"tier_id": move.tier_id}).one()
    return NewTier(move.tier_id, row.name, row.name_en)


def record_tier_change(
    session: Session, operator: Operator, member_id: int, from_tier_id: int, move: TierMove, now: dt.datetime
) -> None:
    session.connection().execute(
        _INSERT_TIER_CHANGE,
        {
            "member_id": member_id,
            "from_tier_id": from_tier_id,
            "to_tier_id": move.tier_id,
            "reason": move.reason,
            "staff_id": operator.staff_id,
            "branch_id": operator.branch_id,
            "created_at": now,
        },
    )


def evaluate_tier(
    session: Session, operator: Operator, member: Member, now: dt.datetime, settings: StoreSettings
) -> bool:
    """decide_tier applied to a member loaded through the ORM; True when the tier changed."""
    move = decide_tier(
        session, settings_and_ladder(session)[1], member.id, member.tier_id, member.tier_review_at, now, settings
    )
    if move is None:
        return False
    member.tier_review_at = move.review_at
    if move.reason is None:
        return False
    record_tier_change(session, operator, member.id, member.tier.id, move, now)
    new_tier = session.get(Tier, move.tier_id)
    assert new_tier is not None
    member.tier = new_tier
    return True
