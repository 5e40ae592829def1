"""Switch operator (F12): the next person at the counter signs in with their username and PIN, so every change
after this carries their name (and their permissions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QWidget

from app.changes import Changes
from ui.forms import ActionDialog, InputError, pin_field
from ui.labels import ROLES, label
from ui.signals import emit
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.security.operator import Operator


class OperatorDialog(ActionDialog):
    signed_in = Signal(object, str)
    """The new operator's Services and their username."""

    changes = Changes.NONE

    def __init__(self, tasks: TaskRunner, services: Services, username: str, parent: QWidget | None) -> None:
        super().__init__(tasks, services, self.tr("Switch operator"), self.tr("Sign in"), parent)
        self.setObjectName("operatorDialog")
        self.username = QLineEdit(username)
        self.pin = pin_field()
        self.add_row(self.tr("Username"), "username", self.username)
        self.add_row(self.tr("PIN"), "pin", self.pin)
        self.resize(360, self.sizeHint().height())
        (self.pin if username else self.username).setFocus()

    def prepare(self) -> Callable[[], Any]:
        username, pin, store = self.username.text().strip(), self.pin.text(), self.services.store
        if not username:
            raise InputError(self.tr("Enter your username."), "username")
        return lambda: store.sign_in(username, pin)

    def succeeded(self, operator: Operator) -> str:
        emit(self.signed_in, self.services.store.services(operator), self.username.text().strip())
        return self.tr("Signed in as {name} ({role}).").format(
            name=operator.display_name, role=label(ROLES, operator.role)
        )

    def refused(self, error: Exception) -> None:
        self.pin.clear()
