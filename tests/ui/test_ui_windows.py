"""Windows conditions met at the counter, simulated on Linux: a PC clock in another zone (finding 10), Windows 11
dark mode (finding 8) and a Chinese input method's full-width digits (finding 5)."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QImage, QKeyEvent, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from app.context import Services
from app.paths import resource_path
from tests.ui.ui_support import open_member, register
from tests.windows.support import NEEDS_TZSET
from ui import formatting as fmt
from ui.application import build_main_window, configure_application
from ui.counter.page import prefill_for
from ui.i18n import Translators
from ui.main_window import MainWindow
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


@NEEDS_TZSET
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


@NEEDS_TZSET
@pytest.mark.usefixtures("pc_in_new_york")
def test_the_status_bar_warns_when_the_pcs_zone_differs(
    qtbot: QtBot, services: Services, tasks: SyncTaskRunner, translators: Translators
) -> None:
    window = build_main_window(services, tasks)
    qtbot.addWidget(window)
    warning = window.findChild(QLabel, "zoneWarning")
    assert warning is not None
    assert "UTC-05:00" in warning.text() and "Asia/Shanghai" in warning.text()
    assert "UTC-05:00" in warning.toolTip() and "Asia/Shanghai" in warning.toolTip()


@NEEDS_TZSET
@pytest.mark.usefixtures("pc_in_shanghai")
def test_no_warning_when_the_pc_keeps_the_stores_time(
    qtbot: QtBot, services: Services, tasks: SyncTaskRunner, translators: Translators
) -> None:
    window = build_main_window(services, tasks)
    qtbot.addWidget(window)
    assert window.findChild(QLabel, "zoneWarning") is None


# --- finding 8: Windows 11 dark mode


def dark_palette() -> QPalette:
    """What Windows 11 in dark mode hands a Qt program: dark backgrounds, white text."""
    palette = QPalette()
    for role, colour in {
        QPalette.ColorRole.Window: "#202020",
        QPalette.ColorRole.WindowText: "#ffffff",
        QPalette.ColorRole.Base: "#1c1c1c",
        QPalette.ColorRole.AlternateBase: "#2b2b2b",
        QPalette.ColorRole.Text: "#ffffff",
        QPalette.ColorRole.Button: "#2d2d2d",
        QPalette.ColorRole.ButtonText: "#ffffff",
        QPalette.ColorRole.Highlight: "#0078d4",
        QPalette.ColorRole.HighlightedText: "#ffffff",
    }.items():
        palette.setColor(role, QColor(colour))
    return palette


def luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def contrast(widget: QWidget, path: Path) -> float:
    """WCAG contrast between a widget's background (its most common colour) and the colour farthest from it (the
    core of its text strokes), read from a screenshot."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    image.save(str(path))
    counts = Counter(image.pixel(x, y) for x in range(image.width()) for y in range(image.height()))
    background = QColor.fromRgb(counts.most_common(1)[0][0])
    ratios = [
        (max(luminance(background), luminance(QColor.fromRgb(p))) + 0.05)
        / (min(luminance(background), luminance(QColor.fromRgb(p))) + 0.05)
        for p, n in counts.items()
        if n >= 4
    ]
    return max(ratios)


@pytest.fixture
def dark_mode(qapp: QApplication) -> Iterator[None]:
    before = qapp.palette()
    qapp.setPalette(dark_palette())
    yield
    qapp.setPalette(before)


@pytest.mark.usefixtures("dark_mode")
def test_f_keys_and_table_rows_stay_readable_in_dark_mode(
    qtbot: QtBot, qapp: QApplication, services: Services, tasks: SyncTaskRunner, tmp_path: Path
) -> None:
    translators = configure_application(qapp, "zh_CN")  # the app starts on a PC in dark mode
    try:
        for phone, name in (("13812345678", "张伟"), ("13912345678", "张三丰"), ("13712345678", "张小明")):
            register(services, phone, name)
        window = build_main_window(services, tasks)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        page = window.counter
        qtbot.keyClicks(page.lookup, "5678")  # the last 4 digits of all three
        qtbot.waitUntil(lambda: page.hits.rowCount() == 3, timeout=3000)
        view = page.hits_view
        rows = [view.viewport().grab(view.visualRect(page.hits.index(row, 0))) for row in range(3)]
        for number, row in enumerate(rows):
            image = tmp_path / f"row{number}.png"
            row.save(str(image))
            label = QLabel()
            label.setPixmap(row)
            assert contrast(label, tmp_path / f"row{number}-label.png") >= 4.5, f"table row {number}: {image}"
        open_member(qtbot, page, page.hits.rows()[0].id)
        buttons = [b for b in window.findChildren(QToolButton, "fkeyButton") if b.isEnabled() and b.isVisible()]
        assert len(buttons) >= 4
        window.grab().save(str(tmp_path / "dark-mode-window.png"))
        for button in buttons:
            ratio = contrast(button, tmp_path / f"{button.text()[:3].strip()}.png")
            assert ratio >= 4.5, f"{button.text()}: contrast {ratio:.1f}"
    finally:
        translators.remove()


def test_every_stylesheet_background_comes_with_a_text_colour() -> None:
    sheet = resource_path("styles", "app.qss").read_text(encoding="utf-8")
    sheet = re.sub(r"/\*.*?\*/", "", sheet, flags=re.S)
    for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", sheet):
        if re.search(r"(^|[;\s])background(-color)?\s*:", body) and "::chunk" not in selector:
            assert re.search(r"(^|[;\s])color\s*:", body), f"{selector.strip()} sets a background but no text colour"


# --- finding 5 at the counter: a Chinese input method in full-width mode


def test_fullwidth_digits_from_an_input_method_open_the_member(
    qtbot: QtBot, window: MainWindow, members: dict[str, int]
) -> None:
    """Sogou or Microsoft Pinyin in full-width mode hands the box １３７…, one committed character per key."""
    page = window.counter
    for char in "１３７００００５６７８":
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(page.lookup, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))
        qtbot.wait(30)
    qtbot.waitUntil(lambda: page.panel.profile is not None, timeout=3000)
    assert page.panel.profile is not None and page.panel.profile.id == members["单田芳"]


def test_fullwidth_input_starts_a_registration_in_the_right_field() -> None:
    """No match for what the input method typed: F2 puts a full-width phone or card where an ASCII one would go."""
    assert prefill_for("１３９１２３５００００").phone == "13912350000"
    assert prefill_for("８８００００００００１３").card_no == "880000000013"
    assert prefill_for("王小明").name == "王小明"
