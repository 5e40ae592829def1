"""Run by test_ui_window_fit.py in a fresh process (the screen and scale factor are fixed when Qt starts): the main
window as a first start opens it, its geometry and the screen's available area printed as JSON."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.context import Store
from ui.application import configure_application
from ui.local_settings import LocalSettings
from ui.main_window import MainWindow
from ui.tasks import SyncTaskRunner


def main() -> None:
    app = QApplication(sys.argv[:1])
    translators = configure_application(app, "zh_CN")
    data = Path(tempfile.mkdtemp()) / "data"
    store = Store.open(data)
    window = MainWindow(SyncTaskRunner(), LocalSettings(data))
    window.attach(store.services(store.operator("owner")))
    window.show()
    app.processEvents()
    available = window.screen().availableGeometry()
    frame = window.frameGeometry()
    status = window.statusBar()
    bottom = status.mapToGlobal(status.rect().bottomRight())
    minimum = window.minimumSizeHint()
    print(
        json.dumps(
            {
                "available": [available.x(), available.y(), available.width(), available.height()],
                "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
                "status_bottom": [bottom.x(), bottom.y()],
                "minimum": [minimum.width(), minimum.height()],
                "size": [window.width(), window.height()],
            }
        )
    )
    window.close()
    store.close()
    translators.remove()


if __name__ == "__main__":
    main()
