"""Logging a complaint at the counter (the open member filled in, or none) and moving one through its workflow.

The log form is made for the keyboard: the subject has the focus, Tab walks the fields in the order a customer tells
the story, the lists take the first letters typed, and Enter records it. The sale list offers the member's recent
purchases, loaded while the cashier types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QPlainTextEdit, QSpinBox, QWidget

from app.care.complaints import (
    ComplaintChoices,
    ComplaintDraft,
    ComplaintSaved,
    Resolution,
    SaleChoice,
)
from app.care.settings import channel_label, severity_label
from app.changes import Changes
from app.coupons.service import CompensationOffer
from app.vocabulary import ComplaintSeverity
from ui import formatting as fmt
from ui.forms import ActionDialog, InputError, pin_field

if TYPE_CHECKING:
    from app.context import Services
    from ui.tasks import TaskRunner

CASHIER = "cashier"
MAX_GOODWILL = 100_000
MAX_REFUND_YUAN = 100_000


def _text_box(placeholder: str) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setTabChangesFocus(True)  # Tab moves on, as in every other field
    box.setPlaceholderText(placeholder)
    box.setFixedHeight(64)
    return box


class ComplaintDialog(ActionDialog):
    """Log a complaint. `member`: (id, name) of the member open at the counter, or None."""

    changes = Changes.COMPLAINTS

    def __init__(
        self,
        tasks: TaskRunner,
        services: Services,
        member: tuple[int, str] | None,
        parent: QWidget | None,
    ) -> None:
        super().__init__(tasks, services, self.tr("Log a complaint"), self.tr("Record"), parent)
        self.setObjectName("complaintDialog")
        self.member = member
        self.heading = QLabel(
            self.tr("For member {name}").format(name=member[1]) if member else self.tr("No member (walk-in customer)")
        )
        self.heading.setObjectName("dialogHeading")
        self.form.addRow(self.heading)
        self.subject = QLineEdit()
        self.subject.setObjectName("complaintSubject")
        self.subject.setMaxLength(200)
        self.subject.setPlaceholderText(self.tr("Required: what went wrong, in a few words"))
        self.category = QComboBox()
        self.category.setObjectName("complaintCategory")
        self.channel = QComboBox()
        self.channel.setObjectName("complaintChannel")
        self.severity = QComboBox()
        self.severity.setObjectName("complaintSeverity")
        for severity in (ComplaintSeverity.MEDIUM, ComplaintSeverity.HIGH, ComplaintSeverity.LOW):
            self.severity.addItem(severity_label(severity), severity)
        self.product = QLineEdit()
        self.product.setObjectName("complaintProduct")
        self.product.setMaxLength(100)
        self.product.setPlaceholderText(self.tr("Optional: product or supplier"))
        self.sale = QComboBox()
        self.sale.setObjectName("complaintSale")
        # as wide as the purchases it lists (date, receipt and amount), which arrive after the dialog opened
        self.sale.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.sale.addItem(self.tr("No particular purchase"), None)
        self.description = _text_box(self.tr("Optional: what the customer said"))
        self.description.setObjectName("complaintDescription")
        self.add_row(self.tr("Subject"), "subject", self.subject)
        self.add_row(self.tr("Category"), "category", self.category)
        self.add_row(self.tr("Channel"), "channel", self.channel)
        self.add_row(self.tr("Severity"), "severity", self.severity)
        self.add_row(self.tr("Product or supplier"), "product", self.product)
        self.add_row(self.tr("Purchase"), "sale", self.sale)
        self.add_row(self.tr("Description"), "description", self.description)
        self.sale.setEnabled(member is not None)
        self.resize(520, self.sizeHint().height())
        self.subject.setFocus()
        care = services.care.complaints
        tasks.run(care.choices, self._choices_loaded)
        if member is not None:
            member_id = member[0]
            tasks.run(lambda: care.recent_sales(member_id), self._sales_loaded)

    def _choices_loaded(self, choices: ComplaintChoices) -> None:
        self.category.clear()
        for category in choices.settings.categories:
            self.category.addItem(category, category)
        self.channel.clear()
        for channel in choices.settings.channels:
            self.channel.addItem(channel_label(channel), channel)

    def _sales_loaded(self, sales: list[SaleChoice]) -> None:
        for sale in sales:
            receipt = sale.receipt_no or f"#{sale.sale_id}"
            self.sale.addItem(
                f"{fmt.local_datetime(sale.sold_at)} · {receipt} · {fmt.yuan(sale.total_fen)}", sale.sale_id
            )

    def prepare(self) -> Callable[[], Any]:
        subject = self.subject.text().strip()
        if not subject:
            raise InputError(self.tr("Enter the subject of the complaint."), "subject")
        if self.category.currentData() is None:
            raise InputError(self.tr("The lists are still loading; try again in a moment."))
        draft = ComplaintDraft(
            subject=subject,
            channel=self.channel.currentData(),
            category=self.category.currentData(),
            severity=self.severity.currentData(),
            member_id=self.member[0] if self.member else None,
            sale_id=self.sale.currentData(),
            product=self.product.text(),
            description=self.description.toPlainText(),
        )
        care, key = self.services.care.complaints, self.idempotency_key
        return lambda: care.log(draft, key)

    def succeeded(self, result: ComplaintSaved) -> str:
        return self.tr("Complaint #{number} recorded.").format(number=result.complaint_id)


class ResolveDialog(ActionDialog):
    """What was done, goodwill points and a coupon (a cashier needs a manager's PIN), a refund noted, and a
    follow-up call."""

    changes = Changes.COMPLAINTS
    denied_field = "pin"

    def __init__(
        self, tasks: TaskRunner, services: Services, complaint_id: int, has_member: bool, parent: QWidget | None
    ) -> None:
        super().__init__(
            tasks,
            services,
            self.tr("Resolve complaint #{number}").format(number=complaint_id),
            self.tr("Resolve"),
            parent,
        )
        self.setObjectName("resolveDialog")
        self.complaint_id = complaint_id
        self.resolution = _text_box(self.tr("Required: what was done"))
        self.resolution.setObjectName("resolutionText")
        self.goodwill = QSpinBox()
        self.goodwill.setObjectName("goodwillPoints")
        self.goodwill.setRange(0, MAX_GOODWILL if has_member else 0)
        self.goodwill.setSingleStep(50)
        self.goodwill.setToolTip(self.tr("Points added to the member's balance as an apology"))
        self.coupon = QComboBox()
        self.coupon.setObjectName("compensationCoupon")
        self.coupon.addItem(self.tr("No coupon"), None)
        self.coupon.setEnabled(False)
        self.coupon.setToolTip(
            self.tr("A coupon of a running member campaign, given to the member")
            if has_member
            else self.tr("A coupon needs a member; this complaint has none")
        )
        self.refund = QSpinBox()
        self.refund.setObjectName("refundYuan")
        self.refund.setRange(0, MAX_REFUND_YUAN)
        self.refund.setPrefix("¥")
        self.refund.setToolTip(self.tr("A refund paid at the till, noted here"))
        self.follow_up = QCheckBox(self.tr("Call the customer back"))
        self.follow_up.setObjectName("followUpCheck")
        self.follow_up.setChecked(True)
        self.pin = pin_field()
        self.pin.setObjectName("managerPin")
        self.pin.setPlaceholderText(self.tr("Needed for goodwill points or a coupon"))
        self.add_row(self.tr("Resolution"), "resolution", self.resolution)
        self.add_row(self.tr("Goodwill points"), "goodwill", self.goodwill)
        self.add_row(self.tr("Coupon"), "coupon", self.coupon)
        self.add_row(self.tr("Refund noted"), "refund", self.refund)
        self.form.addRow("", self.follow_up)
        self.needs_approval = services.operator.role == CASHIER
        if self.needs_approval:
            self.add_row(self.tr("Manager PIN"), "pin", self.pin)
        if not has_member:
            self.goodwill.setToolTip(self.tr("Goodwill points need a member; this complaint has none"))
        self.resize(480, self.sizeHint().height())
        self.resolution.setFocus()
        if has_member:
            tasks.run(services.coupons.compensation_offers, self._offers_loaded)

    def _offers_loaded(self, offers: list[CompensationOffer]) -> None:
        for offer in offers:
            self.coupon.addItem(
                self.tr("{name}: {offer} (until {day})").format(
                    name=offer.name, offer=offer.offer, day=offer.last_day.isoformat()
                ),
                offer.campaign_id,
            )
        self.coupon.setEnabled(bool(offers))

    def prepare(self) -> Callable[[], Any]:
        text = self.resolution.toPlainText().strip()
        if not text:
            raise InputError(self.tr("Say what was done to resolve the complaint."), "resolution")
        resolution = Resolution(
            text=text,
            goodwill_points=self.goodwill.value(),
            refund_fen=self.refund.value() * 100,
            approver_pin=self.pin.text() if self.needs_approval else None,
            follow_up=self.follow_up.isChecked(),
            coupon_campaign_id=self.coupon.currentData(),
        )
        care, complaint_id = self.services.care.complaints, self.complaint_id
        return lambda: care.resolve(complaint_id, resolution)

    def succeeded(self, result: ComplaintSaved) -> str:
        return self.tr("Complaint #{number} resolved.").format(number=result.complaint_id)


class NoteDialog(ActionDialog):
    """A workflow step with a note: start, close, reopen (the note is required to reopen), or assign someone."""

    changes = Changes.COMPLAINTS

    def __init__(
        self,
        tasks: TaskRunner,
        services: Services,
        title: str,
        ok_text: str,
        call: Callable[[str, Any], ComplaintSaved],
        staff: list[tuple[int, str]] | None,
        parent: QWidget | None,
    ) -> None:
        super().__init__(tasks, services, title, ok_text, parent)
        self.setObjectName("complaintStepDialog")
        self.call = call
        self.staff: QComboBox | None = None
        if staff is not None:
            self.staff = QComboBox()
            self.staff.setObjectName("assignee")
            for staff_id, name in staff:
                self.staff.addItem(name, staff_id)
            self.add_row(self.tr("Assign to"), "staff", self.staff)
        self.note = QLineEdit()
        self.note.setObjectName("stepNote")
        self.add_row(self.tr("Note"), "note", self.note)
        self.resize(420, self.sizeHint().height())
        (self.staff or self.note).setFocus()

    def prepare(self) -> Callable[[], Any]:
        note, call = self.note.text(), self.call
        choice = None if self.staff is None else self.staff.currentData()
        return lambda: call(note, choice)

    def succeeded(self, result: ComplaintSaved) -> str:
        return self.tr("Complaint #{number} updated.").format(number=result.complaint_id)


def due_text(due: dt.datetime | None, overdue: bool) -> str:
    text = fmt.local_datetime(due)
    return f"⚠ {text}" if overdue else text
