"""The purchase dialog's lines by category: the total follows the lines, tobacco earns nothing, the sale keeps its
lines, the keyboard alone is enough, and removing every line hands the amount field back to the cashier."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.context import Services
from tests.ui.ui_support import open_member, register
from ui.counter.category_lines import CategoryLines
from ui.counter.page import CounterPage
from ui.counter.purchase_dialog import PurchaseDialog
from ui.main_window import MainWindow


@pytest.fixture
def dialog(qtbot: QtBot, window: MainWindow, services: Services) -> PurchaseDialog:
    """The open purchase dialog, active: Insert is a window shortcut and only reaches an active window."""
    page: CounterPage = window.counter
    open_member(qtbot, page, register(services, "13812345678", "张伟"))
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    qtbot.keyClick(page.lookup, Qt.Key.Key_F4)
    assert isinstance(page.dialog, PurchaseDialog)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is page.dialog, timeout=2000)
    return page.dialog


def add_line(qtbot: QtBot, lines: CategoryLines, category: str, amount: str) -> None:
    """Insert, choose the category by its shown name, Tab to the amount and type it: the cashier's own keys."""
    qtbot.keyClick(lines.window(), Qt.Key.Key_Insert)
    line = lines.rows[-1]
    assert line.category.hasFocus()
    line.category.setCurrentIndex(line.category.findText(category))
    qtbot.keyClick(line.category, Qt.Key.Key_Tab)
    assert line.amount.hasFocus()
    qtbot.keyClicks(line.amount, amount)


def test_the_section_starts_closed_and_the_amount_alone_still_records(dialog: PurchaseDialog) -> None:
    assert not dialog.lines.body.isVisible() and not dialog.lines.has_lines()
    dialog.amount.setText("12")
    assert dialog.request().lines == [] and dialog.request().total_fen == 1200


def test_tobacco_earns_nothing_and_the_sale_keeps_both_lines(
    qtbot: QtBot, window: MainWindow, dialog: PurchaseDialog, services: Services
) -> None:
    add_line(qtbot, dialog.lines, "烟草（不积分）", "30")
    qtbot.keyClick(dialog.lines.rows[-1].amount, Qt.Key.Key_Return)
    assert dialog.lines.add_button.hasFocus()  # Enter on a line moves on, it never records
    add_line(qtbot, dialog.lines, "生鲜果蔬", "50.5")
    assert dialog.amount.isReadOnly() and dialog.amount.text() == "¥80.50"
    qtbot.waitUntil(lambda: dialog.preview_labels["earn"].text() == "+50", timeout=2000)
    assert dialog.preview_labels["cash"].text() == "¥80.50"

    dialog.ok.click()
    assert dialog.confirm_amount.text() == "¥80.50"
    dialog.ok.click()
    assert not dialog.isVisible()
    profile = window.counter.panel.profile
    assert profile is not None and profile.points_balance == 50
    shares = {share.name: share.amount_fen for share in services.members.profile(profile.id).preferred_categories}
    assert shares == {"烟草": 3000, "生鲜果蔬": 5050}


def test_removing_every_line_gives_the_amount_back(qtbot: QtBot, dialog: PurchaseDialog) -> None:
    qtbot.keyClicks(dialog.amount, "99")
    add_line(qtbot, dialog.lines, "休闲零食", "12")
    add_line(qtbot, dialog.lines, "酒水饮料", "8")
    assert dialog.amount.text() == "¥20.00"
    last = dialog.lines.rows[-1]
    last.amount.clear()
    qtbot.keyClick(last.amount, Qt.Key.Key_Delete)  # Delete in an empty amount removes the line
    assert dialog.amount.text() == "¥12.00"
    qtbot.keyClick(dialog.lines.rows[0].category, Qt.Key.Key_Delete)
    assert not dialog.lines.has_lines()
    assert not dialog.amount.isReadOnly() and dialog.amount.text() == "99"


def test_a_mistyped_line_is_refused_by_the_section(qtbot: QtBot, dialog: PurchaseDialog) -> None:
    add_line(qtbot, dialog.lines, "生鲜果蔬", "1.234")
    assert dialog.amount.text() == ""
    dialog.ok.click()
    assert "两位小数" in dialog.errors.field_text("lines")
    assert dialog.isVisible()


def test_a_refusal_about_the_lines_shows_by_the_section(qtbot: QtBot, dialog: PurchaseDialog) -> None:
    add_line(qtbot, dialog.lines, "生鲜果蔬", "10")
    dialog.lines.rows[0].category.setItemData(0, "gone")  # a category removed since the dialog opened
    dialog.ok.click()
    assert "gone" in dialog.errors.field_text("lines") and dialog.isVisible()
