"""Follow-ups (定期跟进): the list over every task with due today / overdue / open / done views, the member panel's
tab with the member's own (done ones stay as their history), a new task for a member, and recording the outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from ui import formatting as fmt
from ui.forms import ActionDialog, InputError
from ui.models import Column, RowsModel, row_table
from ui.pages.base import Page
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.care.follow_ups import (
        FollowUpCounts,
        FollowUpDone,
        FollowUpItem,
        FollowUpPlan,
        FollowUpReason,
        FollowUpSaved,
        FollowUpView,
    )
    from app.context import Services


def _fu() -> ModuleType:
    """The follow-ups vocabularies, imported when first used: the counter's panel is built at start-up, before
    SQLAlchemy (which app.care.follow_ups brings) needs to be loaded."""
    import app.care.follow_ups as follow_ups

    return follow_ups


def _t(text: str) -> str:
    return QCoreApplication.translate("FollowUps", text)


def _due(item: FollowUpItem) -> str:
    text = fmt.local_date(item.due_at) if item.due_at else ""
    return f"⚠ {text}" if item.overdue else text


def _result(item: FollowUpItem) -> str:
    parts = [item.outcome or "", "★" * item.satisfaction if item.satisfaction else "", item.note or ""]
    return " · ".join(p for p in parts if p)


def follow_up_columns(with_member: bool) -> list[Column[FollowUpItem]]:
    overdue: Callable[[FollowUpItem], bool] = lambda t: t.overdue  # noqa: E731
    columns: list[Column[FollowUpItem]] = [
        Column(lambda: QCoreApplication.translate("FollowUps", "Due"), _due, negative=overdue),
        Column(lambda: QCoreApplication.translate("FollowUps", "Reason"), lambda t: _t(_fu().REASON_LABELS[t.reason])),
        Column(lambda: QCoreApplication.translate("FollowUps", "Task"), lambda t: t.title, negative=overdue),
    ]
    if with_member:
        columns.append(
            Column(
                lambda: QCoreApplication.translate("FollowUps", "Member"), lambda t: t.member_name or t.member_no or ""
            )
        )
    columns += [
        Column(
            lambda: QCoreApplication.translate("FollowUps", "Channel"), lambda t: _t(_fu().CHANNEL_LABELS[t.channel])
        ),
        Column(lambda: QCoreApplication.translate("FollowUps", "Assignee"), lambda t: t.assignee or ""),
        Column(
            lambda: QCoreApplication.translate("FollowUps", "Done"),
            lambda t: fmt.local_date(t.done_at) if t.done_at else "",
        ),
        Column(lambda: QCoreApplication.translate("FollowUps", "Outcome and note"), _result),
    ]
    return columns


class FollowUpsView(QWidget):
    """Every follow-up of the store, by view; Enter or Record the outcome… on an open one."""

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("followUps")
        self.tasks = tasks
        self.services: Services | None = None
        self.filter = QComboBox()
        self.filter.setObjectName("followUpFilter")
        for view, text in (
            (_fu().FollowUpView.DUE_TODAY, self.tr("Due today")),
            (_fu().FollowUpView.OVERDUE, self.tr("Overdue")),
            (_fu().FollowUpView.OPEN, self.tr("All open")),
            (_fu().FollowUpView.DONE, self.tr("Done")),
        ):
            self.filter.addItem(text, view)
        self.filter.setCurrentIndex(2)
        self.filter.currentIndexChanged.connect(lambda _i: self.reload())
        self.count = QLabel()
        self.count.setObjectName("followUpCounts")
        self.model: RowsModel[FollowUpItem] = RowsModel(follow_up_columns(with_member=True), self)
        self.view = row_table(self.model, takes_focus=True)
        self.view.setObjectName("followUpList")
        self.done = QPushButton(self.tr("Record the outcome…"))
        self.done.setObjectName("recordCall")
        self.done.clicked.connect(self.record_call)
        self.view.activated.connect(lambda _i: self.record_call())
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Show")))
        top.addWidget(self.filter)
        top.addWidget(self.count, 1)
        top.addWidget(self.done)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)

    def attach(self, services: Services) -> None:
        self.services = services

    def show_view(self, view: FollowUpView) -> None:
        self.filter.setCurrentIndex(self.filter.findData(view))

    def reload(self) -> None:
        services = self.services
        if services is None:
            return
        view = self.filter.currentData()
        self.tasks.run(lambda: services.care.follow_ups.tasks(view), self._loaded)
        self.tasks.run(services.care.follow_ups.counts, self._counted)

    def _loaded(self, items: list[FollowUpItem]) -> None:
        self.model.set_rows(items)
        if items:
            self.view.selectRow(0)
        self.done.setEnabled(self.filter.currentData() != _fu().FollowUpView.DONE and bool(items))

    def _counted(self, counts: FollowUpCounts) -> None:
        self.count.setText(
            self.tr("Due today {today} · overdue {overdue} · open {open}").format(
                today=fmt.points(counts.due_today), overdue=fmt.points(counts.overdue), open=fmt.points(counts.open)
            )
        )

    def record_call(self) -> None:
        item = self.model.row_at(self.view.currentIndex().row())
        if item is not None and item.status == _fu().TaskStatus.OPEN and self.services is not None:
            CallDialog(self.tasks, self.services, item, self).open()


class FollowUpsPage(Page):
    """The follow-ups screen of the main window."""

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        heading = QLabel(self.tr("Follow-ups"))
        heading.setObjectName("pageHeading")
        self.list = FollowUpsView(tasks)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.list, 1)

    def attach(self, services: Services) -> None:
        super().attach(services)
        self.list.attach(services)
        self.reload()

    def reload(self) -> None:
        self.list.reload()

    def on_changed(self, changes: Changes) -> None:
        if changes & (Changes.FOLLOW_UPS | Changes.MEMBERS):
            self.reload_when_seen()


class MemberFollowUpsTab(QWidget):
    """The open member's follow-ups in the member panel: open ones first, then the done ones (their history)."""

    def __init__(self, tasks: TaskRunner) -> None:
        super().__init__()
        self.setObjectName("memberFollowUps")
        self.tasks = tasks
        self.services: Services | None = None
        self.member_id: int | None = None
        self.member_name = ""
        self.model: RowsModel[FollowUpItem] = RowsModel(follow_up_columns(with_member=False), self)
        self.view = row_table(self.model, takes_focus=False)
        self.new_button = QPushButton(QCoreApplication.translate("FollowUps", "New follow-up…"))
        self.new_button.setObjectName("newFollowUp")
        self.new_button.clicked.connect(self.new_task)
        self.done_button = QPushButton(QCoreApplication.translate("FollowUps", "Record the outcome…"))
        self.done_button.setObjectName("memberRecordCall")
        self.done_button.clicked.connect(self.record_call)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.done_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

    def show_member(self, services: Services, member_id: int) -> None:
        """The member's tasks; the panel sets `member_name` when the profile arrives (for the dialog's title)."""
        if member_id != self.member_id:
            self.member_name = ""
        self.services, self.member_id = services, member_id
        self.reload()

    def reload(self) -> None:
        services, member_id = self.services, self.member_id
        if services is None or member_id is None:
            return
        self.tasks.run(
            lambda: services.care.follow_ups.member_tasks(member_id),
            lambda rows: self.model.set_rows(rows) if self.member_id == member_id else None,
        )

    def new_task(self) -> None:
        if self.services is not None and self.member_id is not None:
            dialog = NewFollowUpDialog(self.tasks, self.services, self.member_id, self.member_name, self)
            dialog.completed.connect(lambda _text: self.reload())
            dialog.open()

    def record_call(self) -> None:
        item = self.model.row_at(self.view.currentIndex().row())
        if item is None:
            item = next((row for row in self.model.rows() if row.status == _fu().TaskStatus.OPEN), None)
        if item is not None and item.status == _fu().TaskStatus.OPEN and self.services is not None:
            dialog = CallDialog(self.tasks, self.services, item, self)
            dialog.completed.connect(lambda _text: self.reload())
            dialog.open()


class PlanFields:
    """The rows that say what a follow-up is (reason, due day, channel, assignee, title, note), on any action
    dialog: one member's task or tasks for a whole set."""

    def __init__(self, dialog: ActionDialog, reason: FollowUpReason) -> None:
        self.reason = QComboBox()
        self.reason.setObjectName("followUpReason")
        for value, text in _fu().REASON_LABELS.items():
            if value != _fu().FollowUpReason.COMPLAINT:  # complaint call-backs are made by resolving the complaint
                self.reason.addItem(_t(text), value)
        self.reason.setCurrentIndex(max(0, self.reason.findData(reason)))
        self.due = QDateEdit(QDate.currentDate())
        self.due.setObjectName("followUpDue")
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("yyyy-MM-dd")
        self.channel = channel_box()
        self.assignee = QComboBox()
        self.assignee.setObjectName("followUpAssignee")
        self.assignee.addItem(QCoreApplication.translate("FollowUps", "Anyone"), None)
        self.title = QLineEdit()
        self.title.setObjectName("followUpTitle")
        self.title.setMaxLength(200)
        self.title.setPlaceholderText(QCoreApplication.translate("FollowUps", "Optional: the reason says it"))
        self.note = QPlainTextEdit()
        self.note.setObjectName("followUpNote")
        self.note.setFixedHeight(60)
        dialog.add_row(QCoreApplication.translate("FollowUps", "Reason"), "reason", self.reason)
        dialog.add_row(QCoreApplication.translate("FollowUps", "Due"), "due", self.due)
        dialog.add_row(QCoreApplication.translate("FollowUps", "Channel"), "channel", self.channel)
        dialog.add_row(QCoreApplication.translate("FollowUps", "Assignee"), "assignee", self.assignee)
        dialog.add_row(QCoreApplication.translate("FollowUps", "Task"), "title", self.title)
        dialog.add_row(QCoreApplication.translate("FollowUps", "Note"), "note", self.note)
        service = dialog.services.care.follow_ups
        dialog.tasks.run(service.assignees, self._assignees)

    def _assignees(self, staff: list[tuple[int, str]]) -> None:
        for staff_id, name in staff:
            self.assignee.addItem(name, staff_id)

    def plan(self) -> FollowUpPlan:
        due = self.due.date().toPython()
        assert isinstance(due, dt.date)
        if due < dt.date.today() - dt.timedelta(days=1):
            raise InputError(QCoreApplication.translate("FollowUps", "Choose a due day from today on."), "due")
        return _fu().FollowUpPlan(
            self.reason.currentData(),
            due,
            self.channel.currentData(),
            self.assignee.currentData(),
            self.title.text(),
            self.note.toPlainText(),
        )


def channel_box(current: str = "phone") -> QComboBox:
    box = QComboBox()
    box.setObjectName("followUpChannel")
    for value, text in _fu().CHANNEL_LABELS.items():
        box.addItem(_t(text), value)
    box.setCurrentIndex(box.findData(current))
    return box


class NewFollowUpDialog(ActionDialog):
    changes = Changes.FOLLOW_UPS

    def __init__(self, tasks: TaskRunner, services: Services, member_id: int, name: str, parent: QWidget | None):
        title = (
            QCoreApplication.translate("FollowUps", "New follow-up: {name}").format(name=name)
            if name
            else QCoreApplication.translate("FollowUps", "New follow-up")
        )
        super().__init__(tasks, services, title, QCoreApplication.translate("FollowUps", "Save"), parent)
        self.setObjectName("newFollowUpDialog")
        self.member_id = member_id
        self.fields = PlanFields(self, _fu().FollowUpReason.CUSTOM)
        self.resize(460, self.sizeHint().height())

    def prepare(self) -> Callable[[], Any]:
        plan, member_id, service = self.fields.plan(), self.member_id, self.services.care.follow_ups
        return lambda: service.create(member_id, plan)

    def succeeded(self, result: FollowUpSaved) -> str:
        return QCoreApplication.translate("FollowUps", "Follow-up saved.")


class CallDialog(ActionDialog):
    changes = Changes.FOLLOW_UPS

    def __init__(self, tasks: TaskRunner, services: Services, item: FollowUpItem, parent: QWidget | None) -> None:
        super().__init__(tasks, services, self.tr("Follow-up call"), self.tr("Done"), parent)
        self.setObjectName("callDialog")
        self.item = item
        who = item.member_name or item.member_no
        heading = QLabel(f"{item.title} — {who}" if who else item.title)
        heading.setObjectName("dialogHeading")
        heading.setWordWrap(True)
        self.form.addRow(heading)
        self.channel = channel_box(item.channel)
        self.outcome = QLineEdit()
        self.outcome.setObjectName("callOutcome")
        self.outcome.setPlaceholderText(self.tr("Required: what the customer said"))
        self.satisfaction = QComboBox()
        self.satisfaction.setObjectName("callSatisfaction")
        self.satisfaction.addItem(self.tr("Not asked"), None)
        for score in range(5, 0, -1):
            self.satisfaction.addItem("★" * score + f" ({score})", score)
        self.note = QPlainTextEdit(item.note or "")
        self.note.setObjectName("callNote")
        self.note.setFixedHeight(60)
        self.add_row(QCoreApplication.translate("FollowUps", "Channel"), "channel", self.channel)
        self.add_row(self.tr("Outcome"), "outcome", self.outcome)
        self.add_row(self.tr("Satisfaction"), "satisfaction", self.satisfaction)
        self.add_row(QCoreApplication.translate("FollowUps", "Note"), "note", self.note)
        self.resize(460, self.sizeHint().height())
        self.outcome.setFocus()

    def prepare(self) -> Callable[[], Any]:
        outcome = self.outcome.text().strip()
        if not outcome:
            raise InputError(self.tr("Write down how the call went."), "outcome")
        score, service, task_id = self.satisfaction.currentData(), self.services.care.follow_ups, self.item.id
        note, channel = self.note.toPlainText(), self.channel.currentData()
        return lambda: service.complete(task_id, outcome, score, note=note, channel=channel)

    def succeeded(self, result: FollowUpDone) -> str:
        return self.tr("Call recorded.")
