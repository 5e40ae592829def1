"""What a new store starts with: a branch, the four tiers, the usual supermarket categories and an owner account.

The owner's first PIN is 0000 and the GUI asks for a new one at first sign-in (documented in the README)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.security.pins import DEFAULT_PINS, hash_pin
from db.enums import StaffRole
from db.plain import Reads

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from db.engine import Database

DEFAULT_OWNER_PIN = DEFAULT_PINS[0]

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


BASE_ROWS_SQL = (
    "SELECT (SELECT id FROM branches ORDER BY id LIMIT 1), (SELECT id FROM tiers LIMIT 1),"
    " (SELECT id FROM categories LIMIT 1), (SELECT id FROM staff LIMIT 1)"
)
"""The store's first branch and whether it has tiers, categories and staff: one read, with or without SQLAlchemy."""


def base_rows_missing(reads: Reads) -> bool:
    """Some base row is missing: `ensure_store` has work to do (opening checks it before loading SQLAlchemy)."""
    return None in reads.rows(BASE_ROWS_SQL)[0]


def ensure_store(db: Database) -> None:
    """Create the base rows a store needs if they are missing; never touches existing ones."""
    if not base_rows_missing(db):
        return
    from sqlalchemy import text

    from db.models import Branch, Category, Staff, Tier

    def work(session: Session) -> None:
        branch_id, tier, category, staff = session.execute(text(BASE_ROWS_SQL)).one()
        if branch_id is None:
            branch = Branch(code="HQ", name="总店")
            session.add(branch)
            session.flush()
            branch_id = branch.id
        if tier is None:
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
        if category is None:
            for code, name, name_en, earns in CATEGORIES:
                session.add(Category(code=code, name=name, name_en=name_en, earns_points=earns))
        if staff is None:
            session.add(
                Staff(
                    username="owner",
                    display_name="店主",
                    role=StaffRole.OWNER,
                    branch_id=branch_id,
                    pin_hash=hash_pin(DEFAULT_OWNER_PIN),
                )
            )

    db.write(work)
