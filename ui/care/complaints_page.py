"""The complaints screen: the list (filters, search, sort, overdue in red) with the chosen complaint's whole history
and its workflow buttons; the analysis; and the follow-up calls."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.care.complaints import ComplaintChoices, ComplaintDetail, ComplaintFilter, ComplaintRow, status_label
from app.care.settings import channel_label, severity_label
from app.changes import Changes
from app.coupons.codes import grouped
from app.vocabulary import ComplaintStatus
from ui import formatting as fmt
from ui.care.analysis_view import AnalysisView
from ui.care.complaint_dialogs import ComplaintDialog, NoteDialog, ResolveDialog, due_text
from ui.care.follow_ups_view import FollowUpsView
from ui.care.periods import PeriodBox
from ui.care.settings_dialog import CareSettingsDialog
from ui.models import Column, PagedModel, row_table
from ui.pages.base import Page
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from ui.forms import ActionDialog

PAGE_SIZE = 200
FITTED_ROWS = 40
CASHIER = "cashier"
SEARCH_DEBOUNCE_MS = 250
NOT_CLOSED = (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED)
SORT_KEYS = ("id", "created_at", "status", "severity", "category", None, "subject", None, None, "due_at")


class ComplaintsPage(Page):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("complaintsPage")
        self.choices: ComplaintChoices | None = None
        self.detail: ComplaintDetail | None = None
        self.sort = "created_at"
        self.descending = True
        self.tabs = QTabWidget()
        self.tabs.setObjectName("complaintTabs")
        self.tabs.addTab(self._build_list(), self.tr("Complaints"))
        self.analysis = AnalysisView(tasks)
        self.tabs.addTab(self.analysis, self.tr("Analysis"))
        self.follow_ups = FollowUpsView(tasks)
        self.tabs.addTab(self.follow_ups, self.tr("Follow-up calls"))
        self.tabs.currentChanged.connect(lambda _i: self.reload())
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

    # -- building -----------------------------------------------------------------------------------------------
    def _build_list(self) -> QWidget:
        overdue = lambda r: r.overdue  # noqa: E731
        self.model: PagedModel[ComplaintRow] = PagedModel(
            [
                Column(lambda: self.tr("No."), lambda r: str(r.id), negative=overdue),
                Column(lambda: self.tr("Logged"), lambda r: fmt.local_datetime(r.created_at)),
                Column(lambda: self.tr("Status"), lambda r: status_label(r.status), negative=overdue),
                Column(lambda: self.tr("Severity"), lambda r: severity_label(r.severity)),
                Column(lambda: self.tr("Category"), lambda r: r.category),
                Column(lambda: self.tr("Channel"), lambda r: channel_label(r.channel)),
                Column(lambda: self.tr("Subject"), lambda r: r.subject, negative=overdue),
                Column(lambda: self.tr("Member"), lambda r: r.member_name or r.member_no or ""),
                Column(lambda: self.tr("Assignee"), lambda r: r.assignee or ""),
                Column(lambda: self.tr("Due"), lambda r: due_text(r.due_at, r.overdue), negative=overdue),
                Column(lambda: self.tr("Branch"), lambda r: r.branch_name),
            ],
            self.tasks,
            page_size=PAGE_SIZE,
            parent=self,
        )
        self.model.loaded.connect(self._loaded)
        self.status = QComboBox()
        self.status.setObjectName("statusFilter")
        self.status.addItem(self.tr("Not closed"), NOT_CLOSED)
        self.status.addItem(self.tr("All states"), ())
        for status in ComplaintStatus:
            self.status.addItem(status_label(status), (status,))
        self.category = QComboBox()
        self.category.setObjectName("categoryFilter")
        self.branch = QComboBox()
        self.branch.setObjectName("branchFilter")
        self.assignee = QComboBox()
        self.assignee.setObjectName("assigneeFilter")
        self.period = PeriodBox()
        self.overdue = QCheckBox(self.tr("Overdue only"))
        self.overdue.setObjectName("overdueFilter")
        self.search = QLineEdit()
        self.search.setObjectName("complaintSearch")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(self.tr("Search subject, product, member no. or phone"))
        self._debounce = QTimer(self, singleShot=True, interval=SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.reload)
        self.search.textEdited.connect(lambda _t: self._debounce.start())
        for box in (self.status, self.category, self.branch, self.assignee):
            box.currentIndexChanged.connect(lambda _i: self.reload())
        self.period.changed.connect(self.reload)
        self.overdue.toggled.connect(lambda _c: self.reload())
        self.count = QLabel()
        self.count.setObjectName("complaintCount")
        self.new_button = QPushButton(self.tr("Log a complaint…"))
        self.new_button.setObjectName("newComplaint")
        self.new_button.clicked.connect(self.log_complaint)
        filters = QHBoxLayout()
        for widget in (self.status, self.category, self.branch, self.assignee, self.period, self.overdue):
            filters.addWidget(widget)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.new_button)
        self.settings_button = QPushButton(self.tr("Settings…"))
        self.settings_button.setObjectName("careSettings")
        self.settings_button.clicked.connect(self.edit_settings)
        filters.addWidget(self.settings_button)
        self.view = row_table(self.model, takes_focus=True)
        self.view.setObjectName("complaintList")
        header = self.view.horizontalHeader()
        # Columns fitted to the first rows only: measuring all 200 of a page, for every role of every cell, on each
        # layout took seconds; complaint rows are alike in width.
        header.setResizeContentsPrecision(FITTED_ROWS)
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(1, Qt.SortOrder.DescendingOrder)
        header.sectionClicked.connect(self._sort_by)
        self.view.selectionModel().currentRowChanged.connect(lambda current, _previous: self._chosen(current.row()))
        self.history = QTextBrowser()
        self.history.setObjectName("complaintHistory")
        self.step_buttons: dict[str, QPushButton] = {}
        steps = QHBoxLayout()
        for name, text in (
            ("start", self.tr("Start")),
            ("resolve", self.tr("Resolve…")),
            ("close", self.tr("Close")),
            ("reopen", self.tr("Reopen…")),
            ("assign", self.tr("Assign…")),
        ):
            button = QPushButton(text)
            button.setObjectName(f"{name}Button")
            button.clicked.connect(lambda _c=False, name=name: self.step(name))
            button.setEnabled(False)
            self.step_buttons[name] = button
            steps.addWidget(button)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.history, 1)
        detail_layout.addLayout(steps)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([720, 440])
        splitter.setChildrenCollapsible(False)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.count)
        return page

    # -- page ---------------------------------------------------------------------------------------------------
    def attach(self, services: Services) -> None:
        super().attach(services)
        self.settings_button.setVisible(services.operator.role != CASHIER)
        self.analysis.attach(services)
        self.follow_ups.attach(services)
        self.tasks.run(services.care.complaints.choices, self._choices_loaded)

    def on_changed(self, changes: Changes) -> None:
        if changes & Changes.SETTINGS and self.services is not None:
            self.tasks.run(self.services.care.complaints.choices, self._choices_loaded)
        if changes & (Changes.COMPLAINTS | Changes.FOLLOW_UPS | Changes.SETTINGS):
            self.analysis.data_changed()
            self.reload_when_seen()

    def _choices_loaded(self, choices: ComplaintChoices) -> None:
        self.choices = choices
        for box, items, everything in (
            (self.category, [(c, c) for c in choices.settings.categories], self.tr("All categories")),
            (self.branch, [(b.name, b.id) for b in choices.branches], self.tr("All branches")),
            (self.assignee, [(s.name, s.id) for s in choices.staff], self.tr("Anyone")),
        ):
            box.blockSignals(True)
            box.clear()
            box.addItem(everything, None)
            for text, data in items:
                box.addItem(text, data)
            box.blockSignals(False)
        self.reload()

    def wanted(self) -> ComplaintFilter:
        since, until = self.period.bounds()
        return ComplaintFilter(
            statuses=self.status.currentData() or (),
            category=self.category.currentData(),
            branch_id=self.branch.currentData(),
            assignee_id=self.assignee.currentData(),
            overdue_only=self.overdue.isChecked(),
            since=since,
            until=until,
            search=self.search.text(),
            sort=self.sort,
            descending=self.descending,
        )

    def reload(self) -> None:
        if self.services is None:
            return
        index = self.tabs.currentIndex()
        if index == 1:
            self.analysis.reload()
            return
        if index == 2:
            self.follow_ups.reload()
            return
        self._debounce.stop()
        care, wanted = self.services.care.complaints, self.wanted()
        self.model.set_loader(lambda offset, limit: care.page(wanted, offset, limit))

    def _loaded(self) -> None:
        self.count.setText(self.tr("{count} complaints").format(count=fmt.points(self.model.total)))
        if self.view.currentIndex().row() < 0 and self.model.rowCount():
            self.view.selectRow(0)
        elif not self.model.rowCount():
            self._show_detail(None)

    def _sort_by(self, column: int) -> None:
        key = SORT_KEYS[column] if column < len(SORT_KEYS) else None
        if key is None:
            return
        self.descending = not self.descending if key == self.sort else key in ("created_at", "due_at", "id")
        self.sort = key
        order = Qt.SortOrder.DescendingOrder if self.descending else Qt.SortOrder.AscendingOrder
        self.view.horizontalHeader().setSortIndicator(column, order)
        self.reload()

    # -- detail -------------------------------------------------------------------------------------------------
    def _chosen(self, row: int) -> None:
        chosen = self.model.row_at(row)
        if chosen is None or self.services is None:
            self._show_detail(None)
            return
        care, complaint_id = self.services.care.complaints, chosen.id
        self.tasks.run(lambda: care.detail(complaint_id), self._show_detail)

    def _show_detail(self, detail: ComplaintDetail | None) -> None:
        self.detail = detail
        moves = detail.moves if detail is not None else ()
        self.step_buttons["start"].setEnabled(ComplaintStatus.IN_PROGRESS in moves)
        self.step_buttons["resolve"].setEnabled(ComplaintStatus.RESOLVED in moves)
        self.step_buttons["close"].setEnabled(ComplaintStatus.CLOSED in moves)
        self.step_buttons["reopen"].setEnabled(ComplaintStatus.OPEN in moves)
        self.step_buttons["assign"].setEnabled(detail is not None)
        self.history.setHtml("" if detail is None else self._history_html(detail))

    def _history_html(self, detail: ComplaintDetail) -> str:
        row = detail.row
        e = html.escape
        overdue = self.tr("overdue")
        lines = [
            f"<h3>#{row.id} {e(row.subject)}</h3>",
            "<p>"
            + " · ".join(
                e(part)
                for part in (
                    status_label(row.status),
                    severity_label(row.severity),
                    row.category,
                    channel_label(row.channel),
                    row.product or "",
                )
                if part
            )
            + "</p>",
            "<p>"
            + e(self.tr("Member: {member}").format(member=row.member_name or row.member_no or self.tr("none")))
            + "<br>"
            + e(self.tr("Due: {due}").format(due=fmt.local_datetime(row.due_at)))
            + (f' <b style="color:#c62828">{e(overdue)}</b>' if row.overdue else "")
            + "</p>",
        ]
        if detail.sale is not None:
            receipt = detail.sale.receipt_no or f"#{detail.sale.sale_id}"
            lines.append(
                "<p>"
                + e(
                    self.tr("Purchase: {receipt} on {when}, {amount}").format(
                        receipt=receipt,
                        when=fmt.local_datetime(detail.sale.sold_at),
                        amount=fmt.yuan(detail.sale.total_fen),
                    )
                )
                + "</p>"
            )
        if detail.description:
            lines.append(f"<p>{e(detail.description)}</p>")
        if detail.resolution:
            extras = []
            if detail.goodwill_points:
                extras.append(self.tr("{points} goodwill points").format(points=fmt.points(detail.goodwill_points)))
            if detail.refund_fen:
                extras.append(self.tr("refund {amount}").format(amount=fmt.yuan(detail.refund_fen)))
            heading = self.tr("Resolution")
            lines.append(
                f"<p><b>{e(heading)}:</b> {e(detail.resolution)}"
                + (f" ({e(', '.join(extras))})" if extras else "")
                + "</p>"
            )
        history = self.tr("History")
        lines.append(f"<h4>{e(history)}</h4><table cellspacing=4>")
        for event in detail.events:
            step = status_label(event.to_status) if event.from_status != event.to_status else "·"
            lines.append(
                f"<tr><td>{e(fmt.local_datetime(event.at))}</td><td><b>{e(step)}</b></td>"
                f"<td>{e(event.staff_name or '')}</td><td>{e(event.note or '')}"
                + (" ★" if event.goodwill else "")
                + (
                    " " + e(self.tr("coupon {code}").format(code=grouped(event.coupon_code)))
                    if event.coupon_code
                    else ""
                )
                + "</td></tr>"
            )
        lines.append("</table>")
        for task in detail.follow_ups:
            outcome = task.outcome or self.tr("due {when}").format(when=fmt.local_datetime(task.due_at))
            stars = f" · {'★' * task.satisfaction}" if task.satisfaction else ""
            lines.append(f"<p>☎ {e(task.title)}: {e(outcome)}{stars}</p>")
        return "".join(lines)

    # -- actions ------------------------------------------------------------------------------------------------
    def _open(self, dialog: ActionDialog) -> None:
        dialog.open()

    def log_complaint(self) -> None:
        if self.services is not None:
            self._open(ComplaintDialog(self.tasks, self.services, None, self))

    def edit_settings(self) -> None:
        if self.services is not None and self.choices is not None:
            self._open(CareSettingsDialog(self.tasks, self.services, self.choices.settings, self))

    def step(self, name: str) -> None:
        services, detail = self.services, self.detail
        if services is None or detail is None:
            return
        care, number = services.care.complaints, detail.row.id
        if name == "resolve":
            self._open(ResolveDialog(self.tasks, services, number, detail.member_id is not None, self))
            return
        titles = {
            "start": (self.tr("Start handling #{number}"), self.tr("Start")),
            "close": (self.tr("Close #{number}"), self.tr("Close")),
            "reopen": (self.tr("Reopen #{number}"), self.tr("Reopen")),
            "assign": (self.tr("Assign #{number}"), self.tr("Assign")),
        }
        title, ok = titles[name]
        staff = [(s.id, s.name) for s in self.choices.staff] if name == "assign" and self.choices else None
        calls = {
            "start": lambda note, _c: care.start(number, note),
            "close": lambda note, _c: care.close(number, note),
            "reopen": lambda note, _c: care.reopen(number, note),
            "assign": lambda note, staff_id: care.assign(number, staff_id, note),
        }
        self._open(NoteDialog(self.tasks, services, title.format(number=number), ok, calls[name], staff, self))
