"""Saving a table the screen shows as CSV or XLSX: the file is chosen on the GUI thread, written on the worker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QFileDialog, QWidget

from app.lanes import Lane
from ui.messages import show_info
from ui.tasks import TaskRunner


def export_table(
    tasks: TaskRunner,
    parent: QWidget,
    suggested: str,
    table: Callable[[], tuple[Sequence[str], Sequence[Sequence[object]]]],
) -> None:
    """Ask where; `table()` runs on the worker and gives the columns and rows."""
    title = QCoreApplication.translate("CareExport", "Export")
    path, _filter = QFileDialog.getSaveFileName(parent, title, suggested, "CSV (*.csv);;Excel (*.xlsx)")
    if not path:
        return
    target = Path(path)
    if target.suffix.lower() not in (".csv", ".xlsx"):
        target = target.with_suffix(".csv")

    def write() -> int:
        from app.care.cli import write_atomically

        columns, rows = table()
        return write_atomically(target, list(columns), iter([list(r) for r in rows]))

    def saved(count: int) -> None:
        text = QCoreApplication.translate("CareExport", "{count} rows saved to {file}")
        show_info(parent, text.format(count=count, file=target))

    tasks.run(write, saved, lane=Lane.HEAVY)
