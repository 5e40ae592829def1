"""What the loyalty services take and give back: plain frozen values, never ORM rows. Each result of an operation
that changes data says what it changed (`changes`), so screens refresh from it instead of guessing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from app.changes import Changes

PURCHASE_CHANGES = Changes.POINTS | Changes.SALES | Changes.MEMBERS
"""A purchase or a return: the member's points, their sales, and their visits, spend and maybe tier."""


@dataclass(frozen=True)
class SaleLineInput:
    amount_fen: int
    category_code: str | None = None
    product_id: int | None = None
    description: str | None = None
    quantity: int = 1


@dataclass(frozen=True)
class PurchaseRequest:
    member_id: int
    total_fen: int
    idempotency_key: str
    points_to_use: int = 0
    receipt_no: str | None = None
    lines: Sequence[SaleLineInput] = ()
    sold_at: dt.datetime | None = None
    note: str | None = None
    coupon_discount_fen: int = 0
    """What a coupon takes off the purchase: not paid in money, so it earns no points."""


@dataclass(frozen=True)
class PurchasePreview:
    total_fen: int
    points_to_use: int
    points_value_fen: int
    paid_fen: int
    points_to_earn: int
    max_points_usable: int
    points_step: int
    balance_before: int
    balance_after: int
    member_day: bool
    coupon_discount_fen: int = 0


@dataclass(frozen=True)
class PurchaseResult:
    sale_id: int
    points_earned: int
    points_used: int
    points_value_fen: int
    paid_fen: int
    balance_after: int
    tier_changed_to: str | None
    tier_changed_to_en: str | None = None
    replayed: bool = False
    coupon_discount_fen: int = 0
    changes: Changes = PURCHASE_CHANGES


@dataclass(frozen=True)
class ReturnResult:
    return_sale_id: int
    points_reversed: int
    points_refunded: int
    balance_after: int
    replayed: bool = False
    changes: Changes = PURCHASE_CHANGES


@dataclass(frozen=True)
class GiftOffer:
    """A gift the counter can hand out."""

    id: int
    name: str
    name_en: str | None
    points_price: int
    stock: int


@dataclass(frozen=True)
class GiftResult:
    redemption_id: int
    points: int
    balance_after: int
    replayed: bool = False
    changes: Changes = Changes.POINTS | Changes.CATALOGUE
    """The member's points and the gift's stock."""


@dataclass(frozen=True)
class AdjustmentResult:
    ledger_id: int
    delta: int
    balance_after: int
    approved_by_id: int | None
    replayed: bool = False
    changes: Changes = Changes.POINTS


@dataclass(frozen=True)
class MaintenanceResult:
    points_expired: int
    tiers_changed: int

    @property
    def changes(self) -> Changes:
        changed = Changes.NONE
        if self.points_expired:
            changed |= Changes.POINTS
        if self.tiers_changed:
            changed |= Changes.MEMBERS
        return changed
