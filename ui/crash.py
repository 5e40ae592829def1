"""The crash dialog (qutebrowser's crashsignal, in small): an unexpected exception is logged with its traceback and
shown with the log's path, and the counter keeps running. Exceptions from Qt slots (sys.excepthook), from plain
threads (threading.excepthook) and from tasks all end up here; the dialog is always shown on the GUI thread."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.messages import adopt
from ui.signals import emit

log = logging.getLogger("memberdesk.ui.crash")


def log_file_path() -> str:
    """Where the rotating log writes (set up by app.logs), or '' when logging goes nowhere."""
    for handler in logging.getLogger("memberdesk").handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            return handler.baseFilename
    return ""


class CrashDialog(QDialog):
    """One dialog collects every crash until it is closed, so a repeating fault cannot bury the counter in windows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle(self.tr("MemberDesk: unexpected problem"))
        self.resize(640, 420)
        path = log_file_path() or self.tr("(no log file)")
        message = QLabel(
            self.tr(
                "MemberDesk ran into an unexpected problem. The counter keeps working and nothing half-written was "
                "kept. Please tell your support contact and give them the log file:\n{path}"
            ).format(path=path)
        )
        message.setWordWrap(True)
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setObjectName("crashDetails")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton(self.tr("Copy details"))
        copy.clicked.connect(self.copy_details)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(message)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)

    def add(self, details: str) -> None:
        text = self.details.toPlainText()
        self.details.setPlainText(f"{text}\n{'-' * 60}\n{details}" if text else details)

    def copy_details(self) -> None:
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(f"{log_file_path()}\n\n{self.details.toPlainText()}")


def _open_dialog() -> CrashDialog:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, CrashDialog) and widget.isVisible():
            return widget
    dialog = CrashDialog()
    adopt(dialog, None)
    dialog.show()
    return dialog


class _CrashRelay(QObject):
    """Carries a crash from any thread to the GUI thread."""

    crashed = Signal(str)

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName("crashRelay")
        self.crashed.connect(self.show, Qt.ConnectionType.QueuedConnection)

    def show(self, details: str) -> None:
        _open_dialog().add(details)


def _details(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> str:
    return "".join(traceback.format_exception(exc_type, exc, tb))


def report_crash(
    exc: BaseException, exc_type: type[BaseException] | None = None, tb: TracebackType | None = None
) -> None:
    """Log the exception and show it. Safe from any thread; never raises."""
    exc_type = exc_type or type(exc)
    tb = tb or exc.__traceback__
    log.error("unexpected exception", exc_info=(exc_type, exc, tb))
    app = QApplication.instance()
    if app is None:
        return
    details = _details(exc_type, exc, tb)
    if QThread.currentThread() == app.thread():
        _open_dialog().add(details)
    else:
        relay = app.findChild(_CrashRelay, "crashRelay")
        if relay is not None:
            emit(relay.crashed, details)


def install_crash_handlers(app: QApplication) -> None:
    """Route uncaught exceptions from Qt slots and plain threads to the crash dialog instead of stderr."""
    if app.findChild(_CrashRelay, "crashRelay") is None:
        _CrashRelay(app)

    def on_exception(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        report_crash(exc, exc_type, tb)

    def on_thread_exception(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            report_crash(args.exc_value, args.exc_type, args.exc_traceback)

    sys.excepthook = on_exception
    threading.excepthook = on_thread_exception
