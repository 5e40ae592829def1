"""Saving a table the screen shows as CSV or XLSX: the file is chosen on the GUI thread, the table taken on the
worker, then written and audited in a process of its own (app/jobs.py over app.care.exports)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QFileDialog, QWidget

from app.changes import Changes
from ui.jobs import Progress, jobs_for
from ui.messages import show_info
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.care.exports import TableData
    from app.context import Services


def export_table(
    tasks: TaskRunner,
    parent: QWidget,
    services: Services,
    entity: str,
    suggested: str,
    table: Callable[[], TableData],
) -> None:
    """Ask where; `table()` runs on the worker and gives the columns and rows; the export is audited as `entity`."""
    title = QCoreApplication.translate("CareExport", "Export")
    path, _filter = QFileDialog.getSaveFileName(parent, title, suggested, "CSV (*.csv);;Excel (*.xlsx)")
    if not path:
        return
    target = Path(path)
    if target.suffix.lower() not in (".csv", ".xlsx"):
        target = target.with_suffix(".csv")

    def saved(count: int) -> None:
        text = QCoreApplication.translate("CareExport", "{count} rows saved to {file}")
        show_info(parent, text.format(count=count, file=target))

    jobs = jobs_for(services)

    def save(progress: Progress) -> int:
        columns, rows = table()
        return jobs().export_table(target, entity, columns, rows, progress)

    tasks.run_job(title, save, saved, changes=Changes.AUDIT)
