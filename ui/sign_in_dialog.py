"""Signing in at the counter: the operator picks their account and types their PIN. Nobody is ever signed in by
the program: at start the last account of this PC is only pre-selected. The same dialog switches the operator
(F12) and unlocks a counter locked after idle minutes, where the counter's state waits behind it untouched."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from app.errors import MemberDeskError
from ui.forms import error_label, pin_field
from ui.labels import ROLES, label
from ui.signals import emit
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.security.operator import Operator
    from app.security.sign_in import SignedIn, SignInAccount, SignInService


class SignInMode(enum.Enum):
    START = "start"
    SWITCH = "switch"
    LOCKED = "locked"


class SignInDialog(QDialog):
    signed_in = Signal(object)
    """SignedIn: who now works at the counter."""

    def __init__(
        self,
        tasks: TaskRunner,
        sign_ins: SignInService,
        mode: SignInMode,
        preselect: str,
        previous: Operator | None,
        parent: QWidget | None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.tasks = tasks
        self.sign_ins = sign_ins
        self.mode = mode
        self.previous = previous
        self._preselect = preselect
        titles = {
            SignInMode.START: self.tr("Sign in"),
            SignInMode.SWITCH: self.tr("Switch operator"),
            SignInMode.LOCKED: self.tr("Counter locked"),
        }
        self.setWindowTitle(titles[mode])
        self.note = QLabel()
        self.note.setObjectName("signInNote")
        self.note.setWordWrap(True)
        if mode is SignInMode.LOCKED and previous is not None:
            self.note.setText(
                self.tr(
                    "The counter was locked while nobody used it. {name}, type your PIN to go on where you were. "
                    "If someone else signs in, the open member is closed."
                ).format(name=previous.display_name)
            )
        elif mode is SignInMode.SWITCH:
            self.note.setText(self.tr("Choose your account (type the first letters of your user name), then your PIN."))
        else:
            self.note.setText(self.tr("Choose your account and type your PIN."))
        self.account = QComboBox()
        self.account.setObjectName("account")
        self.pin = pin_field()
        self.pin.setObjectName("pin")
        self.error = error_label()
        form = QFormLayout()
        form.addRow(self.tr("Account"), self.account)
        form.addRow(self.tr("PIN"), self.pin)
        self.buttons = QDialogButtonBox()
        self.ok = self.buttons.addButton(self.tr("Sign in"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setObjectName("okButton")
        self.ok.setDefault(True)
        self.ok.clicked.connect(self.submit)
        if mode is SignInMode.SWITCH:
            cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
            cancel.setText(self.tr("Cancel"))
            self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(420, self.sizeHint().height())
        self.account.setEnabled(False)
        self.ok.setEnabled(False)
        tasks.run(sign_ins.accounts, self._accounts_loaded)

    def _accounts_loaded(self, accounts: list[SignInAccount]) -> None:
        for account in accounts:
            text = self.tr("{username} — {name} ({role})").format(
                username=account.username, name=account.display_name, role=label(ROLES, account.role)
            )
            self.account.addItem(text, account.username)
        index = self.account.findData(self._preselect)
        self.account.setCurrentIndex(max(index, 0))
        self.account.setEnabled(True)
        self.ok.setEnabled(True)
        if self.mode is SignInMode.SWITCH:
            self.account.setFocus()  # the next person types their own name; the PIN field waits for digits
        else:
            self.pin.setFocus()

    def username(self) -> str:
        return str(self.account.currentData() or "")

    def submit(self) -> None:
        if not self.ok.isEnabled():
            return
        username, pin = self.username(), self.pin.text()
        if not pin:
            self._show_error(self.tr("Type your PIN."))
            return
        self.ok.setEnabled(False)
        self.error.hide()
        sign_ins, previous = self.sign_ins, self.previous
        self.tasks.run(lambda: sign_ins.sign_in(username, pin, previous), self._succeeded, self._refused)

    def _succeeded(self, result: SignedIn) -> None:
        emit(self.signed_in, result)
        self.accept()

    def _refused(self, error: MemberDeskError) -> None:
        self.ok.setEnabled(True)
        self._show_error(str(error))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.pin.clear()
        self.pin.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter in the account list moves on to the PIN. Esc cancels only a switch; closing the start or lock
        dialog closes MemberDesk (the main window does that), since nobody may work unsigned."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.account.hasFocus():
            self.pin.setFocus()
            return
        if event.key() == Qt.Key.Key_Escape and self.mode is not SignInMode.SWITCH:
            return
        super().keyPressEvent(event)
