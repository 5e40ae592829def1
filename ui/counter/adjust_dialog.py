"""Adjust points by hand (F7): a number of points up or down and a reason. A cashier's adjustment needs a manager's
PIN typed here; the service checks it and records who approved."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QLabel, QLineEdit, QSpinBox, QWidget

from app.changes import Changes
from app.context import Services
from app.members.profile import MemberProfile
from ui import formatting as fmt
from ui.forms import ActionDialog, InputError, pin_field
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.loyalty.service import AdjustmentResult

MAX_ADJUSTMENT = 1_000_000
CASHIER = "cashier"
"""StaffRole.CASHIER's stored value (a StrEnum equals its value)."""


class AdjustDialog(ActionDialog):
    changes = Changes.POINTS
    denied_field = "pin"
    """A refused approval (only a cashier's form has the PIN field; a manager's refusal shows below the form)."""

    def __init__(self, tasks: TaskRunner, services: Services, member: MemberProfile, parent: QWidget | None) -> None:
        super().__init__(tasks, services, self.tr("Adjust points"), self.tr("Adjust"), parent)
        self.setObjectName("adjustDialog")
        self.member = member
        heading = QLabel(
            self.tr("{name} · balance {points} points").format(
                name=member.name, points=fmt.points(member.points_balance)
            )
        )
        heading.setObjectName("dialogHeading")
        self.form.addRow(heading)
        self.delta = QSpinBox()
        self.delta.setRange(-MAX_ADJUSTMENT, MAX_ADJUSTMENT)
        self.delta.setToolTip(self.tr("Positive adds points, negative takes them away"))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(self.tr("Required, e.g. points missed on receipt 1234"))
        self.pin = pin_field()
        self.pin.setPlaceholderText(self.tr("A manager types their PIN"))
        self.add_row(self.tr("Points (+/−)"), "points", self.delta)
        self.add_row(self.tr("Reason"), "reason", self.reason)
        self.needs_approval = services.operator.role == CASHIER
        if self.needs_approval:
            self.add_row(self.tr("Manager PIN"), "pin", self.pin)
        self.resize(440, self.sizeHint().height())
        self.delta.setFocus()
        self.delta.selectAll()

    def prepare(self) -> Callable[[], Any]:
        delta, reason = self.delta.value(), self.reason.text().strip()
        if not reason:
            raise InputError(self.tr("Enter the reason for the adjustment."), "reason")
        pin = self.pin.text() if self.needs_approval else None
        loyalty, member_id, key = self.services.loyalty, self.member.id, self.idempotency_key
        return lambda: loyalty.adjust_points(member_id, delta, reason, key, approver_pin=pin)

    def succeeded(self, result: AdjustmentResult) -> str:
        return self.tr("Points adjusted by {delta}; balance {balance}.").format(
            delta=fmt.signed_points(result.delta), balance=fmt.points(result.balance_after)
        )
