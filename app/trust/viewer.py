"""The audit log as the owner reads it: filtered, paged, newest first, with each branch chain's head."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.members.profile import Page
from app.security.operator import Operator, require_role
from app.trust.chain import canonical
from app.trust.verify import ChainHead, Finding, chain_heads, check_audit
from db.engine import Database
from db.enums import StaffRole
from db.models import AuditLog, Branch, Staff


@dataclass(frozen=True)
class AuditFilter:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    """UTC bounds; `until` is exclusive."""
    staff_id: int | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: str | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: dt.datetime
    branch: str
    seq: int
    staff: str
    action: str
    entity: str
    entity_id: str
    details: str


@dataclass(frozen=True)
class AuditChoices:
    staff: list[tuple[int, str]]
    actions: list[str]
    entities: list[str]


class AuditService:
    """Owner only: the log names who did what to which member."""

    def __init__(self, db: Database, operator: Operator) -> None:
        self.db = db
        self.operator = operator

    def _filtered(self, query: Select[tuple[int]], f: AuditFilter) -> Select[tuple[int]]:
        if f.since is not None:
            query = query.where(AuditLog.created_at >= f.since)
        if f.until is not None:
            query = query.where(AuditLog.created_at < f.until)
        if f.staff_id is not None:
            query = query.where(AuditLog.staff_id == f.staff_id)
        if f.action:
            query = query.where(AuditLog.action == f.action)
        if f.entity:
            query = query.where(AuditLog.entity == f.entity)
        if f.entity_id:
            query = query.where(AuditLog.entity_id == f.entity_id)
        return query

    def entries(self, f: AuditFilter, offset: int = 0, limit: int = 100) -> Page[AuditRow]:
        require_role(self.operator, StaffRole.OWNER)

        def read(session: Session) -> Page[AuditRow]:
            total: int = session.scalar(self._filtered(select(func.count(AuditLog.id)), f)) or 0
            ids = self._filtered(select(AuditLog.id), f).order_by(AuditLog.id.desc()).offset(offset).limit(limit)
            rows = session.execute(
                select(AuditLog, Staff.display_name, Branch.name)
                .outerjoin(Staff, Staff.id == AuditLog.staff_id)
                .outerjoin(Branch, Branch.id == AuditLog.branch_id)
                .where(AuditLog.id.in_(ids.scalar_subquery()))
                .order_by(AuditLog.id.desc())
            ).all()
            return Page(
                [
                    AuditRow(
                        entry.id,
                        entry.created_at,
                        branch or "",
                        entry.seq,
                        staff or "",
                        entry.action,
                        entry.entity,
                        entry.entity_id or "",
                        _readable(entry.details),
                    )
                    for entry, staff, branch in rows
                ],
                total,
            )

        return self.db.read(read)

    def choices(self) -> AuditChoices:
        require_role(self.operator, StaffRole.OWNER)

        def read(session: Session) -> AuditChoices:
            staff = [(i, n) for i, n in session.execute(select(Staff.id, Staff.display_name).order_by(Staff.id))]
            actions = list(session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))
            entities = list(session.scalars(select(AuditLog.entity).distinct().order_by(AuditLog.entity)))
            return AuditChoices(staff, actions, entities)

        return self.db.read(read)

    def heads(self) -> list[ChainHead]:
        require_role(self.operator, StaffRole.OWNER)
        return self.db.read(chain_heads)

    def verify(self) -> list[Finding]:
        """The chain and the ties to sales and ledger rows, as `db check` verifies them."""
        require_role(self.operator, StaffRole.OWNER)
        return self.db.read_snapshot(check_audit)


def _readable(details: dict[str, Any]) -> str:
    """The details as the owner reads them: the tied rows' digests shown as their counts only."""
    rows = details.get("rows")
    if isinstance(rows, dict):
        details = {**details, "rows": {table: summary[0] for table, summary in rows.items()}}
    return canonical(details)
