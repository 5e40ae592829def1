"""The settings area: the store's settings and the screens that set the counter up (gifts, tiers, staff, this PC),
as tabs. A tab the operator's role cannot use is not shown; the services refuse its work anyway."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.changes import Changes
from app.vocabulary import StaffRole
from ui.admin.gifts import GiftsPage
from ui.admin.staff import StaffPage
from ui.admin.tiers import TiersPage
from ui.local_settings import LocalSettings
from ui.pages.base import Page
from ui.pages.settings import SettingsPage
from ui.pages.this_pc import ThisPcPage
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services


class SettingsArea(Page):
    def __init__(self, tasks: TaskRunner, local: LocalSettings | None, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("settingsArea")
        self.store = SettingsPage(tasks)
        self.gifts = GiftsPage(tasks)
        self.tiers = TiersPage(tasks)
        self.staff = StaffPage(tasks)
        self.this_pc = ThisPcPage(tasks, local) if local is not None else None
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        self.tabs.addTab(self.store, self.tr("Store settings"))
        self.tabs.addTab(self.gifts, self.tr("Gift catalogue"))
        self.tabs.addTab(self.tiers, self.tr("Member tiers"))
        self.tabs.addTab(self.staff, self.tr("Staff accounts"))
        if self.this_pc is not None:
            self.tabs.addTab(self.this_pc, self.tr("This PC"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

    def pages(self) -> list[Page]:
        return [page for page in (self.store, self.gifts, self.tiers, self.staff, self.this_pc) if page is not None]

    def attach(self, services: Services) -> None:
        """Tabs follow the operator: a manager sees the gifts, the owner also tiers and the staff list. Tabs the
        operator may not use are not even attached, so they load nothing."""
        super().attach(services)
        operator = services.operator
        allowed = {
            self.gifts: operator.at_least(StaffRole.MANAGER),
            self.tiers: operator.at_least(StaffRole.OWNER),
        }
        for page in self.pages():
            visible = allowed.get(page, True)
            self.tabs.setTabVisible(self.tabs.indexOf(page), visible)
            if visible:
                page.attach(services)
            else:
                page.services = None

    def on_changed(self, changes: Changes) -> None:
        for page in self.pages():
            if page.services is not None:
                page.on_changed(changes)
