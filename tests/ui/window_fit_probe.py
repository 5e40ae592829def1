"""Run by test_ui_window_fit.py in a fresh process (the screen and scale factor are fixed when Qt starts): the main
window as a first start opens it, or the first-run wizard on each of its pages (`wizard`), its geometry and the
screen's available area printed as JSON."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QWidget, QWizard

from app.context import Store
from ui.application import configure_application
from ui.first_run import CHOICE_PAGE, DEMO_PAGE, JOIN_CHAIN_PAGE, NEW_STORE_PAGE, FirstRunWizard
from ui.local_settings import LocalSettings
from ui.main_window import MainWindow
from ui.tasks import SyncTaskRunner


def rect(widget: QWidget) -> list[int]:
    """The widget's own rectangle in screen coordinates."""
    top_left = widget.mapToGlobal(widget.rect().topLeft())
    return [top_left.x(), top_left.y(), widget.width(), widget.height()]


def shape(window: QWidget) -> dict[str, Any]:
    available = window.screen().availableGeometry()
    frame = window.frameGeometry()
    minimum = window.minimumSizeHint()
    return {
        "available": [available.x(), available.y(), available.width(), available.height()],
        "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
        "minimum": [minimum.width(), minimum.height()],
        "size": [window.width(), window.height()],
    }


def main_window(app: QApplication, data: Path) -> None:
    store = Store.open(data)
    window = MainWindow(SyncTaskRunner(), LocalSettings(data))
    window.attach(store.services(store.operator("owner")))
    window.show()
    app.processEvents()
    status = window.statusBar()
    bottom = status.mapToGlobal(status.rect().bottomRight())
    print(json.dumps({**shape(window), "status_bottom": [bottom.x(), bottom.y()]}))
    window.close()
    store.close()


def wizard(app: QApplication, data: Path) -> None:
    """Each page as the cashier meets it: the page's fields and the Back/Next/Start/Cancel buttons."""
    buttons = (QWizard.WizardButton.NextButton, QWizard.WizardButton.FinishButton, QWizard.WizardButton.CancelButton)
    pages: dict[str, Any] = {}
    for name, choice, page_id in (
        ("choice", None, CHOICE_PAGE),
        ("new store", "new_store", NEW_STORE_PAGE),
        ("join a chain", "join_chain", JOIN_CHAIN_PAGE),
        ("demo store", "demo_store", DEMO_PAGE),
    ):
        window = FirstRunWizard(SyncTaskRunner(), data)
        window.show()
        if choice is not None:
            getattr(window.choice, choice).setChecked(True)
            window.next()
        app.processEvents()
        assert window.currentId() == page_id
        page = window.currentPage()
        fields = [rect(child) for child in page.findChildren(QWidget) if child.isVisible()]
        shown = [rect(window.button(b)) for b in buttons if window.button(b).isVisible()]
        pages[name] = {**shape(window), "fields": fields, "buttons": shown}
        window.close()
    print(json.dumps(pages))


def main() -> None:
    app = QApplication(sys.argv[:1])
    translators = configure_application(app, "zh_CN")
    data = Path(tempfile.mkdtemp()) / "data"
    if sys.argv[1:] == ["wizard"]:
        wizard(app, data)
    else:
        main_window(app, data)
    translators.remove()


if __name__ == "__main__":
    main()
