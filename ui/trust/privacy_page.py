"""Privacy (隐私与个人信息): a member's rights at the member's request — withdraw marketing consent, a copy of their
data, deletion — and the review of members who stopped coming; the privacy notice to print and sign.

The services check who may do what (consent: anyone; data copy: manager; deletion: owner); buttons only follow."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.errors import MemberDeskError
from app.vocabulary import StaffRole
from ui.formatting import local_date, points
from ui.forms import ActionDialog, error_label
from ui.models import Column, RowsModel, row_table
from ui.pages.base import Page
from ui.printing.preview import Printout, PrintPreviewDialog
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.members.service import LookupResult, MemberHit
    from app.trust.privacy import InactiveMember, InactiveReview, MemberDataFile, PrivacyDone


class AnonymiseDialog(ActionDialog):
    """Deletion is final: the dialog names the member and asks for the reason that goes into the audit log."""

    changes = Changes.MEMBERS | Changes.AUDIT

    def __init__(self, tasks: TaskRunner, services: Services, member_id: int, who: str, parent: QWidget | None) -> None:
        super().__init__(tasks, services, self.tr("Delete a member's personal data"), self.tr("Delete"), parent)
        self.setObjectName("anonymiseDialog")
        self.member_id = member_id
        warning = QLabel(
            self.tr(
                "{who}: name, phone, ID number, birthday, card, notes and tags are erased for good. Purchases and "
                "points stay in the books under the member number, which no longer names anyone."
            ).format(who=who)
        )
        warning.setWordWrap(True)
        self.form.addRow(warning)
        self.reason = QLineEdit(self.tr("At the member's request"))
        self.add_row(self.tr("Reason"), "reason", self.reason)
        self.resize(460, self.sizeHint().height())

    def prepare(self) -> Callable[[], Any]:
        privacy, member_id, reason = self.services.privacy, self.member_id, self.reason.text()
        return lambda: privacy.anonymise(member_id, reason)

    def succeeded(self, _done: PrivacyDone) -> str:
        return self.tr("The member's personal data was deleted.")


class PrivacyPage(Page):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("privacyPage")
        self.query = QLineEdit()
        self.query.setObjectName("privacyLookup")
        self.query.setPlaceholderText(self.tr("Phone, last 4 digits, card number or name"))
        self.query.returnPressed.connect(self.look_up)
        find = QPushButton(self.tr("Find"))
        find.clicked.connect(self.look_up)
        self.hits: RowsModel[MemberHit] = RowsModel(
            [
                Column(lambda: self.tr("Member"), lambda h: h.member_no),
                Column(lambda: self.tr("Name"), lambda h: h.name),
                Column(lambda: self.tr("Phone"), lambda h: h.masked_phone),
            ],
            self,
        )
        self.hit_view = row_table(self.hits, takes_focus=True)
        self.hit_view.setObjectName("privacyHits")
        self.hit_view.setMaximumHeight(140)
        self.withdraw_button = QPushButton(self.tr("Withdraw marketing consent"))
        self.withdraw_button.setObjectName("withdrawConsent")
        self.withdraw_button.clicked.connect(self.withdraw)
        self.export_button = QPushButton(self.tr("Export their data…"))
        self.export_button.setObjectName("exportMemberData")
        self.export_button.clicked.connect(self.export)
        self.delete_button = QPushButton(self.tr("Delete personal data…"))
        self.delete_button.setObjectName("anonymiseMember")
        self.delete_button.clicked.connect(lambda: self.anonymise(self.hits.row_at(self.hit_view.currentIndex().row())))
        self.notice_button = QPushButton(self.tr("Print the privacy notice"))
        self.notice_button.setObjectName("printNotice")
        self.notice_button.clicked.connect(self.print_notice)
        search = QHBoxLayout()
        search.addWidget(self.query, 1)
        search.addWidget(find)
        actions = QHBoxLayout()
        for button in (self.withdraw_button, self.export_button, self.delete_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.notice_button)
        member_box = QGroupBox(self.tr("A member's request"))
        member_layout = QVBoxLayout(member_box)
        member_layout.addLayout(search)
        member_layout.addWidget(self.hit_view)
        member_layout.addLayout(actions)

        self.review_title = QLabel()
        self.review_title.setObjectName("reviewTitle")
        self.inactive: RowsModel[InactiveMember] = RowsModel(
            [
                Column(lambda: self.tr("Member"), lambda m: m.member_no),
                Column(lambda: self.tr("Name"), lambda m: m.name),
                Column(lambda: self.tr("Phone"), lambda m: m.masked_phone),
                Column(lambda: self.tr("Joined"), lambda m: local_date(m.joined_at)),
                Column(lambda: self.tr("Last visit"), lambda m: local_date(m.last_visit_at)),
                Column(lambda: self.tr("Points"), lambda m: points(m.points)),
            ],
            self,
        )
        self.inactive_view = row_table(self.inactive, takes_focus=True)
        self.inactive_view.setObjectName("inactiveList")
        self.inactive_view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.delete_inactive = QPushButton(self.tr("Delete selected member's data…"))
        self.delete_inactive.setObjectName("anonymiseInactive")
        self.delete_inactive.clicked.connect(
            lambda: self.anonymise(self.inactive.row_at(self.inactive_view.currentIndex().row()))
        )
        review_box = QGroupBox(self.tr("Members to review"))
        review_layout = QVBoxLayout(review_box)
        review_layout.addWidget(self.review_title)
        review_layout.addWidget(self.inactive_view, 1)
        review_layout.addWidget(self.delete_inactive)

        self.note = QLabel()
        self.note.setObjectName("savedNote")
        self.note.setWordWrap(True)
        self.error = error_label("generalError")
        layout = QVBoxLayout(self)
        layout.addWidget(member_box)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addWidget(review_box, 1)

    def attach(self, services: Services) -> None:
        super().attach(services)
        operator = services.operator
        self.export_button.setEnabled(operator.at_least(StaffRole.MANAGER))
        self.delete_button.setEnabled(operator.at_least(StaffRole.OWNER))
        self.delete_inactive.setEnabled(operator.at_least(StaffRole.OWNER))
        self.review_title.setVisible(operator.at_least(StaffRole.MANAGER))
        self.reload()

    def reload(self) -> None:
        if self.services is None:
            return
        if self.services.operator.at_least(StaffRole.MANAGER):
            self.tasks.run(self.services.privacy.inactive_members, self._show_review)
        if self.query.text().strip():
            self.look_up()

    def _show_review(self, review: InactiveReview) -> None:
        self.review_title.setText(
            self.tr("{total} members have not come for {months} months (the oldest {shown} shown).").format(
                total=review.total, months=review.months, shown=len(review.members)
            )
        )
        self.inactive.set_rows(review.members)

    def look_up(self) -> None:
        if self.services is not None:
            members, text = self.services.members, self.query.text()
            self.tasks.run(lambda: members.lookup(text), self._found)

    def _found(self, result: LookupResult) -> None:
        self.hits.set_rows(result.hits)
        if result.hits:
            self.hit_view.selectRow(0)

    def _selected(self) -> MemberHit | None:
        hit = self.hits.row_at(self.hit_view.currentIndex().row())
        if hit is None:
            self.error.setText(self.tr("Find the member first."))
        return hit

    def _report(self, message: str) -> None:
        """The message in full as a tooltip; shown breakable after each path separator, so a long path wraps."""
        self.error.clear()
        self.note.setText(message.replace(os.sep, os.sep + "\u200b"))
        self.note.setToolTip(message)

    def _refused(self, error: MemberDeskError) -> None:
        self.note.clear()
        self.error.setText(str(error))

    def withdraw(self) -> None:
        hit = self._selected()
        if hit is None or self.services is None:
            return
        privacy = self.services.privacy
        self.tasks.run(
            lambda: privacy.withdraw_marketing_consent(hit.id),
            lambda _done: self._report(
                self.tr("{name} will receive no more marketing; membership stays.").format(name=hit.name)
            ),
            self._refused,
        )

    def export(self, folder: str | None = None) -> None:
        hit = self._selected()
        if hit is None or self.services is None:
            return
        folder = folder or QFileDialog.getExistingDirectory(self, self.tr("Save the member's data in"))
        if not folder:
            return
        privacy, dest = self.services.privacy, Path(folder)
        self.tasks.run(
            lambda: privacy.export_member_data(hit.id, dest),
            lambda done: self._exported(done),
            self._refused,
        )

    def _exported(self, done: MemberDataFile) -> None:
        self._report(
            self.tr("Saved {path}: {purchases} purchases, {rows} points entries. Hand it to the member only.").format(
                path=done.path, purchases=done.purchases, rows=done.ledger_rows
            )
        )

    def anonymise(self, member: MemberHit | InactiveMember | None) -> None:
        if member is None or self.services is None:
            self.error.setText(self.tr("Find the member first."))
            return
        who = f"{member.member_no} {member.name} {member.masked_phone}"
        dialog = AnonymiseDialog(self.tasks, self.services, member.id, who, self)
        dialog.completed.connect(self._report)
        dialog.open()

    def print_notice(self) -> None:
        if self.services is None:
            return
        privacy = self.services.privacy
        folder = self.services.store.paths.root / "printouts"
        title = self.tr("Privacy notice")

        def write() -> Path:
            folder.mkdir(parents=True, exist_ok=True)
            return privacy.privacy_notice(folder / f"privacy-notice-{uuid.uuid4().hex}.pdf")

        self.tasks.run(write, lambda path: PrintPreviewDialog(self.tasks, Printout(path, title, False), self).open())

    def on_changed(self, changes: Changes) -> None:
        if changes & (Changes.MEMBERS | Changes.SETTINGS):
            self.reload_when_seen()
