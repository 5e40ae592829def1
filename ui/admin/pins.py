"""PIN dialogs: anyone changes their own (knowing the current one); the first sign-in with the store's starting PIN
asks for that, because a PIN printed in the manual signs anyone in as the owner."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QWidget

from app.changes import Changes
from ui.forms import ActionDialog, InputError, pin_field
from ui.labels import ROLES, label
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services


class NewPinFields:
    """A new PIN typed twice, so a slip of the finger cannot lock someone out."""

    def __init__(self, dialog: ActionDialog, caption: str) -> None:
        self.pin = pin_field()
        self.repeat = pin_field()
        dialog.add_row(caption, "pin", self.pin)
        dialog.add_row(QCoreApplication.translate("NewPinFields", "Repeat the PIN"), "repeat", self.repeat)

    def value(self) -> str:
        if self.pin.text() != self.repeat.text():
            raise InputError(QCoreApplication.translate("NewPinFields", "The two PINs differ."), "repeat")
        return self.pin.text()


class ChangePinDialog(ActionDialog):
    changes = Changes.STAFF
    denied_field = "current"

    def __init__(
        self, tasks: TaskRunner, services: Services, parent: QWidget | None, starting_pin: bool = False
    ) -> None:
        super().__init__(tasks, services, self.tr("Change my PIN"), self.tr("Change PIN"), parent)
        self.setObjectName("changePinDialog")
        operator = services.operator
        heading = QLabel(
            self.tr("{name} ({role})").format(name=operator.display_name, role=label(ROLES, operator.role))
        )
        heading.setObjectName("dialogHeading")
        self.form.addRow(heading)
        if starting_pin:
            why = QLabel(
                self.tr(
                    "You still sign in with the store's starting PIN, which anyone can look up. "
                    "Choose your own PIN now, so nobody else can work in your name."
                )
            )
            why.setObjectName("pinWarning")
            why.setWordWrap(True)
            self.form.addRow(why)
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Later"))
        self.current = pin_field()
        self.add_row(self.tr("Current PIN"), "current", self.current)
        self.new_pin = NewPinFields(self, self.tr("New PIN"))
        self.resize(420, self.sizeHint().height())
        self.current.setFocus()

    def prepare(self) -> Callable[[], Any]:
        current, new, staff = self.current.text(), self.new_pin.value(), self.services.staff
        if not current:
            raise InputError(self.tr("Enter your current PIN."), "current")
        return lambda: staff.change_own_pin(current, new)

    def succeeded(self, _result: None) -> str:
        return self.tr("Your PIN was changed.")
