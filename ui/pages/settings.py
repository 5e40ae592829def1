"""The store's settings as a form built from app.settings.REGISTRY (one typed registry; the form never lists a
setting by hand). Anyone may look; only the owner may save, and the service is what enforces that."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.errors import MemberDeskError
from ui.forms import FormErrors, error_label
from ui.labels import SETTING_CHOICES, label
from ui.pages.base import Page
from ui.tasks import Changes, TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.settings import SettingDef

SPIN_LIMIT = 1_000_000_000
FORM_WIDTH = 760
OWNER = "owner"
_LIST_SPLIT = re.compile(r"[,，;；、\s]+")


class SettingField:
    """One setting's editor, by the setting's type."""

    def __init__(self, definition: SettingDef) -> None:
        self.definition = definition
        self.widget: QWidget
        if definition.kind is bool:
            self.widget = QCheckBox()
        elif definition.kind is int:
            spin = QSpinBox()
            spin.setRange(
                definition.minimum if definition.minimum is not None else -SPIN_LIMIT,
                definition.maximum if definition.maximum is not None else SPIN_LIMIT,
            )
            self.widget = spin
        elif definition.choices:
            combo = QComboBox()
            for choice in definition.choices:
                combo.addItem(label(SETTING_CHOICES, choice), choice)
            self.widget = combo
        else:
            self.widget = QLineEdit()
        self.widget.setObjectName(f"setting:{definition.key}")

    def set(self, value: Any) -> None:
        widget = self.widget
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QSpinBox):
            widget.setValue(int(value))
        elif isinstance(widget, QComboBox):
            widget.setCurrentIndex(max(0, widget.findData(value)))
        elif isinstance(widget, QLineEdit):
            widget.setText(", ".join(value) if isinstance(value, list) else str(value))

    def value(self) -> Any:
        widget = self.widget
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QSpinBox):
            return widget.value()
        if isinstance(widget, QComboBox):
            return widget.currentData()
        assert isinstance(widget, QLineEdit)
        if self.definition.kind is list:
            return [item for item in _LIST_SPLIT.split(widget.text()) if item]
        return widget.text().strip()


class SettingsPage(Page):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("settingsPage")
        self._stored: dict[str, Any] = {}
        self.fields: dict[str, SettingField] = {}
        self.general_error = error_label("generalError")
        self.errors = FormErrors(self.general_error)
        self.note = QLabel()
        self.note.setObjectName("emptyHint")
        self.note.setWordWrap(True)
        self.form_host = QWidget()
        self.form_host.setMaximumWidth(FORM_WIDTH)
        self.form = QFormLayout(self.form_host)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form_host)
        self.save_button = QPushButton(self.tr("Save settings"))
        self.save_button.setObjectName("saveSettings")
        self.save_button.clicked.connect(self.save)
        self.revert_button = QPushButton(self.tr("Undo changes"))
        self.revert_button.clicked.connect(self.revert)
        self.saved = QLabel()
        self.saved.setObjectName("savedNote")
        buttons = QHBoxLayout()
        buttons.addWidget(self.saved, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        heading = QLabel(self.tr("Store settings"))
        heading.setObjectName("pageHeading")
        layout.addWidget(heading)
        layout.addWidget(self.note)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.general_error)
        layout.addLayout(buttons)

    def _build(self) -> None:
        from app.settings import REGISTRY

        for key, definition in REGISTRY.items():
            field = SettingField(definition)
            self.fields[key] = field
            caption = QLabel(QCoreApplication.translate("Settings", definition.label))
            caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.form.addRow(caption, self.errors.wrap(key, field.widget))

    def attach(self, services: Services) -> None:
        super().attach(services)
        if not self.fields:
            self._build()
        owner = services.operator.role == OWNER
        self.note.setText(
            self.tr("These settings apply to every counter of the store.")
            if owner
            else self.tr("Only the owner can change these settings; you can look at them.")
        )
        self.load()

    def on_changed(self, changes: Changes) -> None:
        if changes & Changes.SETTINGS:
            self.load()

    def load(self) -> None:
        if self.services is not None:
            self.tasks.run(self.services.settings.all, self._loaded)

    def _loaded(self, values: dict[str, Any]) -> None:
        self._stored = values
        self._show_stored()

    def revert(self) -> None:
        self.saved.clear()
        self._show_stored()

    def _show_stored(self) -> None:
        self.errors.clear()
        for key, field in self.fields.items():
            if key in self._stored:
                field.set(self._stored[key])

    def changed_values(self) -> dict[str, Any]:
        return {
            key: value
            for key, field in self.fields.items()
            if (value := field.value()) != self._stored.get(key, field.definition.default)
        }

    def save(self) -> None:
        services = self.services
        if services is None:
            return
        self.errors.clear()
        self.saved.clear()
        changes = self.changed_values()
        if not changes:
            self.saved.setText(self.tr("Nothing to save."))
            return
        self.save_button.setEnabled(False)
        self.tasks.run(lambda: services.settings.update(changes), self._saved, self._refused, Changes.SETTINGS)

    def _saved(self, _result: None) -> None:
        self.save_button.setEnabled(True)
        self.saved.setText(self.tr("Settings saved."))

    def _refused(self, error: MemberDeskError) -> None:
        self.save_button.setEnabled(True)
        self.errors.show(error)
