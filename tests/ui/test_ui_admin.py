"""The settings area's admin screens (gift catalogue, member tiers, staff accounts), the PIN dialogs and the first
sign-in with the store's starting PIN. Each role sees only what it may do, and the services refuse the rest anyway."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from app.context import Services
from app.errors import PermissionDenied
from app.loyalty.catalogue import GiftInput
from db.enums import StaffRole
from tests.staff_support import CASHIER_PIN
from tests.ui.ui_support import (
    enter_new_pin,
    none_shown,
    open_member,
    register,
    settings_area,
    show_active,
    shown,
    sign_in_with_the_starting_pin,
)
from ui.admin.gifts import GiftEditDialog
from ui.admin.pins import ChangePinDialog
from ui.admin.staff import AddStaffDialog, ResetPinDialog
from ui.application import build_main_window
from ui.counter.gift_dialog import GiftDialog
from ui.local_settings import LocalSettings
from ui.main_window import MainWindow
from ui.pages.settings_area import SettingsArea
from ui.tasks import SyncTaskRunner

STARTING_PIN = "0000"


def visible_tabs(area: SettingsArea) -> list[str]:
    return [area.tabs.tabText(i) for i in range(area.tabs.count()) if area.tabs.isTabVisible(i)]


def window_as(qtbot: QtBot, services: Services) -> MainWindow:
    window = build_main_window(services, SyncTaskRunner())
    show_active(qtbot, window)
    return window


@pytest.fixture
def manager_services(services: Services) -> Services:
    return services.store.services(services.store.operator("manager"))


@pytest.fixture
def owner_window(qtbot: QtBot, owner_services: Services, translators: object) -> MainWindow:
    """The owner (the prompt for a new PIN comes only with a sign-in: its own test is below)."""
    return window_as(qtbot, owner_services)


def test_a_cashier_sees_no_admin_and_the_services_refuse_anyway(window: MainWindow, services: Services) -> None:
    area = settings_area(window)
    assert visible_tabs(area) == ["门店设置", "员工账号"]
    area.tabs.setCurrentWidget(area.staff)
    assert not area.staff.admin.isVisible() and area.staff.change_pin_button.isVisible()
    assert area.staff.model.rowCount() == 0, "the list of accounts is not even loaded"
    refused = [
        lambda: services.staff.add("cashier9", "新收银", StaffRole.CASHIER, "4321"),
        lambda: services.staff.set_active(1, False),
        lambda: services.staff.reset_pin(1, "4321"),
        lambda: services.catalogue.add_gift(GiftInput("保温杯", 200, 5)),
        lambda: services.catalogue.update_tiers({}),
    ]
    for call in refused:
        with pytest.raises(PermissionDenied):
            call()


def test_a_manager_keeps_the_gifts_but_not_tiers_or_staff(
    qtbot: QtBot, manager_services: Services, translators: object
) -> None:
    area = settings_area(window_as(qtbot, manager_services))
    assert visible_tabs(area) == ["门店设置", "礼品目录", "员工账号"]
    assert not area.staff.admin.isVisibleTo(area.staff)
    with pytest.raises(PermissionDenied):
        manager_services.catalogue.update_tiers({})
    with pytest.raises(PermissionDenied):
        manager_services.staff.reset_pin(1, "4321")


def test_gifts_added_and_edited_here_are_offered_at_the_counter(
    qtbot: QtBot, qtmodeltester: ModelTester, manager_services: Services, translators: object
) -> None:
    window = window_as(qtbot, manager_services)
    area = settings_area(window)
    area.tabs.setCurrentWidget(area.gifts)
    gifts = area.gifts
    assert gifts.empty.isVisible() and not gifts.edit_button.isEnabled()

    gifts.add_button.click()
    dialog = shown(GiftEditDialog)
    dialog.ok.click()
    assert "礼品需要名称" in dialog.errors.field_text("name")
    dialog.name.setText("保温杯")
    dialog.points_price.setValue(300)
    dialog.stock.setValue(5)
    dialog.ok.click()
    assert not dialog.isVisible()
    assert "保温杯" in gifts.note.text()

    gifts.view.selectRow(0)
    gifts.edit_button.click()
    dialog = shown(GiftEditDialog)
    assert dialog.name.text() == "保温杯" and dialog.points_price.value() == 300
    dialog.name.setText("保温杯 500ml")
    dialog.points_price.setValue(250)
    dialog.ok.click()
    assert [(g.name, g.points_price, g.stock) for g in gifts.model.rows()] == [("保温杯 500ml", 250, 5)]
    qtmodeltester.check(gifts.model)

    member_id = register(manager_services, "13812345678", "张伟")
    window.show_page(0)
    open_member(qtbot, window.counter, member_id)
    qtbot.keyClick(window.counter.lookup, Qt.Key.Key_F5)
    redeem = window.counter.dialog
    assert isinstance(redeem, GiftDialog)
    assert [(g.name, g.points_price) for g in redeem.gifts.rows()] == [("保温杯 500ml", 250)]


def test_the_owner_edits_tiers_and_sees_refusals_by_their_column(
    owner_window: MainWindow, owner_services: Services
) -> None:
    area = settings_area(owner_window)
    assert visible_tabs(area) == ["门店设置", "礼品目录", "会员等级", "员工账号"]
    area.tabs.setCurrentWidget(area.tiers)
    tiers = area.tiers
    assert [row.name.text() for row in tiers.rows] == ["普通会员", "银卡会员", "金卡会员", "钻石会员"]
    assert tiers.rows[1].spend.text() == "2000.00"
    assert not tiers.rows[0].spend.isEnabled(), "the lowest tier needs nothing"

    tiers.rows[2].spend.setText("1500")  # 金卡 below 银卡
    tiers.save_button.click()
    assert "必须高于" in tiers.errors.field_text("threshold")
    tiers.rows[2].spend.setText("八千")
    tiers.save_button.click()
    assert "金额" in tiers.errors.field_text("threshold")
    tiers.rows[3].name_en.setText("")
    tiers.rows[2].spend.setText("8000")
    tiers.save_button.click()
    assert "英文名" in tiers.errors.field_text("name")

    tiers.rows[3].name_en.setText("Diamond")
    tiers.rows[1].spend.setText("1,800.50")
    tiers.rows[1].multiplier.setValue(115)
    tiers.save_button.click()
    assert tiers.saved.text() == "会员等级已保存。"
    silver = owner_services.catalogue.tiers()[1]
    assert (silver.min_spend_12m_fen, silver.earn_multiplier_pct) == (180_050, 115)
    assert tiers.rows[1].spend.text() == "1800.50"
    tiers.save_button.click()
    assert tiers.saved.text() == "没有需要保存的修改。"


def test_the_owner_manages_staff_accounts(
    qtbot: QtBot, qtmodeltester: ModelTester, owner_window: MainWindow, owner_services: Services
) -> None:
    area = settings_area(owner_window)
    area.tabs.setCurrentWidget(area.staff)
    staff = area.staff
    assert staff.admin.isVisible()
    assert {row.username for row in staff.model.rows()} == {"owner", "manager", "cashier"}
    qtmodeltester.check(staff.model)

    staff.add_button.click()
    dialog = shown(AddStaffDialog)
    dialog.username.setText("cashier3")
    dialog.display_name.setText("赵收银")
    enter_new_pin(dialog.new_pin, "2468", "2469")
    dialog.ok.click()
    assert "不一致" in dialog.errors.field_text("repeat")
    dialog.new_pin.repeat.setText("2468")
    dialog.username.setText("收银3")
    dialog.ok.click()
    assert "用户名" in dialog.errors.field_text("username")
    dialog.username.setText("cashier3")
    dialog.ok.click()
    assert not dialog.isVisible() and staff.note.text() == "已添加赵收银。"
    new = next(row for row in staff.model.rows() if row.username == "cashier3")
    assert new.role == StaffRole.CASHIER and new.active
    assert owner_services.store.sign_in("cashier3", "2468").display_name == "赵收银"

    staff.view.selectRow(staff.model.rows().index(new))
    assert staff.active_button.text() == "停用"
    staff.active_button.click()
    assert "无法再登录" in staff.note.text()
    assert staff.selected() is not None and not staff.selected().active  # type: ignore[union-attr]
    assert staff.active_button.text() == "重新启用" and not staff.reset_button.isEnabled()
    staff.active_button.click()
    assert staff.selected() is not None and staff.selected().active  # type: ignore[union-attr]

    staff.reset_button.click()
    reset = shown(ResetPinDialog)
    enter_new_pin(reset.new_pin, "1357")
    reset.ok.click()
    assert "赵收银" in staff.note.text()
    assert owner_services.store.sign_in("cashier3", "1357").display_name == "赵收银"

    owner = next(row for row in staff.model.rows() if row.username == "owner")
    staff.view.selectRow(staff.model.rows().index(owner))
    staff.active_button.click()
    assert "最后一个老板账号" in staff.general_error.text()


def test_anyone_changes_their_own_pin(window: MainWindow, services: Services) -> None:
    area = settings_area(window)
    area.tabs.setCurrentWidget(area.staff)
    assert "李收银" in area.staff.me.text()
    area.staff.change_pin_button.click()
    dialog = shown(ChangePinDialog)
    dialog.current.setText("9999")
    enter_new_pin(dialog.new_pin, "8642")
    dialog.ok.click()
    assert dialog.errors.field_text("current") == "PIN 码错误。"
    assert dialog.focusWidget() is dialog.current and dialog.current.selectedText() == "9999"
    dialog.current.setText(CASHIER_PIN)
    enter_new_pin(dialog.new_pin, "12")
    dialog.ok.click()
    assert "4 到 8 位" in dialog.errors.field_text("pin")
    enter_new_pin(dialog.new_pin, "8642")
    dialog.ok.click()
    assert not dialog.isVisible()
    assert area.staff.note.text() == "您的 PIN 码已修改。"
    assert services.store.sign_in("cashier", "8642").display_name == "李收银"
    with pytest.raises(PermissionDenied):
        services.store.sign_in("cashier", CASHIER_PIN)


def test_the_starting_pin_is_asked_for_at_sign_in_then_reminded(
    qtbot: QtBot, owner_services: Services, translators: object
) -> None:
    window = sign_in_with_the_starting_pin(qtbot, owner_services.store)
    prompt = shown(ChangePinDialog)
    why = prompt.findChild(QLabel, "pinWarning")
    assert isinstance(why, QLabel) and "初始 PIN 码" in why.text()
    assert prompt.buttons.button(QDialogButtonBox.StandardButton.Cancel).text() == "稍后"
    assert window.pin_hint.isVisible()
    prompt.reject()  # 稍后: the queue at the counter comes first
    assert window.pin_hint.isVisible()
    window.attach(owner_services)  # e.g. the owner signs in again with F12
    assert none_shown(ChangePinDialog)

    window.pin_hint.linkActivated.emit("#")
    dialog = shown(ChangePinDialog)
    dialog.current.setText(STARTING_PIN)
    enter_new_pin(dialog.new_pin, STARTING_PIN)
    dialog.ok.click()
    assert "初始" in dialog.errors.field_text("pin"), "the starting PIN is no new PIN"
    enter_new_pin(dialog.new_pin, "5150")
    dialog.ok.click()
    assert not window.pin_hint.isVisible()
    window.close()

    again = window_as(qtbot, owner_services)
    assert not again.pin_hint.isVisible()
    assert none_shown(ChangePinDialog)


def test_this_pc_chooses_the_slip_paper(qtbot: QtBot, services: Services, translators: object, tmp_path: Path) -> None:
    local = LocalSettings(tmp_path)
    window = MainWindow(SyncTaskRunner(), local)
    window.attach(services)
    show_active(qtbot, window)
    area = settings_area(window)
    assert "本机设置" in visible_tabs(area)
    assert area.this_pc is not None
    combo = area.this_pc.slip_width
    assert combo.currentText() == "80 毫米"
    combo.setCurrentIndex(combo.findData(58))
    assert local.slip_width_mm() == 58 and "58" in area.this_pc.saved.text()
