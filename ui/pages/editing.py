"""A screen that edits a stored set of values as a whole (the store's settings, the member tiers): Save sends only
what changed, in one service call; Undo puts the stored values back; a refusal is shown by the field it names."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from app.changes import Changes
from app.errors import MemberDeskError
from ui.forms import FormErrors, InputError, error_label
from ui.pages.base import Page
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services


class EditPage(Page):
    changes: Changes
    """What a save changes (screens showing it reload, this one included)."""

    def __init__(self, tasks: TaskRunner, save_text: str, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.general_error = error_label("generalError")
        self.errors = FormErrors(self.general_error)
        self.save_button = QPushButton(save_text)
        self.save_button.clicked.connect(self.save)
        self.revert_button = QPushButton(self.tr("Undo changes"))
        self.revert_button.clicked.connect(self.revert)
        self.saved = QLabel()
        self.saved.setObjectName("savedNote")
        self.buttons = QHBoxLayout()
        self.buttons.addWidget(self.saved, 1)
        self.buttons.addWidget(self.revert_button)
        self.buttons.addWidget(self.save_button)

    # -- what a screen fills in -----------------------------------------------------------------------------
    def show_stored(self) -> None:
        """Put the stored values into the fields."""
        raise NotImplementedError

    def changed_values(self) -> Any:
        """What the fields change, empty when nothing; raises InputError for what cannot be sent as typed."""
        raise NotImplementedError

    def save_call(self, services: Services, changes: Any) -> Callable[[], object]:
        raise NotImplementedError

    def saved_text(self) -> str:
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------------------
    def stored_loaded(self) -> None:
        """New stored values arrived (after a save, too): the fields show them; the "saved" note stays."""
        self.errors.clear()
        self.show_stored()

    def revert(self) -> None:
        self.saved.clear()
        self.stored_loaded()

    def save(self) -> None:
        services = self.services
        if services is None:
            return
        self.errors.clear()
        self.saved.clear()
        try:
            changes = self.changed_values()
        except InputError as exc:
            self.errors.show(exc)
            return
        if not changes:
            self.saved.setText(self.tr("Nothing to save."))
            return
        self.save_button.setEnabled(False)
        self.tasks.run(self.save_call(services, changes), self._saved, self._refused, self.changes)

    def _saved(self, _result: object) -> None:
        self.save_button.setEnabled(True)
        self.saved.setText(self.saved_text())

    def _refused(self, error: MemberDeskError) -> None:
        self.save_button.setEnabled(True)
        self.errors.show(error)
