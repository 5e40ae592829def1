"""Read-only lists the counter's forms choose from: the store's categories (for the lines of a purchase) and its
branches (a member's home branch). The GUI may not touch SQLAlchemy, so each list is one short read session that
returns plain rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.settings import read_settings
from db.engine import Database
from db.models import Branch, Category


@dataclass(frozen=True)
class CategoryRow:
    code: str
    name: str
    name_en: str
    earns_points: bool
    """False when the category itself earns nothing or the store's settings exclude it: the same two rules the
    purchase applies, so the counter marks exactly the lines that will earn nothing."""


@dataclass(frozen=True)
class BranchRow:
    id: int
    code: str
    name: str


def categories(db: Database) -> list[CategoryRow]:
    """Every category in the order the store created them (the bootstrap puts the common ones first)."""
    with db.session() as session:
        excluded = set(read_settings(session).points_excluded_categories)
        rows = session.execute(
            select(Category.code, Category.name, Category.name_en, Category.earns_points).order_by(Category.id)
        ).all()
    return [CategoryRow(code, name, name_en, earns and code not in excluded) for code, name, name_en, earns in rows]


def branches(db: Database) -> list[BranchRow]:
    """The active branches, the first-created (head office) first."""
    with db.session() as session:
        rows = session.execute(
            select(Branch.id, Branch.code, Branch.name).where(Branch.active.is_(True)).order_by(Branch.id)
        ).all()
    return [BranchRow(id_, code, name) for id_, code, name in rows]
