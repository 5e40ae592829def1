"""Short messages to the cashier. Boxes open window-modal but never block the caller (`open()`, not `exec()`), so a
message can never stall the event loop, a scanner's input or a test."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QMessageBox, QWidget


def owner_window(parent: QWidget | None) -> QWidget | None:
    """The window a message belongs to: the given one, else the active window, else the visible main window."""
    if parent is not None:
        return parent.window()
    active = QApplication.activeWindow()
    if active is not None:
        return active
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()), None)


class _Keeper(QObject):
    """Holds dialogs that have no window to belong to until they are closed (Python would otherwise delete them
    the moment the caller lets go, and the message would flash and vanish)."""

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        self.setObjectName("dialogKeeper")
        self.dialogs: list[QDialog] = []

    def keep(self, dialog: QDialog) -> None:
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _result: self.dialogs.remove(dialog))


def adopt(dialog: QDialog, parent: QWidget | None) -> None:
    """Give `dialog` a window to belong to (deleted with it when closed), or keep it alive until it is closed."""
    window = owner_window(parent)
    if window is not None:
        dialog.setParent(window, dialog.windowFlags())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        return
    app = QCoreApplication.instance()
    if app is not None:
        keeper = app.findChild(_Keeper, "dialogKeeper") or _Keeper(app)
        keeper.keep(dialog)


def _box(parent: QWidget | None, icon: QMessageBox.Icon, text: str) -> QMessageBox:
    box = QMessageBox(icon, QCoreApplication.translate("Messages", "MemberDesk"), text, QMessageBox.StandardButton.Ok)
    box.setObjectName("messageBox")
    adopt(box, parent)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()
    return box


def show_error(parent: QWidget | None, text: str) -> QMessageBox:
    """A refusal the cashier can act on (already translated by the service that raised it)."""
    return _box(parent, QMessageBox.Icon.Warning, text)


def show_info(parent: QWidget | None, text: str) -> QMessageBox:
    return _box(parent, QMessageBox.Icon.Information, text)
