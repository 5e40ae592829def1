"""Coupons in the GUI, driven as staff would: the campaigns screen (create with a refusal first, activate, issue,
print through the preview, figures), the coupon field at the counter (redeem, then refused the second time), a
coupon scan in the lookup box, and the member's coupons in the panel with a manager's void."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from pytestqt.qtbot import QtBot

from app.actions.member_sets import MemberSet
from app.context import Services, Store
from app.coupons.campaigns import KIND_LABELS, CampaignDraft
from db.enums import CampaignTarget, CouponKind
from tests.printing import readback
from tests.printing.test_coupon import sheet_cells
from tests.ui.ui_support import open_member, register, shown
from ui.counter.page import CounterPage
from ui.counter.purchase_dialog import PurchaseDialog
from ui.coupons.campaigns import CampaignDialog, CampaignsPage, IssueDialog
from ui.coupons.counter import VoidCouponDialog
from ui.coupons.printing import CouponPreviewDialog
from ui.insights.member_actions import SetCampaignDialog
from ui.main_window import MainWindow
from ui.selftest import grab_window_png
from ui.tasks import SyncTaskRunner


@pytest.fixture
def manager_services(store: Store) -> Services:
    return store.services(store.operator("manager"))


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MEMBERDESK_UI_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def campaigns(qtbot: QtBot, manager_services: Services, tasks: SyncTaskRunner, translators: object) -> CampaignsPage:
    page = CampaignsPage(tasks)
    qtbot.addWidget(page)
    page.resize(1100, 600)
    page.attach(manager_services)
    page.show()
    return page


def member_campaign(services: Services, member_id: int, code: str = "VIP20") -> str:
    now = dt.datetime.now(dt.UTC)
    draft = CampaignDraft(
        code,
        "会员满减",
        CouponKind.AMOUNT_OFF,
        now - dt.timedelta(days=1),
        now + dt.timedelta(days=30),
        value_fen=2_000,
        min_spend_fen=10_000,
        target=CampaignTarget.CHOSEN_MEMBERS,
    )
    campaign = services.coupons.create_campaign(draft).campaign_id
    services.coupons.activate(campaign)
    services.coupons.issue(campaign, str(uuid.uuid4()), member_ids=[member_id])
    return services.coupons.member_coupons(member_id)[0].code


def test_create_refused_then_activate_issue_and_print(qtbot: QtBot, campaigns: CampaignsPage, tmp_path: Path) -> None:
    campaigns.buttons["new"].click()
    dialog = shown(CampaignDialog)
    dialog.code.setText("GOLD-MJ")
    dialog.name.setText("金卡满100减20")
    dialog.offer.value.setText("20")
    dialog.offer.min_spend.setText("100")
    dialog.last_day.setDate(QDate.currentDate().addDays(-3))
    dialog.ok.click()
    assert "结束日期必须晚于开始日期" in dialog.errors.field_text("valid_until")
    assert campaigns.model.rowCount() == 0
    dialog.last_day.setDate(QDate.currentDate().addDays(30))
    dialog.target.setCurrentIndex(dialog.target.findData(CampaignTarget.BEARER))
    dialog.ok.click()
    assert not dialog.isVisible()
    assert campaigns.model.rowCount() == 1
    assert campaigns.model.row_at(0).offer == "满¥100减¥20"  # type: ignore[union-attr]

    campaigns.view.selectRow(0)
    campaigns.buttons["activate"].click()
    assert campaigns.buttons["end"].isEnabled() and not campaigns.buttons["edit"].isEnabled()
    campaigns.buttons["issue"].click()
    issue = shown(IssueDialog)
    issue.count.setValue(25)
    issue.ok.click()
    assert campaigns.figure_labels["issued"].text() == "25"

    campaigns.print_selected()
    preview = shown(CouponPreviewDialog)
    target = tmp_path / "sheet.pdf"
    preview.save_to(target)
    assert "已保存" in preview.status.text() or str(target) in preview.status.text()
    cells = sheet_cells(target)
    assert sum(len(cell) == 2 for cell in cells) == 25 and readback.page_count(target) == 3
    campaigns.reload()
    assert campaigns.figure_labels["printed"].text() == "25 (0)"
    preview.close()
    assert not campaigns.grab().isNull()


def test_a_cashier_sees_the_list_but_cannot_create(
    qtbot: QtBot, services: Services, tasks: SyncTaskRunner, translators: object
) -> None:
    page = CampaignsPage(tasks)
    qtbot.addWidget(page)
    page.attach(services)
    assert not page.buttons["new"].isEnabled()


def test_redeem_at_the_counter_then_refused_the_second_time(
    qtbot: QtBot, window: MainWindow, services: Services, manager_services: Services
) -> None:
    page: CounterPage = window.counter
    member_id = register(services, "13812345678", "张伟")
    code = member_campaign(manager_services, member_id)
    open_member(qtbot, page, member_id)
    qtbot.keyClick(page.lookup, Qt.Key.Key_F4)
    dialog = page.dialog
    assert isinstance(dialog, PurchaseDialog)
    qtbot.keyClicks(dialog.amount, "150")
    qtbot.keyClicks(dialog.coupon, code.lower())
    qtbot.waitUntil(lambda: dialog.preview_labels["coupon"].text() == "减¥20.00", timeout=2000)
    assert dialog.preview_labels["cash"].text() == "¥130.00"
    assert dialog.preview_labels["earn"].text() == "+130"
    dialog.ok.click()  # the confirmation page, then the confirmation
    assert dialog.confirm_page.isVisible()
    dialog.ok.click()
    assert not dialog.isVisible()
    assert "优惠券减 ¥20.00" in page.panel.notice.text()

    page.record_purchase()
    again = page.dialog
    assert isinstance(again, PurchaseDialog)
    qtbot.keyClicks(again.amount, "150")
    qtbot.keyClicks(again.coupon, code)
    again.ok.click()
    assert "已于" in again.errors.field_text("coupon") and "使用过" in again.errors.field_text("coupon")
    assert again.isVisible()
    assert page.panel.sales_model.rowCount() == 1


def test_a_scanned_coupon_opens_its_member_and_the_panel_lists_it(
    qtbot: QtBot, window: MainWindow, services: Services, manager_services: Services
) -> None:
    page = window.counter
    member_id = register(services, "13812345678", "张伟")
    register(services, "13900001111", "李娜")
    code = member_campaign(manager_services, member_id)
    qtbot.keyClicks(page.lookup, code)
    qtbot.keyClick(page.lookup, Qt.Key.Key_Return)
    assert page.panel.profile is not None and page.panel.profile.id == member_id
    tab = page.panel.coupons_tab
    assert tab.model.rowCount() == 1
    assert tab.model.data(tab.model.index(0, 4)) == "可用"


def test_a_manager_voids_a_coupon_with_a_reason(
    qtbot: QtBot,
    store: Store,
    services: Services,
    manager_services: Services,
    tasks: SyncTaskRunner,
    translators: object,
) -> None:
    member_id = register(services, "13812345678", "张伟")
    member_campaign(manager_services, member_id)
    from ui.coupons.counter import MemberCouponsTab

    for who, allowed in ((services, False), (manager_services, True)):
        tab = MemberCouponsTab(tasks)
        qtbot.addWidget(tab)
        tab.show_member(who, member_id)
        tab.view.selectRow(0)
        tab.void_selected()
        dialog = shown(VoidCouponDialog)
        dialog.ok.click()
        assert "需要填写原因" in dialog.errors.field_text("reason")
        dialog.reason.setText("顾客遗失")
        dialog.ok.click()
        if not allowed:
            assert "店长" in dialog.general_error.text()
            dialog.close()
            continue
        assert not dialog.isVisible()
        assert tab.model.data(tab.model.index(0, 4)) == "已作废"


def test_a_campaign_for_a_set_offers_every_kind_with_the_screens_rules(
    qtbot: QtBot,
    services: Services,
    manager_services: Services,
    tasks: SyncTaskRunner,
    translators: object,
    shots: Path,
) -> None:
    """The set-campaign dialog (reached from segments, charts and work lists) offers what the campaigns screen does,
    and a bad value gets the screen's own refusal at the same field."""
    ids = [register(services, f"1381234000{i}", name) for i, name in enumerate(("张伟", "李娜", "王芳"))]
    members = MemberSet.of_members(ids, "图表：本月新会员")

    def set_dialog(code: str, kind: CouponKind) -> SetCampaignDialog:
        dialog = SetCampaignDialog(tasks, manager_services, members, None)  # deletes itself on close
        dialog.show()
        dialog.code.setText(code)
        dialog.offer.kind.setCurrentIndex(dialog.offer.kind.findData(kind))
        return dialog

    def screen_refusal(field: str, fill: Callable[[CampaignDialog], None]) -> str:
        """What the campaigns screen says of the same input."""
        screen = CampaignDialog(tasks, manager_services, manager_services.coupons.choices(), None, None, None)
        screen.show()
        screen.code.setText("SCREEN")
        screen.name.setText("同样的输入")
        fill(screen)
        screen.ok.click()
        text = screen.errors.field_text(field)
        screen.close()
        return text

    percent = set_dialog("SET-PCT", CouponKind.PERCENT_OFF)
    offer = percent.offer
    assert [offer.kind.itemData(i) for i in range(offer.kind.count())] == list(KIND_LABELS)
    assert offer.percent.isVisibleTo(percent) and offer.cap.isVisibleTo(percent)
    assert not offer.value.isVisibleTo(percent) and not offer.gift.isVisibleTo(percent)
    percent.ok.click()  # 0 % off
    refused = percent.errors.field_text("percent")
    assert grab_window_png(percent, shots / "set_campaign_refused.png") == []
    assert offer.percent.height() >= offer.percent.minimumSizeHint().height(), "the refusal squeezed the field"

    def zero_percent(screen: CampaignDialog) -> None:
        screen.offer.kind.setCurrentIndex(screen.offer.kind.findData(CouponKind.PERCENT_OFF))

    assert refused and refused == screen_refusal("percent", zero_percent)
    assert manager_services.coupons.campaigns() == []
    offer.percent.setValue(15)
    offer.cap.setText("30")
    assert grab_window_png(percent, shots / "set_campaign_percent.png") == []
    percent.ok.click()
    assert not percent.isVisible()

    gift = set_dialog("SET-GIFT", CouponKind.GIFT)
    gift.offer.value.setText("25")
    gift.ok.click()
    refused = gift.errors.field_text("gift")

    def no_gift(screen: CampaignDialog) -> None:
        screen.offer.kind.setCurrentIndex(screen.offer.kind.findData(CouponKind.GIFT))
        screen.offer.value.setText("25")

    assert refused and refused == screen_refusal("gift", no_gift)
    gift.offer.gift.setText("保温杯")
    gift.ok.click()
    assert not gift.isVisible()

    double = set_dialog("SET-X2", CouponKind.POINTS_MULTIPLIER)
    double.offer.multiplier.setValue(100)
    double.ok.click()
    assert double.errors.field_text("multiplier")
    double.offer.multiplier.setValue(200)
    double.ok.click()
    assert not double.isVisible()

    made = {row.code: row for row in manager_services.coupons.campaigns()}
    assert {code: (row.kind, row.issued) for code, row in made.items()} == {
        "SET-PCT": (CouponKind.PERCENT_OFF, 3),
        "SET-GIFT": (CouponKind.GIFT, 3),
        "SET-X2": (CouponKind.POINTS_MULTIPLIER, 3),
    }
    pct = manager_services.coupons.draft_of(made["SET-PCT"].id)
    assert (pct.percent_off, pct.max_discount_fen, pct.value_fen, pct.target) == (
        15,
        3_000,
        0,
        CampaignTarget.CHOSEN_MEMBERS,
    )
    assert manager_services.coupons.draft_of(made["SET-GIFT"].id).gift_name == "保温杯"
    assert manager_services.coupons.draft_of(made["SET-X2"].id).points_multiplier_pct == 200
