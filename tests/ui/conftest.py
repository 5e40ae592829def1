"""GUI test set-up: a real SQLite store in tmp_path, the synchronous task runner, and a main window in Chinese
(the default language), with a cashier and a manager besides the owner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.context import Services, Store
from tests.staff_support import add_counter_staff
from tests.ui.ui_support import register
from ui.application import build_main_window, configure_application
from ui.counter.page import CounterPage
from ui.i18n import Translators
from ui.main_window import MainWindow
from ui.tasks import SyncTaskRunner


@pytest.fixture(autouse=True)
def close_windows(qapp: QApplication) -> Iterator[None]:
    """Dialogs open without blocking and may outlive the test's main window: close them all afterwards, so the next
    test finds only its own."""
    yield
    for widget in QApplication.topLevelWidgets():
        if widget.isVisible():
            widget.close()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "data")

    add_counter_staff(store)
    yield store
    store.close()


@pytest.fixture
def services(store: Store) -> Services:
    """The store's default operator: its first cashier."""
    return store.services(store.operator())


@pytest.fixture
def owner_services(store: Store) -> Services:
    return store.services(store.operator("owner"))


@pytest.fixture
def lang() -> str:
    return "zh_CN"


@pytest.fixture
def translators(qapp: QApplication, lang: str) -> Iterator[Translators]:
    translators = configure_application(qapp, lang)
    yield translators
    translators.remove()


@pytest.fixture
def tasks() -> SyncTaskRunner:
    return SyncTaskRunner()


@pytest.fixture
def window(qtbot: QtBot, services: Services, tasks: SyncTaskRunner, translators: Translators) -> MainWindow:
    window = build_main_window(services, tasks)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def members(services: Services) -> dict[str, int]:
    return {
        "张伟": register(services, "13812345678", "张伟"),
        "张三丰": register(services, "13912340001", "张三丰"),
        "单田芳": register(services, "13700005678", "单田芳"),
    }


@pytest.fixture
def page(window: MainWindow) -> CounterPage:
    return window.counter


@pytest.fixture
def member_id(services: Services) -> int:
    """张伟, 13812345678: the member most counter tests serve."""
    return register(services, "13812345678", "张伟")
