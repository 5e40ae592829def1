"""Starting the GUI. The window is shown first, with the lookup box focused, and the store is opened on the worker
thread right after (importing the database layer and checking migrations takes most of a second on a cold start):
whatever the cashier types meanwhile is looked up as soon as the store is open (docs/ARCHITECTURE.md §7, ≤ 0.8 s to the
first keystroke). Charts and PDF libraries are imported only by the screens that use them."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication

from app.errors import MemberDeskError
from app.logs import setup_logging
from app.paths import resource_path
from ui.crash import install_crash_handlers, report_crash
from ui.i18n import ENGLISH, Translators
from ui.local_settings import LAST_USERNAME, LocalSettings
from ui.main_window import MainWindow
from ui.messages import show_error
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services

log = logging.getLogger("memberdesk.ui")

FONT_FILE = ("fonts", "wqy-microhei.ttc")
STYLE_FILE = ("styles", "app.qss")
ICON_FILE = ("icons", "memberdesk.svg")
FONT_POINT_SIZE = 10


def configure_application(app: QApplication, lang: str) -> Translators:
    """Font, look and language for a QApplication (the real one, or the one pytest-qt makes). The bundled CJK font
    is the application font, so Chinese renders on a PC without Chinese fonts."""
    app.setApplicationName("MemberDesk")
    font_id = QFontDatabase.addApplicationFont(str(resource_path(*FONT_FILE)))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if families:
        app.setFont(QFont(families[0], FONT_POINT_SIZE))
    else:
        log.warning("the CJK font %s could not be loaded", resource_path(*FONT_FILE))
    style = resource_path(*STYLE_FILE)
    if style.exists():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    app.setWindowIcon(QIcon(str(resource_path(*ICON_FILE))))
    translators = Translators(app, lang)
    if translators.lang != ENGLISH and not translators.loaded:
        log.warning("the Chinese translations were not found in %s", resource_path("translations"))
    return translators


def build_main_window(services: Services, tasks: TaskRunner) -> MainWindow:
    """A main window already working as `services.operator` (tests and the self-test use this)."""
    window = MainWindow(tasks)
    window.attach(services)
    return window


def open_services(data_dir: Path, database: str | None, username: str) -> Services:
    """Open (and migrate) the store and act as the last operator of this PC, else the store's default one."""
    from app.context import Store
    from app.errors import NotFoundError

    store = Store.open(data_dir, database)
    try:
        operator = store.operator(username or None)
    except NotFoundError:
        operator = store.operator()
    return store.services(operator)


@dataclass
class RunningGui:
    app: QApplication
    window: MainWindow
    tasks: TaskRunner
    background: TaskRunner
    translators: Translators

    def close(self) -> None:
        """Let running work finish, then close the database."""
        self.tasks.shutdown()
        self.background.shutdown()
        if self.window.services is not None:
            self.window.services.store.close()


def start_gui(data_dir: Path, database: str | None, lang: str | None) -> RunningGui:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    setup_logging(data_dir / "logs")
    install_crash_handlers(app)
    local = LocalSettings(data_dir)
    translators = configure_application(app, lang or local.language())
    tasks, background = TaskRunner(app), TaskRunner(app)
    window = MainWindow(tasks, local)
    window.show()
    window.raise_()
    window.activateWindow()  # the keys typed at once must land in the lookup box, not in the previous window
    window.counter.focus_lookup()
    username = local.get(LAST_USERNAME)

    def opened(result: Services | Exception) -> None:
        if isinstance(result, MemberDeskError):
            window.store_failed(str(result))
            show_error(window, str(result))
        elif isinstance(result, Exception):
            window.store_failed(str(result))
            report_crash(result)
        else:
            window.attach(result)
            window.start_daily_maintenance(background)

    def open_store() -> Services | Exception:
        try:
            return open_services(data_dir, database, username)
        except Exception as exc:  # shown in the status bar as well as in the crash dialog
            return exc

    # After the first paint: the worker's imports would otherwise compete with showing the window.
    QTimer.singleShot(0, lambda: tasks.run(open_store, opened))
    return RunningGui(app, window, tasks, background, translators)


def run_gui(data_dir: Path, database: str | None, lang: str | None) -> int:
    session = start_gui(data_dir, database, lang)
    try:
        return session.app.exec()
    finally:
        session.close()
