"""The counter's loyalty service: one class over the jobs, each in its own module.

Each public method is one write transaction: the sale, its lines, the ledger rows, the lots, the balance, the tier
and the audit row commit together or not at all. Each takes an idempotency key made by the counter when the action
started, so a double click or a re-sent request returns the first result instead of doing the work twice. Results
are plain values that say what they changed (app.loyalty.results); docs/ARCHITECTURE.md draws the whole.
"""

from __future__ import annotations

from app.loyalty.adjustments import Adjustments
from app.loyalty.expiry import Expiry
from app.loyalty.gifts import Gifts
from app.loyalty.job import Progress
from app.loyalty.purchases import Purchases
from app.loyalty.results import (
    AdjustmentResult,
    GiftOffer,
    GiftResult,
    MaintenanceResult,
    PurchasePreview,
    PurchaseRequest,
    PurchaseResult,
    ReturnResult,
    SaleLineInput,
)
from app.loyalty.returns import Returns
from app.loyalty.tier_review import TierReview

__all__ = [
    "AdjustmentResult",
    "GiftOffer",
    "GiftResult",
    "LoyaltyService",
    "MaintenanceResult",
    "PurchasePreview",
    "PurchaseRequest",
    "PurchaseResult",
    "ReturnResult",
    "SaleLineInput",
]


class LoyaltyService(Purchases, Returns, Gifts, Adjustments, Expiry, TierReview):
    def daily_maintenance(self, progress: Progress | None = None) -> MaintenanceResult:
        """What runs when the counter starts and once a day after: expire due points, apply due tier reviews.
        Safe to run on several counters at once: each step is idempotent and per-member. The GUI runs it in a
        process of its own (app/jobs.py)."""
        return MaintenanceResult(self.expire_points(progress), self.review_tiers(progress))
