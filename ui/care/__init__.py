"""The care desk's screens: complaints (entry, list, workflow, analysis), follow-ups and surveys."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ui.pages.base import Page
    from ui.tasks import TaskRunner


def care_page(tasks: TaskRunner, which: str) -> Page:
    """The complaints or the surveys screen, imported when first opened (pyqtgraph is not paid for at start-up)."""
    if which == "complaints":
        from ui.care.complaints_page import ComplaintsPage

        return ComplaintsPage(tasks)
    from ui.care.surveys_page import SurveysPage

    return SurveysPage(tasks)
