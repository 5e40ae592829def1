"""The demo store's fixed rows (branches, staff, products, gifts, tags) and the rules the history is made under.

Made through the ORM in one transaction, get-or-create by natural key, so `--force` on a store that already has
them reuses them instead of failing on a unique index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.catalog import BRANCHES, GIFTS, PRODUCTS, STAFF, ProductSpec
from app.loyalty.rules import EarnPolicy, RedeemPolicy
from app.loyalty.tiers import all_tiers
from app.security.pins import hash_pin
from app.settings import StoreSettings, read_settings
from db.engine import Database
from db.enums import StaffRole
from db.models import Branch, Category, Gift, Product, Staff, Tag, Tier


@dataclass(frozen=True)
class ProductRow:
    id: int
    category_id: int
    name: str
    price_fen: int
    earns_points: bool


@dataclass
class GiftRow:
    id: int
    name: str
    points_price: int
    stock: int


@dataclass(frozen=True)
class Shop:
    """Everything the generator needs from the database, read once."""

    settings: StoreSettings
    earn: EarnPolicy
    redeem: RedeemPolicy
    tiers: list[Tier]
    branch_ids: list[int]
    """In catalog order; the first is the bootstrap's 总店."""
    branch_shares: list[float]
    counter_staff: dict[int, list[int]]
    """Per branch: who rings up sales there (its cashier first, then a manager who helps at busy times)."""
    owner_id: int
    manager_id: int
    groceries: list[ProductRow]
    baby: list[ProductRow]
    tobacco: list[ProductRow]
    gifts: list[GiftRow]
    tag_ids: dict[str, int]


def ean13(body12: str) -> str:
    """An EAN-13 barcode (GS1 prefix 69x is China) with its check digit."""
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def _get_or_add(session: Session, model: Any, where: Any, make: Any) -> Any:
    row = session.scalar(select(model).where(where))
    if row is None:
        row = make()
        session.add(row)
        session.flush()
    return row


def prepare_shop(db: Database, members: int, tags: list[str], now: dt.datetime) -> Shop:
    """Create what is missing and read back the ids and rules. PINs are hashed here (four accounts, ~0.1 s each)."""

    def work(session: Session) -> Shop:
        branches: list[Branch] = []
        for index, spec in enumerate(BRANCHES):
            if index == 0:
                # The bootstrap's first branch is the head store, whatever its code.
                first = session.scalar(select(Branch).order_by(Branch.id).limit(1))
                assert first is not None, "ensure_store makes the first branch"
                branches.append(first)
                continue
            branches.append(
                _get_or_add(
                    session,
                    Branch,
                    Branch.code == spec.code,
                    lambda spec=spec: Branch(
                        code=spec.code, name=spec.name, address=spec.address, phone=spec.phone, created_at=now
                    ),
                )
            )
        branch_by_code = {spec.code: branch.id for spec, branch in zip(BRANCHES, branches, strict=True)}
        staff_ids: dict[str, int] = {}
        for person in STAFF:
            staff = _get_or_add(
                session,
                Staff,
                Staff.username == person.username,
                lambda person=person: Staff(
                    username=person.username,
                    display_name=person.display_name,
                    role=person.role,
                    branch_id=branch_by_code[person.branch_code],
                    pin_hash=hash_pin(person.pin),
                    created_at=now,
                ),
            )
            staff_ids[person.username] = staff.id
        owner = session.scalar(select(Staff.id).where(Staff.role == StaffRole.OWNER).order_by(Staff.id).limit(1))
        counter_staff = {
            branch_by_code[person.branch_code]: [staff_ids[person.username]]
            for person in STAFF
            if person.role == StaffRole.CASHIER
        }
        counter_staff[branches[0].id].append(staff_ids["manager"])

        categories = {c.code: c for c in session.scalars(select(Category))}
        products: list[tuple[ProductSpec, Product]] = []
        for number, item in enumerate(PRODUCTS, start=1):
            category = categories[item.category]
            product = _get_or_add(
                session,
                Product,
                Product.sku == item.sku,
                lambda item=item, category=category, number=number: Product(
                    sku=item.sku,
                    barcode=ean13(f"6920000{number:05d}"),
                    name=item.name,
                    category_id=category.id,
                    price_fen=item.price_fen,
                ),
            )
            products.append((item, product))
        settings = read_settings(session)
        excluded = set(settings.points_excluded_categories)
        rows = {
            item.sku: ProductRow(
                product.id,
                product.category_id,
                product.name,
                product.price_fen,
                categories[item.category].earns_points and item.category not in excluded,
            )
            for item, product in products
        }
        gifts = [
            _get_or_add(
                session,
                Gift,
                Gift.name == gift.name,
                lambda gift=gift: Gift(
                    name=gift.name,
                    name_en=gift.name_en,
                    points_price=gift.points_price,
                    stock=max(gift.stock_per_3000_members, gift.stock_per_3000_members * members // 3000),
                    created_at=now,
                ),
            )
            for gift in GIFTS
        ]
        tag_ids = {
            name: _get_or_add(session, Tag, Tag.name == name, lambda name=name: Tag(name=name)).id for name in tags
        }
        tiers = all_tiers(session)
        for tier in tiers:
            session.expunge(tier)
        return Shop(
            settings=settings,
            earn=EarnPolicy.from_settings(settings),
            redeem=RedeemPolicy.from_settings(settings),
            tiers=tiers,
            branch_ids=[b.id for b in branches],
            branch_shares=[spec.share for spec in BRANCHES],
            counter_staff=counter_staff,
            owner_id=owner or staff_ids["manager"],
            manager_id=staff_ids["manager"],
            groceries=[rows[s.sku] for s in PRODUCTS if s.category not in ("baby", "tobacco")],
            baby=[rows[s.sku] for s in PRODUCTS if s.category == "baby"],
            tobacco=[rows[s.sku] for s in PRODUCTS if s.category == "tobacco"],
            gifts=[GiftRow(g.id, g.name, g.points_price, g.stock) for g in gifts if g.active],
            tag_ids=tag_ids,
        )

    return db.write(work)
