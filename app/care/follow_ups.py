"""Follow-ups (定期跟进): tasks to contact a member — after a complaint, on a churn warning, for a birthday, or for any
reason staff write down — with a due day, a channel, an assignee, and the outcome once done.

Due days are the store's days: a task is due today when its due time falls on the store's today, overdue when it
fell on an earlier day and the task is still open. Done tasks are kept: they are the member's contact history.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, case, func, insert, select
from sqlalchemy.orm import Session

from app.changes import Changes
from app.clock import Clock
from app.errors import ConflictError, NotFoundError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.security.operator import Operator
from app.settings import read_settings
from app.trust.audit import record_audit
from db.engine import Database
from db.enums import FollowUpChannel as FollowUpChannel  # re-exported for the screens (ui/ never imports db/)
from db.enums import FollowUpReason as FollowUpReason
from db.enums import MemberStatus
from db.enums import TaskStatus as TaskStatus
from db.models import FollowUpTask, Member, Staff

REASON_LABELS = {
    FollowUpReason.CHURN_WARNING: S("FollowUps", "Churn warning"),
    FollowUpReason.COMPLAINT: S("FollowUps", "Complaint"),
    FollowUpReason.BIRTHDAY: S("FollowUps", "Birthday"),
    FollowUpReason.CUSTOM: S("FollowUps", "Other"),
}
CHANNEL_LABELS = {
    FollowUpChannel.PHONE: S("FollowUps", "Phone"),
    FollowUpChannel.WECHAT: S("FollowUps", "WeChat"),
    FollowUpChannel.IN_STORE: S("FollowUps", "In store"),
}
DEFAULT_TITLES = {
    FollowUpReason.CHURN_WARNING: S("FollowUps", "Win back: has not been in for a while"),
    FollowUpReason.COMPLAINT: S("FollowUps", "Call back about the complaint"),
    FollowUpReason.BIRTHDAY: S("FollowUps", "Birthday greeting"),
    FollowUpReason.CUSTOM: S("FollowUps", "Follow up"),
}
MAX_NOTE = 1000


class FollowUpView(enum.StrEnum):
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True)
class FollowUpItem:
    id: int
    title: str
    reason: FollowUpReason
    channel: FollowUpChannel
    due_at: dt.datetime | None
    status: TaskStatus
    overdue: bool
    complaint_id: int | None
    member_id: int | None
    member_no: str | None
    member_name: str | None
    assignee: str | None
    outcome: str | None
    note: str | None
    satisfaction: int | None
    done_at: dt.datetime | None


@dataclass(frozen=True)
class FollowUpCounts:
    due_today: int
    overdue: int
    open: int


@dataclass(frozen=True)
class FollowUpPlan:
    """What a new task (or each task of a set) says: why, when (the store's day), how, who."""

    reason: FollowUpReason
    due: dt.date
    channel: FollowUpChannel = FollowUpChannel.PHONE
    assignee_id: int | None = None
    title: str = ""
    note: str = ""

    def cleaned(self) -> FollowUpPlan:
        """Checked, with the default title; the vocabularies as enums again (a combo box hands back plain text)."""
        reason, channel = FollowUpReason(self.reason), FollowUpChannel(self.channel)
        title = self.title.strip() or translate("FollowUps", DEFAULT_TITLES[reason])
        if len(title) > 200:
            raise ValidationError(S("Errors", "A follow-up title has at most 200 characters."), field="title")
        note = self.note.strip()
        if len(note) > MAX_NOTE:
            raise ValidationError(S("Errors", "A note has at most 1,000 characters."), field="note")
        return FollowUpPlan(reason, self.due, channel, self.assignee_id, title, note)


@dataclass(frozen=True)
class FollowUpSaved:
    task_id: int
    changes: Changes = Changes.FOLLOW_UPS


@dataclass(frozen=True)
class FollowUpDone:
    task_id: int
    changes: Changes


def day_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant the store's day begins (a task due that day is stored at it)."""
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


def task_rows(
    plan: FollowUpPlan,
    member_ids: Sequence[int],
    operator: Operator,
    now: dt.datetime,
    zone: ZoneInfo,
    idempotency_key: str | None,
) -> list[dict[str, Any]]:
    """The rows of tasks following `plan` for these members (the plan already cleaned); one per member."""
    due = day_start(plan.due, zone)
    return [
        {
            "client_uuid": str(uuid.uuid4()),
            "member_id": member_id,
            "branch_id": operator.branch_id,
            "title": plan.title,
            "reason": plan.reason,
            "channel": plan.channel,
            "due_at": due,
            "status": TaskStatus.OPEN,
            "assigned_to_id": plan.assignee_id,
            "created_by_id": operator.staff_id,
            "created_at": now,
            "note": plan.note or None,
            "idempotency_key": f"{idempotency_key}:{member_id}" if idempotency_key else None,
        }
        for member_id in member_ids
    ]


PER_ROW = ("client_uuid", "member_id", "idempotency_key")


def insert_tasks(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """The rows (from `task_rows`) straight to the driver. A set's tasks share every value but the uuid, the member
    and the key, so each shared value is made ready for the driver once, not once per row (SQLAlchemy's per-row
    processing took most of the time for 60,000 tasks)."""
    if not rows:
        return
    columns = list(rows[0])
    table = FollowUpTask.__table__
    ready: dict[tuple[str, Any], Any] = {}

    def bound(column: str, value: Any) -> Any:
        if (column, value) not in ready:
            process = table.c[column].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            ready[column, value] = process(value) if process is not None and value is not None else value
        return ready[column, value]

    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO follow_up_tasks ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})",
        [tuple(row[c] if c in PER_ROW else bound(c, row[c]) for c in columns) for row in rows],
    )


def check_assignee(session: Session, assignee_id: int | None) -> None:
    if assignee_id is not None and session.scalar(select(Staff.id).where(Staff.id == assignee_id)) is None:
        raise ValidationError(S("Errors", "Choose who makes the follow-up."), field="assignee")


class FollowUpService:
    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    def _today(self, session: Session) -> tuple[dt.datetime, dt.datetime]:
        zone = ZoneInfo(read_settings(session).store_timezone)
        today = self.clock.now().astimezone(zone).date()
        return day_start(today, zone), day_start(today + dt.timedelta(days=1), zone)

    def _select(self) -> Select[FollowUpTask, str, str | None, str]:
        return (
            select(FollowUpTask, Member.member_no, Member.name, Staff.display_name)
            .outerjoin(Member, Member.id == FollowUpTask.member_id)
            .outerjoin(Staff, Staff.id == FollowUpTask.assigned_to_id)
        )

    def _items(self, session: Session, query: Select[FollowUpTask, str, str | None, str]) -> list[FollowUpItem]:
        start, _ = self._today(session)
        return [
            FollowUpItem(
                t.id,
                t.title,
                t.reason,
                t.channel,
                t.due_at,
                t.status,
                t.status == TaskStatus.OPEN and t.due_at is not None and t.due_at < start,
                t.complaint_id,
                t.member_id,
                member_no,
                name,
                assignee,
                t.outcome,
                t.note,
                t.satisfaction,
                t.done_at,
            )
            for t, member_no, name, assignee in session.execute(query).all()
        ]

    def open_tasks(self, limit: int = 500) -> list[FollowUpItem]:
        return self.tasks(FollowUpView.OPEN, limit)

    def tasks(self, view: FollowUpView, limit: int = 500) -> list[FollowUpItem]:
        """Due today, overdue, every open one (soonest first), or done (latest first)."""

        def work(session: Session) -> list[FollowUpItem]:
            start, end = self._today(session)
            query = self._select()
            if view == FollowUpView.DONE:
                query = query.where(FollowUpTask.status == TaskStatus.DONE).order_by(
                    FollowUpTask.done_at.desc(), FollowUpTask.id.desc()
                )
            else:
                query = query.where(FollowUpTask.status == TaskStatus.OPEN)
                if view == FollowUpView.DUE_TODAY:
                    query = query.where(FollowUpTask.due_at >= start, FollowUpTask.due_at < end)
                elif view == FollowUpView.OVERDUE:
                    query = query.where(FollowUpTask.due_at < start)
                query = query.order_by(FollowUpTask.due_at.asc().nulls_last(), FollowUpTask.id)
            return self._items(session, query.limit(limit))

        return self.db.read(work)

    def counts(self) -> FollowUpCounts:
        def work(session: Session) -> FollowUpCounts:
            start, end = self._today(session)
            due = FollowUpTask.due_at
            today, overdue, total = session.execute(
                select(
                    func.coalesce(func.sum(case(((due >= start) & (due < end), 1), else_=0)), 0),
                    func.coalesce(func.sum(case((due < start, 1), else_=0)), 0),
                    func.count(),
                ).where(FollowUpTask.status == TaskStatus.OPEN)
            ).one()
            return FollowUpCounts(int(today), int(overdue), int(total))

        return self.db.read(work)

    def member_tasks(self, member_id: int, limit: int = 200) -> list[FollowUpItem]:
        """The member's follow-ups: open ones first (soonest due first), then the done ones, latest first."""
        query = (
            self._select()
            .where(FollowUpTask.member_id == member_id)
            .order_by(
                case((FollowUpTask.status == TaskStatus.OPEN, 0), else_=1),
                FollowUpTask.due_at.asc().nulls_last(),
                FollowUpTask.done_at.desc(),
                FollowUpTask.id.desc(),
            )
            .limit(limit)
        )
        return self.db.read(lambda session: self._items(session, query))

    def assignees(self) -> list[tuple[int, str]]:
        """Active staff, who can be given a follow-up."""
        return self.db.read(
            lambda session: [
                (staff_id, name)
                for staff_id, name in session.execute(
                    select(Staff.id, Staff.display_name).where(Staff.active.is_(True)).order_by(Staff.display_name)
                )
            ]
        )

    def create(self, member_id: int, plan: FollowUpPlan) -> FollowUpSaved:
        """One task for one member; any operator may write one down (for themselves or a colleague)."""
        clean = plan.cleaned()

        def work(session: Session) -> FollowUpSaved:
            status = session.scalar(select(Member.status).where(Member.id == member_id))
            if status is None or status == MemberStatus.ANONYMISED:
                raise NotFoundError(S("Errors", "Member not found."))
            check_assignee(session, clean.assignee_id)
            zone = ZoneInfo(read_settings(session).store_timezone)
            rows = task_rows(clean, [member_id], self.operator, self.clock.now(), zone, None)
            task_id = session.execute(insert(FollowUpTask).returning(FollowUpTask.id), rows[0]).scalar_one()
            record_audit(
                session,
                self.operator,
                "create",
                "follow_up",
                task_id,
                {"member_id": member_id, "reason": clean.reason.value, "due": clean.due.isoformat()},
            )
            return FollowUpSaved(task_id, Changes.FOLLOW_UPS | Changes.MEMBERS)

        return self.db.write(work)

    def complete(
        self,
        task_id: int,
        outcome: str,
        satisfaction: int | None,
        note: str | None = None,
        channel: FollowUpChannel | None = None,
    ) -> FollowUpDone:
        """Record how the contact went; `satisfaction` is the customer's 1–5 (None: not asked or no answer),
        `channel` how they were reached in the end (None: as planned)."""
        outcome = outcome.strip()
        if not outcome:
            raise ValidationError(S("Errors", "Write down how the call went."), field="outcome")
        if satisfaction is not None and not 1 <= satisfaction <= 5:
            raise ValidationError(S("Errors", "Satisfaction must be between 1 and 5."), field="satisfaction")
        if note is not None and len(note.strip()) > MAX_NOTE:
            raise ValidationError(S("Errors", "A note has at most 1,000 characters."), field="note")

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
            if note is not None:
                task.note = note.strip() or None
            if channel is not None:
                task.channel = FollowUpChannel(channel)
            record_audit(
                session,
                self.operator,
                "done",
                "follow_up",
                task.id,
                {"satisfaction": satisfaction, "outcome": outcome, "channel": task.channel.value},
            )
            return FollowUpDone(task.id, Changes.FOLLOW_UPS | Changes.COMPLAINTS | Changes.MEMBERS)

        return self.db.write(work)
