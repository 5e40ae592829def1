"""The counter page, driven by the keyboard as a cashier (and a barcode scanner) would."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.context import Services
from ui.counter.lookup_box import SCAN_KEY_GAP_S, ScanDetector
from ui.counter.member_dialog import MemberDialog
from ui.counter.page import CounterPage, prefill_for
from ui.main_window import MainWindow

HUMAN_KEY_DELAY_MS = 60


def type_like_a_person(qtbot: QtBot, page: CounterPage, text: str) -> None:
    """Key by key with human gaps. QTest only knows ASCII keys, so Chinese characters are sent as key events
    carrying their text (what an input method finally delivers)."""
    for char in text:
        if char.isascii():
            qtbot.keyClick(page.lookup, char)
        else:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(page.lookup, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))
        qtbot.wait(HUMAN_KEY_DELAY_MS)


def wait_for_hits(qtbot: QtBot, page: CounterPage, count: int) -> None:
    qtbot.waitUntil(lambda: page.hits.rowCount() == count, timeout=2000)


def hit_names(page: CounterPage) -> list[str]:
    return [hit.name for hit in page.hits.rows()]


def shows(page: CounterPage, names: list[str]) -> bool:
    return sorted(hit_names(page)) == sorted(names)


def test_lookup_box_has_focus_at_start(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.counter.lookup)


def test_typing_shows_matches_by_phone_last4_name_and_pinyin(
    qtbot: QtBot, window: MainWindow, members: dict[str, int]
) -> None:
    page = window.counter
    for query, expected in (
        ("1381234", ["张伟"]),
        ("5678", ["张伟", "单田芳"]),
        ("张", ["张三丰", "张伟"]),
        ("zsf", ["张三丰"]),
        ("shan", ["单田芳"]),  # a heteronym surname: 单 is Shan as a surname
    ):
        page.lookup.clear()
        type_like_a_person(qtbot, page, query)
        qtbot.waitUntil(partial(shows, page, expected), timeout=2000)
    assert page.panel.profile is None, "partial matches are listed, never opened by themselves"


def test_enter_opens_the_top_match_and_arrows_choose_another(
    qtbot: QtBot, window: MainWindow, members: dict[str, int]
) -> None:
    page = window.counter
    type_like_a_person(qtbot, page, "张")
    wait_for_hits(qtbot, page, 2)
    qtbot.keyClick(page.lookup, Qt.Key.Key_Return)
    assert page.panel.profile is not None
    assert page.panel.profile.id == page.hits.rows()[0].id
    qtbot.keyClick(page.lookup, Qt.Key.Key_Down)
    assert QApplication.focusWidget() is page.lookup, "the arrows move the list; the focus stays in the box"
    qtbot.keyClick(page.lookup, Qt.Key.Key_Return)
    assert page.panel.profile.id == page.hits.rows()[1].id
    assert page.edit_action.isEnabled() and page.purchase_action.isEnabled()


def test_enter_before_the_answer_came_still_opens_it(qtbot: QtBot, window: MainWindow, members: dict[str, int]) -> None:
    page = window.counter
    type_like_a_person(qtbot, page, "stf")
    qtbot.keyClick(page.lookup, Qt.Key.Key_Return)  # at once, before the debounce fired
    assert page.panel.profile is not None and page.panel.profile.name == "单田芳"


def test_a_full_phone_opens_the_member_directly(qtbot: QtBot, window: MainWindow, members: dict[str, int]) -> None:
    page = window.counter
    type_like_a_person(qtbot, page, "13700005678")
    qtbot.waitUntil(lambda: page.panel.profile is not None, timeout=2000)
    assert page.panel.profile is not None and page.panel.profile.id == members["单田芳"]


def test_a_scanned_card_opens_its_member(
    qtbot: QtBot, window: MainWindow, services: Services, members: dict[str, int]
) -> None:
    page = window.counter
    card = services.members.form_for(members["张三丰"]).card_no
    assert card
    qtbot.keyClicks(page.lookup, card)  # a scanner: every key within a few milliseconds
    qtbot.keyClick(page.lookup, Qt.Key.Key_Return)
    assert page.panel.profile is not None and page.panel.profile.id == members["张三丰"]


def test_an_unknown_scanned_card_says_not_found(qtbot: QtBot, window: MainWindow, members: dict[str, int]) -> None:
    page = window.counter
    qtbot.keyClicks(page.lookup, "880099999990")
    qtbot.keyClick(page.lookup, Qt.Key.Key_Return)
    assert page.panel.notice.isVisible()
    assert "880099999990" in page.panel.notice.text() and "未找到" in page.panel.notice.text()
    assert page.dialog is None, "a failed scan never opens the registration form"


def test_one_esc_clears_the_box_and_closes_the_member(
    qtbot: QtBot, window: MainWindow, members: dict[str, int]
) -> None:
    page = window.counter
    type_like_a_person(qtbot, page, "13812345678")
    qtbot.waitUntil(lambda: page.panel.profile is not None, timeout=2000)
    qtbot.keyClick(page.lookup, Qt.Key.Key_Escape)
    assert page.lookup.text() == "" and page.hits.rowCount() == 0
    assert page.panel.profile is None and not page.purchase_action.isEnabled()


def test_no_match_offers_to_register_with_what_was_typed(
    qtbot: QtBot, window: MainWindow, members: dict[str, int]
) -> None:
    page = window.counter
    type_like_a_person(qtbot, page, "13600001111")
    qtbot.waitUntil(lambda: "13600001111" in page.no_match.text(), timeout=2000)  # the last key's answer
    assert page.results.currentWidget() is page.no_match_page
    qtbot.keyClick(page.lookup, Qt.Key.Key_Return)
    assert isinstance(page.dialog, MemberDialog)
    assert page.dialog.phone.text() == "13600001111" and page.dialog.name.text() == ""


def test_prefill_tells_phone_card_and_name_apart() -> None:
    assert prefill_for("138 1234 5678").phone == "13812345678"
    assert prefill_for("880000000013").card_no == "880000000013"
    assert prefill_for("王小明").name == "王小明"
    assert prefill_for("wangxm").name == "wangxm"


def test_scan_detector_tells_a_scanner_from_a_person() -> None:
    now = [0.0]
    detector = ScanDetector(lambda: now[0])
    for _ in range(12):
        detector.key()
        now[0] += SCAN_KEY_GAP_S / 3
    assert detector.is_scan(12)
    assert not detector.is_scan(13), "text typed before the burst means a person was typing"
    detector.reset()
    for _ in range(12):
        detector.key()
        now[0] += 0.09
    assert not detector.is_scan(12)
