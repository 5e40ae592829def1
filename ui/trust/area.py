"""The trust area (数据安全): the audit log (owner), backups (managers and the owner) and privacy, as tabs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.changes import Changes
from app.vocabulary import StaffRole
from ui.pages.base import Page
from ui.tasks import TaskRunner
from ui.trust.audit_page import AuditPage
from ui.trust.backup_page import BackupPage
from ui.trust.privacy_page import PrivacyPage

if TYPE_CHECKING:
    from app.context import Services


class TrustArea(Page):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("trustArea")
        self.privacy = PrivacyPage(tasks)
        self.backups = BackupPage(tasks)
        self.audit = AuditPage(tasks)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("trustTabs")
        self.tabs.addTab(self.privacy, self.tr("Privacy"))
        self.tabs.addTab(self.backups, self.tr("Backups"))
        self.tabs.addTab(self.audit, self.tr("Audit log"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

    def attach(self, services: Services) -> None:
        """Tabs the operator's role may not use are hidden and not attached (so they load nothing)."""
        super().attach(services)
        operator = services.operator
        allowed = {
            self.privacy: True,
            self.backups: operator.at_least(StaffRole.MANAGER),
            self.audit: operator.at_least(StaffRole.OWNER),
        }
        for page, visible in allowed.items():
            self.tabs.setTabVisible(self.tabs.indexOf(page), visible)
            if visible:
                page.attach(services)
            else:
                page.services = None

    def on_changed(self, changes: Changes) -> None:
        for page in (self.privacy, self.backups, self.audit):
            if page.services is not None:
                page.on_changed(changes)
