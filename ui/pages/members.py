"""The member list: every member, newest first, fetched a page at a time as the list scrolls, with the lookup
box's kinds of filter. Double-click (or Enter) opens the member at the counter. Managers import a member file from
here: the import runs in a process of its own (app/jobs.py) with its progress and a Stop button beside the filter."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.vocabulary import StaffRole
from ui import formatting as fmt
from ui.i18n import local_name
from ui.jobs import JobStatus, Progress, jobs_for
from ui.labels import MEMBER_STATUSES, label
from ui.messages import show_info
from ui.models import Column, PagedModel, number_column, row_table
from ui.pages.base import Page
from ui.signals import emit
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.importing.report import ImportReport
    from app.members.queries import MemberRow

FILTER_DEBOUNCE_MS = 250
PAGE_SIZE = 100
REFUSED_SHOWN = 20
"""Refused lines listed after an import (the rest are counted; `main.py members import` lists them all)."""


class MembersPage(Page):
    open_member = Signal(int)

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("membersPage")
        self.model: PagedModel[MemberRow] = PagedModel(
            [
                Column(lambda: self.tr("Member no."), lambda m: m.member_no),
                Column(lambda: self.tr("Name"), lambda m: m.name),
                Column(lambda: self.tr("Phone"), lambda m: m.phone or m.masked_phone),
                Column(lambda: self.tr("Card"), lambda m: m.card_no or ""),
                Column(lambda: self.tr("Tier"), lambda m: local_name(m.tier_name, m.tier_name_en)),
                number_column(lambda: self.tr("Points"), lambda m: m.points, fmt.points),
                Column(lambda: self.tr("Last visit"), lambda m: fmt.local_date(m.last_visit_at)),
                Column(lambda: self.tr("Joined"), lambda m: fmt.local_date(m.joined_at)),
                Column(lambda: self.tr("Status"), lambda m: label(MEMBER_STATUSES, m.status)),
            ],
            tasks,
            page_size=PAGE_SIZE,
            parent=self,
        )
        self.model.loaded.connect(self._show_count)
        self.filter = QLineEdit()
        self.filter.setObjectName("memberFilter")
        self.filter.setClearButtonEnabled(True)
        self.filter.setPlaceholderText(self.tr("Filter: phone, last 4 digits, name, pinyin initials or card number"))
        self._debounce = QTimer(self, singleShot=True, interval=FILTER_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._load)
        self.filter.textEdited.connect(lambda _text: self._debounce.start())
        self.count = QLabel()
        self.count.setObjectName("memberCount")
        self.view = row_table(self.model, takes_focus=True)
        self.view.setObjectName("memberList")
        self.view.activated.connect(self._activated)
        self.view.doubleClicked.connect(self._activated)
        self.import_button = QPushButton(self.tr("Import members…"))
        self.import_button.setObjectName("importMembers")
        self.import_button.clicked.connect(self.choose_import)
        self.import_button.hide()
        self.job = JobStatus(tasks)
        self.job.idle.connect(lambda: self.import_button.setEnabled(True))
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.count)
        top.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.job)
        layout.addWidget(self.view, 1)

    def attach(self, services: Services) -> None:
        super().attach(services)
        self.import_button.setVisible(services.operator.at_least(StaffRole.MANAGER))
        self._load()

    def choose_import(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, self.tr("Import members"), "", self.tr("Member files (*.csv *.xlsx)")
        )
        if path:
            self.start_import(Path(path))

    def start_import(self, path: Path) -> None:
        """The file is read, judged and written by a process of its own; valid rows are imported a batch at a
        time, so Stop keeps the batches already committed (importing the file again adds the rest)."""
        if self.services is None:
            return
        jobs = jobs_for(self.services)

        def run(progress: Progress) -> ImportReport:
            return jobs().import_members(path, progress=progress)

        self.import_button.setEnabled(False)
        self.job.run(
            self.tr("Importing {file}").format(file=path.name),
            run,
            self._imported,
            changes=Changes.MEMBERS | Changes.POINTS,
        )

    def _imported(self, report: ImportReport) -> None:
        lines = [report.summary()]
        lines += [
            self.tr("Line {line}: {reason}").format(line=row.line, reason=row.reason)
            for row in report.refused[:REFUSED_SHOWN]
        ]
        if len(report.refused) > REFUSED_SHOWN:
            lines.append(self.tr("… and {count} more refused lines").format(count=len(report.refused) - REFUSED_SHOWN))
        show_info(self, "\n".join(lines))

    def on_changed(self, changes: Changes) -> None:
        if changes & (Changes.MEMBERS | Changes.POINTS):
            self.reload_when_seen()

    def reload(self) -> None:
        self.model.reload()

    def _load(self) -> None:
        self._debounce.stop()
        if self.services is None:
            return
        info, text = self.services.info, self.filter.text()
        self.model.set_keyset_loader(lambda after, limit: info.member_page(after, limit, text))

    def _show_count(self) -> None:
        shown = self.tr("More than {count} members") if self.model.more else self.tr("{count} members")
        self.count.setText(shown.format(count=fmt.points(self.model.total)))

    def _activated(self) -> None:
        row = self.model.row_at(self.view.currentIndex().row())
        if row is not None:
            emit(self.open_member, row.id)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.filter.setFocus(Qt.FocusReason.OtherFocusReason)
