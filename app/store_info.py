"""What the screens read besides members and points: the branch's name, the branches and categories for the forms,
the member list as this operator may see it. The GUI asks here instead of reaching for the database itself."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from app.catalog_queries import BranchRow, CategoryRow, branches, categories
from app.members.lookup import ListCursor
from app.members.profile import Page
from app.members.queries import MemberRow, branch_name, member_page
from app.security.operator import Operator
from db.engine import Database
from db.models import Member


class StoreInfoService:
    def __init__(self, db: Database, operator: Operator) -> None:
        self.db = db
        self.operator = operator

    def branch_name(self) -> str:
        """The operator's branch, for the status bar and printouts."""
        return branch_name(self.db, self.operator.branch_id)

    def branches(self) -> list[BranchRow]:
        return branches(self.db)

    def categories(self) -> list[CategoryRow]:
        return categories(self.db)

    def member_page(self, after: ListCursor | None, limit: int, text: str = "") -> Page[MemberRow]:
        """One page of the member list (after the previous page's `next`); managers and owners see the full phones
        (README: cashiers see them masked)."""
        page = member_page(self.db, after, limit, text)
        if not self.operator.sees_full_phone or not page.rows:
            return page
        ids = [row.id for row in page.rows]
        with self.db.session() as session:
            phones = dict(session.execute(select(Member.id, Member.phone).where(Member.id.in_(ids))).all())
        return replace(page, rows=[replace(row, phone=phones.get(row.id)) for row in page.rows])
