"""A screen for an area a later version fills in (complaints, coupons, surveys, charts). It says so plainly
instead of showing made-up figures."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.pages.base import Page
from ui.tasks import TaskRunner


class NotYetPage(Page):
    def __init__(self, tasks: TaskRunner, title: str, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        heading = QLabel(title)
        heading.setObjectName("pageHeading")
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        note = QLabel(self.tr("This area is not available in this version of MemberDesk yet."))
        note.setObjectName("emptyHint")
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(heading)
        layout.addWidget(note)
        layout.addStretch(2)
