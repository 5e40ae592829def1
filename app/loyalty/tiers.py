"""Tiers by rolling 12-month spend or points: upgrades at once, downgrades only at the member's review date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select
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


def rolling_metric(session: Session, member_id: int, now: dt.datetime, basis: str) -> int:
    column = Sale.total_fen if basis == "spend" else Sale.points_earned
    value = session.scalar(
        select(func.coalesce(func.sum(column), 0)).where(Sale.member_id == member_id, Sale.sold_at > now - YEAR)
    )
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
    rows = session.execute(
        select(Tier.id, Tier.rank, Tier.min_spend_12m_fen, Tier.min_points_12m).order_by(Tier.rank)
    ).all()
    return [TierRule(*row) for row in rows]


def progress(session: Session, member: Member, now: dt.datetime, settings: dict[str, Any]) -> TierProgress:
    basis = settings["tiers.basis"]
    metric = rolling_metric(session, member.id, now, basis)
    higher = [t for t in all_tiers(session) if t.rank > member.tier.rank]
    if not higher:
        return TierProgress(metric, basis, None, None, 0)
    nxt = higher[0]
    return TierProgress(metric, basis, nxt.name, nxt.name_en, max(0, _threshold(nxt, basis) - metric))


def evaluate_tier(
    session: Session, operator: Operator, member: Member, now: dt.datetime, settings: dict[str, Any]
) -> TierChange | None:
    """Upgrade at once when the member qualifies for more; downgrade only when the review date has come."""
    basis = settings["tiers.basis"]
    target = qualifying_tier(tier_rules(session), rolling_metric(session, member.id, now, basis), basis)
    current = member.tier
    review_due = member.tier_review_at is not None and member.tier_review_at <= now
    review_next = now + dt.timedelta(days=30 * settings["tiers.review_months"])
    if target.rank > current.rank:
        reason = S("Tiers", "Upgrade: 12-month figure reached the threshold")
    elif target.rank < current.rank and review_due:
        reason = S("Tiers", "Review: 12-month figure below the tier's threshold")
    else:
        if review_due:
            member.tier_review_at = review_next
        return None
    change = TierChange(
        member_id=member.id,
        from_tier_id=current.id,
        to_tier_id=target.id,
        reason=reason,
        staff_id=operator.staff_id,
        branch_id=operator.branch_id,
        created_at=now,
    )
    session.add(change)
    new_tier = session.get(Tier, target.id)
    assert new_tier is not None
    member.tier = new_tier
    member.tier_review_at = review_next
    return change
