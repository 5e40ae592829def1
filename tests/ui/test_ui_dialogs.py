"""The counter's function-key dialogs against a real store: what the cashier sees when input is refused, and that
a confirmed action changes what the member panel shows."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.context import Services
from db.models import Branch, Gift
from tests.staff_support import MANAGER_PIN
from tests.ui.ui_support import buy, open_member
from ui.counter.adjust_dialog import AdjustDialog
from ui.counter.gift_dialog import GiftDialog
from ui.counter.member_dialog import MemberDialog
from ui.counter.page import CounterPage
from ui.counter.purchase_dialog import PurchaseDialog
from ui.counter.return_dialog import ReturnDialog


def press(qtbot: QtBot, page: CounterPage, key: Qt.Key) -> None:
    qtbot.keyClick(page.lookup, key)


def test_register_refuses_a_bad_phone_by_the_field_then_registers(qtbot: QtBot, page: CounterPage) -> None:
    press(qtbot, page, Qt.Key.Key_F2)
    dialog = page.dialog
    assert isinstance(dialog, MemberDialog)
    dialog.phone.setText("12345")
    dialog.name.setText("王小明")
    dialog.consent.setChecked(True)
    dialog.ok.click()
    assert "不是有效的大陆手机号" in dialog.errors.field_text("phone")
    assert dialog.isVisible()

    dialog.phone.setText("136 5555 6666")
    dialog.marketing.setChecked(True)
    dialog.ok.click()
    assert not dialog.isVisible()
    assert page.panel.profile is not None and page.panel.profile.name == "王小明"
    assert page.panel.profile.marketing_consent
    assert "注册成功" in page.panel.notice.text()


def test_register_needs_membership_consent(qtbot: QtBot, page: CounterPage) -> None:
    press(qtbot, page, Qt.Key.Key_F2)
    dialog = page.dialog
    assert isinstance(dialog, MemberDialog)
    dialog.phone.setText("13655556666")
    dialog.name.setText("王小明")
    dialog.marketing.setChecked(True)  # marketing consent alone is not membership consent
    dialog.ok.click()
    assert "同意会员条款" in dialog.errors.field_text("consent")


def test_a_taken_phone_offers_to_open_that_member(qtbot: QtBot, page: CounterPage, member_id: int) -> None:
    press(qtbot, page, Qt.Key.Key_F2)
    dialog = page.dialog
    assert isinstance(dialog, MemberDialog)
    dialog.phone.setText("13812345678")
    dialog.name.setText("另一个人")
    dialog.consent.setChecked(True)
    dialog.ok.click()
    assert "已属于一位会员" in dialog.general_error.text()
    assert dialog.open_existing_button.isVisible()
    dialog.open_existing_button.click()
    assert not dialog.isVisible()
    assert page.panel.profile is not None and page.panel.profile.id == member_id


def test_edit_member_saves_changes(qtbot: QtBot, page: CounterPage, member_id: int) -> None:
    open_member(qtbot, page, member_id)
    press(qtbot, page, Qt.Key.Key_F3)
    dialog = page.dialog
    assert isinstance(dialog, MemberDialog)
    assert dialog.phone.text() == "138****5678" and dialog.consent.isChecked()  # a cashier: masked (PIPL)
    dialog.name.setText("张伟伟")
    dialog.tags.setText("常客，母婴")
    dialog.ok.click()
    assert page.panel.profile is not None
    assert page.panel.profile.name == "张伟伟" and page.panel.profile.tags == ["常客", "母婴"]
    assert page.panel.profile.masked_phone == "138****5678"  # the masked phone sent back kept the number


def test_purchase_previews_then_changes_the_balance(qtbot: QtBot, page: CounterPage, member_id: int) -> None:
    open_member(qtbot, page, member_id)
    press(qtbot, page, Qt.Key.Key_F4)
    dialog = page.dialog
    assert isinstance(dialog, PurchaseDialog)
    qtbot.keyClicks(dialog.amount, "128.50")
    qtbot.waitUntil(lambda: dialog.preview_labels["earn"].text() == "+128", timeout=2000)
    assert dialog.preview_labels["cash"].text() == "¥128.50"
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    assert dialog.confirm_page.isVisible() and dialog.confirm_amount.text() == "¥128.50"
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert page.panel.points_card.value.text() == "128"
    assert "128" in page.panel.notice.text()
    assert page.panel.sales_model.rowCount() == 1


def test_purchase_with_points_shows_the_most_usable_and_refuses_more(
    qtbot: QtBot, page: CounterPage, services: Services, member_id: int
) -> None:
    buy(services, member_id, 50_000)  # 500 points
    open_member(qtbot, page, member_id)
    press(qtbot, page, Qt.Key.Key_F4)
    dialog = page.dialog
    assert isinstance(dialog, PurchaseDialog)
    qtbot.keyClicks(dialog.amount, "2")
    qtbot.keyClicks(dialog.points, "300")
    qtbot.waitUntil(lambda: "最多可使用 100 积分" in dialog.errors.field_text("points"), timeout=2000)
    assert dialog.use_max.isEnabled() and "100" in dialog.use_max.text()
    dialog.ok.click()
    assert "最多可使用 100 积分" in dialog.errors.field_text("points")
    dialog.use_max.click()
    assert dialog.points.text() == "100" and dialog.preview_labels["cash"].text() == "¥1.00"


def test_a_purchase_dialog_records_once_however_often_it_is_confirmed(
    qtbot: QtBot, page: CounterPage, services: Services, member_id: int
) -> None:
    open_member(qtbot, page, member_id)
    press(qtbot, page, Qt.Key.Key_F4)
    dialog = page.dialog
    assert isinstance(dialog, PurchaseDialog)
    dialog.amount.setText("10")
    first = services.loyalty.record_purchase(dialog.request())
    again = services.loyalty.record_purchase(dialog.request())
    assert again.replayed and again.sale_id == first.sale_id


def test_return_shows_a_negative_balance_in_red(
    qtbot: QtBot, page: CounterPage, services: Services, member_id: int
) -> None:
    buy(services, member_id, 10_000)  # +100 points
    buy(services, member_id, 10_000, points=100)  # spends them, earns 99
    open_member(qtbot, page, member_id)
    press(qtbot, page, Qt.Key.Key_F6)
    dialog = page.dialog
    assert isinstance(dialog, ReturnDialog)
    assert dialog.sales.rowCount() == 2
    dialog.view.selectRow(1)  # newest first: row 1 is the first purchase
    dialog.ok.click()
    assert "100" in dialog.summary.text()
    dialog.ok.click()
    assert dialog.balance.text() == "新余额：-1 积分"
    assert dialog.balance.property("negative") is True
    dialog.reject()
    assert page.panel.points_card.value.text() == "-1"
    assert page.panel.points_card.value.property("negative") is True


def test_a_returned_purchase_cannot_be_returned_again(
    qtbot: QtBot, page: CounterPage, services: Services, member_id: int
) -> None:
    sale_id = buy(services, member_id, 10_000)
    services.loyalty.return_sale(sale_id, str(uuid.uuid4()))
    open_member(qtbot, page, member_id)
    press(qtbot, page, Qt.Key.Key_F6)
    dialog = page.dialog
    assert isinstance(dialog, ReturnDialog)
    for row in range(dialog.sales.rowCount()):
        dialog.view.selectRow(row)
        dialog.ok.click()
        assert dialog.steps.currentIndex() == 0
        assert "尚未退货" in dialog.errors.field_text("sale")


def test_a_cashier_adjustment_needs_a_manager_pin(
    qtbot: QtBot, page: CounterPage, services: Services, member_id: int
) -> None:
    assert services.operator.role == "cashier"
    open_member(qtbot, page, member_id)
    press(qtbot, page, Qt.Key.Key_F7)
    dialog = page.dialog
    assert isinstance(dialog, AdjustDialog)
    dialog.delta.setValue(50)
    dialog.ok.click()
    assert "原因" in dialog.errors.field_text("reason")
    dialog.reason.setText("漏积分")
    dialog.ok.click()
    assert "店长" in dialog.errors.field_text("pin")
    assert dialog.isVisible() and page.panel.profile is not None and page.panel.profile.points_balance == 0
    dialog.pin.setText(MANAGER_PIN)
    dialog.ok.click()
    assert not dialog.isVisible()
    assert page.panel.points_card.value.text() == "50"


def test_redeem_a_gift_from_the_catalogue(qtbot: QtBot, page: CounterPage, services: Services, member_id: int) -> None:
    def add_gift(session: Session) -> None:
        session.add(Gift(name="保温杯", name_en="Vacuum flask", points_price=200, stock=3))

    services.store.db.write(add_gift)
    buy(services, member_id, 50_000)
    open_member(qtbot, page, member_id)
    press(qtbot, page, Qt.Key.Key_F5)
    dialog = page.dialog
    assert isinstance(dialog, GiftDialog)
    assert dialog.gifts.rowCount() == 1 and dialog.gifts.data(dialog.gifts.index(0, 0)) == "保温杯"
    dialog.quantity.setValue(2)
    dialog.ok.click()
    assert not dialog.isVisible()
    assert page.panel.points_card.value.text() == "100"
    assert "保温杯" in page.panel.notice.text()


def test_function_keys_need_an_open_member(qtbot: QtBot, page: CounterPage) -> None:
    for key in (Qt.Key.Key_F3, Qt.Key.Key_F4, Qt.Key.Key_F5, Qt.Key.Key_F6, Qt.Key.Key_F7):
        press(qtbot, page, key)
        assert page.dialog is None


def test_register_stores_the_chosen_home_branch(qtbot: QtBot, page: CounterPage, services: Services) -> None:
    services.store.db.write(lambda session: session.add(Branch(code="EAST", name="城东店")))
    press(qtbot, page, Qt.Key.Key_F2)
    dialog = page.dialog
    assert isinstance(dialog, MemberDialog)
    assert dialog.home_branch.isEnabled() and dialog.home_branch.currentText() == "总店"  # the operator's branch
    dialog.home_branch.setCurrentIndex(dialog.home_branch.findText("城东店"))
    dialog.phone.setText("13655556666")
    dialog.name.setText("王小明")
    dialog.consent.setChecked(True)
    dialog.ok.click()
    assert page.panel.profile is not None and page.panel.profile.name == "王小明"
    east = services.members.form_for(page.panel.profile.id).home_branch_id
    assert east is not None and east != services.operator.branch_id

    press(qtbot, page, Qt.Key.Key_F3)
    dialog = page.dialog
    assert isinstance(dialog, MemberDialog)
    assert dialog.home_branch.currentText() == "城东店"  # editing shows the stored branch


def test_a_single_branch_is_shown_read_only(qtbot: QtBot, page: CounterPage) -> None:
    press(qtbot, page, Qt.Key.Key_F2)
    dialog = page.dialog
    assert isinstance(dialog, MemberDialog)
    assert dialog.home_branch.currentText() == "总店" and not dialog.home_branch.isEnabled()
