"""Windows conditions met at the counter, simulated on Linux: a PC clock in another zone (finding 10) and Windows 11
dark mode (finding 8)."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.context import Services
from ui import formatting as fmt
from ui.application import build_main_window
from ui.i18n import Translators
from ui.tasks import SyncTaskRunner

SOLD_AT_UTC = dt.datetime(2026, 11, 23, 2, 30, tzinfo=dt.UTC)  # 10:30 in Shanghai, 21:30 the day before in New York


def pc_zone(name: str) -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()
    fmt.use_store_zone("Asia/Shanghai")


@pytest.fixture
def pc_in_new_york() -> Iterator[None]:
    yield from pc_zone("America/New_York")


@pytest.fixture
def pc_in_shanghai() -> Iterator[None]:
    yield from pc_zone("Asia/Shanghai")


@pytest.mark.usefixtures("pc_in_new_york")
def test_times_are_shown_in_the_stores_zone_not_the_pcs(
    qtbot: QtBot, services: Services, tasks: SyncTaskRunner, translators: Translators
) -> None:
    window = build_main_window(services, tasks)
    qtbot.addWidget(window)
    assert dt.datetime.now().astimezone().utcoffset() == dt.timedelta(hours=-5)  # the PC really is elsewhere
    assert fmt.local_datetime(SOLD_AT_UTC) == "2026-11-23 10:30"
    assert fmt.local_date(SOLD_AT_UTC.replace(hour=20)) == "2026-11-24"
    assert fmt.local_datetime(SOLD_AT_UTC.replace(tzinfo=None)) == "2026-11-23 10:30"  # naive = UTC, never the PC's


@pytest.mark.usefixtures("pc_in_new_york")
def test_the_status_bar_warns_when_the_pcs_zone_differs(
    qtbot: QtBot, services: Services, tasks: SyncTaskRunner, translators: Translators
) -> None:
    window = build_main_window(services, tasks)
    qtbot.addWidget(window)
    warning = window.findChild(QLabel, "zoneWarning")
    assert warning is not None
    assert "UTC-05:00" in warning.text() and "Asia/Shanghai" in warning.text()


@pytest.mark.usefixtures("pc_in_shanghai")
def test_no_warning_when_the_pc_keeps_the_stores_time(
    qtbot: QtBot, services: Services, tasks: SyncTaskRunner, translators: Translators
) -> None:
    window = build_main_window(services, tasks)
    qtbot.addWidget(window)
    assert window.findChild(QLabel, "zoneWarning") is None
