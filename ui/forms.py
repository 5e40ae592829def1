"""What every form shares: refusals shown next to the field they are about, and the dialog that runs one service
call through the task runner with its idempotency key made when it opened (so a double click or a second Enter
can never record twice)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QRegularExpression, Qt, Signal, SignalInstance
from PySide6.QtGui import QKeyEvent, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import MemberDeskError, PermissionDenied, ValidationError
from ui.signals import emit

if TYPE_CHECKING:
    from app.changes import Changes
    from app.context import Services
    from ui.printing.slips import SlipContent
    from ui.tasks import TaskRunner

PIN_MAX_DIGITS = 8


class InputError(Exception):
    """Input the GUI refuses before asking a service (text already translated)."""

    def __init__(self, text: str, field: str | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.field = field


def pin_field() -> QLineEdit:
    """A PIN as typed at the counter: hidden, digits only (the service still checks the length)."""
    line = QLineEdit()
    line.setEchoMode(QLineEdit.EchoMode.Password)
    line.setMaxLength(PIN_MAX_DIGITS)
    line.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d*"), line))
    return line


def error_label(object_name: str = "fieldError") -> QLabel:
    label = QLabel()
    label.setObjectName(object_name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


_CHANGE_SIGNALS = ("textEdited", "toggled", "currentIndexChanged", "valueChanged", "dateChanged")
"""The signal by which each kind of field says the cashier changed it (the first one the widget has)."""


def grow_to_fit(widget: QWidget) -> None:
    """The dialog `widget` is in grows to show what it has just been given whole (a refusal's wrapped line, rows a
    choice made visible): nothing cut off at the dialog's edge or squeezed."""
    window = widget.window()
    layout = window.layout() if window is not None else None
    if window is None or layout is None or not window.isVisible():
        return
    layout.activate()
    needed = layout.totalSizeHint().height()
    if layout.hasHeightForWidth():  # a form's height for its width can come out at its minimum: take the larger
        needed = max(needed, layout.totalHeightForWidth(window.width()))
    if needed > window.height():
        window.resize(window.width(), needed)


class FormErrors:
    """Maps a refusal to the field it names (ValidationError.field); anything else goes to the general line."""

    def __init__(self, general: QLabel) -> None:
        self.general = general
        self._fields: dict[str, tuple[QWidget, QLabel]] = {}

    def wrap(self, field: str, widget: QWidget, focus: QWidget | None = None) -> QWidget:
        """`widget` with its own error line beneath it; `focus` is what takes the keys when `widget` is a row of
        several (a refusal must never leave the focus on a container that ignores keys)."""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        label = error_label()
        layout.addWidget(widget)
        layout.addWidget(label)
        self.add(field, focus or widget, label)
        return box

    def add(self, field: str, widget: QWidget, label: QLabel) -> None:
        """Refusals of `field` go to `label` and put the focus on `widget` (for layouts where the error line cannot sit
        right beneath its field, such as a column of a grid). Changing the field takes its refusal away."""
        self._fields[field] = (widget, label)
        for name in _CHANGE_SIGNALS:
            signal = getattr(widget, name, None)
            if isinstance(signal, SignalInstance):
                signal.connect(lambda *_args: self.clear_field(field))
                break

    def clear(self) -> None:
        for _, label in self._fields.values():
            label.hide()
        self.general.hide()

    def show_text(self, text: str, field: str | None = None, focus: bool = True) -> None:
        """The refusal beside its field. `focus` (on confirm only) puts the cursor in that field; a check made while
        the cashier types never moves the focus or selects anything, so the next key is added to what they typed
        instead of replacing it (128. then 50 stays 128.50)."""
        widget, label = self._fields.get(field or "", (None, self.general))
        label.setText(text)
        label.show()
        grow_to_fit(label)
        if widget is not None and focus:
            widget.setFocus()
            if isinstance(widget, QLineEdit):
                widget.selectAll()  # refused on confirm: the correction is typed over, not added to

    def show(self, error: Exception, focus: bool = True) -> None:
        if isinstance(error, InputError):
            self.show_text(error.text, error.field, focus)
        elif isinstance(error, ValidationError):
            self.show_text(str(error), error.field, focus)
        else:
            self.show_text(str(error), None, focus)

    def show_all(self, errors: Iterable[Exception]) -> None:
        """Every refusal at once, each by its field; the focus goes to the first."""
        first = True
        for error in errors:
            self.show(error, focus=first)
            first = False

    def clear_field(self, field: str) -> None:
        """The cashier changed `field`: its refusal no longer applies."""
        entry = self._fields.get(field)
        if entry is not None:
            entry[1].hide()

    def field_text(self, field: str) -> str:
        """The error shown by `field` ('' if none): for tests and for screen readers."""
        entry = self._fields.get(field)
        return entry[1].text() if entry and not entry[1].isHidden() else ""


class EnterMovesOn(QObject):
    """A scanner ends with Enter: in a scanned field that must move to the next field, not submit the form."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and isinstance(watched, QWidget)
        ):
            watched.focusNextChild()
            return True
        return False


class ActionDialog(QDialog):
    """A form that makes one change. Subclasses build their rows, turn the input into a service call in
    `prepare()` and describe the result in `succeeded()`; the rest (busy button, errors, refresh) is here."""

    completed = Signal(str)
    """A short confirmation for the member panel, emitted when the change was made."""

    changes: Changes
    denied_field: str | None = None
    """The field a PermissionDenied is about (a PIN typed in the dialog): shown there rather than below the form."""

    def __init__(self, tasks: TaskRunner, services: Services, title: str, ok_text: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.services = services
        self.idempotency_key = str(uuid.uuid4())
        self.slip: SlipContent | None = None
        """Set by `succeeded()` when the change is one the customer may want a printed slip of."""
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.general_error = error_label("generalError")
        self.errors = FormErrors(self.general_error)
        self.form_page = QWidget()
        self.form = QFormLayout(self.form_page)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Cancel"))
        self.ok: QPushButton = self.buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setObjectName("okButton")
        self.ok.setDefault(True)
        self.ok.clicked.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self._enter_moves_on = EnterMovesOn(self)
        self.body = QVBoxLayout(self)
        self.body.addWidget(self.form_page)
        self.body.addWidget(self.general_error)
        self.body.addWidget(self.buttons)

    def add_row(self, label: str, field: str, widget: QWidget) -> None:
        self.form.addRow(label, self.errors.wrap(field, widget))

    def scanned(self, line: QLineEdit) -> QLineEdit:
        """Mark a field a scanner may fill: its closing Enter moves on instead of submitting."""
        line.installEventFilter(self._enter_moves_on)
        return line

    def prepare(self) -> Callable[[], Any]:
        raise NotImplementedError

    def succeeded(self, result: Any) -> str | None:
        """The confirmation for the panel; None keeps the dialog open (a result page)."""
        raise NotImplementedError

    def submit(self) -> None:
        if not self.ok.isEnabled():
            return
        self.errors.clear()
        try:
            call = self.prepare()
        except (InputError, ValidationError) as exc:
            self.errors.show(exc)
            return
        self.ok.setEnabled(False)
        self.tasks.run(call, self._succeeded, self._refused, changes=self.changes, on_failed=self._failed)

    def _failed(self) -> None:
        """It did not go through (the connection to the database was lost, say): Record again sends the same
        idempotency key, so if the first one did reach the database it is not recorded twice."""
        self.ok.setEnabled(True)
        self.errors.show_text(self.tr("That did not go through. Try again: it will not be recorded twice."))

    def _succeeded(self, result: Any) -> None:
        message = self.succeeded(result)
        if message is None:
            self.ok.setEnabled(True)
            return
        emit(self.completed, message)
        self.accept()

    def _refused(self, error: MemberDeskError) -> None:
        self.ok.setEnabled(True)
        if isinstance(error, PermissionDenied) and self.denied_field is not None:
            self.errors.show_text(str(error), self.denied_field)
        else:
            self.errors.show(error)
        self.refused(error)

    def refused(self, error: MemberDeskError) -> None:
        """A hook for dialogs that offer more than the message (e.g. open the member a phone belongs to)."""
