"""Staff accounts (员工账号): the owner adds people, deactivates and reactivates them and resets forgotten PINs;
everyone changes their own PIN here. Nobody but the owner sees the list of accounts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.changes import Changes
from app.errors import MemberDeskError
from app.vocabulary import StaffRole
from ui.admin.pins import ChangePinDialog, NewPinFields
from ui.forms import ActionDialog, error_label
from ui.labels import ROLES, label
from ui.models import Column, RowsModel, row_table, show_rows
from ui.pages.base import Page
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.security.staff import StaffRow


class AddStaffDialog(ActionDialog):
    changes = Changes.STAFF

    def __init__(self, tasks: TaskRunner, services: Services, parent: QWidget | None) -> None:
        super().__init__(tasks, services, self.tr("Add a staff account"), self.tr("Add"), parent)
        self.setObjectName("addStaffDialog")
        self.username = QLineEdit()
        self.username.setPlaceholderText(self.tr("Letters, digits or _, e.g. cashier3"))
        self.display_name = QLineEdit()
        self.display_name.setPlaceholderText(self.tr("As shown on screen and in the records"))
        self.role = QComboBox()
        for role in StaffRole:
            self.role.addItem(label(ROLES, role), role)
        self.add_row(self.tr("Username"), "username", self.username)
        self.add_row(self.tr("Name"), "display_name", self.display_name)
        self.add_row(self.tr("Role"), "role", self.role)
        self.new_pin = NewPinFields(self, self.tr("PIN"))
        self.resize(440, self.sizeHint().height())
        self.username.setFocus()

    def prepare(self) -> Callable[[], Any]:
        username, name, role = self.username.text(), self.display_name.text(), self.role.currentData()
        pin, staff = self.new_pin.value(), self.services.staff
        return lambda: staff.add(username, name, role, pin)

    def succeeded(self, _staff_id: int) -> str:
        return self.tr("Added {name}.").format(name=self.display_name.text().strip())


class ResetPinDialog(ActionDialog):
    """For staff who forgot their PIN: the owner sets a new one and tells them."""

    changes = Changes.STAFF

    def __init__(self, tasks: TaskRunner, services: Services, account: StaffRow, parent: QWidget | None) -> None:
        super().__init__(tasks, services, self.tr("Reset a PIN"), self.tr("Reset PIN"), parent)
        self.setObjectName("resetPinDialog")
        self.account = account
        heading = QLabel(self.tr("{name} ({username})").format(name=account.display_name, username=account.username))
        heading.setObjectName("dialogHeading")
        self.form.addRow(heading)
        self.new_pin = NewPinFields(self, self.tr("New PIN"))
        self.resize(400, self.sizeHint().height())
        self.new_pin.pin.setFocus()

    def prepare(self) -> Callable[[], Any]:
        staff_id, pin, staff = self.account.id, self.new_pin.value(), self.services.staff
        return lambda: staff.reset_pin(staff_id, pin)

    def succeeded(self, _result: None) -> str:
        return self.tr("The PIN of {name} was reset.").format(name=self.account.display_name)


class StaffPage(Page):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("staffPage")
        self.me = QLabel()
        self.me.setObjectName("dialogHeading")
        self.change_pin_button = QPushButton(self.tr("Change my PIN…"))
        self.change_pin_button.clicked.connect(self.change_own_pin)
        me_row = QHBoxLayout()
        me_row.addWidget(self.me, 1)
        me_row.addWidget(self.change_pin_button)

        self.model: RowsModel[StaffRow] = RowsModel(
            [
                Column(lambda: self.tr("Username"), lambda s: s.username),
                Column(lambda: self.tr("Name"), lambda s: s.display_name),
                Column(lambda: self.tr("Role"), lambda s: label(ROLES, s.role)),
                Column(lambda: self.tr("Status"), lambda s: self.tr("Active") if s.active else self.tr("Deactivated")),
            ],
            self,
        )
        self.view = row_table(self.model, takes_focus=True)
        self.view.setObjectName("staffList")
        self.view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().currentRowChanged.connect(lambda _now, _before: self._selection_changed())
        self.add_button = QPushButton(self.tr("Add staff…"))
        self.add_button.clicked.connect(self.add_staff)
        self.active_button = QPushButton(self.tr("Deactivate"))
        self.active_button.setObjectName("activeButton")
        self.active_button.clicked.connect(self.toggle_active)
        self.reset_button = QPushButton(self.tr("Reset PIN…"))
        self.reset_button.clicked.connect(self.reset_pin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.active_button)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        self.admin = QWidget()
        admin_layout = QVBoxLayout(self.admin)
        admin_layout.setContentsMargins(0, 8, 0, 0)
        admin_layout.addWidget(self.view, 1)
        admin_layout.addLayout(buttons)

        self.note = QLabel()
        self.note.setObjectName("savedNote")
        self.general_error = error_label("generalError")
        layout = QVBoxLayout(self)
        layout.addLayout(me_row)
        layout.addWidget(self.admin, 1)
        layout.addWidget(self.general_error)
        layout.addWidget(self.note)
        layout.addStretch(0)
        self._selection_changed()

    @property
    def administers(self) -> bool:
        """Only the owner manages accounts (StaffService checks the same)."""
        return self.services is not None and self.services.operator.at_least(StaffRole.OWNER)

    def attach(self, services: Services) -> None:
        super().attach(services)
        operator = services.operator
        self.me.setText(
            self.tr("Signed in as {name} ({role})").format(name=operator.display_name, role=label(ROLES, operator.role))
        )
        self.admin.setVisible(self.administers)
        self.model.set_rows([])
        self.note.clear()
        self.general_error.hide()
        if self.administers:
            self.reload()

    def on_changed(self, changes: Changes) -> None:
        if changes & Changes.STAFF and self.administers:
            self.reload()

    def reload(self) -> None:
        if self.services is not None:
            self.tasks.run(self.services.staff.list, self._loaded)

    def _loaded(self, rows: list[StaffRow]) -> None:
        show_rows(self.view, self.model, rows, lambda row: row.id)
        self._selection_changed()

    def selected(self) -> StaffRow | None:
        return self.model.row_at(self.view.currentIndex().row())

    def _selection_changed(self) -> None:
        account = self.selected()
        self.active_button.setText(self.tr("Reactivate") if account and not account.active else self.tr("Deactivate"))
        self.active_button.setEnabled(account is not None)
        self.reset_button.setEnabled(account is not None and account.active)

    # -- actions --------------------------------------------------------------------------------------------
    def _open(self, dialog: ActionDialog) -> None:
        self.note.clear()
        self.general_error.hide()
        dialog.completed.connect(self.note.setText)
        dialog.open()

    def change_own_pin(self) -> None:
        if self.services is not None:
            self._open(ChangePinDialog(self.tasks, self.services, self))

    def add_staff(self) -> None:
        if self.services is not None:
            self._open(AddStaffDialog(self.tasks, self.services, self))

    def reset_pin(self) -> None:
        account = self.selected()
        if self.services is not None and account is not None:
            self._open(ResetPinDialog(self.tasks, self.services, account, self))

    def toggle_active(self) -> None:
        services, account = self.services, self.selected()
        if services is None or account is None:
            return
        self.note.clear()
        self.general_error.hide()
        active = not account.active
        done = (self.tr("{name} can sign in again.") if active else self.tr("{name} can no longer sign in.")).format(
            name=account.display_name
        )
        self.tasks.run(
            lambda: services.staff.set_active(account.id, active),
            lambda _none: self.note.setText(done),
            self._refused,
            Changes.STAFF,
        )

    def _refused(self, error: MemberDeskError) -> None:
        self.general_error.setText(str(error))
        self.general_error.show()
