"""The store's settings as a form built from app.settings.REGISTRY (one typed registry; the form never lists a
setting by hand). Anyone may look; only the owner may save, and the service is what enforces that."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from ui.labels import SETTING_CHOICES, label
from ui.pages.editing import EditPage
from ui.tasks import TaskRunner

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


class SettingsPage(EditPage):
    changes = Changes.SETTINGS

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, self.tr("Save settings"), parent)
        self.setObjectName("settingsPage")
        self._stored: dict[str, Any] = {}
        self.fields: dict[str, SettingField] = {}
        self.save_button.setObjectName("saveSettings")
        self.note = QLabel()
        self.note.setObjectName("emptyHint")
        self.note.setWordWrap(True)
        self.form_host = QWidget()
        self.form_host.setMaximumWidth(FORM_WIDTH)
        self.form = QFormLayout(self.form_host)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form_host)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.general_error)
        layout.addLayout(self.buttons)

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
        self.stored_loaded()

    def show_stored(self) -> None:
        for key, field in self.fields.items():
            if key in self._stored:
                field.set(self._stored[key])

    def changed_values(self) -> dict[str, Any]:
        return {
            key: value
            for key, field in self.fields.items()
            if (value := field.value()) != self._stored.get(key, field.definition.default)
        }

    def save_call(self, services: Services, changes: dict[str, Any]) -> Callable[[], object]:
        return lambda: services.settings.update(changes)

    def saved_text(self) -> str:
        return self.tr("Settings saved.")
