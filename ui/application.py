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

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMessageBox

from app.clock import pc_utc_offset, pc_zone_differs
from app.errors import MemberDeskError
from app.lanes import Lane, favour_the_counter
from app.logs import GUI_LOG, setup_logging
from app.paths import needs_first_run, resource_path
from ui import formatting as fmt
from ui.crash import install_crash_handlers, report_crash
from ui.i18n import ENGLISH, Translators
from ui.local_settings import LocalSettings
from ui.main_window import MainWindow
from ui.messages import show_error
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services, Store

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
    use_light_scheme(app)
    style = resource_path(*STYLE_FILE)
    if style.exists():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    app.setWindowIcon(QIcon(str(resource_path(*ICON_FILE))))
    translators = Translators(app, lang)
    if translators.lang != ENGLISH and not translators.loaded:
        log.warning("the Chinese translations were not found in %s", resource_path("translations"))
    return translators


LIGHT_COLOURS = {
    QPalette.ColorRole.Window: "#f3f5f7",
    QPalette.ColorRole.WindowText: "#1b2a38",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f1f4f7",
    QPalette.ColorRole.Text: "#1b2a38",
    QPalette.ColorRole.PlaceholderText: "#78909c",
    QPalette.ColorRole.Button: "#eceff1",
    QPalette.ColorRole.ButtonText: "#1b2a38",
    QPalette.ColorRole.BrightText: "#ffffff",
    QPalette.ColorRole.Highlight: "#1565c0",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#fffde7",
    QPalette.ColorRole.ToolTipText: "#1b2a38",
    QPalette.ColorRole.Link: "#1565c0",
}
DISABLED_TEXT = "#8a969f"


def use_light_scheme(app: QApplication) -> None:
    """The counter always looks the same, light, whatever Windows 11's dark mode says: the stylesheet's light
    backgrounds under dark mode's white text made the F-key buttons and table rows unreadable."""
    app.styleHints().setColorScheme(Qt.ColorScheme.Light)
    palette = QPalette()
    for role, colour in LIGHT_COLOURS.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_TEXT))
    app.setPalette(palette)


def build_main_window(services: Services, tasks: TaskRunner) -> MainWindow:
    """A main window already working as `services.operator` (tests and the self-test use this)."""
    window = MainWindow(tasks)
    use_store_time(window, services)
    window.attach(services)
    return window


def use_store_time(window: MainWindow, services: Services) -> None:
    """Show times in the store's zone; say so in the status bar when this PC's clock is set to another zone."""
    zone_name = services.settings.current().store_timezone
    fmt.use_store_zone(zone_name)
    warning = window.findChild(QLabel, "zoneWarning")
    if warning is not None:
        warning.deleteLater()
    now = services.store.clock.now()
    if pc_zone_differs(fmt.shown_zone(), now):
        # Short: at 150 % on a 1366-pixel screen the status bar has room for about 45 characters in all.
        label = QLabel(
            QCoreApplication.translate("Application", "Store time {store} · this PC {pc}").format(
                pc=pc_utc_offset(now), store=zone_name
            )
        )
        label.setToolTip(
            QCoreApplication.translate(
                "Application", "This PC's clock is set to {pc}; times are shown in the store's time ({store})."
            ).format(pc=pc_utc_offset(now), store=zone_name)
        )
        label.setObjectName("zoneWarning")
        window.statusBar().addPermanentWidget(label)
        log.warning("the PC's time zone (%s) is not the store's (%s)", pc_utc_offset(now), zone_name)


def open_store(data_dir: Path, database: str | None) -> Store:
    """Open (and migrate) the store. Nobody is signed in: the operator signs in next (ui/sign_in_dialog.py)."""
    from app.context import Store

    return Store.open(data_dir, database)


@dataclass
class RunningGui:
    app: QApplication
    window: MainWindow
    tasks: TaskRunner
    translators: Translators

    def close(self) -> None:
        """Let running work finish, then close the database."""
        self.tasks.shutdown()
        if self.window.store is not None:
            self.window.store.close()


def start_gui(data_dir: Path, database: str | None, lang: str | None) -> RunningGui:
    favour_the_counter()
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    install_crash_handlers(app)
    setup_logging(data_dir / "logs", GUI_LOG)
    local = LocalSettings(data_dir)
    translators = configure_application(app, lang or local.language())
    tasks = TaskRunner(app)
    window = MainWindow(tasks, local)
    window.show()
    window.raise_()
    window.activateWindow()  # the keys typed at once must land in the lookup box, not in the previous window
    window.counter.focus_lookup()

    def opened(result: Store | Exception) -> None:
        if isinstance(result, MemberDeskError):
            window.store_failed(str(result))
            show_error(window, str(result))
        elif isinstance(result, Exception):
            window.store_failed(str(result))
            report_crash(result)
        else:
            window.services_loaded.connect(first_loaded)
            window.store_opened(result)
            # While the operator signs in (an outage meanwhile is the status bar's, not a message here).
            tasks.run(result.plan_counter_reads, on_error=lambda _refused: None, lane=Lane.COUNTER)

    def first_loaded() -> None:
        """The store's time zone and daily maintenance (which runs as the operator) start once the first operator's
        services are loaded; the maintenance keeps its timer after that."""
        window.services_loaded.disconnect(first_loaded)
        if window.services is not None:
            use_store_time(window, window.services)
            window.counter.hits_view.viewport().update()  # a first answer shown before the store's zone was read
        window.start_daily_maintenance()

    def open_in_worker() -> Store | Exception:
        try:
            return open_store(data_dir, database)
        except Exception as exc:  # shown in the status bar as well as in the crash dialog
            return exc

    # After the first paint: the worker's imports would otherwise compete with showing the window.
    QTimer.singleShot(0, lambda: tasks.run(open_in_worker, opened, lane=Lane.COUNTER))
    return RunningGui(app, window, tasks, translators)


def show_start_failure(message: str) -> None:
    """Why the program cannot start (a data folder it may not write, a store open elsewhere), before any window."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    QMessageBox.critical(None, "MemberDesk 会员台", message)


def run_first_run(data_dir: Path, lang: str | None) -> bool:
    """The first-run wizard on a PC with no store yet; False when it was cancelled (the program then ends)."""
    from ui.first_run import FirstRunWizard

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    install_crash_handlers(app)
    translators = configure_application(app, lang or LocalSettings(data_dir).language())
    tasks = TaskRunner(app)
    try:
        wizard = FirstRunWizard(tasks, data_dir)
        return wizard.exec() == QDialog.DialogCode.Accepted
    finally:
        tasks.shutdown()
        translators.remove()


def launch(data_dir: Path, database: str | None, lang: str | None) -> RunningGui | None:
    """What `main.py` starts: the first-run wizard on a PC with no store yet, then the counter window (None when
    the wizard was cancelled). The start-up benchmark starts the same."""
    if needs_first_run(data_dir, database) and not run_first_run(data_dir, lang):
        return None
    return start_gui(data_dir, database, lang)


def run_gui(data_dir: Path, database: str | None, lang: str | None) -> int:
    session = launch(data_dir, database, lang)
    if session is None:
        return 0
    try:
        return session.app.exec()
    finally:
        session.close()
