"""A member's points account, pure: no database, no Qt, no clock.

The one place that says how points move: a credit first pays back a negative balance (debt) and puts the rest in a
new lot; a debit takes from given lots first (a return's own lot, the lots due to expire), then from the open lots,
soonest expiry first (never-expiring last), oldest, lowest id; only a reversal may leave the balance below zero.
Tiers: up at once when the 12-month figure reaches a higher tier, down only when the review date has come.

The counter's ledger (app.loyalty.ledger) loads what a posting needs, asks the book, and writes what it answers;
the demo (app.demo.history) keeps every member's account here in memory; the member import opens accounts here.
Moments are whatever the caller orders by: UTC datetimes at the counter, Unix seconds in the demo.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Generic, NamedTuple, TypeVar

from app.errors import InsufficientPoints
from app.i18n import QT_TRANSLATE_NOOP as S

M = TypeVar("M", int, dt.datetime)
"""A moment: Unix seconds (the demo) or an aware UTC datetime (the counter)."""

UPGRADE_REASON = S("Tiers", "Upgrade: 12-month figure reached the threshold")
REVIEW_REASON = S("Tiers", "Review: 12-month figure below the tier's threshold")


class Lot(Generic[M]):
    """Points earned together, with one expiry; `remaining` goes down as they are spent or expire.

    `order` is the order points are taken in: soonest expiry first (never-expiring last), then oldest, then lowest
    id (the ledger's SQL orders the same way: `expires_at NULLS LAST, earned_at, id`). It never changes, so it is
    made once here rather than by a key function on every debit."""

    __slots__ = ("earned_at", "expires_at", "id", "order", "remaining")

    def __init__(self, lot_id: int, earned_at: M, expires_at: M | None, remaining: int) -> None:
        self.id = lot_id
        self.earned_at: M = earned_at
        self.expires_at: M | None = expires_at
        self.remaining = remaining
        self.order: tuple[bool, M, M, int] = (
            expires_at is None,
            earned_at if expires_at is None else expires_at,
            earned_at,
            lot_id,
        )


_taking_order = attrgetter("order")
_lot_id = attrgetter("id")


class Movement(NamedTuple, Generic[M]):
    """What one posting does to an account (a NamedTuple: the demo makes millions)."""

    balance_after: int
    new_lot_points: int
    """Points that go into a new lot (a credit, after paying back any debt)."""
    taken: list[tuple[Lot[M], int]]
    """(lot, points) a debit took, in order."""


_movement = tuple.__new__
"""Makes a Movement without the NamedTuple's Python-level __new__ (one call less per posting)."""


class Account(Generic[M]):
    """A member's balance and the open lots a posting may take from.

    The demo keeps every lot here for a member's whole history; the counter's ledger builds one per posting with
    the open lots it loaded (none for a credit, which takes nothing). Written for the demo's millions of postings:
    no key functions, no generators, no builtins where a comparison does."""

    __slots__ = ("balance", "next_expiry", "open_lots")

    def __init__(self, balance: int = 0, open_lots: Sequence[Lot[M]] = ()) -> None:
        self.balance = balance
        self.open_lots: list[Lot[M]] = [lot for lot in open_lots if lot.remaining > 0]
        self.next_expiry: M | None = _soonest(self.open_lots) if self.open_lots else None

    def post(
        self,
        delta: int,
        *,
        first: Sequence[Lot[M]] = (),
        only_first: bool = False,
        allow_negative: bool = False,
    ) -> Movement[M]:
        """Apply one posting. A debit takes from `first` (lowest id first; alone when `only_first`), then from
        the open lots in taking order. Only `allow_negative` (a reversal) may take more than the lots hold."""
        balance = self.balance
        self.balance = after = balance + delta
        if delta > 0:
            # A credit first pays back any debt; the rest goes into a new lot.
            new_lot = delta if balance >= 0 else (after if after > 0 else 0)
            return _movement(Movement, (after, new_lot, []))
        if delta < 0:
            return _movement(Movement, (after, 0, self._take(-delta, first, only_first, allow_negative, balance)))
        return _movement(Movement, (after, 0, []))

    def add_lot(self, lot: Lot[M]) -> None:
        """The lot a credit made (its id comes from whoever stores it)."""
        self.open_lots.append(lot)
        expires = lot.expires_at
        if expires is not None and (self.next_expiry is None or expires < self.next_expiry):
            self.next_expiry = expires

    def due(self, until: M) -> list[Lot[M]]:
        """Open lots whose expiry is at or before `until`: what an expiry run at `until` takes."""
        return [lot for lot in self.open_lots if lot.expires_at is not None and lot.expires_at <= until]

    def _take(
        self, need: int, first: Sequence[Lot[M]], only_first: bool, allow_negative: bool, balance: int
    ) -> list[tuple[Lot[M], int]]:
        open_lots = self.open_lots
        if first:
            lots = sorted([lot for lot in first if lot.remaining > 0], key=_lot_id)
            if not only_first:
                chosen = {lot.id for lot in lots}
                lots += sorted([lot for lot in open_lots if lot.id not in chosen], key=_taking_order)
        else:
            lots = [] if only_first else sorted(open_lots, key=_taking_order)
        if not allow_negative and sum([lot.remaining for lot in lots]) < need:
            self.balance = balance
            raise InsufficientPoints(
                S("Errors", "Not enough points: {balance} available, {needed} needed."),
                balance=balance,
                needed=need,
            )
        taken: list[tuple[Lot[M], int]] = []
        for lot in lots:
            remaining = lot.remaining
            if remaining >= need:
                lot.remaining = remaining - need
                taken.append((lot, need))
                break
            lot.remaining = 0
            need -= remaining
            taken.append((lot, remaining))
        self.open_lots = open_lots = [lot for lot in open_lots if lot.remaining > 0]
        self.next_expiry = _soonest(open_lots) if open_lots else None
        return taken


def _soonest(lots: Iterable[Lot[M]]) -> M | None:
    expiries = [lot.expires_at for lot in lots if lot.expires_at is not None]
    return min(expiries) if expiries else None


def refund_expiry(taken_from: Iterable[M | None], otherwise: M | None) -> M | None:
    """Points paid back by a return keep the latest expiry of the lots they were taken from (`otherwise`, the
    expiry of points earned now, when they came from no dated lot)."""
    dated = [expires for expires in taken_from if expires is not None]
    return max(dated) if dated else otherwise


# ---- tiers ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TierRule:
    """A tier's thresholds as plain values."""

    id: int
    rank: int
    min_spend_12m_fen: int
    min_points_12m: int
    earn_multiplier_pct: int


@dataclass(frozen=True, slots=True)
class TierDecision:
    """A new tier for a reason, or (reason None) the same tier with its review date moved on."""

    tier_id: int
    reason: str | None


NEVER = 1 << 62
"""A 12-month figure no member reaches: what qualifies for a tier above the highest."""
_rank = attrgetter("rank")


class TierLadder:
    """The store's tiers and its basis (12-month spend in fen, or 12-month points earned)."""

    __slots__ = ("_by_id", "basis", "rules", "upgrade_from")

    def __init__(self, rules: Sequence[TierRule], basis: str) -> None:
        self.rules = sorted(rules, key=_rank)
        self.basis = basis
        self._by_id = {rule.id: rule for rule in self.rules}
        self.upgrade_from: dict[int, int] = {}
        """Per tier, the least 12-month figure that qualifies for any higher tier (none higher: never): below it,
        and with no review due, `decide` changes nothing."""
        least_above = NEVER
        for rule in reversed(self.rules):  # made on every purchase: one pass, highest rank first
            self.upgrade_from[rule.id] = least_above
            threshold = self.threshold(rule)
            least_above = threshold if threshold < least_above else least_above

    def rule(self, tier_id: int) -> TierRule:
        return self._by_id[tier_id]

    def threshold(self, rule: TierRule) -> int:
        return rule.min_spend_12m_fen if self.basis == "spend" else rule.min_points_12m

    def qualifying(self, metric: int) -> TierRule:
        best = self.rules[0]
        for rule in self.rules:
            if metric >= self.threshold(rule):
                best = rule
        return best

    def decide(self, tier_id: int, metric: int, review_due: bool) -> TierDecision | None:
        """Upgrade at once when the member qualifies for more; downgrade only when the review date has come (and
        then the review date moves on even when the tier stays). None: nothing changes."""
        if not review_due and metric < self.upgrade_from[tier_id]:
            return None
        current = self._by_id[tier_id]
        target = self.qualifying(metric)
        if target.rank > current.rank:
            return TierDecision(target.id, UPGRADE_REASON)
        if target.rank < current.rank and review_due:
            return TierDecision(target.id, REVIEW_REASON)
        return TierDecision(tier_id, None) if review_due else None
