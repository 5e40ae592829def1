"""What managers and owners set up for the counter: the gift catalogue (manager) and the tier thresholds (owner).
Every change is validated before anything is written, and audited."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.changes import Changes
from app.errors import NotFoundError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.security.operator import Operator, require_role
from app.trust.audit import record_audit
from db.engine import Database
from db.enums import StaffRole
from db.models import Gift, Tier

MAX_POINTS = 10_000_000


@dataclass(frozen=True)
class GiftInput:
    name: str
    points_price: int
    stock: int
    name_en: str | None = None
    active: bool = True
    branch_only: bool = False
    """True: only this branch offers it; False: every branch."""


@dataclass(frozen=True)
class CatalogueGift:
    """A gift as the catalogue screen shows and edits it."""

    id: int
    name: str
    name_en: str | None
    points_price: int
    stock: int
    active: bool
    branch_id: int | None
    """None: every branch offers it."""


@dataclass(frozen=True)
class TierView:
    id: int
    code: str
    name: str
    name_en: str
    rank: int
    min_spend_12m_fen: int
    min_points_12m: int
    earn_multiplier_pct: int


@dataclass(frozen=True)
class CatalogueResult:
    """A change to the gifts or the tiers; `id` is the gift added or changed (None for the tiers)."""

    id: int | None
    changes: Changes = Changes.CATALOGUE


@dataclass(frozen=True)
class TierInput:
    name: str
    name_en: str
    min_spend_12m_fen: int
    min_points_12m: int
    earn_multiplier_pct: int


class CatalogueService:
    def __init__(self, db: Database, operator: Operator) -> None:
        self.db = db
        self.operator = operator

    # ---- gifts ---------------------------------------------------------------------------------------------
    def _check_gift(self, data: GiftInput) -> None:
        if not data.name.strip() or len(data.name.strip()) > 100:
            raise ValidationError(S("Errors", "A gift needs a name of at most 100 characters."), field="name")
        if not 0 < data.points_price <= MAX_POINTS:
            raise ValidationError(
                S("Errors", "A gift's points price must be between 1 and 10,000,000."), field="points_price"
            )
        if not 0 <= data.stock <= 1_000_000:
            raise ValidationError(S("Errors", "Stock must be between 0 and 1,000,000."), field="stock")

    def add_gift(self, data: GiftInput) -> CatalogueResult:
        require_role(self.operator, StaffRole.MANAGER)
        self._check_gift(data)

        def work(session: Session) -> int:
            gift = Gift(
                name=data.name.strip(),
                name_en=(data.name_en or "").strip() or None,
                points_price=data.points_price,
                stock=data.stock,
                active=data.active,
                branch_id=self.operator.branch_id if data.branch_only else None,
            )
            session.add(gift)
            session.flush()
            record_audit(
                session,
                self.operator,
                "add",
                "gift",
                gift.id,
                {"name": gift.name, "points_price": gift.points_price, "stock": gift.stock},
            )
            return gift.id

        return CatalogueResult(self.db.write(work))

    def update_gift(self, gift_id: int, data: GiftInput) -> CatalogueResult:
        require_role(self.operator, StaffRole.MANAGER)
        self._check_gift(data)

        def work(session: Session) -> None:
            gift = session.get(Gift, gift_id, with_for_update=True)
            if gift is None:
                raise NotFoundError(S("Errors", "Gift not found."))
            before = {"name": gift.name, "points_price": gift.points_price, "stock": gift.stock, "active": gift.active}
            gift.name = data.name.strip()
            gift.name_en = (data.name_en or "").strip() or None
            gift.points_price = data.points_price
            gift.stock = data.stock
            gift.active = data.active
            gift.branch_id = self.operator.branch_id if data.branch_only else None
            record_audit(
                session,
                self.operator,
                "update",
                "gift",
                gift_id,
                {
                    "before": before,
                    "after": {
                        "name": gift.name,
                        "points_price": gift.points_price,
                        "stock": gift.stock,
                        "active": gift.active,
                    },
                },
            )

        self.db.write(work)
        return CatalogueResult(gift_id)

    def all_gifts(self) -> list[CatalogueGift]:
        with self.db.session() as session:
            rows = session.execute(
                select(
                    Gift.id, Gift.name, Gift.name_en, Gift.points_price, Gift.stock, Gift.active, Gift.branch_id
                ).order_by(Gift.active.desc(), Gift.points_price)
            )
            return [CatalogueGift(*row) for row in rows]

    # ---- tiers ---------------------------------------------------------------------------------------------
    def tiers(self) -> list[TierView]:
        with self.db.session() as session:
            rows = session.execute(
                select(
                    Tier.id,
                    Tier.code,
                    Tier.name,
                    Tier.name_en,
                    Tier.rank,
                    Tier.min_spend_12m_fen,
                    Tier.min_points_12m,
                    Tier.earn_multiplier_pct,
                ).order_by(Tier.rank)
            )
            return [TierView(*row) for row in rows]

    def update_tiers(self, changes: dict[int, TierInput]) -> CatalogueResult:
        """Owner only. Thresholds must rise with the rank and the lowest tier must need nothing, so every member
        qualifies for exactly one tier. Members move at their next purchase (up) or review (down)."""
        require_role(self.operator, StaffRole.OWNER)

        def work(session: Session) -> None:
            tiers = list(session.scalars(select(Tier).order_by(Tier.rank).with_for_update()))
            by_id = {t.id: t for t in tiers}
            unknown = set(changes) - by_id.keys()
            if unknown:
                raise NotFoundError(S("Errors", "Tier not found."))
            merged = [
                changes.get(t.id)
                or TierInput(t.name, t.name_en, t.min_spend_12m_fen, t.min_points_12m, t.earn_multiplier_pct)
                for t in tiers
            ]
            for data in merged:
                if not data.name.strip() or not data.name_en.strip():
                    raise ValidationError(S("Errors", "A tier needs a Chinese and an English name."), field="name")
                if not 100 <= data.earn_multiplier_pct <= 1000:
                    raise ValidationError(
                        S("Errors", "A tier's points multiplier must be 100 % to 1000 %."), field="earn_multiplier_pct"
                    )
                if data.min_spend_12m_fen < 0 or data.min_points_12m < 0:
                    raise ValidationError(S("Errors", "Thresholds cannot be negative."), field="threshold")
            if merged[0].min_spend_12m_fen or merged[0].min_points_12m:
                raise ValidationError(
                    S("Errors", "The lowest tier must need no spend and no points."), field="threshold"
                )
            for lower, higher in pairwise(merged):
                if higher.min_spend_12m_fen <= lower.min_spend_12m_fen or higher.min_points_12m <= lower.min_points_12m:
                    raise ValidationError(
                        S("Errors", "Each tier must need more than the tier below it."), field="threshold"
                    )
            for tier, data in zip(tiers, merged, strict=True):
                if tier.id in changes:
                    record_audit(
                        session,
                        self.operator,
                        "update",
                        "tier",
                        tier.id,
                        {
                            "from": [tier.min_spend_12m_fen, tier.min_points_12m, tier.earn_multiplier_pct],
                            "to": [data.min_spend_12m_fen, data.min_points_12m, data.earn_multiplier_pct],
                        },
                    )
                    tier.name, tier.name_en = data.name.strip(), data.name_en.strip()
                    tier.min_spend_12m_fen, tier.min_points_12m = data.min_spend_12m_fen, data.min_points_12m
                    tier.earn_multiplier_pct = data.earn_multiplier_pct

        self.db.write(work)
        return CatalogueResult(None)
