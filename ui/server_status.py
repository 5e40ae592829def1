"""The status bar's view of a chain's PostgreSQL server: "connected", or "cannot be reached — retrying" with a quick
probe every few seconds until it answers again. The database layer reports each change of state from whichever
thread noticed it (a lookup, a purchase, maintenance); it arrives here through a queued signal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from ui.signals import emit
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Store

PROBE_INTERVAL_MS = 3000


class ServerStatus(QLabel):
    """Hidden on a single PC's SQLite store; on a server it shows the server's state."""

    _state = Signal(bool)

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("serverStatus")
        self._tasks = tasks
        self._store: Store | None = None
        self._probe_timer = QTimer(self, interval=PROBE_INTERVAL_MS)
        self._probe_timer.timeout.connect(self._probe)
        self._state.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.hide()

    @property
    def reachable(self) -> bool:
        return not self._probe_timer.isActive()

    def watch(self, store: Store) -> None:
        if store is self._store or not store.on_server:
            return
        self._store = store
        store.watch_server(lambda reachable: emit(self._state, reachable))
        self._show(True)
        self.show()

    def _show(self, reachable: bool) -> None:
        if reachable:
            self._probe_timer.stop()
            self.setText(self.tr("Server: connected"))
            self.setStyleSheet("")
        else:
            self._probe_timer.start()
            self.setText(self.tr("The server cannot be reached — retrying"))
            self.setStyleSheet("color: #c62828; font-weight: bold")

    def _probe(self) -> None:
        store = self._store
        if store is not None and not self._tasks.busy:  # work already queued will tell us anyway
            self._tasks.run(store.probe_server)
