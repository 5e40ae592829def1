"""What a new store starts with: a branch, the four tiers, the usual supermarket categories and an owner account.

The owner's first PIN is 0000 and the GUI asks for a new one at first sign-in (documented in the README)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.security.pins import hash_pin
from db.engine import Database
from db.enums import StaffRole
from db.models import Branch, Category, Staff, Tier

DEFAULT_OWNER_PIN = "0000"

TIERS = [
    # code, name, name_en, rank, 12-month spend (fen), 12-month points, earn multiplier (%)
    ("normal", "普通会员", "Standard", 1, 0, 0, 100),
    ("silver", "银卡会员", "Silver", 2, 200_000, 2_000, 110),
    ("gold", "金卡会员", "Gold", 3, 800_000, 8_000, 125),
    ("diamond", "钻石会员", "Diamond", 4, 2_000_000, 20_000, 150),
]

CATEGORIES = [
    # code, name, name_en, earns points
    ("fresh", "生鲜果蔬", "Fresh produce", True),
    ("grain", "粮油调味", "Grain, oil & seasoning", True),
    ("snack", "休闲零食", "Snacks", True),
    ("drink", "酒水饮料", "Drinks", True),
    ("daily", "日化清洁", "Household & personal care", True),
    ("baby", "母婴用品", "Mother & baby", True),
    ("frozen", "冷冻冷藏", "Frozen & chilled", True),
    ("tobacco", "烟草", "Tobacco", False),
]


def ensure_store(db: Database) -> None:
    """Create the base rows a store needs if they are missing; never touches existing ones."""

    def work(session: Session) -> None:
        branch = session.scalar(select(Branch).order_by(Branch.id).limit(1))
        if branch is None:
            branch = Branch(code="HQ", name="总店")
            session.add(branch)
            session.flush()
        if session.scalar(select(Tier.id).limit(1)) is None:
            for code, name, name_en, rank, spend, points, mult in TIERS:
                session.add(
                    Tier(
                        code=code,
                        name=name,
                        name_en=name_en,
                        rank=rank,
                        min_spend_12m_fen=spend,
                        min_points_12m=points,
                        earn_multiplier_pct=mult,
                    )
                )
        if session.scalar(select(Category.id).limit(1)) is None:
            for code, name, name_en, earns in CATEGORIES:
                session.add(Category(code=code, name=name, name_en=name_en, earns_points=earns))
        if session.scalar(select(Staff.id).limit(1)) is None:
            session.add(
                Staff(
                    username="owner",
                    display_name="店主",
                    role=StaffRole.OWNER,
                    branch_id=branch.id,
                    pin_hash=hash_pin(DEFAULT_OWNER_PIN),
                )
            )

    db.write(work)
