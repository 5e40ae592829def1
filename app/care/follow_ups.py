"""Follow-up calls: the tasks a resolved complaint leaves, and the customer's satisfaction told on the call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.changes import Changes
from app.clock import Clock
from app.errors import ConflictError, NotFoundError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.security.operator import Operator
from app.trust.audit import record_audit
from db.engine import Database
from db.enums import TaskStatus
from db.models import FollowUpTask, Member, Staff


@dataclass(frozen=True)
class FollowUpItem:
    id: int
    title: str
    due_at: dt.datetime | None
    overdue: bool
    complaint_id: int | None
    member_no: str | None
    member_name: str | None
    assignee: str | None


@dataclass(frozen=True)
class FollowUpDone:
    task_id: int
    changes: Changes


class FollowUpService:
    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    def open_tasks(self, limit: int = 500) -> list[FollowUpItem]:
        now = self.clock.now()
        rows = self.db.read(
            lambda s: s.execute(
                select(FollowUpTask, Member.member_no, Member.name, Staff.display_name)
                .outerjoin(Member, Member.id == FollowUpTask.member_id)
                .outerjoin(Staff, Staff.id == FollowUpTask.assigned_to_id)
                .where(FollowUpTask.status == TaskStatus.OPEN)
                .order_by(FollowUpTask.due_at.asc().nulls_last(), FollowUpTask.id)
                .limit(limit)
            ).all()
        )
        return [
            FollowUpItem(
                t.id,
                t.title,
                t.due_at,
                t.due_at is not None and t.due_at < now,
                t.complaint_id,
                member_no,
                name,
                assignee,
            )
            for t, member_no, name, assignee in rows
        ]

    def complete(self, task_id: int, outcome: str, satisfaction: int | None) -> FollowUpDone:
        """Record how the call went; `satisfaction` is the customer's 1–5 (None: not asked or no answer)."""
        outcome = outcome.strip()
        if not outcome:
            raise ValidationError(S("Errors", "Write down how the call went."), field="outcome")
        if satisfaction is not None and not 1 <= satisfaction <= 5:
            raise ValidationError(S("Errors", "Satisfaction must be between 1 and 5."), field="satisfaction")

        def work(session: Session) -> FollowUpDone:
            task = session.scalar(select(FollowUpTask).where(FollowUpTask.id == task_id).with_for_update())
            if task is None:
                raise NotFoundError(S("Errors", "Follow-up task {number} not found."), number=task_id)
            if task.status != TaskStatus.OPEN:
                raise ConflictError(S("Errors", "This follow-up task is already finished."))
            task.status = TaskStatus.DONE
            task.done_at = self.clock.now()
            task.outcome = outcome
            task.satisfaction = satisfaction
            record_audit(
                session, self.operator, "done", "follow_up", task.id, {"satisfaction": satisfaction, "outcome": outcome}
            )
            return FollowUpDone(task.id, Changes.FOLLOW_UPS | Changes.COMPLAINTS)

        return self.db.write(work)
