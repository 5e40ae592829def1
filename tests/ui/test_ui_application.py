"""Starting the GUI for real: window first, store on the worker, keys typed meanwhile still answered; what the
first screen imports; the per-machine settings."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow
from pytestqt.qtbot import QtBot

from app.context import Store
from tests.ui.ui_support import register
from ui.application import RunningGui, start_gui
from ui.local_settings import LANGUAGE, LAST_USERNAME, LocalSettings
from ui.main_window import MainWindow
from ui.sign_in_dialog import SignInDialog

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    store = Store.open(tmp_path / "data")
    services = store.services(store.operator())
    register(services, "13812345678", "张伟")
    store.close()
    return tmp_path / "data"


@pytest.fixture
def session(qapp: QApplication, data_dir: Path) -> Iterator[RunningGui]:
    hooks = sys.excepthook, threading.excepthook
    handlers = list(logging.getLogger("memberdesk").handlers)
    session = start_gui(data_dir, None, "zh_CN")
    yield session
    session.window.close()
    session.close()
    session.translators.remove()
    sys.excepthook, threading.excepthook = hooks
    for handler in logging.getLogger("memberdesk").handlers:
        if handler not in handlers:
            logging.getLogger("memberdesk").removeHandler(handler)
            handler.close()


def sign_in_dialog(qtbot: QtBot, window: MainWindow) -> SignInDialog:
    qtbot.waitUntil(lambda: window.sign_in_dialog is not None and window.sign_in_dialog.ok.isEnabled(), timeout=10_000)
    assert window.sign_in_dialog is not None
    return window.sign_in_dialog


def test_keys_typed_while_the_store_opens_are_answered_after_sign_in(qtbot: QtBot, session: RunningGui) -> None:
    window = session.window
    assert window.isVisible() and window.services is None, "the window comes before the store"
    assert QApplication.focusWidget() is window.counter.lookup
    qtbot.keyClicks(window.counter.lookup, "13812345678")
    qtbot.keyClick(window.counter.lookup, Qt.Key.Key_Return)
    dialog = sign_in_dialog(qtbot, window)
    assert window.services is None, "nobody works before signing in"
    qtbot.keyClicks(dialog.pin, "0000")
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.counter.panel.profile is not None, timeout=10_000)
    assert window.counter.panel.profile is not None and window.counter.panel.profile.name == "张伟"
    # The names come once the services are loaded, after the counter's first answer (app/context.py `Store`).
    qtbot.waitUntil(lambda: window.store_label.text() == "会员台示例超市 · 总店", timeout=10_000)
    assert window.stack.currentWidget() is window.counter, "the owner typed a customer's number: the counter stays"


def test_an_owner_who_typed_nothing_lands_on_the_close_of_day_figures(qtbot: QtBot, session: RunningGui) -> None:
    window = session.window
    dialog = sign_in_dialog(qtbot, window)
    dialog.account.setCurrentIndex(dialog.account.findData("owner"))
    qtbot.keyClicks(dialog.pin, "0000")
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentIndex() == window.dashboard_row, timeout=10_000)
    assert window.services is not None and "close_of_day" in vars(window.services), "made on a worker first"


def test_the_first_screen_imports_no_database_or_chart_library() -> None:
    code = (
        "import sys; import ui.application; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'pyqtgraph', 'reportlab', 'pypinyin') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_local_settings_are_typed_and_kept_per_machine(qtbot: QtBot, tmp_path: Path) -> None:
    local = LocalSettings(tmp_path)
    assert local.language() == "zh_CN" and local.get(LAST_USERNAME) == ""
    local.set(LANGUAGE, "en")
    local.set(LAST_USERNAME, "cashier")
    again = LocalSettings(tmp_path)
    assert again.language() == "en" and again.get(LAST_USERNAME) == "cashier"
    again.set(LANGUAGE, "klingon")
    assert again.language() == "zh_CN", "an unknown language falls back to the default"

    window = QMainWindow()
    qtbot.addWidget(window)
    window.setGeometry(40, 50, 700, 500)
    local.save_geometry(window)
    restored = QMainWindow()
    qtbot.addWidget(restored)
    assert LocalSettings(tmp_path).restore_geometry(restored)
    assert (restored.width(), restored.height()) == (700, 500)


@pytest.fixture
def owner_was_last(data_dir: Path) -> None:
    LocalSettings(data_dir).set(LAST_USERNAME, "owner")


def test_the_last_operator_is_preselected_never_signed_in(
    qtbot: QtBot, owner_was_last: None, session: RunningGui
) -> None:
    """Finding 2: the program opened as the last operator (the owner) with no PIN."""
    window = session.window
    dialog = sign_in_dialog(qtbot, window)
    assert dialog.username() == "owner" and dialog.focusWidget() is dialog.pin
    qtbot.wait(300)
    assert window.services is None and dialog.isVisible()
    qtbot.keyClick(window.counter.lookup, Qt.Key.Key_F7)
    assert window.counter.dialog is None
