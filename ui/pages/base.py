"""What every screen of the main window shares: the task runner, the services once the store is open, and a hook
called when an operation changed data the screen may show."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from app.context import Services
    from ui.tasks import Changes, TaskRunner


class Page(QWidget):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.services: Services | None = None

    def attach(self, services: Services) -> None:
        """The store is open, or another operator signed in: from now on act as them."""
        self.services = services

    def on_changed(self, changes: Changes) -> None:
        """An operation changed `changes`; reload what this screen shows of it."""
