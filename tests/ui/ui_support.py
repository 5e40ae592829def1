"""What the GUI tests share besides fixtures: the staff PINs of the test store, a quick registration, and finding
the dialog a step opened."""

from __future__ import annotations

import uuid
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.context import Services, Store
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from ui.admin.pins import NewPinFields
from ui.counter.page import CounterPage
from ui.local_settings import LocalSettings
from ui.main_window import MainWindow
from ui.pages.settings_area import SettingsArea
from ui.tasks import SyncTaskRunner

SETTINGS_FROM_END = 2
"""Settings is the navigation's last entry but one, before Data & privacy (pages added before it do not move it)."""
STARTING_PIN = "0000"


def register(services: Services, phone: str, name: str) -> int:
    return services.members.register(MemberForm(phone=phone, name=name, membership_consent=True))


def buy(services: Services, member_id: int, fen: int, points: int = 0) -> int:
    request = PurchaseRequest(member_id, fen, str(uuid.uuid4()), points_to_use=points)
    return services.loyalty.record_purchase(request).sale_id


def open_member(qtbot: QtBot, page: CounterPage, member_id: int) -> None:
    page.open_member(member_id)
    qtbot.waitUntil(lambda: page.panel.profile is not None and page.panel.profile.id == member_id, timeout=2000)


W = TypeVar("W", bound=QWidget)


def shown(kind: type[W]) -> W:
    """The open window of this kind (dialogs open without blocking, so tests find them among the windows)."""
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
    assert len(found) == 1, f"{len(found)} {kind.__name__} windows are open"
    return found[0]


def none_shown(kind: type[QWidget]) -> bool:
    return not any(isinstance(w, kind) and w.isVisible() for w in QApplication.topLevelWidgets())


def show_active(qtbot: QtBot, window: QWidget) -> None:
    """Shown and active: the counter's function keys only reach an active window."""
    qtbot.addWidget(window)
    window.resize(1280, 800)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()


def sign_in_with_the_starting_pin(qtbot: QtBot, store: Store, local: LocalSettings | None = None) -> MainWindow:
    """A new store's first start: the owner signs in with the starting PIN, typed into the sign-in dialog."""
    window = MainWindow(SyncTaskRunner(), local)
    show_active(qtbot, window)
    window.store_opened(store)
    dialog = window.sign_in_dialog
    assert dialog is not None
    dialog.account.setCurrentIndex(dialog.account.findData("owner"))
    qtbot.keyClicks(dialog.pin, STARTING_PIN)
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    return window


def settings_area(window: MainWindow) -> SettingsArea:
    window.navigation.setCurrentRow(window.navigation.count() - SETTINGS_FROM_END)
    area = window.stack.currentWidget()
    assert isinstance(area, SettingsArea)
    return area


def enter_new_pin(fields: NewPinFields, pin: str, repeat: str | None = None) -> None:
    fields.pin.setText(pin)
    fields.repeat.setText(pin if repeat is None else repeat)
