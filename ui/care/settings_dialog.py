"""The care desk's settings (a manager's): complaint categories and channels (one per line), how many hours each
severity may stay open, when to call back, and the points a returned survey form earns its member."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QPlainTextEdit, QSpinBox, QWidget

from app.care.settings import CHANNELS, MAX_HOURS, MAX_REWARD, CareSettings, channel_label
from app.changes import Changes
from ui.forms import ActionDialog

if TYPE_CHECKING:
    from app.context import Services
    from ui.tasks import TaskRunner


def _lines(values: tuple[str, ...]) -> QPlainTextEdit:
    box = QPlainTextEdit("\n".join(values))
    box.setTabChangesFocus(True)
    box.setFixedHeight(110)
    return box


def _spin(value: int, most: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(0, most)
    spin.setValue(value)
    return spin


class CareSettingsDialog(ActionDialog):
    changes = Changes.SETTINGS | Changes.COMPLAINTS

    def __init__(self, tasks: TaskRunner, services: Services, current: CareSettings, parent: QWidget | None) -> None:
        super().__init__(tasks, services, self.tr("Complaint and survey settings"), self.tr("Save"), parent)
        self.setObjectName("careSettingsDialog")
        self.labels = {channel_label(code): code for code in CHANNELS}
        self.categories = _lines(current.categories)
        self.categories.setObjectName("categoriesEdit")
        self.channels = _lines(tuple(channel_label(c) for c in current.channels))
        self.channels.setObjectName("channelsEdit")
        self.high = _spin(current.due_hours_high, MAX_HOURS)
        self.medium = _spin(current.due_hours_medium, MAX_HOURS)
        self.low = _spin(current.due_hours_low, MAX_HOURS)
        self.follow_up = _spin(current.follow_up_days, 60)
        self.reward = _spin(current.survey_reward_points, MAX_REWARD)
        self.reward.setObjectName("surveyReward")
        self.add_row(self.tr("Categories (one a line)"), "categories", self.categories)
        self.add_row(self.tr("Channels (one a line)"), "channels", self.channels)
        self.add_row(self.tr("Hours to resolve: high"), "due_hours", self.high)
        self.add_row(self.tr("Hours to resolve: medium"), "due_medium", self.medium)
        self.add_row(self.tr("Hours to resolve: low"), "due_low", self.low)
        self.add_row(self.tr("Call back after (days)"), "follow_up_days", self.follow_up)
        self.add_row(self.tr("Points for a returned survey form"), "reward", self.reward)
        self.resize(480, self.sizeHint().height())
        self.categories.setFocus()

    def prepare(self) -> Callable[[], Any]:
        settings = CareSettings(
            channels=tuple(
                self.labels.get(line.strip(), line.strip()) for line in self.channels.toPlainText().splitlines()
            ),
            categories=tuple(self.categories.toPlainText().splitlines()),
            due_hours_high=self.high.value(),
            due_hours_medium=self.medium.value(),
            due_hours_low=self.low.value(),
            follow_up_days=self.follow_up.value(),
            survey_reward_points=self.reward.value(),
        )
        service = self.services.care.settings
        return lambda: service.update(settings)

    def succeeded(self, result: CareSettings) -> str:
        return self.tr("Settings saved.")
