"""The audit log as the owner reads it: filtered, paged, newest first, with each branch chain's head."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from app.errors import NotFoundError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.importing.tables import write_table
from app.members.profile import Page
from app.security.operator import Operator, require_role
from app.settings import read_settings
from app.trust.audit import record_export
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
    branch_id: int | None = None


EXPORT_COLUMNS = ["id", "time", "branch", "seq", "staff", "action", "entity", "entity_id", "details"]


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


EXPORT_PAGE = 5000


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
        if f.branch_id is not None:
            query = query.where(AuditLog.branch_id == f.branch_id)
        return query

    @staticmethod
    def _rows(session: Session, ids: Select[tuple[int]]) -> Iterator[AuditRow]:
        rows = session.execute(
            select(AuditLog, Staff.display_name, Branch.name)
            .outerjoin(Staff, Staff.id == AuditLog.staff_id)
            .outerjoin(Branch, Branch.id == AuditLog.branch_id)
            .where(AuditLog.id.in_(ids.scalar_subquery()))
            .order_by(AuditLog.id.desc())
        )
        for entry, staff, branch in rows:
            yield AuditRow(
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

    def entries(self, f: AuditFilter, offset: int = 0, limit: int = 100) -> Page[AuditRow]:
        require_role(self.operator, StaffRole.OWNER)

        def read(session: Session) -> Page[AuditRow]:
            total: int = session.scalar(self._filtered(select(func.count(AuditLog.id)), f)) or 0
            ids = self._filtered(select(AuditLog.id), f).order_by(AuditLog.id.desc()).offset(offset).limit(limit)
            return Page(list(self._rows(session, ids)), total)

        return self.db.read(read)

    def export(self, f: AuditFilter, path: Path) -> int:
        """Every entry the filter keeps, newest first, to CSV or XLSX (times in the store's time); audited."""
        require_role(self.operator, StaffRole.OWNER)
        if path.suffix.lower() not in (".csv", ".xlsx"):
            raise ValidationError(S("Errors", "Export to a .csv or .xlsx file."))

        def rows(session: Session) -> Iterator[list[object]]:
            zone = ZoneInfo(read_settings(session).store_timezone)
            newest = self._filtered(select(AuditLog.id), f).order_by(AuditLog.id.desc())
            last: int | None = None
            while True:  # in pages of ids, so neither database is handed one huge IN list
                page = newest if last is None else newest.where(AuditLog.id < last)
                batch = list(self._rows(session, page.limit(EXPORT_PAGE)))
                for r in batch:
                    at = f"{r.at.astimezone(zone):%Y-%m-%d %H:%M:%S}"
                    yield [r.id, at, r.branch, r.seq, r.staff, r.action, r.entity, r.entity_id, r.details]
                if len(batch) < EXPORT_PAGE:
                    return
                last = batch[-1].id

        with self.db.session() as session:
            count = write_table(path, EXPORT_COLUMNS, rows(session))
        record_export(self.db, self.operator, "audit", path, count)
        return count

    def staff_id(self, name: str) -> int:
        """The staff account a filter names, by username or display name."""
        wanted = name.strip()
        found = self.db.read(
            lambda s: s.scalar(
                select(Staff.id).where(or_(Staff.username == wanted, Staff.display_name == wanted)).limit(1)
            )
        )
        if found is None:
            raise NotFoundError(S("Errors", "No such staff account: {name}"), name=name)
        return found

    def branch_id(self, name: str) -> int:
        """The branch a filter names, by name or number."""
        wanted = name.strip()
        named = [Branch.name == wanted]
        if wanted.isascii() and wanted.isdigit() and len(wanted) < 10:
            named.append(Branch.id == int(wanted))
        found = self.db.read(lambda s: s.scalar(select(Branch.id).where(or_(*named)).limit(1)))
        if found is None:
            raise NotFoundError(S("Errors", "No branch named {name}."), name=name)
        return found

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
