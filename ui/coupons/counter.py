"""Coupons at the counter: the purchase dialog's coupon field, the lookup box's coupon scans, the member panel's
list of the member's coupons (a manager voids one from there)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.changes import Changes
from app.coupons.codes import grouped, is_well_formed, normalise
from app.i18n import QT_TRANSLATE_NOOP
from ui import formatting as fmt
from ui.forms import ActionDialog, InputError
from ui.models import Column, RowsModel, row_table
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from app.context import Services
    from app.coupons.redemption import CouponQuote
    from app.coupons.service import CouponChanged, MemberCoupon
    from app.members.service import LookupResult

STATUS = {
    "issued": QT_TRANSLATE_NOOP("Coupons", "Valid"),
    "redeemed": QT_TRANSLATE_NOOP("Coupons", "Used"),
    "void": QT_TRANSLATE_NOOP("Coupons", "Voided"),
    "expired": QT_TRANSLATE_NOOP("Coupons", "Expired"),
}


class CouponField(QLineEdit):
    """A scanned or typed coupon code; upper-cased as typed (a scanner in lower case still reads)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("couponField")
        self.setClearButtonEnabled(True)
        self.setMaxLength(20)
        self.setPlaceholderText(QCoreApplication.translate("Coupons", "Optional; scan or type the coupon code"))

    def code(self) -> str | None:
        return self.text().strip() or None


def describe_quote(quote: CouponQuote | None) -> str:
    """What the coupon does to this purchase, for the preview."""
    if quote is None:
        return "—"
    if quote.gift_name:
        return QCoreApplication.translate("Coupons", "Hand over the gift: {gift}").format(gift=quote.gift_name)
    if quote.points_multiplier_pct != 100:
        return QCoreApplication.translate("Coupons", "Points × {times}").format(times=quote.points_multiplier_pct / 100)
    return QCoreApplication.translate("Coupons", "{amount} off").format(amount=fmt.yuan(quote.discount_fen))


def lookup_with_coupons(services: Services, query: str) -> LookupResult:
    """The lookup box's search, where a scanned coupon of a member opens that member. Only text that is a coupon
    code asks the coupon service (so the counter's first lookup does not wait for its modules to load)."""
    member_no = services.coupons.holder_member_no(query) if is_well_formed(normalise(query)) else None
    return services.lookup(member_no or query)


def _status(row: MemberCoupon) -> str:
    if row.usable:
        return QCoreApplication.translate("Coupons", STATUS["issued"])
    if row.status == "issued":
        return QCoreApplication.translate("Coupons", "Not usable now")
    return QCoreApplication.translate("Coupons", STATUS.get(str(row.status), str(row.status)))


class MemberCouponsTab(QWidget):
    """The open member's coupons, the usable ones first; Void… for a manager (the service checks the role)."""

    voided = Signal(str)

    def __init__(self, tasks: TaskRunner) -> None:
        super().__init__()
        self.setObjectName("memberCoupons")
        self.tasks = tasks
        self.services: Services | None = None
        self.member_id: int | None = None
        self.model: RowsModel[MemberCoupon] = RowsModel(
            [
                Column(lambda: QCoreApplication.translate("Coupons", "Code"), lambda c: grouped(c.code)),
                Column(lambda: QCoreApplication.translate("Coupons", "Campaign"), lambda c: c.campaign_name),
                Column(lambda: QCoreApplication.translate("Coupons", "Offer"), lambda c: c.offer),
                Column(
                    lambda: QCoreApplication.translate("Coupons", "Valid until"),
                    lambda c: fmt.local_date(c.valid_until - dt.timedelta(microseconds=1)),
                ),
                Column(lambda: QCoreApplication.translate("Coupons", "Status"), _status),
            ],
            self,
        )
        self.view = row_table(self.model, takes_focus=False)
        self.void_button = QPushButton(QCoreApplication.translate("Coupons", "Void…"))
        self.void_button.setObjectName("voidCoupon")
        self.void_button.clicked.connect(self.void_selected)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.void_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

    def show_member(self, services: Services, member_id: int) -> None:
        self.services, self.member_id = services, member_id
        self.reload()

    def reload(self) -> None:
        services, member_id = self.services, self.member_id
        if services is None or member_id is None:
            return
        self.tasks.run(
            lambda: services.coupons.member_coupons(member_id),
            lambda rows: self.model.set_rows(rows) if self.member_id == member_id else None,
        )

    def void_selected(self) -> None:
        row = self.model.row_at(self.view.currentIndex().row())
        if row is None or self.services is None:
            return
        dialog = VoidCouponDialog(self.tasks, self.services, row, self)
        dialog.completed.connect(self._voided)
        dialog.open()

    def _voided(self, text: str) -> None:
        self.voided.emit(text)
        self.reload()


class VoidCouponDialog(ActionDialog):
    changes = Changes.COUPONS

    def __init__(self, tasks: TaskRunner, services: Services, coupon: MemberCoupon, parent: QWidget | None) -> None:
        super().__init__(
            tasks,
            services,
            QCoreApplication.translate("Coupons", "Void a coupon"),
            QCoreApplication.translate("Coupons", "Void"),
            parent,
        )
        self.setObjectName("voidCouponDialog")
        self.coupon = coupon
        self.form.addRow(
            QCoreApplication.translate("Coupons", "Coupon"), QLineEdit(grouped(coupon.code), readOnly=True)
        )
        self.reason = QLineEdit()
        self.reason.setObjectName("voidReason")
        self.reason.setPlaceholderText(QCoreApplication.translate("Coupons", "Why (lost, given by mistake…)"))
        self.add_row(QCoreApplication.translate("Coupons", "Reason"), "reason", self.reason)
        self.reason.setFocus()

    def prepare(self) -> Callable[[], Any]:
        reason = self.reason.text().strip()
        if not reason:
            raise InputError(QCoreApplication.translate("Coupons", "Voiding a coupon needs a reason."), "reason")
        coupons, coupon_id, key = self.services.coupons, self.coupon.id, self.idempotency_key
        return lambda: coupons.void(coupon_id, reason, key)

    def succeeded(self, result: CouponChanged) -> str:
        return QCoreApplication.translate("Coupons", "Coupon {code} voided.").format(code=grouped(self.coupon.code))
