"""The audit log (审计日志), owner only: who changed what, when, at which branch, filtered and paged; each branch
chain's head shown so it can be written down, and a button that verifies the chain as `db check` does."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.i18n import QT_TRANSLATE_NOOP, translate
from app.trust.viewer import AuditChoices, AuditFilter, AuditRow
from ui.formatting import local_datetime
from ui.labels import label
from ui.models import Column, PagedModel, row_table
from ui.pages.base import Page
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.trust.verify import ChainHead, Finding


ACTIONS = {
    "activate": QT_TRANSLATE_NOOP("Labels", "Reactivate"),
    "add": QT_TRANSLATE_NOOP("Labels", "Add"),
    "adjust_points": QT_TRANSLATE_NOOP("Labels", "Adjust points"),
    "anonymise": QT_TRANSLATE_NOOP("Labels", "Delete personal data"),
    "auto_backup": QT_TRANSLATE_NOOP("Labels", "Daily backup"),
    "backup": QT_TRANSLATE_NOOP("Labels", "Backup"),
    "change_pin": QT_TRANSLATE_NOOP("Labels", "Change PIN"),
    "deactivate": QT_TRANSLATE_NOOP("Labels", "Deactivate"),
    "demo": QT_TRANSLATE_NOOP("Labels", "Demo store"),
    "demo_batch": QT_TRANSLATE_NOOP("Labels", "Demo data"),
    "expire_points": QT_TRANSLATE_NOOP("Labels", "Points expired"),
    "export": QT_TRANSLATE_NOOP("Labels", "Export"),
    "export_member_data": QT_TRANSLATE_NOOP("Labels", "Member's data copy"),
    "import": QT_TRANSLATE_NOOP("Labels", "Import"),
    "import_batch": QT_TRANSLATE_NOOP("Labels", "Imported rows"),
    "migrate": QT_TRANSLATE_NOOP("Labels", "Upgrade"),
    "purchase": QT_TRANSLATE_NOOP("Labels", "Purchase"),
    "redeem_gift": QT_TRANSLATE_NOOP("Labels", "Gift redemption"),
    "register": QT_TRANSLATE_NOOP("Labels", "Register"),
    "reset_pin": QT_TRANSLATE_NOOP("Labels", "Reset PIN"),
    "restore": QT_TRANSLATE_NOOP("Labels", "Restore"),
    "return": QT_TRANSLATE_NOOP("Labels", "Return"),
    "sign_in": QT_TRANSLATE_NOOP("Labels", "Sign in"),
    "update": QT_TRANSLATE_NOOP("Labels", "Edit"),
    "withdraw_consent": QT_TRANSLATE_NOOP("Labels", "Withdraw marketing consent"),
    "write": QT_TRANSLATE_NOOP("Labels", "Points change"),
}
RECORDS = {
    "gift": QT_TRANSLATE_NOOP("Labels", "Gift"),
    "member": QT_TRANSLATE_NOOP("Labels", "Member"),
    "members": QT_TRANSLATE_NOOP("Labels", "Members"),
    "points": QT_TRANSLATE_NOOP("Labels", "Points"),
    "sale": QT_TRANSLATE_NOOP("Labels", "Sale"),
    "sales": QT_TRANSLATE_NOOP("Labels", "Sales"),
    "settings": QT_TRANSLATE_NOOP("Labels", "Settings"),
    "staff": QT_TRANSLATE_NOOP("Labels", "Staff"),
    "store": QT_TRANSLATE_NOOP("Labels", "Store"),
    "tier": QT_TRANSLATE_NOOP("Labels", "Tier"),
}


class AuditPage(Page):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("auditPage")
        today = QDate.currentDate()
        self.since = QDateEdit(today.addDays(-30))
        self.until = QDateEdit(today)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.staff = QComboBox()
        self.staff.setObjectName("auditStaff")
        self.action = QComboBox()
        self.action.setObjectName("auditAction")
        self.entity = QComboBox()
        self.entity.setObjectName("auditEntity")
        self.entity_id = QLineEdit()
        self.entity_id.setObjectName("auditEntityId")
        self.entity_id.setPlaceholderText(self.tr("Record number"))
        self.entity_id.setMaximumWidth(110)
        self.apply_button = QPushButton(self.tr("Show"))
        self.apply_button.setObjectName("auditApply")
        self.apply_button.clicked.connect(self.reload)
        filters = QHBoxLayout()
        for text, widget in (
            (self.tr("From"), self.since),
            (self.tr("to"), self.until),
            (self.tr("Staff"), self.staff),
            (self.tr("Action"), self.action),
            (self.tr("Record"), self.entity),
        ):
            filters.addWidget(QLabel(text))
            filters.addWidget(widget)
        filters.addWidget(self.entity_id)
        filters.addWidget(self.apply_button)
        filters.addStretch(1)

        self.model: PagedModel[AuditRow] = PagedModel(
            [
                Column(lambda: self.tr("Time"), lambda r: local_datetime(r.at)),
                Column(lambda: self.tr("Branch"), lambda r: r.branch),
                Column(lambda: self.tr("No."), lambda r: str(r.seq)),
                Column(lambda: self.tr("Staff"), lambda r: r.staff),
                Column(lambda: self.tr("Action"), lambda r: label(ACTIONS, r.action)),
                Column(lambda: self.tr("Record"), lambda r: f"{label(RECORDS, r.entity)} {r.entity_id}".strip()),
                Column(lambda: self.tr("Details (before / after)"), lambda r: r.details),
            ],
            tasks,
            page_size=100,
            parent=self,
        )
        self.model.loaded.connect(self._loaded)
        self.view = row_table(self.model, takes_focus=True)
        self.view.setObjectName("auditList")
        self.view.horizontalHeader().setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        self.count = QLabel()
        self.count.setObjectName("auditCount")
        self.heads = QLabel()
        self.heads.setObjectName("auditHeads")
        self.heads.setWordWrap(True)
        self.heads.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verify_button = QPushButton(self.tr("Verify the chain"))
        self.verify_button.setObjectName("auditVerify")
        self.verify_button.clicked.connect(self.verify)
        self.verdict = QLabel()
        self.verdict.setObjectName("auditVerdict")
        self.verdict.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count)
        bottom.addStretch(1)
        bottom.addWidget(self.verify_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.verdict)
        layout.addWidget(self.heads)

    def attach(self, services: Services) -> None:
        super().attach(services)
        audit = services.audit
        self.tasks.run(audit.choices, self._fill_choices)
        self.reload()

    def _fill_choices(self, choices: AuditChoices) -> None:
        for combo, items in (
            (self.staff, [(name, staff_id) for staff_id, name in choices.staff]),
            (self.action, [(label(ACTIONS, a), a) for a in choices.actions]),
            (self.entity, [(label(RECORDS, e), e) for e in choices.entities]),
        ):
            current = combo.currentData()
            combo.clear()
            combo.addItem(self.tr("All"), None)
            for text, data in items:
                combo.addItem(text, data)
            combo.setCurrentIndex(max(0, combo.findData(current)))

    def current_filter(self) -> AuditFilter:
        def utc(day: QDate) -> dt.datetime:
            local = dt.datetime(day.year(), day.month(), day.day()).astimezone()
            return local.astimezone(dt.UTC)

        return AuditFilter(
            since=utc(self.since.date()),
            until=utc(self.until.date().addDays(1)),
            staff_id=self.staff.currentData(),
            action=self.action.currentData(),
            entity=self.entity.currentData(),
            entity_id=self.entity_id.text().strip() or None,
        )

    def reload(self) -> None:
        if self.services is None:
            return
        audit, wanted = self.services.audit, self.current_filter()
        self.model.set_loader(lambda offset, limit: audit.entries(wanted, offset, limit))
        self.tasks.run(audit.heads, self._show_heads)

    def _loaded(self) -> None:
        self.count.setText(self.tr("{count} entries").format(count=self.model.total))

    def _show_heads(self, heads: list[ChainHead]) -> None:
        lines = [
            self.tr("Chain head of {branch}: entry {seq}, {hash}").format(
                branch=h.branch_name, seq=h.seq, hash=h.row_hash
            )
            for h in heads
        ]
        note = self.tr("Write the head down or print it: with it, nobody can later rewrite the log unnoticed.")
        self.heads.setText("\n".join([*lines, note]))

    def verify(self) -> None:
        if self.services is not None:
            self.verify_button.setEnabled(False)
            self.tasks.run(self.services.audit.verify, self._verified)

    def _verified(self, findings: list[Finding]) -> None:
        self.verify_button.setEnabled(True)
        if not findings:
            self.verdict.setText(self.tr("The audit chain is intact and vouches for every sale and points entry."))
            return
        self.verdict.setText(
            "\n".join(
                translate("Integrity", f.message).format(count=f.count, examples=", ".join(f.examples))
                for f in findings
            )
        )

    def on_changed(self, changes: Changes) -> None:
        if self.services is not None:
            self.reload_when_seen()
