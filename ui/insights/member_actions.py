"""From a set of members to an action: the three dialogs any screen opens for a `MemberSet` (a saved segment, the
win-back set, a chart's bar, a work list): a coupon campaign for exactly them, follow-up tasks, a contact list.

The work runs through the task runner with a progress bar; Cancel while it runs asks the service to stop (nothing is
kept) and closes the dialog once it has."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QDate, Qt, Signal
from PySide6.QtWidgets import QDateEdit, QFileDialog, QLabel, QLineEdit, QMenu, QProgressBar, QPushButton, QWidget

from app.actions.member_sets import MemberSet
from app.actions.service import ContactList, FollowUpsMade, SetSummary
from app.care.follow_ups import FollowUpReason
from app.changes import Changes
from app.coupons.campaigns import CampaignDraft
from app.coupons.service import TargetedCampaign
from app.errors import MemberDeskError
from app.i18n import translate
from ui import formatting as fmt
from ui.care.follow_ups_view import PlanFields
from ui.coupons.campaigns import OfferFields
from ui.forms import ActionDialog, InputError
from ui.jobs import jobs_for
from ui.signals import emit
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services


class SetActionDialog(ActionDialog):
    """An action on a set: names the set and its size, shows progress, and cancels cleanly."""

    progressed = Signal(int, int, str)

    def __init__(
        self, tasks: TaskRunner, services: Services, members: MemberSet, title: str, ok: str, parent: QWidget | None
    ) -> None:
        super().__init__(tasks, services, title, ok, parent)
        self.members = members
        self._cancel = threading.Event()
        self._running = False
        self.set_label = QLabel(
            QCoreApplication.translate("Actions", "Members: {label}").format(label=translate("Actions", members.label))
        )
        self.set_label.setObjectName("dialogHeading")
        self.set_label.setWordWrap(True)
        self.size_label = QLabel(QCoreApplication.translate("Actions", "Counting…"))
        self.size_label.setObjectName("setSize")
        self.size_label.setWordWrap(True)
        self.form.addRow(self.set_label)
        self.form.addRow(self.size_label)
        self.progress = QProgressBar()
        self.progress.setObjectName("actionProgress")
        self.progress.hide()
        self.step = QLabel()
        self.step.hide()
        self.body.insertWidget(1, self.progress)
        self.body.insertWidget(2, self.step)
        self.progressed.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)
        service = services.actions
        tasks.run(lambda: service.summary(members), self._counted)

    def _counted(self, summary: SetSummary) -> None:
        self.summary = summary
        self.size_label.setText(self.describe(summary))

    def describe(self, summary: SetSummary) -> str:
        return QCoreApplication.translate(
            "Actions", "{members} active members, {consent} of them agreed to marketing."
        ).format(members=fmt.points(summary.members), consent=fmt.points(summary.with_consent))

    def report(self, done: int, total: int, what: str) -> bool:
        """The service's progress callback, called on the worker."""
        emit(self.progressed, done, total, what)
        return not self._cancel.is_set()

    def _show_progress(self, done: int, total: int, what: str) -> None:
        self.progress.show()
        self.step.show()
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.step.setText(translate("Actions", what))

    def submit(self) -> None:
        self._cancel.clear()
        super().submit()
        self._running = not self.ok.isEnabled()

    def _succeeded(self, result: Any) -> None:
        self._running = False
        super()._succeeded(result)

    def _refused(self, error: MemberDeskError) -> None:
        self._running = False
        if self._cancel.is_set():
            super().reject()
            return
        super()._refused(error)

    def _failed(self) -> None:
        self._running = False
        super()._failed()

    def reject(self) -> None:
        if self._running:  # stop the work first: the dialog closes when the service has given up
            self._cancel.set()
            self.step.setText(QCoreApplication.translate("Actions", "Cancelling…"))
            return
        super().reject()


class SetCampaignDialog(SetActionDialog):
    """A campaign of any kind (amount off, percent off with a cap, gift, points multiplier: the campaigns screen's
    own offer fields and validation), active at once, one coupon for each active member of the set; the win-back
    offer comes ready-made."""

    changes = Changes.COUPONS

    def __init__(self, tasks: TaskRunner, services: Services, members: MemberSet, parent: QWidget | None) -> None:
        super().__init__(
            tasks,
            services,
            members,
            QCoreApplication.translate("Actions", "Coupon campaign for a set"),
            QCoreApplication.translate("Actions", "Create and issue"),
            parent,
        )
        self.setObjectName("setCampaignDialog")
        self.draft: CampaignDraft | None = None
        self.code = QLineEdit()
        self.code.setObjectName("setCampaignCode")
        self.code.setMaxLength(20)
        self.name = QLineEdit()
        self.name.setObjectName("setCampaignName")
        self.name.setMaxLength(100)
        self.offer = OfferFields(self, None)
        self.last_day = QDateEdit()
        self.last_day.setObjectName("setCampaignLastDay")
        self.last_day.setCalendarPopup(True)
        self.last_day.setDisplayFormat("yyyy-MM-dd")
        self.terms = QLineEdit()
        self.terms.setMaxLength(500)
        self.add_row(QCoreApplication.translate("Actions", "Code"), "code", self.code)
        self.add_row(QCoreApplication.translate("Actions", "Name"), "name", self.name)
        self.offer.add_rows()
        self.add_row(QCoreApplication.translate("Actions", "Last day"), "valid_until", self.last_day)
        self.add_row(QCoreApplication.translate("Actions", "Terms"), "terms", self.terms)
        self.resize(480, self.sizeHint().height())
        tasks.run(services.actions.win_back_draft, self._filled)

    def describe(self, summary: SetSummary) -> str:
        return QCoreApplication.translate(
            "Actions", "One coupon each for {members} active members (the campaign is active at once)."
        ).format(members=fmt.points(summary.members))

    def _filled(self, draft: CampaignDraft) -> None:
        self.draft = draft
        self.code.setText(draft.code)
        self.name.setText(draft.name)
        self.offer.fill(draft)
        last = (draft.valid_until - dt.timedelta(microseconds=1)).astimezone(fmt.shown_zone()).date()
        self._default_last = last
        self.last_day.setDate(QDate(last.year, last.month, last.day))
        self.terms.setText(draft.terms)

    def prepare(self) -> Callable[[], Any]:
        if self.draft is None:
            raise InputError(QCoreApplication.translate("Actions", "Still loading; try again in a moment."), "code")
        offer = self.offer.offer()
        last = self.last_day.date().toPython()
        assert isinstance(last, dt.date)
        until = self.draft.valid_until + dt.timedelta(days=(last - self._default_last).days)
        typed = {"code": self.code.text(), "name": self.name.text(), "terms": self.terms.text(), **offer}
        draft = replace(self.draft, valid_until=until, **typed)
        service, members, key = self.services.actions, self.members, self.idempotency_key
        return lambda: service.create_campaign(members, draft, key, self.report)

    def succeeded(self, result: TargetedCampaign) -> str:
        return QCoreApplication.translate("Actions", "Campaign {code}: {count} coupons issued.").format(
            code=result.code, count=fmt.points(result.issued)
        )


class SetFollowUpsDialog(SetActionDialog):
    """A follow-up task for each member of the set who agreed to marketing and has none open for the reason."""

    changes = Changes.FOLLOW_UPS

    def __init__(
        self,
        tasks: TaskRunner,
        services: Services,
        members: MemberSet,
        parent: QWidget | None,
        reason: FollowUpReason = FollowUpReason.CHURN_WARNING,
    ) -> None:
        super().__init__(
            tasks,
            services,
            members,
            QCoreApplication.translate("Actions", "Follow-up tasks for a set"),
            QCoreApplication.translate("Actions", "Create tasks"),
            parent,
        )
        self.setObjectName("setFollowUpsDialog")
        self.fields = PlanFields(self, reason)
        self.resize(480, self.sizeHint().height())

    def describe(self, summary: SetSummary) -> str:
        return QCoreApplication.translate(
            "Actions",
            "A task each for the {consent} members who agreed to marketing ({members} active members in all).",
        ).format(consent=fmt.points(summary.with_consent), members=fmt.points(summary.members))

    def prepare(self) -> Callable[[], Any]:
        plan, service, members, key = self.fields.plan(), self.services.actions, self.members, self.idempotency_key
        return lambda: service.create_follow_ups(members, plan, key, self.report)

    def succeeded(self, result: FollowUpsMade) -> str:
        text = QCoreApplication.translate("Actions", "{count} follow-up tasks created.").format(
            count=fmt.points(result.created)
        )
        if result.already_open:
            text += " " + QCoreApplication.translate("Actions", "{count} already had one open.").format(
                count=fmt.points(result.already_open)
            )
        return text


class ContactListDialog(SetActionDialog):
    """The set's members with marketing consent to a CSV or XLSX file; phones in full only for managers and owners."""

    changes = Changes.AUDIT

    def __init__(self, tasks: TaskRunner, services: Services, members: MemberSet, parent: QWidget | None) -> None:
        super().__init__(
            tasks,
            services,
            members,
            QCoreApplication.translate("Actions", "Export a contact list"),
            QCoreApplication.translate("Actions", "Export"),
            parent,
        )
        self.setObjectName("contactListDialog")
        self.path = QLineEdit()
        self.path.setObjectName("contactListPath")
        self.path.setText(str(Path.home() / f"contacts-{dt.date.today():%Y%m%d}.xlsx"))
        browse = QPushButton(QCoreApplication.translate("Actions", "Choose…"))
        browse.clicked.connect(self._browse)
        self.add_row(QCoreApplication.translate("Actions", "File"), "path", self.path)
        self.form.addRow("", browse)
        phones = (
            QCoreApplication.translate("Actions", "Phones are written in full.")
            if services.operator.sees_full_phone
            else QCoreApplication.translate(
                "Actions", "Phones are masked (138****5678): your role does not see full phone numbers."
            )
        )
        note = QLabel(
            phones
            + " "
            + QCoreApplication.translate(
                "Actions", "Only members who agreed to marketing are listed. The export is logged."
            )
        )
        note.setWordWrap(True)
        self.form.addRow(note)
        self.resize(520, self.sizeHint().height())

    def _browse(self) -> None:
        chosen, _filter = QFileDialog.getSaveFileName(
            self,
            QCoreApplication.translate("Actions", "Export a contact list"),
            self.path.text(),
            QCoreApplication.translate("Actions", "Excel (*.xlsx);;CSV (*.csv)"),
        )
        if chosen:
            self.path.setText(chosen)

    def prepare(self) -> Callable[[], Any]:
        text = self.path.text().strip()
        if not text:
            raise InputError(QCoreApplication.translate("Actions", "Choose the file to write."), "path")
        path, jobs, members = Path(text), jobs_for(self.services), self.members
        return lambda: jobs().export_contacts(members, path, self.report)

    def succeeded(self, result: ContactList) -> str:
        return QCoreApplication.translate("Actions", "{count} contacts written to {file}.").format(
            count=fmt.points(result.rows), file=result.path.name
        )


def actions_menu(tasks: TaskRunner, services: Services, members: MemberSet, parent: QWidget) -> QMenu:
    """The three actions on a set, as a menu (for a chart's bar or a work list's button)."""
    menu = QMenu(parent)
    menu.addAction(
        QCoreApplication.translate("Actions", "Coupon campaign…"),
        lambda: SetCampaignDialog(tasks, services, members, parent).open(),
    )
    menu.addAction(
        QCoreApplication.translate("Actions", "Follow-up tasks…"),
        lambda: SetFollowUpsDialog(tasks, services, members, parent).open(),
    )
    menu.addAction(
        QCoreApplication.translate("Actions", "Export contacts…"),
        lambda: ContactListDialog(tasks, services, members, parent).open(),
    )
    return menu
