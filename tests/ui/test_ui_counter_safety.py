"""Issue 8's counter-safety findings, each reproduced as a cashier meets it: keys typed one by one with a human's
pause between them (400 ms, slower than the checks that run as you type), against a real store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QTableView, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy.exc import OperationalError

from app.context import Services
from app.loyalty.service import PurchaseRequest
from tests.staff_support import CASHIER_PIN, MANAGER_PIN
from tests.ui.ui_support import buy, none_shown, open_member, register, show_active
from ui.admin.pins import ChangePinDialog
from ui.application import build_main_window
from ui.counter.member_dialog import MemberDialog
from ui.counter.page import CounterPage
from ui.counter.purchase_dialog import PurchaseDialog
from ui.counter.return_dialog import ReturnDialog
from ui.i18n import Translators
from ui.main_window import MainWindow
from ui.sign_in_dialog import SignInMode
from ui.tasks import SyncTaskRunner, TaskRunner

KEY_PAUSE_MS = 400


def type_slowly(qtbot: QtBot, widget: QWidget, text: str, pause_ms: int = KEY_PAUSE_MS) -> None:
    """Each key into whatever has the focus now (as a keyboard does), then a cashier's pause."""
    for char in text:
        target = widget.window().focusWidget() or widget
        QTest.keyClicks(target, char)
        qtbot.wait(pause_ms)


def press(qtbot: QtBot, widget: QWidget, key: Qt.Key) -> None:
    qtbot.keyClick(widget.window().focusWidget() or widget, key)


def purchase_dialog(qtbot: QtBot, page: CounterPage) -> PurchaseDialog:
    qtbot.keyClick(page.lookup, Qt.Key.Key_F4)
    dialog = page.dialog
    assert isinstance(dialog, PurchaseDialog)
    return dialog


def test_an_amount_typed_slowly_is_recorded_as_typed(
    qtbot: QtBot, page: CounterPage, services: Services, member_id: int
) -> None:
    """Finding 1: `128.` was refused as you typed, the field selected, and `50` replaced it: ¥50.00 recorded."""
    open_member(qtbot, page, member_id)
    dialog = purchase_dialog(qtbot, page)
    type_slowly(qtbot, dialog.amount, "128.50")
    assert dialog.amount.text() == "128.50"
    press(qtbot, dialog, Qt.Key.Key_Return)
    assert dialog.confirm_page.isVisible()
    assert dialog.confirm_amount.text() == "¥128.50"
    press(qtbot, dialog, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    assert [sale.total_fen for sale in services.members.sales_page(member_id, 0, 10).rows] == [12850]


def test_a_half_typed_amount_is_not_refused_while_typing(qtbot: QtBot, page: CounterPage, member_id: int) -> None:
    open_member(qtbot, page, member_id)
    dialog = purchase_dialog(qtbot, page)
    type_slowly(qtbot, dialog.amount, "128.")
    assert dialog.errors.field_text("amount") == ""
    assert dialog.focusWidget() is dialog.amount and not dialog.amount.hasSelectedText()


def test_esc_on_the_confirmation_goes_back_with_everything_as_typed(
    qtbot: QtBot, page: CounterPage, services: Services, member_id: int
) -> None:
    open_member(qtbot, page, member_id)
    dialog = purchase_dialog(qtbot, page)
    type_slowly(qtbot, dialog.amount, "12", pause_ms=50)
    press(qtbot, dialog, Qt.Key.Key_Return)
    assert dialog.confirm_page.isVisible()
    press(qtbot, dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible() and not dialog.confirm_page.isVisible()
    assert dialog.amount.text() == "12" and dialog.focusWidget() is dialog.amount
    assert services.members.sales_page(member_id, 0, 10).rows == []


@pytest.mark.parametrize("typed", ["-50", "99999999999"])
def test_an_amount_out_of_range_gets_the_range_message(
    qtbot: QtBot, page: CounterPage, member_id: int, typed: str
) -> None:
    """Finding 7: these got the generic format message."""
    open_member(qtbot, page, member_id)
    dialog = purchase_dialog(qtbot, page)
    type_slowly(qtbot, dialog.amount, typed, pause_ms=30)
    press(qtbot, dialog, Qt.Key.Key_Return)
    assert "¥1,000,000" in dialog.errors.field_text("amount")
    assert not dialog.confirm_page.isVisible()


def test_the_focus_stays_in_the_points_field_after_a_points_error(
    qtbot: QtBot, page: CounterPage, services: Services, member_id: int
) -> None:
    """Finding 6: after "最多可使用 … 积分" keys went nowhere until a click."""
    buy(services, member_id, 50_000)  # 500 points
    open_member(qtbot, page, member_id)
    dialog = purchase_dialog(qtbot, page)
    type_slowly(qtbot, dialog.amount, "2")
    dialog.points.setFocus()  # clicked into
    type_slowly(qtbot, dialog.points, "300")
    assert "最多可使用 100 积分" in dialog.errors.field_text("points")
    assert dialog.focusWidget() is dialog.points
    type_slowly(qtbot, dialog.points, "\b\b")
    assert dialog.points.text() == "3"
    qtbot.waitUntil(lambda: dialog.errors.field_text("points") == "", timeout=2000)
    press(qtbot, dialog, Qt.Key.Key_Return)
    assert "最多可使用" in dialog.errors.field_text("points") or dialog.confirm_page.isVisible()


@pytest.fixture
def threaded_window(qtbot: QtBot, services: Services, translators: Translators) -> Iterator[MainWindow]:
    """The counter with the real worker thread, where answers come back later, as at a real counter."""
    tasks = TaskRunner()
    window = build_main_window(services, tasks)
    show_active(qtbot, window)
    yield window
    tasks.shutdown()


def test_a_registration_opens_the_new_member(qtbot: QtBot, threaded_window: MainWindow, services: Services) -> None:
    """Finding 3: with 马梦玲 open, registering 测试乙 left her in the panel, and the next F4 went to her."""
    page = threaded_window.counter
    open_member(qtbot, page, register(services, "13911112222", "马梦玲"))
    type_slowly(qtbot, page.lookup, "13933334444", pause_ms=60)
    qtbot.waitUntil(lambda: "13933334444" in page.no_match.text(), timeout=5000)  # the answer to the last key
    qtbot.keyClick(page.lookup, Qt.Key.Key_F2)
    dialog = page.dialog
    assert isinstance(dialog, MemberDialog) and dialog.phone.text() == "13933334444"
    dialog.name.setText("测试乙")
    dialog.consent.setChecked(True)
    dialog.ok.click()
    qtbot.waitUntil(lambda: page.panel.profile is not None and page.panel.profile.name == "测试乙", timeout=5000)
    qtbot.wait(500)  # the refresh the registration announced has come back too
    assert page.panel.profile is not None and page.panel.profile.name == "测试乙"
    assert page.results.currentWidget() is not page.no_match_page
    assert page.purchase_action.isEnabled()
    page.purchase_action.trigger()  # F4
    assert isinstance(page.dialog, PurchaseDialog) and "测试乙" in page.dialog.windowTitle()


def test_a_new_search_closes_the_previous_member(qtbot: QtBot, page: CounterPage, member_id: int) -> None:
    """Finding 4: typing a new query left the previous customer open with F3–F8 enabled."""
    open_member(qtbot, page, member_id)
    assert page.purchase_action.isEnabled()
    type_slowly(qtbot, page.lookup, "139", pause_ms=200)
    assert page.panel.profile is None and not page.purchase_action.isEnabled()
    qtbot.keyClick(page.lookup, Qt.Key.Key_F4)
    assert page.dialog is None


def test_one_esc_closes_the_member(qtbot: QtBot, page: CounterPage, member_id: int) -> None:
    type_slowly(qtbot, page.lookup, "13812345678", pause_ms=30)
    qtbot.keyClick(page.lookup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.panel.profile is not None, timeout=2000)
    assert page.lookup.text() == "13812345678"
    qtbot.keyClick(page.lookup, Qt.Key.Key_Escape)
    assert page.panel.profile is None and not page.edit_action.isEnabled() and page.lookup.text() == ""


def test_a_scan_that_finds_nobody_closes_the_member_and_says_so(
    qtbot: QtBot, page: CounterPage, member_id: int
) -> None:
    open_member(qtbot, page, member_id)
    QTest.keyClicks(page.lookup, "880000000017")  # a scanner: all keys at once, then Enter
    QTest.keyClick(page.lookup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "880000000017" in page.panel.notice.text(), timeout=2000)
    assert page.panel.profile is None and not page.adjust_action.isEnabled()


def test_every_member_dialog_names_the_member(qtbot: QtBot, page: CounterPage, member_id: int) -> None:
    open_member(qtbot, page, member_id)
    for key in (Qt.Key.Key_F3, Qt.Key.Key_F4, Qt.Key.Key_F5, Qt.Key.Key_F6, Qt.Key.Key_F7):
        qtbot.keyClick(page.lookup, key)
        dialog = page.dialog
        assert dialog is not None and "张伟" in dialog.windowTitle(), key
        dialog.reject()


def test_purchase_history_columns_fit_their_contents(
    qtbot: QtBot, window: MainWindow, services: Services, member_id: int
) -> None:
    """Finding 5: with a short history (no scrollbar) the columns were squeezed to "2…", "¥…", "D00…"."""
    for number in range(3):
        request = PurchaseRequest(member_id, 12_850, str(uuid.uuid4()), receipt_no=f"D0020261123{number:04d}")
        services.loyalty.record_purchase(request)
    window.resize(1366 - 16, 768 - 40 - 32)
    page = window.counter
    open_member(qtbot, page, member_id)
    view = page.panel.history.widget(0)
    assert isinstance(view, QTableView)
    qtbot.waitUntil(lambda: view.model().rowCount() == 3, timeout=2000)
    qtbot.wait(50)
    header, metrics = view.horizontalHeader(), view.fontMetrics()
    for column in range(view.model().columnCount()):
        widest = max(metrics.horizontalAdvance(str(view.model().index(row, column).data())) for row in range(3))
        assert header.sectionSize(column) >= widest, (column, header.sectionSize(column), widest)


def test_returns_take_enter_and_say_when_a_row_was_already_returned(
    qtbot: QtBot, page: CounterPage, services: Services, member_id: int
) -> None:
    """Finding 7: the confirmation ignored Enter; Enter on an already-returned row said nothing."""
    first = buy(services, member_id, 10_000)
    buy(services, member_id, 5_000)
    services.loyalty.return_sale(first, str(uuid.uuid4()))
    open_member(qtbot, page, member_id)
    qtbot.keyClick(page.lookup, Qt.Key.Key_F6)
    dialog = page.dialog
    assert isinstance(dialog, ReturnDialog)
    qtbot.waitUntil(lambda: dialog.sales.rowCount() == 3, timeout=2000)
    returned = next(row for row in range(3) if dialog.sales.row_at(row).returned)  # type: ignore[union-attr]
    dialog.view.selectRow(returned)
    qtbot.keyClick(dialog.view, Qt.Key.Key_Return)
    assert "尚未退货" in dialog.errors.field_text("sale")
    fresh = next(
        row
        for row in range(3)
        if not dialog.sales.row_at(row).returned and dialog.sales.row_at(row).kind == "sale"  # type: ignore[union-attr]
    )
    dialog.view.selectRow(fresh)
    qtbot.keyClick(dialog.view, Qt.Key.Key_Return)
    assert dialog.steps.currentIndex() == 1
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    assert dialog.steps.currentIndex() == 2


def test_the_member_list_shows_full_phones_to_the_owner(
    qtbot: QtBot, owner_services: Services, translators: Translators, member_id: int
) -> None:
    """Finding 7: the member list masked phones for the owner."""
    page_rows = owner_services.info.member_page(None, 10)
    assert [row.phone for row in page_rows.rows] == ["13812345678"]
    cashier_rows = owner_services.store.services(owner_services.store.operator("cashier")).info.member_page(None, 10)
    assert [row.phone for row in cashier_rows.rows] == [None]


def test_record_after_a_lost_connection_sends_the_same_key(
    qtbot: QtBot, page: CounterPage, services: Services, member_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16 finding 3: Record stayed disabled after a connection error, and reopening made a new key."""
    keys: list[str] = []
    record = services.loyalty.record_purchase

    def outage_once(request: PurchaseRequest) -> object:
        keys.append(request.idempotency_key)
        if len(keys) == 1:
            record(request)  # the commit reached the database, but the answer was lost
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))
        return record(request)

    monkeypatch.setattr(services.loyalty, "record_purchase", outage_once)
    open_member(qtbot, page, member_id)
    dialog = purchase_dialog(qtbot, page)
    type_slowly(qtbot, dialog.amount, "20", pause_ms=30)
    dialog.ok.click()
    dialog.ok.click()
    assert dialog.isVisible() and dialog.ok.isEnabled()
    assert "不会重复记录" in dialog.general_error.text()
    dialog.ok.click()
    assert not dialog.isVisible()
    assert keys[0] == keys[1]
    assert [sale.total_fen for sale in services.members.sales_page(member_id, 0, 10).rows] == [2000]


def test_a_return_is_found_by_its_receipt_number_and_shows_it(
    qtbot: QtBot, page: CounterPage, services: Services, member_id: int
) -> None:
    """Finding 7: no receipt search in returns; the return row showed no receipt number."""
    for number in range(25):  # more than one page of history
        services.loyalty.record_purchase(
            PurchaseRequest(member_id, 1_000, str(uuid.uuid4()), receipt_no=f"R{number:03d}")
        )
    open_member(qtbot, page, member_id)
    qtbot.keyClick(page.lookup, Qt.Key.Key_F6)
    dialog = page.dialog
    assert isinstance(dialog, ReturnDialog)
    dialog.receipt_search.setFocus()
    type_slowly(qtbot, dialog.receipt_search, "R002", pause_ms=50)
    qtbot.waitUntil(lambda: dialog.view.currentIndex().isValid(), timeout=2000)
    sale = dialog.sales.row_at(dialog.view.currentIndex().row())
    assert sale is not None and sale.receipt_no == "R002"
    qtbot.keyClick(dialog.receipt_search, Qt.Key.Key_Return)
    assert dialog.steps.currentIndex() == 1
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    assert dialog.steps.currentIndex() == 2
    newest = services.members.sales_page(member_id, 0, 1).rows[0]
    assert newest.kind == "return" and newest.receipt_no == "R002"


def test_a_refusal_goes_when_the_field_is_fixed_and_is_shown_whole(qtbot: QtBot, page: CounterPage) -> None:
    """Finding 7: F2's errors stayed after the field was fixed; the consent error was cut off ("…才能注")."""
    qtbot.keyClick(page.lookup, Qt.Key.Key_F2)
    dialog = page.dialog
    assert isinstance(dialog, MemberDialog)
    dialog.phone.setText("13655556666")
    dialog.name.setText("王小明")
    dialog.ok.click()
    label = dialog.errors._fields["consent"][1]
    assert "同意会员条款" in label.text()
    qtbot.wait(50)
    bottom = label.mapTo(dialog, label.rect().bottomLeft()).y()
    assert bottom <= dialog.height() and label.height() >= label.heightForWidth(label.width())
    dialog.consent.setChecked(True)
    assert dialog.errors.field_text("consent") == ""


def test_registration_shows_every_problem_at_once(qtbot: QtBot, page: CounterPage) -> None:
    """Finding 7: F2 showed one error at a time."""
    qtbot.keyClick(page.lookup, Qt.Key.Key_F2)
    dialog = page.dialog
    assert isinstance(dialog, MemberDialog)
    dialog.phone.setText("12345")
    dialog.ok.click()
    assert dialog.errors.field_text("phone") and dialog.errors.field_text("name")
    assert "会员条款" in dialog.errors.field_text("consent")
    assert dialog.focusWidget() is dialog.phone


def test_the_starting_pin_prompt_never_takes_the_counters_keys(
    qtbot: QtBot, owner_services: Services, translators: Translators
) -> None:
    """Finding 7: the prompt to replace the starting PIN popped up over the counter and swallowed the first keys."""
    window = build_main_window(owner_services, SyncTaskRunner())
    show_active(qtbot, window)
    for char in "1381":  # to whatever the keyboard reaches now, as a real keyboard does
        QTest.keyClicks(QApplication.focusWidget(), char)
        qtbot.wait(100)
    assert window.counter.lookup.text() == "1381"
    assert none_shown(ChangePinDialog), "nothing pops up over the counter"
    assert window.pin_hint.isVisible(), "the status bar still reminds"


def test_the_idle_lock_keeps_the_counter_and_asks_for_the_pin(
    qtbot: QtBot, window: MainWindow, services: Services, member_id: int
) -> None:
    page = window.counter
    open_member(qtbot, page, member_id)
    dialog = purchase_dialog(qtbot, page)
    type_slowly(qtbot, dialog.amount, "66", pause_ms=30)
    assert window._idle_timer.isActive() and window._idle_timer.interval() == 10 * 60_000
    window._idle_timer.timeout.emit()  # ten minutes without a key
    lock = window.sign_in_dialog
    assert lock is not None and lock.mode is SignInMode.LOCKED and not window.stack.isVisible()
    assert not dialog.isVisible(), "no customer's data shows on a locked counter"
    assert lock.username() == "cashier" and "李收银" in lock.note.text()
    lock.pin.setText("0000")
    lock.submit()
    assert lock.isVisible() and "PIN 码错误" in lock.error.text()
    lock.pin.setText(CASHIER_PIN)
    lock.submit()
    assert window.sign_in_dialog is None and window.stack.isVisible()
    assert page.panel.profile is not None and page.panel.profile.id == member_id
    assert dialog.isVisible() and dialog.amount.text() == "66", "the half-typed purchase waits as it was"
    window.lock()
    assert not dialog.isVisible()
    other = window.sign_in_dialog
    assert other is not None
    other.account.setCurrentIndex(other.account.findData("manager"))
    other.pin.setText(MANAGER_PIN)
    other.submit()
    assert window.services is not None and window.services.operator.display_name == "王店长"
    assert page.panel.profile is None, "another person starts with a clean counter"
    assert page.dialog is None and not dialog.isVisible(), "the previous operator's dialog is closed"
