"""Customer segments (客户分群): the latest refresh's counts and a button to refresh now, in the background with
progress and cancel. The charts and the dashboard come later; this page is where a manager refreshes on demand."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.insights.labels import MODEL_LABELS, PYRAMID_LABELS, RFM_ACTIONS, RFM_LABELS, STAGE_LABELS
from app.lanes import Lane
from ui.pages.base import Page
from ui.signals import emit

if TYPE_CHECKING:
    from app.errors import MemberDeskError
    from app.insights.refresh import SegmentReport
    from app.insights.service import SegmentRunView
    from ui.tasks import TaskRunner


def _segments(text: str) -> str:
    return QCoreApplication.translate("Segments", text)


class SegmentsPage(Page):
    progressed = Signal(int, int, str)
    """done, total, what: emitted from the worker, shown on the GUI thread."""

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self._cancel = threading.Event()
        heading = QLabel(self.tr("Customer segments"))
        heading.setObjectName("pageHeading")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.refresh_button = QPushButton(self.tr("Refresh segments"))
        self.refresh_button.clicked.connect(self.start_refresh)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self._cancel.set)
        self.cancel_button.hide()
        self.progress = QProgressBar()
        self.progress.hide()
        self.step = QLabel()
        self.progressed.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)

        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(1)
        self.step.setWordWrap(True)

        self.groups: dict[str, QGridLayout] = {}
        columns = QHBoxLayout()
        for key, title in (
            ("pyramid", self.tr("Customer pyramid")),
            ("rfm", self.tr("RFM classes")),
            ("lifecycle", self.tr("Lifecycle stages")),
        ):
            box = QGroupBox(title)
            grid = QGridLayout(box)
            grid.setColumnStretch(0, 1)
            self.groups[key] = grid
            columns.addWidget(box, 1 if key != "rfm" else 2)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addWidget(self.step)
        layout.addLayout(columns)
        layout.addStretch(1)

    def reload(self) -> None:
        if self.services is not None:
            self.tasks.run(self.services.segments.last_run, self._show_run)

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        self.reload()

    def _show_run(self, run: SegmentRunView | None) -> None:
        if run is None:
            self.status.setText(self.tr("Segments have not been computed yet. Refresh to compute them now."))
            return
        params = ", ".join(f"{name} = {value:.3f}" for name, value in run.parameters.items())
        self.status.setText(
            self.tr("As of {date}: {members} members, model: {model} {params}").format(
                date=run.as_of.isoformat(),
                members=f"{run.members:,}",
                model=_segments(MODEL_LABELS[run.model]),
                params=params,
            )
        )
        tables = {"pyramid": PYRAMID_LABELS, "rfm": RFM_LABELS, "lifecycle": STAGE_LABELS}
        for key, grid in self.groups.items():
            while grid.count():
                item = grid.takeAt(0)
                widget = item.widget() if item is not None else None
                if widget is not None:
                    widget.deleteLater()
            for row, (code, count) in enumerate(run.counts.get(key, {}).items()):
                name = QLabel(_segments(tables[key][code]))
                if key == "rfm":
                    name.setToolTip(_segments(RFM_ACTIONS[code]))
                value = QLabel(f"{count:,}")
                value.setAlignment(Qt.AlignmentFlag.AlignRight)
                grid.addWidget(name, row, 0)
                grid.addWidget(value, row, 1)
            grid.setRowStretch(grid.rowCount(), 1)

    def start_refresh(self) -> None:
        if self.services is None:
            return
        service = self.services.segments
        self._cancel.clear()
        self.refresh_button.setEnabled(False)
        self.cancel_button.show()
        self.progress.show()
        self.progress.setValue(0)

        def progress(done: int, total: int, what: str) -> bool:
            emit(self.progressed, done, total, what)
            return not self._cancel.is_set()

        self.tasks.run(
            lambda: service.refresh(progress=progress, per_member=False),
            self._refreshed,
            self._refused,
            lane=Lane.HEAVY,
        )

    def _show_progress(self, done: int, total: int, what: str) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.step.setText(_segments(what))

    def _finish(self) -> None:
        self.refresh_button.setEnabled(True)
        self.cancel_button.hide()
        self.progress.hide()
        self.step.clear()

    def _refreshed(self, report: SegmentReport) -> None:
        self._finish()
        self.reload()
        self.step.setText(self.tr("Refreshed: as of {date}").format(date=report.as_of.isoformat()))

    def _refused(self, error: MemberDeskError) -> None:
        self._finish()
        self.step.setText(str(error))
