"""Follow-up calls still to make, and recording how one went (the customer's satisfaction 1–5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.care.follow_ups import FollowUpDone, FollowUpItem
from app.changes import Changes
from ui import formatting as fmt
from ui.care.complaint_dialogs import due_text
from ui.forms import ActionDialog, InputError
from ui.models import Column, RowsModel, row_table
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services


class FollowUpsView(QWidget):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("followUps")
        self.tasks = tasks
        self.services: Services | None = None
        overdue = lambda t: t.overdue  # noqa: E731
        self.model: RowsModel[FollowUpItem] = RowsModel(
            [
                Column(lambda: self.tr("Due"), lambda t: due_text(t.due_at, t.overdue), negative=overdue),
                Column(lambda: self.tr("Task"), lambda t: t.title, negative=overdue),
                Column(lambda: self.tr("Complaint"), lambda t: f"#{t.complaint_id}" if t.complaint_id else ""),
                Column(lambda: self.tr("Member"), lambda t: t.member_name or t.member_no or ""),
                Column(lambda: self.tr("Assignee"), lambda t: t.assignee or ""),
            ],
            self,
        )
        self.view = row_table(self.model, takes_focus=True)
        self.view.setObjectName("followUpList")
        self.done = QPushButton(self.tr("Record the call…"))
        self.done.setObjectName("recordCall")
        self.done.clicked.connect(self.record_call)
        self.view.activated.connect(lambda _i: self.record_call())
        bar = QHBoxLayout()
        self.count = QLabel()
        bar.addWidget(self.count, 1)
        bar.addWidget(self.done)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(bar)

    def attach(self, services: Services) -> None:
        self.services = services

    def reload(self) -> None:
        if self.services is not None:
            self.tasks.run(self.services.care.follow_ups.open_tasks, self._loaded)

    def _loaded(self, items: list[FollowUpItem]) -> None:
        self.model.set_rows(items)
        self.count.setText(self.tr("{count} calls to make").format(count=fmt.points(len(items))))
        if items:
            self.view.selectRow(0)

    def record_call(self) -> None:
        item = self.model.row_at(self.view.currentIndex().row())
        if item is not None and self.services is not None:
            CallDialog(self.tasks, self.services, item, self).open()


class CallDialog(ActionDialog):
    changes = Changes.FOLLOW_UPS

    def __init__(self, tasks: TaskRunner, services: Services, item: FollowUpItem, parent: QWidget | None) -> None:
        super().__init__(tasks, services, self.tr("Follow-up call"), self.tr("Done"), parent)
        self.setObjectName("callDialog")
        self.item = item
        heading = QLabel(item.title)
        heading.setObjectName("dialogHeading")
        heading.setWordWrap(True)
        self.form.addRow(heading)
        self.outcome = QLineEdit()
        self.outcome.setObjectName("callOutcome")
        self.outcome.setPlaceholderText(self.tr("Required: what the customer said"))
        self.satisfaction = QComboBox()
        self.satisfaction.setObjectName("callSatisfaction")
        self.satisfaction.addItem(self.tr("Not asked"), None)
        for score in range(5, 0, -1):
            self.satisfaction.addItem("★" * score + f" ({score})", score)
        self.add_row(self.tr("Outcome"), "outcome", self.outcome)
        self.add_row(self.tr("Satisfaction"), "satisfaction", self.satisfaction)
        self.resize(440, self.sizeHint().height())
        self.outcome.setFocus()

    def prepare(self) -> Callable[[], Any]:
        outcome = self.outcome.text().strip()
        if not outcome:
            raise InputError(self.tr("Write down how the call went."), "outcome")
        score, service, task_id = self.satisfaction.currentData(), self.services.care.follow_ups, self.item.id
        return lambda: service.complete(task_id, outcome, score)

    def succeeded(self, result: FollowUpDone) -> str:
        return self.tr("Call recorded.")
