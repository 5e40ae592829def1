"""The member list: every member, newest first, fetched a page at a time as the list scrolls, with the lookup
box's kinds of filter. Double-click (or Enter) opens the member at the counter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from ui import formatting as fmt
from ui.i18n import local_name
from ui.labels import MEMBER_STATUSES, label
from ui.models import Column, PagedModel, number_column, row_table
from ui.pages.base import Page
from ui.signals import emit
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.members.queries import MemberRow

FILTER_DEBOUNCE_MS = 250
PAGE_SIZE = 100


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
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)

    def attach(self, services: Services) -> None:
        super().attach(services)
        self._load()

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
        self.count.setText(self.tr("{count} members").format(count=fmt.points(self.model.total)))

    def _activated(self) -> None:
        row = self.model.row_at(self.view.currentIndex().row())
        if row is not None:
            emit(self.open_member, row.id)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.filter.setFocus(Qt.FocusReason.OtherFocusReason)
