"""What every screen of the main window shares: the task runner, the services once the store is open, and a hook
called when an operation changed data the screen may show."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from app.changes import Changes
    from app.context import Services
    from ui.tasks import TaskRunner


class Page(QWidget):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.services: Services | None = None
        self._stale = False

    def attach(self, services: Services) -> None:
        """The store is open, or another operator signed in: from now on act as them."""
        self.services = services

    def on_changed(self, changes: Changes) -> None:
        """An operation changed `changes`; reload what this screen shows of it."""

    def reload(self) -> None:
        """Fetch again what the screen shows."""

    def reload_when_seen(self) -> None:
        """Reload now if the screen is shown, else when it is next shown: refreshing a screen nobody looks at after
        every purchase at the counter would only delay the next lookup."""
        self._stale = not self.isVisible()
        if not self._stale:
            self.reload()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload()
