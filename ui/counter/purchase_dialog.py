"""Record a purchase (F4): the amount in yuan, an optional receipt number and points to pay with. As the cashier
types, the service's own preview shows the points to earn, what the points are worth and the cash to pay, so what
is confirmed is exactly what will be recorded. Optional lines by category (collapsed, see category_lines.py) make
the amount their sum, so goods that earn no points (烟草) are left out of the points."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.context import Services
from app.errors import MemberDeskError
from app.loyalty.service import PurchasePreview, PurchaseRequest, PurchaseResult
from app.members.profile import MemberProfile
from app.money import parse_typed_yuan
from ui import formatting as fmt
from ui.counter.category_lines import CategoryLines
from ui.counter.panel import set_negative
from ui.coupons.counter import CouponField, describe_quote
from ui.forms import ActionDialog, InputError
from ui.printing.slips import purchase_slip
from ui.tasks import TaskRunner

PREVIEW_DEBOUNCE_MS = 150
_WHOLE = re.compile(r"-?\d+")


class PurchaseDialog(ActionDialog):
    changes = Changes.POINTS | Changes.SALES | Changes.MEMBERS

    def __init__(self, tasks: TaskRunner, services: Services, member: MemberProfile, parent: QWidget | None) -> None:
        super().__init__(tasks, services, self.tr("Record a purchase"), self.tr("Record"), parent)
        self.setObjectName("purchaseDialog")
        self.member = member
        self._preview_seq = 0

        who = QLabel(
            self.tr("{name} · balance {points} points").format(
                name=member.name, points=fmt.points(member.points_balance)
            )
        )
        who.setObjectName("dialogHeading")
        self.form.addRow(who)
        self.amount = QLineEdit()
        self.amount.setObjectName("amount")
        self.amount.setPlaceholderText(self.tr("e.g. 128.50"))
        self.receipt = self.scanned(QLineEdit())
        self.receipt.setPlaceholderText(self.tr("Optional; scan or type the receipt number"))
        self.points = QLineEdit()
        self.points.setPlaceholderText("0")
        self.use_max = QPushButton()
        self.use_max.setAutoDefault(False)
        self.use_max.clicked.connect(self._use_max)
        points_row = QWidget()
        points_layout = QGridLayout(points_row)
        points_layout.setContentsMargins(0, 0, 0, 0)
        points_layout.addWidget(self.points, 0, 0)
        points_layout.addWidget(self.use_max, 0, 1)
        self.add_row(self.tr("Amount (¥)"), "amount", self.amount)
        self.lines = CategoryLines()
        self.errors.add("lines", self.lines, self.lines.error)
        self.form.addRow(self.lines)
        self._typed_amount = ""
        """What the cashier typed before the first line took the amount over, given back when the last line goes."""
        self.add_row(self.tr("Receipt no."), "receipt_no", self.receipt)
        self.form.addRow(self.tr("Pay with points"), self.errors.wrap("points", points_row, focus=self.points))
        self.coupon = CouponField()
        self.scanned(self.coupon)
        self.add_row(self.tr("Coupon"), "coupon", self.coupon)

        self.preview_labels: dict[str, QLabel] = {}
        grid = QGridLayout()
        for row, (key, caption) in enumerate(
            (
                ("coupon", self.tr("Coupon")),
                ("points_value", self.tr("Points pay")),
                ("cash", self.tr("Cash to pay")),
                ("earn", self.tr("Points to earn")),
                ("balance", self.tr("Balance after")),
            )
        ):
            grid.addWidget(QLabel(caption), row, 0)
            value = QLabel("—")
            value.setObjectName("previewValue")
            grid.addWidget(value, row, 1)
            self.preview_labels[key] = value
        self.member_day = QLabel(self.tr("Member day: extra points today!"))
        self.member_day.setObjectName("memberDay")
        self.member_day.hide()
        grid.addWidget(self.member_day, 5, 0, 1, 2)
        self.form.addRow(grid)
        self._max_points = 0
        self._show_max(None)

        self._debounce = QTimer(self, singleShot=True, interval=PREVIEW_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._preview)
        self.amount.textEdited.connect(lambda _text: self._debounce.start())
        self.lines.changed.connect(self._lines_changed)
        self.points.textEdited.connect(lambda _text: self._debounce.start())
        self._build_confirm_page()
        self.coupon.textEdited.connect(lambda _text: self._debounce.start())
        self.resize(460, self.sizeHint().height())
        self.amount.setFocus()
        tasks.run(services.info.categories, self.lines.set_categories)

    def request(self) -> PurchaseRequest:
        """The purchase as typed; the idempotency key is the one made when the dialog opened. With lines, the total
        is their sum (the amount field only shows it)."""
        lines = self.lines.sale_lines() if self.lines.has_lines() else []
        typed = self.amount.text()
        total = sum(line.amount_fen for line in lines) if self.lines.has_lines() else parse_typed_yuan(typed)
        text = self.points.text().strip() or "0"
        if not _WHOLE.fullmatch(text):
            raise InputError(self.tr("Enter the points as a whole number."), "points")
        return PurchaseRequest(
            member_id=self.member.id,
            total_fen=total,
            idempotency_key=self.idempotency_key,
            points_to_use=int(text[:18]),  # a sign or a long number reaches the service's range message
            receipt_no=self.receipt.text().strip() or None,
            lines=lines,
            coupon_code=self.coupon.code(),
        )

    def _lines_changed(self) -> None:
        """The amount follows the lines while there are any (frameless, so it reads as a result, not a field);
        without lines it is the cashier's field again, with what they had typed."""
        has_lines = self.lines.has_lines()
        if has_lines and not self.amount.isReadOnly():
            self._typed_amount = self.amount.text()
        elif not has_lines and self.amount.isReadOnly():
            self.amount.setText(self._typed_amount)
        self.amount.setReadOnly(has_lines)
        self.amount.setFrame(not has_lines)
        if has_lines:
            total = self.lines.total_fen()
            self.amount.setText(fmt.yuan(total) if total else "")
        self._debounce.start()

    # -- preview ------------------------------------------------------------------------------------------------
    def _preview(self) -> None:
        self._preview_seq += 1
        seq = self._preview_seq
        self.errors.clear()
        if not self.amount.text().strip() and self.lines.total_fen() is not None:  # a mistyped line is shown
            self._show_preview(None)
            return
        try:
            request = self.request()
        except (InputError, MemberDeskError) as exc:
            self._show_preview(None)
            self.errors.show(exc, focus=False)
            return
        loyalty = self.services.loyalty
        self.tasks.run(
            lambda: loyalty.preview_purchase(request),
            lambda preview: self._previewed(seq, preview),
            lambda error: self._preview_refused(seq, request, error),
        )

    def _previewed(self, seq: int, preview: PurchasePreview) -> None:
        if seq == self._preview_seq:
            self._show_preview(preview)

    def _preview_refused(self, seq: int, request: PurchaseRequest, error: MemberDeskError) -> None:
        """Too many points: still show the most that can be used, so the cashier can correct it in one go."""
        if seq != self._preview_seq:
            return
        self._show_preview(None)
        self.errors.show(error, focus=False)
        if request.points_to_use:
            loyalty, without_points = self.services.loyalty, replace(request, points_to_use=0)
            self.tasks.run(
                lambda: loyalty.preview_purchase(without_points),
                lambda preview: self._show_max(preview) if seq == self._preview_seq else None,
            )

    def _show_preview(self, preview: PurchasePreview | None) -> None:
        values = (
            {
                "coupon": describe_quote(preview.coupon),
                "points_value": fmt.yuan(preview.points_value_fen),
                "cash": fmt.yuan(preview.paid_fen),
                "earn": fmt.signed_points(preview.points_to_earn),
                "balance": fmt.points(preview.balance_after),
            }
            if preview
            else {}
        )
        for key, widget in self.preview_labels.items():
            widget.setText(values.get(key, "—"))
        set_negative(self.preview_labels["balance"], bool(preview and preview.balance_after < 0))
        self.member_day.setVisible(bool(preview and preview.member_day))
        self._show_max(preview)

    def _show_max(self, preview: PurchasePreview | None) -> None:
        self._max_points = preview.max_points_usable if preview else 0
        if preview is None:
            self.use_max.setText(self.tr("Max: enter the amount first"))
            self.use_max.setEnabled(False)
            return
        self.use_max.setText(self.tr("Use max {points}").format(points=fmt.points(self._max_points)))
        self.use_max.setEnabled(self._max_points > 0)

    def _use_max(self) -> None:
        self.points.setText(str(self._max_points))
        self._preview()

    # -- confirming ---------------------------------------------------------------------------------------------
    def _build_confirm_page(self) -> None:
        """The second step: the amount once more in figures read across the counter, then Enter records it."""
        self.confirm_page = QWidget()
        layout = QVBoxLayout(self.confirm_page)
        layout.setContentsMargins(0, 0, 0, 0)
        question = QLabel(self.tr("Record this purchase for {name}?").format(name=self.member.name))
        question.setWordWrap(True)
        self.confirm_amount = QLabel()
        self.confirm_amount.setObjectName("confirmAmount")
        self.confirm_amount.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.confirm_details = QLabel()
        self.confirm_details.setWordWrap(True)
        self.confirm_details.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint = QLabel(self.tr("Enter records it · Esc goes back to change it"))
        hint.setObjectName("emptyHint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for widget in (question, self.confirm_amount, self.confirm_details, hint):
            layout.addWidget(widget)
        self.body.insertWidget(1, self.confirm_page)
        self.confirm_page.hide()
        self._confirming: PurchaseRequest | None = None
        """The request shown on the confirmation page: exactly what Enter records."""

    def submit(self) -> None:
        """Record first checks everything and shows the confirmation; only Enter there records."""
        if self._confirming is not None:
            super().submit()
            return
        if not self.ok.isEnabled():
            return
        self._debounce.stop()
        self._preview_seq += 1  # a preview still on its way must not overwrite what this check shows
        self.errors.clear()
        try:
            request = self.request()
        except (InputError, MemberDeskError) as exc:
            self.errors.show(exc)
            return
        self.ok.setEnabled(False)
        loyalty = self.services.loyalty
        self.tasks.run(
            lambda: loyalty.preview_purchase(request),
            lambda preview: self._show_confirmation(request, preview),
            self._refused,
        )

    def _show_confirmation(self, request: PurchaseRequest, preview: PurchasePreview) -> None:
        self._confirming = request
        self._show_preview(preview)
        self.confirm_amount.setText(fmt.yuan(request.total_fen))
        details = [self.tr("Cash to pay {cash}").format(cash=fmt.yuan(preview.paid_fen))]
        if request.points_to_use:
            details.append(
                self.tr("{points} points pay {value}").format(
                    points=fmt.points(request.points_to_use), value=fmt.yuan(preview.points_value_fen)
                )
            )
        details.append(self.tr("{earned} points earned").format(earned=fmt.signed_points(preview.points_to_earn)))
        self.confirm_details.setText(" · ".join(details))
        self.form_page.hide()
        self.confirm_page.show()
        self.ok.setText(self.tr("Confirm"))
        self.ok.setEnabled(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Back"))
        self.ok.setFocus()

    def reject(self) -> None:
        """Esc (or Back) on the confirmation returns to the form with everything as typed."""
        if self._confirming is None or not self.ok.isEnabled():
            super().reject()
            return
        self._back_to_form()
        self.amount.setFocus()

    def _back_to_form(self) -> None:
        self._confirming = None
        self.confirm_page.hide()
        self.form_page.show()
        self.ok.setText(self.tr("Record"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Cancel"))

    def _refused(self, error: MemberDeskError) -> None:
        """Refused at the last step (the balance changed meanwhile): back to the form, the reason by its field."""
        if self._confirming is not None:
            self._back_to_form()
        super()._refused(error)

    # -- recording ----------------------------------------------------------------------------------------------
    def prepare(self) -> Callable[[], Any]:
        request, loyalty = self._confirming, self.services.loyalty
        assert request is not None
        return lambda: loyalty.record_purchase(request)

    def succeeded(self, result: PurchaseResult) -> str:
        self.slip = purchase_slip(self.member, result, self.receipt.text().strip() or None)
        text = self.tr("Purchase of {amount} recorded: {earned} points earned, {used} used; balance {balance}.").format(
            amount=fmt.yuan(result.paid_fen + result.points_value_fen + result.coupon_discount_fen),
            earned=fmt.points(result.points_earned),
            used=fmt.points(result.points_used),
            balance=fmt.points(result.balance_after),
        )
        if result.coupon_discount_fen:
            text += " " + self.tr("Coupon: {amount} off.").format(amount=fmt.yuan(result.coupon_discount_fen))
        if result.replayed:
            text = self.tr("This purchase was already recorded.") + " " + text
        if result.tier_changed_to:
            text += " " + self.tr("Now {tier}!").format(tier=result.tier_changed_to)
        return text
