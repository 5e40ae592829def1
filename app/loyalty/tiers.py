"""Tiers by rolling 12-month spend or points: upgrades at once, downgrades only at the member's review date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from app.i18n import QT_TRANSLATE_NOOP as S
from app.security.operator import Operator
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


_ROLLING = {
    basis: select(func.coalesce(func.sum(column), 0)).where(
        Sale.member_id == bindparam("member_id"), Sale.sold_at > bindparam("since")
    )
    for basis, column in (("spend", Sale.total_fen), ("points", Sale.points_earned))
}
_INSERT_TIER_CHANGE = insert(TierChange)
_TIER_RULES = select(Tier.id, Tier.rank, Tier.min_spend_12m_fen, Tier.min_points_12m).order_by(Tier.rank)


def rolling_metric(session: Session, member_id: int, now: dt.datetime, basis: str) -> int:
    value = session.connection().scalar(_ROLLING[basis], {"member_id": member_id, "since": now - YEAR})
    return int(value or 0)


class TierLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def rank(self) -> int: ...
    @property
    def min_spend_12m_fen(self) -> int: ...
    @property
    def min_points_12m(self) -> int: ...


@dataclass(frozen=True)
class TierRule:
    """A tier's thresholds as plain values: read with one Core query on the purchase path, no ORM objects."""

    id: int
    rank: int
    min_spend_12m_fen: int
    min_points_12m: int


T = TypeVar("T", bound=TierLike)


def _threshold(tier: TierLike, basis: str) -> int:
    return tier.min_spend_12m_fen if basis == "spend" else tier.min_points_12m


def qualifying_tier(tiers: Sequence[T], metric: int, basis: str) -> T:
    best = tiers[0]
    for tier in tiers:
        if metric >= _threshold(tier, basis):
            best = tier
    return best


def all_tiers(session: Session) -> list[Tier]:
    return list(session.scalars(select(Tier).order_by(Tier.rank)))


def tier_rules(session: Session) -> list[TierRule]:
    return [TierRule(*row) for row in session.connection().execute(_TIER_RULES)]


def progress(session: Session, member: Member, now: dt.datetime, settings: dict[str, Any]) -> TierProgress:
    basis = settings["tiers.basis"]
    metric = rolling_metric(session, member.id, now, basis)
    higher = [t for t in all_tiers(session) if t.rank > member.tier.rank]
    if not higher:
        return TierProgress(metric, basis, None, None, 0)
    nxt = higher[0]
    return TierProgress(metric, basis, nxt.name, nxt.name_en, max(0, _threshold(nxt, basis) - metric))


@dataclass(frozen=True)
class TierMove:
    """What a tier evaluation decided: a new tier for a reason, or (reason None) only the next review date."""

    tier_id: int
    review_at: dt.datetime
    reason: str | None


def decide_tier(
    session: Session,
    member_id: int,
    tier_id: int,
    tier_rank: int,
    review_at: dt.datetime | None,
    now: dt.datetime,
    settings: dict[str, Any],
) -> TierMove | None:
    """Upgrade at once when the member qualifies for more; downgrade only when the review date has come."""
    basis = settings["tiers.basis"]
    target = qualifying_tier(tier_rules(session), rolling_metric(session, member_id, now, basis), basis)
    review_due = review_at is not None and review_at <= now
    review_next = now + dt.timedelta(days=30 * settings["tiers.review_months"])
    if target.rank > tier_rank:
        return TierMove(target.id, review_next, S("Tiers", "Upgrade: 12-month figure reached the threshold"))
    if target.rank < tier_rank and review_due:
        return TierMove(target.id, review_next, S("Tiers", "Review: 12-month figure below the tier's threshold"))
    return TierMove(tier_id, review_next, None) if review_due else None


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
    session: Session, operator: Operator, member: Member, now: dt.datetime, settings: dict[str, Any]
) -> bool:
    """decide_tier applied to a member loaded through the ORM; True when the tier changed."""
    move = decide_tier(session, member.id, member.tier.id, member.tier.rank, member.tier_review_at, now, settings)
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
