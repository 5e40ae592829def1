"""The main window around the counter: navigation, language, member list, settings, operator switch."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.context import Services
from app.loyalty.service import PurchaseRequest
from app.members import lookup
from tests.staff_support import CASHIER_PIN, MANAGER_PIN
from tests.ui.ui_support import register, settings_area
from ui.application import build_main_window
from ui.coupons.campaigns import CampaignsPage
from ui.main_window import MainWindow
from ui.pages.members import MembersPage
from ui.pages.settings import SettingsPage
from ui.sign_in_dialog import SignInDialog
from ui.signals import emit
from ui.tasks import SyncTaskRunner

PAGES = ["counter", "members", "complaints", "coupons", "surveys", "charts", "settings"]


def settings_page(window: MainWindow) -> SettingsPage:
    """The store's settings: the first tab of the settings area."""
    area = settings_area(window)
    assert area.tabs.currentWidget() is area.store
    return area.store


def nav_texts(window: MainWindow) -> list[str]:
    return [window.navigation.item(row).text() for row in range(window.navigation.count())]


def test_chinese_is_the_default_language(window: MainWindow) -> None:
    assert nav_texts(window) == [
        "收银台",
        "会员",
        "投诉",
        "优惠券",
        "问卷",
        "客户分群",
        "图表",
        "已存分群",
        "定期跟进",
        "今日经营",
        "设置",
        "数据与隐私",
    ]
    assert window.counter.register_action.text() == "F2 注册"
    assert "收银员" in window.operator_label.text()


@pytest.mark.parametrize("lang", ["en"])
def test_english_shows_english(window: MainWindow, services: Services) -> None:
    assert nav_texts(window) == [
        "Counter",
        "Members",
        "Complaints",
        "Coupons",
        "Surveys",
        "Segments",
        "Charts",
        "Saved segments",
        "Follow-ups",
        "Close of day",
        "Settings",
        "Data & privacy",
    ]
    assert window.counter.register_action.text() == "F2 Register"
    assert "Cashier" in window.operator_label.text()
    member_id = register(services, "13812345678", "张伟")
    window.counter.open_member(member_id)
    assert window.counter.panel.tier.text() == "Standard", "tiers carry an English name too"


def test_the_coupons_area_opens_the_campaigns(qtbot: QtBot, window: MainWindow) -> None:
    window.navigation.setCurrentRow(3)
    assert isinstance(window.stack.currentWidget(), CampaignsPage)


def test_status_bar_names_store_branch_and_operator(window: MainWindow) -> None:
    assert window.store_label.text() == "会员台示例超市 · 总店"
    assert window.operator_label.text() == "李收银（收银员）"


def test_a_message_never_shares_the_bars_left_with_the_store_name(qtbot: QtBot, window: MainWindow) -> None:
    """The sign-in's message comes while the window may still be hidden; it used to be painted over the store name."""
    window.hide()
    window.statusBar().showMessage("已登录：李收银（收银员）。", 8000)
    window.show()
    qtbot.waitExposed(window)
    assert not window.store_label.isVisible()
    window.statusBar().clearMessage()
    assert window.store_label.isVisible()


def test_member_list_pages_and_opens_a_member(
    qtbot: QtBot, qtmodeltester: ModelTester, window: MainWindow, services: Services
) -> None:
    ids = [register(services, f"1390000{n:04d}", f"会员{n}") for n in range(130)]
    window.navigation.setCurrentRow(1)
    page = window.stack.currentWidget()
    assert isinstance(page, MembersPage)
    qtbot.waitUntil(lambda: page.model.rowCount() == 100, timeout=2000)
    assert page.model.total == 130 and "130" in page.count.text()
    page.model.fetchMore(page.view.rootIndex())
    assert page.model.rowCount() == 130
    qtmodeltester.check(page.model)

    page.filter.setText("会员12")
    page._load()
    qtbot.waitUntil(lambda: page.model.total == 11, timeout=2000)  # 会员12 and 会员120–129
    assert not page.model.more and page.count.text() == "共 11 名会员"
    page.view.selectRow(0)
    emit(page.open_member, page.model.rows()[0].id)
    assert window.stack.currentWidget() is window.counter
    assert window.counter.panel.profile is not None and window.counter.panel.profile.id in ids


def test_a_filter_matching_more_than_the_cap_says_so_and_scrolls_to_the_end(
    qtbot: QtBot, window: MainWindow, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookup, "COUNT_CAP", 120)
    for n in range(130):
        register(services, f"1390000{n:04d}", f"会员{n}")
    window.navigation.setCurrentRow(1)
    page = window.stack.currentWidget()
    assert isinstance(page, MembersPage)
    page.filter.setText("hy")
    page._load()
    qtbot.waitUntil(lambda: page.model.rowCount() == 100, timeout=2000)
    assert (page.model.total, page.model.more) == (120, True) and page.count.text() == "超过 120 名会员"
    page.model.fetchMore(page.view.rootIndex())
    qtbot.waitUntil(lambda: page.model.rowCount() == 130, timeout=2000)
    assert (page.model.total, page.model.more) == (130, False) and page.count.text() == "共 130 名会员"
    assert not page.model.canFetchMore(page.view.rootIndex())


def test_member_histories_and_hits_are_sound_models(
    qtbot: QtBot, qtmodeltester: ModelTester, window: MainWindow, services: Services
) -> None:
    member_id = register(services, "13812345678", "张伟")
    for _ in range(25):
        services.loyalty.record_purchase(PurchaseRequest(member_id, 1000, str(uuid.uuid4())))
    page = window.counter
    page.lookup.setText("张")
    page._run_lookup()
    qtmodeltester.check(page.hits)
    page.open_member(member_id)
    qtbot.waitUntil(lambda: page.panel.sales_model.rowCount() == 20, timeout=2000)
    qtmodeltester.check(page.panel.sales_model)
    qtmodeltester.check(page.panel.ledger_model)
    assert page.panel.sales_model.rowCount() == page.panel.sales_model.total == 25


def test_a_cashier_cannot_save_settings(qtbot: QtBot, window: MainWindow) -> None:
    page = settings_page(window)
    assert "只有老板" in page.note.text()
    page.fields["store.name"].widget.setText("新名字超市")  # type: ignore[attr-defined]
    page.save()
    assert "需要" in page.general_error.text() and page.general_error.isVisible()


def test_the_owner_saves_settings_and_the_status_bar_follows(
    qtbot: QtBot, owner_services: Services, translators: object
) -> None:
    tasks = SyncTaskRunner()
    window = build_main_window(owner_services, tasks)
    qtbot.addWidget(window)
    page = settings_page(window)
    page.fields["store.name"].widget.setText("新名字超市")  # type: ignore[attr-defined]
    page.fields["points.redeem_cap_pct"].widget.setValue(30)  # type: ignore[attr-defined]
    page.save()
    assert page.saved.text() == "设置已保存。"
    assert owner_services.settings.current().points_redeem_cap_pct == 30
    assert window.store_label.text().startswith("新名字超市")
    page.fields["store.name"].widget.setText("")  # type: ignore[attr-defined]
    page.fields["store.timezone"].widget.setText("Asia/Shanghai")  # type: ignore[attr-defined]
    page.save()
    assert page.saved.text() == "设置已保存。", "an empty store name is the owner's choice"


def test_f12_switches_the_operator(qtbot: QtBot, window: MainWindow) -> None:
    """Finding 7: F12 pre-filled the current user name, so a typed name went into the PIN field."""
    qtbot.keyClick(window.counter.lookup, Qt.Key.Key_F12)
    dialog = window.sign_in_dialog
    assert isinstance(dialog, SignInDialog) and dialog.isVisible()
    assert dialog.focusWidget() is dialog.account
    for char in "manager":
        qtbot.keyClick(dialog.focusWidget(), char)
        qtbot.wait(100)
    assert dialog.username() == "manager"
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    assert dialog.focusWidget() is dialog.pin and dialog.pin.text() == ""
    qtbot.keyClicks(dialog.pin, CASHIER_PIN)
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    assert "PIN 码错误" in dialog.error.text() and dialog.pin.text() == ""
    qtbot.keyClicks(dialog.pin, MANAGER_PIN)
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert window.services is not None and window.services.operator.display_name == "王店长"
    assert window.operator_label.text() == "王店长（店长）"
    assert window.counter.services is window.services
