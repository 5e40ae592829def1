"""The append-only audit log of staff changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.security.operator import Operator
from db.models import AuditLog


def record_audit(
    session: Session,
    operator: Operator,
    action: str,
    entity: str,
    entity_id: int | str | None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditLog(
            staff_id=operator.staff_id,
            branch_id=operator.branch_id,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            details=details or {},
        )
    )
