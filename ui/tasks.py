"""The one way the GUI runs work that may touch the database or files (Anki's CollectionOp, in small).

Work runs on ONE serial worker thread, so database work is serialised and a lookup can never overtake the purchase
recorded before it. The result or the error comes back on the GUI thread through a queued signal; widgets are never
touched from the worker. After a successful change the runner announces what changed (`changed(Changes)`: what the
caller declared and what the service's result reports), so open screens refresh themselves instead of polling.
Tests use `SyncTaskRunner`, which runs the same contract inline.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QApplication

from app.changes import Changes, changes_of
from app.errors import MemberDeskError, outage_refusal
from ui.crash import report_crash
from ui.messages import show_error
from ui.signals import emit

log = logging.getLogger("memberdesk.ui.tasks")

T = TypeVar("T")
OnDone = Callable[[Any], None]
OnError = Callable[[MemberDeskError], None]


@dataclass
class _Task:
    id: int
    fn: Callable[[], Any]
    on_done: OnDone | None
    on_error: OnError | None
    changes: Changes


@dataclass
class _Outcome:
    task_id: int
    result: Any = None
    error: BaseException | None = None


class TaskRunner(QObject):
    """One worker thread; results and errors queued back to the GUI thread."""

    changed = Signal(object)
    """Changes: emitted on the GUI thread after an operation that changed data succeeded."""
    busy_changed = Signal(bool)
    _finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Task] = {}
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)
        self._closed = threading.Event()
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def run(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: OnError | None = None,
        changes: Changes = Changes.NONE,
    ) -> None:
        """Run `fn` off the GUI thread; `on_done(result)` or `on_error(MemberDeskError)` run on the GUI thread.
        Without `on_error` a refusal is shown in a message box; any other exception is a bug: logged and shown in
        the crash dialog, and the counter keeps working."""
        task = _Task(next(self._ids), fn, on_done, on_error, changes)
        self._pending[task.id] = task
        if len(self._pending) == 1:
            emit(self.busy_changed, True)
        self._submit(task)

    def _submit(self, task: _Task) -> None:
        if self._closed.is_set():
            self._deliver(_Outcome(task.id))
            return
        self._pool.start(lambda: emit(self._finished, _execute(task)))

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Refuse new work and wait for what is running, so nothing is cut off half-written at exit."""
        self._closed.set()
        return self._pool.waitForDone(timeout_ms)

    def _deliver(self, outcome: _Outcome) -> None:
        task = self._pending.pop(outcome.task_id, None)
        if not self._pending:
            emit(self.busy_changed, False)
        if task is None or self._closed.is_set():
            return
        try:
            if outcome.error is None:
                if task.on_done is not None:
                    task.on_done(outcome.result)
                changes = task.changes | changes_of(outcome.result)
                if changes:
                    emit(self.changed, changes)
            elif isinstance(outcome.error, MemberDeskError):
                log.info("refused: %s", outcome.error.english)
                if task.on_error is not None:
                    task.on_error(outcome.error)
                else:
                    show_error(QApplication.activeWindow(), str(outcome.error))
            else:
                report_crash(outcome.error)
        except Exception as exc:  # a failing callback is a bug to report, not a reason to stop the counter
            report_crash(exc)


def _execute(task: _Task) -> _Outcome:
    try:
        return _Outcome(task.id, result=task.fn())
    except BaseException as exc:  # every failure must reach the GUI thread; the worker itself never dies
        # The server being unreachable is an outage to tell the cashier about, not a bug for the crash dialog.
        refusal = outage_refusal(exc)
        if refusal is not None:
            log.warning("database server unreachable: %s", exc)
        return _Outcome(task.id, error=refusal or exc)


class SyncTaskRunner(TaskRunner):
    """The same contract run inline: tests need no waiting and see every result at once."""

    def _submit(self, task: _Task) -> None:
        self._deliver(_execute(task))

    def shutdown(self, timeout_ms: int = 0) -> bool:
        return True
