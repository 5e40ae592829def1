"""The status bar's view of background jobs (daily maintenance, imports, big PDFs, exports): what runs, how far it
is, and a Stop button. The jobs themselves run on the heavy lane, each in a process of its own (app/jobs.py), so
nothing here can slow the counter; progress crosses back from that process and is shown through a queued signal."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from app.changes import Changes
from app.errors import MemberDeskError
from app.lanes import Lane
from ui.i18n import CHINESE, ENGLISH, is_chinese, use_language_without_gui
from ui.messages import show_error
from ui.signals import emit
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.jobs import BackgroundJobs

log = logging.getLogger("memberdesk.ui.jobs")

T = TypeVar("T")
Progress = Callable[[int, int, str], bool]
STEP_CONTEXTS = ("Maintenance", "Segments", "Import", "Printing")
"""Where the jobs' step names are translated (the job's process sends them untranslated)."""
OUTCOME_MS = 10_000
"""How long "stopped" stays in the status bar."""


def job_language() -> Callable[[], None]:
    """What a job's process calls first (`BackgroundJobs(prepare=...)`): this window's language, so what the job
    writes in words (an import's refused rows) reads the same as the window, in a spawned process too."""
    return partial(use_language_without_gui, CHINESE if is_chinese() else ENGLISH)


def jobs_for(services: Services) -> Callable[[], BackgroundJobs]:
    """The operator's background jobs in this window's language (read now, on the GUI thread); call the factory on
    the worker, where it imports app.jobs."""
    language = job_language()

    def make() -> BackgroundJobs:
        from app.jobs import BackgroundJobs

        return BackgroundJobs.of(services, language)

    return make


def step_name(what: str) -> str:
    for context in STEP_CONTEXTS:
        shown = QCoreApplication.translate(context, what)
        if shown != what:
            return shown
    return what


class JobStatus(QWidget):
    """Hidden while no job runs. Stop cancels the running job at its next stopping point (a batch of members, a
    batch of rows) and the jobs queued behind it; what was committed stays, and the job runs again next time."""

    _progressed = Signal(str, int, int, str)
    idle = Signal()
    """Every job started here has finished (done, refused, stopped or failed)."""

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobStatus")
        self._tasks = tasks.for_lane(Lane.HEAVY)
        self._cancel = threading.Event()
        self._running = 0
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(120)
        self.bar.setMaximumHeight(12)
        self.bar.setTextVisible(False)
        self.stop_button = QToolButton()
        self.stop_button.setText(self.tr("Stop"))
        self.stop_button.setToolTip(self.tr("Stop the background job; what it finished is kept"))
        self.stop_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.stop_button)
        self._outcome_timer = QTimer(self, singleShot=True, interval=OUTCOME_MS)
        self._outcome_timer.timeout.connect(self._idle)
        self._progressed.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.hide()

    @property
    def running(self) -> int:
        """Jobs started here and not finished yet (the one running and those queued behind it)."""
        return self._running

    def run(
        self,
        title: str,
        job: Callable[[Progress], T],
        on_done: Callable[[T], None] | None = None,
        changes: Changes = Changes.NONE,
    ) -> None:
        """`job(progress)` on the heavy lane; `title` (translated) is shown beside its progress."""

        def progress(done: int, total: int, what: str) -> bool:
            emit(self._progressed, title, done, total, what)
            return not self._cancel.is_set()

        def done(result: T) -> None:
            self._finished()
            if on_done is not None:
                on_done(result)

        def refused(error: MemberDeskError) -> None:
            cancelled = self._cancel.is_set()
            self._finished()
            if cancelled:
                self._tell(self.tr("{job}: stopped").format(job=title), str(error))
            else:
                show_error(QApplication.activeWindow(), str(error))

        def work() -> T:
            emit(self._progressed, title, 0, 0, "")  # the job's title from its start (some never report progress)
            return job(progress)

        self._running += 1
        if self._running == 1:
            self._outcome_timer.stop()
            self._cancel.clear()
            self._show(title, 0, 0, "")
        self._tasks.run(work, done, refused, changes=changes, on_failed=self._finished)

    def cancel(self) -> None:
        if self._running:
            self._cancel.set()
            self.stop_button.setEnabled(False)
            self.label.setText(self.tr("Stopping…"))

    def _show(self, title: str, done: int, total: int, what: str) -> None:
        if not self._running:
            return
        if not self._cancel.is_set():
            self.label.setText(f"{title} · {step_name(what)}" if what else title)
        self.bar.setMaximum(max(total, 0))
        self.bar.setValue(min(done, total) if total else 0)
        self.bar.show()
        self.stop_button.show()
        self.stop_button.setEnabled(not self._cancel.is_set())
        self.show()

    def _finished(self) -> None:
        self._running -= 1
        if not self._running:
            self._idle()
            emit(self.idle)

    def _tell(self, text: str, details: str) -> None:
        self.label.setText(text)
        self.label.setToolTip(details)
        self.bar.hide()
        self.stop_button.hide()
        self.show()
        self._outcome_timer.start()

    def _idle(self) -> None:
        if self._running or self._outcome_timer.isActive():
            return
        self.label.setToolTip("")
        self.hide()
