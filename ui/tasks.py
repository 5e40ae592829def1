"""The one way the GUI runs work that may touch the database or files (Anki's CollectionOp, in small).

Work runs in lanes (app/lanes.py), each one serial worker thread: the counter's lookups and sales on their own
lane and connection, first in line and never queued behind a list, a report or daily maintenance; browsing (the
default) on another; long jobs on a third. Within a lane nothing overtakes: a lookup never overtakes the purchase
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
from typing import Any, Protocol, TypeVar

from PySide6.QtCore import QObject, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QApplication

from app.changes import Changes, changes_of
from app.errors import MemberDeskError, outage_refusal
from app.lanes import Lane, working_in
from ui.crash import report_crash
from ui.messages import show_error
from ui.signals import emit

log = logging.getLogger("memberdesk.ui.tasks")

T = TypeVar("T")
OnDone = Callable[[Any], None]
OnError = Callable[[MemberDeskError], None]
Progress = Callable[[int, int, str], bool]


class JobShower(Protocol):
    """Where the window shows a background job's progress, with Stop (ui/jobs.py `JobStatus`)."""

    def run(
        self,
        title: str,
        job: Callable[[Progress], Any],
        on_done: Callable[[Any], None] | None = None,
        changes: Changes = Changes.NONE,
    ) -> None: ...


def _unheard(_done: int, _total: int, _what: str) -> bool:
    return True


@dataclass
class _Task:
    id: int
    fn: Callable[[], Any]
    on_done: OnDone | None
    on_error: OnError | None
    changes: Changes
    on_failed: Callable[[], None] | None = None
    lane: Lane = Lane.BROWSE


@dataclass
class _Outcome:
    task_id: int
    result: Any = None
    error: BaseException | None = None


class TaskRunner(QObject):
    """One worker thread per lane; results and errors queued back to the GUI thread.

    A screen is handed the runner of its lane (`for_lane`): the counter's page gets `for_lane(Lane.COUNTER)`, and
    every dialog, list and print it starts goes on the counter's lane without saying so."""

    changed = Signal(object)
    """Changes: emitted on the GUI thread after an operation that changed data succeeded."""
    busy_changed = Signal(bool)
    _finished = Signal(object)

    def __init__(
        self, parent: QObject | None = None, *, lane: Lane = Lane.BROWSE, root: TaskRunner | None = None
    ) -> None:
        super().__init__(parent)
        self.lane = lane
        """Where `run` puts work that names no lane."""
        self._root = root or self
        self._jobs: JobShower | None = None
        if root is not None:
            root.changed.connect(self.changed)
            root.busy_changed.connect(self.busy_changed)
            return
        self._ids = itertools.count(1)
        self._pending: dict[int, _Task] = {}
        self._pools: dict[Lane, QThreadPool] = {}
        for each in Lane:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(1)
            pool.setExpiryTimeout(-1)
            self._pools[each] = pool
        self._closed = threading.Event()
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def for_lane(self, lane: Lane) -> TaskRunner:
        """This runner, putting work on `lane` by default (same workers, same announcements)."""
        return type(self)(self._root, lane=lane, root=self._root)

    def show_jobs_in(self, jobs: JobShower) -> None:
        """Jobs started with `run_job` are shown there (the main window's status bar)."""
        self._root._jobs = jobs

    def run_job(
        self,
        title: str,
        job: Callable[[Progress], T],
        on_done: Callable[[T], None] | None = None,
        changes: Changes = Changes.NONE,
    ) -> None:
        """`job(progress)` on the heavy lane (a big PDF, an export: app/jobs.py runs it in a process of its own),
        shown with its progress and Stop where the window shows jobs; `title` is translated."""
        jobs = self._root._jobs
        if jobs is not None:
            jobs.run(title, job, on_done, changes)
        else:
            self.run(lambda: job(_unheard), on_done, changes=changes, lane=Lane.HEAVY)

    @property
    def busy(self) -> bool:
        return bool(self._root._pending)

    def run(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: OnError | None = None,
        changes: Changes = Changes.NONE,
        on_failed: Callable[[], None] | None = None,
        lane: Lane | None = None,
    ) -> None:
        """Run `fn` off the GUI thread, on the worker of `lane` (else of this runner's lane); `on_done(result)` or
        `on_error(MemberDeskError)` run on the GUI thread.
        Without `on_error` a refusal is shown in a message box; any other exception (a lost database connection,
        a bug) is logged and shown in the crash dialog, then `on_failed()` lets the screen that asked recover, and
        the counter keeps working."""
        root = self._root
        task = _Task(next(root._ids), fn, on_done, on_error, changes, on_failed, lane or self.lane)
        root._pending[task.id] = task
        if len(root._pending) == 1:
            emit(root.busy_changed, True)
        root._submit(task)

    def _submit(self, task: _Task) -> None:
        if self._closed.is_set():
            self._deliver(_Outcome(task.id))
            return
        self._pools[task.lane].start(lambda: emit(self._finished, _execute(task)))

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Refuse new work and wait for what is running, so nothing is cut off half-written at exit."""
        root = self._root
        root._closed.set()
        return all([pool.waitForDone(timeout_ms) for pool in root._pools.values()])

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
                if task.on_failed is not None:
                    task.on_failed()
        except Exception as exc:  # a failing callback is a bug to report, not a reason to stop the counter
            report_crash(exc)


def _execute(task: _Task) -> _Outcome:
    try:
        with working_in(task.lane):
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
