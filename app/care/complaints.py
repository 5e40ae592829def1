"""Complaints: logging at the counter, the workflow, the resolution with goodwill points, and the list.

Workflow (each step one `complaint_events` row, in the same transaction as the status it sets):
    open → in progress → resolved → closed;  open → resolved (settled on the spot);  resolved/closed → open (reopen).
Assigning someone is an event that keeps the status. Any other move is refused, so the status always equals the
last event's (`db check` proves it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from app.care import points
from app.care.settings import CareSettings, read_care_settings
from app.changes import Changes
from app.clock import Clock
from app.coupons.service import CouponService
from app.errors import ConflictError, NotFoundError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.members.profile import Page
from app.security.operator import Operator
from app.trust.audit import record_audit
from db.engine import Database
from db.enums import ComplaintSeverity, ComplaintStatus, FollowUpReason, MemberStatus, SaleKind, TaskStatus
from db.models import Branch, Complaint, ComplaintEvent, Coupon, FollowUpTask, Member, Sale, Staff

OPEN_STATES = (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS)
MOVES: dict[ComplaintStatus, tuple[ComplaintStatus, ...]] = {
    ComplaintStatus.OPEN: (ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED),
    ComplaintStatus.IN_PROGRESS: (ComplaintStatus.RESOLVED,),
    ComplaintStatus.RESOLVED: (ComplaintStatus.CLOSED, ComplaintStatus.OPEN),
    ComplaintStatus.CLOSED: (ComplaintStatus.OPEN,),
}
STATUS_LABELS = {
    ComplaintStatus.OPEN: S("Care", "Open"),
    ComplaintStatus.IN_PROGRESS: S("Care", "In progress"),
    ComplaintStatus.RESOLVED: S("Care", "Resolved"),
    ComplaintStatus.CLOSED: S("Care", "Closed"),
}
MAX_GOODWILL = 100_000
MAX_REFUND_FEN = 100_000_000
RECENT_SALES = 15


@dataclass(frozen=True)
class ComplaintDraft:
    subject: str
    channel: str
    category: str
    severity: ComplaintSeverity
    member_id: int | None = None
    sale_id: int | None = None
    product: str = ""
    description: str = ""
    due_at: dt.datetime | None = None
    """None: from the severity (settings)."""
    assigned_to_id: int | None = None


@dataclass(frozen=True)
class Resolution:
    text: str
    goodwill_points: int = 0
    refund_fen: int = 0
    approver_pin: str | None = None
    follow_up: bool = True
    coupon_campaign_id: int | None = None
    """Give the member a coupon of this campaign (app.coupons compensation_offers lists them)."""


@dataclass(frozen=True)
class ComplaintSaved:
    complaint_id: int
    status: ComplaintStatus
    changes: Changes


@dataclass(frozen=True)
class SaleChoice:
    sale_id: int
    receipt_no: str | None
    sold_at: dt.datetime
    total_fen: int


@dataclass(frozen=True)
class ComplaintRow:
    id: int
    created_at: dt.datetime
    status: ComplaintStatus
    severity: ComplaintSeverity
    channel: str
    category: str
    product: str | None
    subject: str
    member_no: str | None
    member_name: str | None
    branch_name: str
    assignee: str | None
    due_at: dt.datetime | None
    resolved_at: dt.datetime | None
    overdue: bool


@dataclass(frozen=True)
class EventRow:
    at: dt.datetime
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus
    note: str | None
    staff_name: str | None
    goodwill: bool
    coupon_code: str | None = None
    """The coupon this step gave the member, if any."""


@dataclass(frozen=True)
class FollowUpRow:
    id: int
    title: str
    due_at: dt.datetime | None
    status: TaskStatus
    outcome: str | None
    satisfaction: int | None


@dataclass(frozen=True)
class ComplaintDetail:
    row: ComplaintRow
    member_id: int | None
    description: str | None
    sale: SaleChoice | None
    resolution: str | None
    goodwill_points: int
    refund_fen: int
    events: list[EventRow]
    follow_ups: list[FollowUpRow]
    moves: tuple[ComplaintStatus, ...]


@dataclass(frozen=True)
class ComplaintFilter:
    statuses: tuple[ComplaintStatus, ...] = ()
    category: str | None = None
    branch_id: int | None = None
    assignee_id: int | None = None
    overdue_only: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    search: str = ""
    sort: str = "created_at"
    descending: bool = True
    member_id: int | None = None


@dataclass(frozen=True)
class MemberComplaints:
    open: int
    overdue: int


@dataclass(frozen=True)
class Choice:
    id: int
    name: str


@dataclass(frozen=True)
class ComplaintChoices:
    """What the forms and filters offer."""

    settings: CareSettings
    staff: list[Choice] = field(default_factory=list)
    branches: list[Choice] = field(default_factory=list)


_assignee = aliased(Staff)
SORTS = {
    "created_at": Complaint.created_at,
    "due_at": Complaint.due_at,
    "status": Complaint.status,
    "severity": Complaint.severity,
    "category": Complaint.category,
    "subject": Complaint.subject,
    "id": Complaint.id,
}


def _listed() -> Select[Complaint, str, str | None, str, str]:
    return (
        select(Complaint, Member.member_no, Member.name, Branch.name, _assignee.display_name)
        .outerjoin(Member, Member.id == Complaint.member_id)
        .join(Branch, Branch.id == Complaint.branch_id)
        .outerjoin(_assignee, _assignee.id == Complaint.assigned_to_id)
    )


def _unindexed(column: Any) -> Any:
    """`+column`: the same value, which SQLite's planner will not look up through an index on the column."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def status_label(status: ComplaintStatus) -> str:
    return translate("Care", STATUS_LABELS[status])


class ComplaintService:
    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock
        self._coupons = CouponService(db, operator, clock)

    # ---- reading ---------------------------------------------------------------------------------------------
    def choices(self) -> ComplaintChoices:
        def work(session: Session) -> ComplaintChoices:
            staff = session.execute(
                select(Staff.id, Staff.display_name).where(Staff.active.is_(True)).order_by(Staff.id)
            ).all()
            branches = session.execute(select(Branch.id, Branch.name).order_by(Branch.id)).all()
            return ComplaintChoices(
                read_care_settings(session),
                [Choice(i, n) for i, n in staff],
                [Choice(i, n) for i, n in branches],
            )

        return self.db.read(work)

    def recent_sales(self, member_id: int, limit: int = RECENT_SALES) -> list[SaleChoice]:
        rows = self.db.read(
            lambda s: s.execute(
                select(Sale.id, Sale.receipt_no, Sale.sold_at, Sale.total_fen)
                .where(Sale.member_id == member_id, Sale.kind == SaleKind.SALE)
                .order_by(Sale.sold_at.desc())
                .limit(limit)
            ).all()
        )
        return [SaleChoice(*row) for row in rows]

    def member_summary(self, member_id: int) -> MemberComplaints:
        now = self.clock.now()

        def work(session: Session) -> MemberComplaints:
            row = session.execute(
                select(func.count(), func.coalesce(func.sum(case((Complaint.due_at < now, 1), else_=0)), 0)).where(
                    Complaint.member_id == member_id, Complaint.status.in_(OPEN_STATES)
                )
            ).one()
            return MemberComplaints(int(row[0]), int(row[1]))

        return self.db.read(work)

    def page(self, wanted: ComplaintFilter, offset: int = 0, limit: int = 200) -> Page[ComplaintRow]:
        now = self.clock.now()

        def work(session: Session) -> Page[ComplaintRow]:
            conditions = self._conditions(wanted, now)
            # Counted from the status index alone when only the status is asked for; with a category, branch,
            # assignee or the overdue test besides, SQLite would take the status index and look each complaint up
            # for the rest, so those counts read the covering analysis index instead (status kept off its index).
            narrowed = wanted.member_id is None and (
                wanted.category or wanted.branch_id is not None or wanted.assignee_id is not None or wanted.overdue_only
            )
            counted = self._conditions(wanted, now, True) if narrowed and _is_sqlite(session) else conditions
            total = session.scalar(select(func.count()).select_from(Complaint).where(*counted)) or 0
            if not total:
                return Page([], 0)
            order = SORTS.get(wanted.sort, Complaint.created_at)
            ordering = order.desc() if wanted.descending else order.asc()
            tie = Complaint.id.desc() if wanted.descending else Complaint.id.asc()
            # The page's numbers first, then its rows with their member, branch and assignee: joining before the
            # limit joined every complaint that matched. Newest first, SQLite should walk a time index backwards and
            # stop at the page's end; with no statistics it took the status index instead (it guesses ~10 rows an
            # equal value), read each of 75,000 not-closed complaints and sorted them. So in time order the status
            # and branch are written so that no index serves them (PostgreSQL's planner has statistics).
            walk = order is Complaint.created_at and wanted.member_id is None and _is_sqlite(session)
            where = self._conditions(wanted, now, walk) if walk else conditions
            ids = select(Complaint.id).where(*where).order_by(ordering, tie).offset(offset).limit(limit)
            numbers = list(session.scalars(ids))
            found = {row[0].id: row for row in session.execute(_listed().where(Complaint.id.in_(numbers)))}
            return Page([self._row(*found[number], now=now) for number in numbers], total)

        return self.db.read(work)

    def _conditions(
        self, wanted: ComplaintFilter, now: dt.datetime, unindexed: bool = False
    ) -> list[ColumnElement[bool]]:
        """The filter as conditions; `unindexed` (SQLite only): the status and branch under SQLite's unary `+`,
        which keeps the planner from choosing their indexes."""
        status: Any = _unindexed(Complaint.status) if unindexed else Complaint.status
        branch: Any = _unindexed(Complaint.branch_id) if unindexed else Complaint.branch_id
        conditions: list[ColumnElement[bool]] = []
        if wanted.statuses:
            conditions.append(status.in_(wanted.statuses))
        if wanted.category:
            conditions.append(Complaint.category == wanted.category)
        if wanted.branch_id is not None:
            conditions.append(branch == wanted.branch_id)
        if wanted.assignee_id is not None:
            conditions.append(Complaint.assigned_to_id == wanted.assignee_id)
        if wanted.member_id is not None:
            conditions.append(Complaint.member_id == wanted.member_id)
        if wanted.overdue_only:
            conditions.append(and_(status.in_(OPEN_STATES), Complaint.due_at < now))
        if wanted.since is not None:
            conditions.append(Complaint.created_at >= wanted.since)
        if wanted.until is not None:
            conditions.append(Complaint.created_at < wanted.until)
        text = wanted.search.strip()
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            members = select(Member.id).where(or_(Member.member_no == text, Member.phone == text, Member.name == text))
            conditions.append(
                or_(
                    Complaint.subject.like(pattern, escape="\\"),
                    Complaint.description.like(pattern, escape="\\"),
                    Complaint.product.like(pattern, escape="\\"),
                    Complaint.member_id.in_(members),
                    Complaint.id == (int(text) if text.isdigit() and len(text) < 10 else -1),
                )
            )
        return conditions

    def _row(
        self,
        complaint: Complaint,
        member_no: str | None,
        member_name: str | None,
        branch_name: str,
        assignee: str | None,
        *,
        now: dt.datetime,
    ) -> ComplaintRow:
        return ComplaintRow(
            id=complaint.id,
            created_at=complaint.created_at,
            status=complaint.status,
            severity=complaint.severity,
            channel=complaint.channel,
            category=complaint.category,
            product=complaint.product,
            subject=complaint.subject,
            member_no=member_no,
            member_name=member_name,
            branch_name=branch_name,
            assignee=assignee,
            due_at=complaint.due_at,
            resolved_at=complaint.resolved_at,
            overdue=complaint.status in OPEN_STATES and complaint.due_at is not None and complaint.due_at < now,
        )

    def detail(self, complaint_id: int) -> ComplaintDetail:
        now = self.clock.now()

        def work(session: Session) -> ComplaintDetail:
            found = session.execute(_listed().where(Complaint.id == complaint_id)).first()
            if found is None:
                raise NotFoundError(S("Errors", "Complaint {number} not found."), number=complaint_id)
            complaint = found[0]
            events = session.execute(
                select(ComplaintEvent, Staff.display_name, Coupon.code)
                .outerjoin(Staff, Staff.id == ComplaintEvent.staff_id)
                .outerjoin(Coupon, Coupon.id == ComplaintEvent.coupon_id)
                .where(ComplaintEvent.complaint_id == complaint_id)
                .order_by(ComplaintEvent.id)
            ).all()
            tasks = session.scalars(
                select(FollowUpTask).where(FollowUpTask.complaint_id == complaint_id).order_by(FollowUpTask.id)
            ).all()
            sale = session.get(Sale, complaint.sale_id) if complaint.sale_id is not None else None
            return ComplaintDetail(
                row=self._row(*found, now=now),
                member_id=complaint.member_id,
                description=complaint.description,
                sale=None if sale is None else SaleChoice(sale.id, sale.receipt_no, sale.sold_at, sale.total_fen),
                resolution=complaint.resolution,
                goodwill_points=complaint.goodwill_points,
                refund_fen=complaint.refund_fen,
                events=[
                    EventRow(e.created_at, e.from_status, e.to_status, e.note, name, e.ledger_id is not None, code)
                    for e, name, code in events
                ],
                follow_ups=[FollowUpRow(t.id, t.title, t.due_at, t.status, t.outcome, t.satisfaction) for t in tasks],
                moves=MOVES[complaint.status],
            )

        return self.db.read(work)

    def rows_for_export(self, since: dt.datetime | None, until: dt.datetime | None) -> Iterator[ComplaintRow]:
        """Every complaint created in [since, until), oldest first, read in batches."""
        now = self.clock.now()
        wanted = ComplaintFilter(since=since, until=until)
        with self.db.session() as session:
            query = _listed().where(*self._conditions(wanted, now)).order_by(Complaint.id)
            for row in session.execute(query.execution_options(yield_per=2000)):
                yield self._row(*row, now=now)

    # ---- writing ---------------------------------------------------------------------------------------------
    def log(self, draft: ComplaintDraft, client_uuid: str) -> ComplaintSaved:
        """Record a new complaint. `client_uuid` is made when the form opened: sent twice, it is recorded once."""
        subject = draft.subject.strip()
        if not subject:
            raise ValidationError(S("Errors", "A complaint needs a subject."), field="subject")
        if len(subject) > 200:
            raise ValidationError(S("Errors", "The subject is longer than 200 characters."), field="subject")
        if len(draft.product.strip()) > 100:
            raise ValidationError(
                S("Errors", "The product or supplier is longer than 100 characters."), field="product"
            )
        now = self.clock.now()
        if draft.due_at is not None and draft.due_at <= now:
            raise ValidationError(S("Errors", "The due time is in the past."), field="due_at")

        def work(session: Session) -> ComplaintSaved:
            existing = session.scalar(select(Complaint).where(Complaint.client_uuid == client_uuid))
            if existing is not None:
                return ComplaintSaved(existing.id, existing.status, Changes.NONE)
            settings = read_care_settings(session)
            if draft.channel not in settings.channels:
                raise ValidationError(S("Errors", "Unknown channel: {channel}"), field="channel", channel=draft.channel)
            if draft.category not in settings.categories:
                raise ValidationError(
                    S("Errors", "Unknown category: {category}"), field="category", category=draft.category
                )
            self._check_member_and_sale(session, draft.member_id, draft.sale_id)
            if draft.assigned_to_id is not None:
                self._check_staff(session, draft.assigned_to_id)
            due = draft.due_at or now + dt.timedelta(hours=settings.due_hours(draft.severity))
            complaint = Complaint(
                client_uuid=client_uuid,
                member_id=draft.member_id,
                branch_id=self.operator.branch_id,
                channel=draft.channel,
                category=draft.category,
                severity=draft.severity,
                status=ComplaintStatus.OPEN,
                subject=subject,
                description=draft.description.strip() or None,
                product=draft.product.strip() or None,
                sale_id=draft.sale_id,
                assigned_to_id=draft.assigned_to_id,
                created_by_id=self.operator.staff_id,
                created_at=now,
                due_at=due,
            )
            session.add(complaint)
            session.flush()
            self._event(session, complaint, None, ComplaintStatus.OPEN, None, now)
            record_audit(
                session,
                self.operator,
                "log",
                "complaint",
                complaint.id,
                {"subject": subject, "member": draft.member_id},
            )
            return ComplaintSaved(complaint.id, complaint.status, Changes.COMPLAINTS | Changes.FOLLOW_UPS)

        return self.db.write(work)

    def _check_member_and_sale(self, session: Session, member_id: int | None, sale_id: int | None) -> None:
        if member_id is not None:
            status = session.scalar(select(Member.status).where(Member.id == member_id))
            if status is None or status == MemberStatus.ANONYMISED:
                raise NotFoundError(S("Errors", "Member not found."))
        if sale_id is not None:
            owner = session.execute(select(Sale.member_id).where(Sale.id == sale_id)).first()
            if owner is None:
                raise NotFoundError(S("Errors", "Sale {number} not found."), number=sale_id)
            if member_id is not None and owner[0] != member_id:
                raise ValidationError(S("Errors", "That sale is not this member's."), field="sale")

    def _check_staff(self, session: Session, staff_id: int) -> str:
        name = session.scalar(select(Staff.display_name).where(Staff.id == staff_id, Staff.active.is_(True)))
        if name is None:
            raise NotFoundError(S("Errors", "No such staff account: {name}"), name=str(staff_id))
        return name

    def _event(
        self,
        session: Session,
        complaint: Complaint,
        before: ComplaintStatus | None,
        after: ComplaintStatus,
        note: str | None,
        at: dt.datetime,
        ledger_id: int | None = None,
        coupon_id: int | None = None,
    ) -> None:
        session.add(
            ComplaintEvent(
                complaint_id=complaint.id,
                from_status=before,
                to_status=after,
                note=note,
                staff_id=self.operator.staff_id,
                created_at=at,
                ledger_id=ledger_id,
                coupon_id=coupon_id,
            )
        )

    def _locked(self, session: Session, complaint_id: int) -> Complaint:
        complaint = session.scalar(select(Complaint).where(Complaint.id == complaint_id).with_for_update())
        if complaint is None:
            raise NotFoundError(S("Errors", "Complaint {number} not found."), number=complaint_id)
        return complaint

    def _move(
        self,
        complaint_id: int,
        to: ComplaintStatus,
        note: str,
        resolution: Resolution | None = None,
        goodwill: points.Goodwill | None = None,
        coupon_approver_id: int | None = None,
    ) -> ComplaintSaved:
        note = note.strip()

        def work(session: Session) -> ComplaintSaved:
            complaint = self._locked(session, complaint_id)
            before = complaint.status
            if to not in MOVES[before]:
                raise ConflictError(
                    S("Errors", "A complaint that is {current} cannot become {wanted}."),
                    current=status_label(before),
                    wanted=status_label(to),
                )
            now = self.clock.now()
            complaint.status = to
            changes = Changes.COMPLAINTS
            ledger_id = coupon_id = None
            if resolution is not None:
                changes |= self._apply_resolution(session, complaint, resolution, now)
                step = self._resolutions_before(session, complaint)
                if goodwill is not None:
                    ledger_id = self._post_goodwill(session, complaint, goodwill, step)
                    changes |= Changes.POINTS | Changes.MEMBERS
                if resolution.coupon_campaign_id is not None and coupon_approver_id is not None:
                    coupon_id = self._give_coupon(
                        session, complaint, resolution.coupon_campaign_id, coupon_approver_id, step
                    )
                    changes |= Changes.COUPONS | Changes.MEMBERS
            elif to == ComplaintStatus.OPEN:
                complaint.resolved_at = None
                settings = read_care_settings(session)
                complaint.due_at = now + dt.timedelta(hours=settings.due_hours(complaint.severity))
            self._event(session, complaint, before, to, note or None, now, ledger_id, coupon_id)
            record_audit(
                session, self.operator, to.value, "complaint", complaint.id, {"from": before.value, "note": note}
            )
            return ComplaintSaved(complaint.id, to, changes)

        return self.db.write(work)

    def _apply_resolution(
        self, session: Session, complaint: Complaint, resolution: Resolution, now: dt.datetime
    ) -> Changes:
        complaint.resolved_at = now
        complaint.resolution = resolution.text.strip()
        complaint.goodwill_points += resolution.goodwill_points
        complaint.refund_fen += resolution.refund_fen
        changes = Changes.NONE
        if resolution.follow_up:
            days = read_care_settings(session).follow_up_days
            session.add(
                FollowUpTask(
                    member_id=complaint.member_id,
                    complaint_id=complaint.id,
                    reason=FollowUpReason.COMPLAINT,
                    branch_id=complaint.branch_id,
                    title=translate("Care", S("Care", "Call back: {subject}")).format(subject=complaint.subject)[:200],
                    due_at=now + dt.timedelta(days=days),
                    status=TaskStatus.OPEN,
                    assigned_to_id=complaint.assigned_to_id or self.operator.staff_id,
                    created_by_id=self.operator.staff_id,
                    created_at=now,
                )
            )
            changes |= Changes.FOLLOW_UPS
        return changes

    @staticmethod
    def _resolutions_before(session: Session, complaint: Complaint) -> int:
        """How many times the complaint was resolved before: part of the compensation's idempotency keys, so a retry
        pays once and a resolution after a reopening pays again."""
        return (
            session.scalar(
                select(func.count()).where(
                    ComplaintEvent.complaint_id == complaint.id, ComplaintEvent.to_status == ComplaintStatus.RESOLVED
                )
            )
            or 0
        )

    def _post_goodwill(self, session: Session, complaint: Complaint, goodwill: points.Goodwill, step: int) -> int:
        if complaint.member_id is None:
            raise ValidationError(
                S("Errors", "Goodwill points need a member; this complaint has none."), field="goodwill"
            )
        reason = translate("Care", S("Care", "Goodwill for complaint #{number}: {subject}")).format(
            number=complaint.id, subject=complaint.subject
        )
        return goodwill.post(session, complaint.member_id, reason, points.goodwill_key(complaint.id, step))

    def _give_coupon(
        self, session: Session, complaint: Complaint, campaign_id: int, approver_id: int, step: int
    ) -> int:
        if complaint.member_id is None:
            raise ValidationError(S("Errors", "A coupon needs a member; this complaint has none."), field="coupon")
        key = f"complaint:{complaint.id}:coupon:{step}"
        return self._coupons.give(session, campaign_id, complaint.member_id, key, approver_id).coupon_id

    def start(self, complaint_id: int, note: str = "") -> ComplaintSaved:
        return self._move(complaint_id, ComplaintStatus.IN_PROGRESS, note)

    def close(self, complaint_id: int, note: str = "") -> ComplaintSaved:
        return self._move(complaint_id, ComplaintStatus.CLOSED, note)

    def reopen(self, complaint_id: int, note: str) -> ComplaintSaved:
        if not note.strip():
            raise ValidationError(S("Errors", "Say why the complaint is reopened."), field="note")
        return self._move(complaint_id, ComplaintStatus.OPEN, note)

    def resolve(self, complaint_id: int, resolution: Resolution) -> ComplaintSaved:
        """Settle it: what was done, and any goodwill points (a cashier needs a manager's PIN beyond the adjustment
        limit), a coupon given (a cashier always needs one), refund noted and follow-up call, all in one transaction.
        Points and coupon are keyed on the complaint and how many times it was resolved before, so a retry pays once."""
        if not resolution.text.strip():
            raise ValidationError(S("Errors", "Say what was done to resolve the complaint."), field="resolution")
        if not 0 <= resolution.goodwill_points <= MAX_GOODWILL:
            raise ValidationError(
                S("Errors", "Goodwill points must be between 0 and {most}."), field="goodwill", most=MAX_GOODWILL
            )
        if not 0 <= resolution.refund_fen <= MAX_REFUND_FEN:
            raise ValidationError(S("Errors", "The refund is out of range."), field="refund")
        detail = self.detail(complaint_id)
        if ComplaintStatus.RESOLVED not in detail.moves:
            raise ConflictError(
                S("Errors", "A complaint that is {current} cannot become {wanted}."),
                current=status_label(detail.row.status),
                wanted=status_label(ComplaintStatus.RESOLVED),
            )
        goodwill = None
        if resolution.goodwill_points:
            if detail.member_id is None:
                raise ValidationError(
                    S("Errors", "Goodwill points need a member; this complaint has none."), field="goodwill"
                )
            goodwill = points.Goodwill(
                self.db, self.operator, self.clock, resolution.goodwill_points, resolution.approver_pin
            )
        coupon_approver_id = None
        if resolution.coupon_campaign_id is not None:
            if detail.member_id is None:
                raise ValidationError(S("Errors", "A coupon needs a member; this complaint has none."), field="coupon")
            coupon_approver_id = self._coupons.approve_compensation(resolution.approver_pin)
        return self._move(
            complaint_id, ComplaintStatus.RESOLVED, resolution.text, resolution, goodwill, coupon_approver_id
        )

    def assign(self, complaint_id: int, staff_id: int, note: str = "") -> ComplaintSaved:
        def work(session: Session) -> ComplaintSaved:
            complaint = self._locked(session, complaint_id)
            name = self._check_staff(session, staff_id)
            complaint.assigned_to_id = staff_id
            text = translate("Care", S("Care", "Assigned to {name}")).format(name=name) + (
                f": {note.strip()}" if note.strip() else ""
            )
            now = self.clock.now()
            self._event(session, complaint, complaint.status, complaint.status, text, now)
            record_audit(session, self.operator, "assign", "complaint", complaint.id, {"to": staff_id})
            return ComplaintSaved(complaint.id, complaint.status, Changes.COMPLAINTS)

        return self.db.write(work)
