"""Renders the main screens and dialogs in Chinese to PNGs and checks each is a real picture. Set
MEMBERDESK_UI_SHOTS=DIR to keep the pictures (for looking at them, and for the README's screenshots)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.context import Services
from app.loyalty.service import PurchaseRequest, SaleLineInput
from app.members.service import MemberForm
from db.enums import ComplaintSeverity
from db.models import Complaint, FollowUpTask, Gift
from tests.ui.ui_support import (
    SETTINGS_FROM_END,
    enter_new_pin,
    register,
    settings_area,
    show_active,
    shown,
    sign_in_with_the_starting_pin,
)
from ui.admin.gifts import GiftEditDialog
from ui.admin.pins import ChangePinDialog
from ui.admin.staff import AddStaffDialog
from ui.application import build_main_window
from ui.counter.member_dialog import MemberDialog
from ui.counter.purchase_dialog import PurchaseDialog
from ui.counter.return_dialog import ReturnDialog
from ui.local_settings import LocalSettings
from ui.main_window import MainWindow
from ui.pages.members import MembersPage
from ui.printing.preview import PrintPreviewDialog
from ui.selftest import grab_window_png
from ui.tasks import SyncTaskRunner

PDF_RENDER_MS = 400


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MEMBERDESK_UI_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def grab(widget: QWidget, path: Path) -> None:
    assert grab_window_png(widget, path) == []


def grab_preview(qtbot: QtBot, path: Path) -> None:
    """The preview once the view has rendered the page (QPdfView renders on a thread of its own)."""
    preview = shown(PrintPreviewDialog)
    qtbot.waitExposed(preview)
    qtbot.wait(PDF_RENDER_MS)
    grab(preview, path)
    preview.reject()


@pytest.fixture
def regular(services: Services) -> int:
    """A member with a history worth showing: birthday this week, tags, expiring points, a complaint, a task."""
    today = dt.date.today()
    member_id = services.members.register(
        MemberForm(
            phone="13812345678",
            name="张伟",
            birthday=today.replace(year=1988),
            tags=["常客", "母婴", "生鲜会员"],
            notes="喜欢周末来，偏好有机蔬菜",
            membership_consent=True,
            marketing_consent=True,
        )
    )
    now = dt.datetime.now(dt.UTC)
    baskets = [("fresh", 32_000), ("baby", 21_800), ("snack", 9_650), ("fresh", 15_000), ("drink", 4_800)]
    for days_ago, (category, fen) in zip((720, 200, 90, 30, 3), baskets, strict=True):
        services.loyalty.record_purchase(
            PurchaseRequest(
                member_id,
                fen,
                str(uuid.uuid4()),
                receipt_no=f"R{days_ago:04d}",
                lines=[SaleLineInput(fen, category_code=category)],
                sold_at=now - dt.timedelta(days=days_ago),
            )
        )

    def add_follow_ups(session: Session) -> None:
        complaint = Complaint(
            member_id=member_id,
            branch_id=1,
            channel="counter",
            category="quality",
            severity=ComplaintSeverity.MEDIUM,
            subject="酸奶临期",
        )
        session.add(complaint)
        session.add(
            FollowUpTask(member_id=member_id, branch_id=1, title="回访酸奶临期投诉", due_at=now + dt.timedelta(days=2))
        )

    services.store.db.write(add_follow_ups)
    register(services, "13912345678", "张三丰")
    register(services, "13700001234", "章小蕙")
    return member_id


def test_counter_with_an_open_member(qtbot: QtBot, window: MainWindow, regular: int, shots: Path) -> None:
    page = window.counter
    qtbot.keyClicks(page.lookup, "zw")
    qtbot.waitUntil(lambda: page.hits.rowCount() > 0, timeout=2000)
    qtbot.keyClick(page.lookup, Qt.Key.Key_Return)
    assert page.panel.profile is not None and page.panel.profile.open_complaints == 1
    page.panel.show_notice("已记录消费 ¥48.00：获得 48 积分，抵扣 0 积分，余额 832。")
    grab(window, shots / "counter.png")


def test_member_list(qtbot: QtBot, window: MainWindow, regular: int, services: Services, shots: Path) -> None:
    for n in range(40):
        register(services, f"1360000{n:04d}", f"会员{n:02d}")
    window.navigation.setCurrentRow(1)
    page = window.stack.currentWidget()
    assert isinstance(page, MembersPage)
    qtbot.waitUntil(lambda: page.model.rowCount() == 43, timeout=2000)
    grab(window, shots / "members.png")


def test_register_dialog(qtbot: QtBot, window: MainWindow, shots: Path) -> None:
    qtbot.keyClick(window.counter.lookup, Qt.Key.Key_F2)
    dialog = window.counter.dialog
    assert isinstance(dialog, MemberDialog)
    dialog.phone.setText("1381234")
    dialog.name.setText("王小明")
    dialog.ok.click()
    assert dialog.errors.field_text("phone")
    grab(dialog, shots / "register.png")


def test_purchase_dialog(qtbot: QtBot, window: MainWindow, regular: int, shots: Path) -> None:
    window.counter.open_member(regular)
    qtbot.keyClick(window.counter.lookup, Qt.Key.Key_F4)
    dialog = window.counter.dialog
    assert isinstance(dialog, PurchaseDialog)
    qtbot.keyClicks(dialog.amount, "256.80")
    qtbot.keyClicks(dialog.points, "200")
    qtbot.waitUntil(lambda: dialog.preview_labels["cash"].text() == "¥254.80", timeout=2000)
    grab(dialog, shots / "purchase.png")


def test_purchase_dialog_with_lines(qtbot: QtBot, window: MainWindow, regular: int, shots: Path) -> None:
    window.counter.open_member(regular)
    qtbot.keyClick(window.counter.lookup, Qt.Key.Key_F4)
    dialog = window.counter.dialog
    assert isinstance(dialog, PurchaseDialog)
    for category, amount in (("烟草（不积分）", "45"), ("生鲜果蔬", "38.60")):
        dialog.lines.add_line()
        line = dialog.lines.rows[-1]
        line.category.setCurrentIndex(line.category.findText(category))
        qtbot.keyClicks(line.amount, amount)
    qtbot.waitUntil(lambda: dialog.preview_labels["earn"].text() == "+38", timeout=2000)
    grab(dialog, shots / "purchase-lines.png")


def test_return_dialog_result(qtbot: QtBot, window: MainWindow, regular: int, shots: Path) -> None:
    window.counter.open_member(regular)
    qtbot.keyClick(window.counter.lookup, Qt.Key.Key_F6)
    dialog = window.counter.dialog
    assert isinstance(dialog, ReturnDialog)
    dialog.view.selectRow(0)
    dialog.ok.click()
    grab(dialog, shots / "return-confirm.png")
    dialog.ok.click()
    grab(dialog, shots / "return-done.png")


def test_settings_page(window: MainWindow, shots: Path) -> None:
    window.navigation.setCurrentRow(window.navigation.count() - SETTINGS_FROM_END)
    grab(window, shots / "settings.png")


def add_gifts(services: Services) -> None:
    def work(session: Session) -> None:
        session.add_all(
            [
                Gift(name="保温杯 500ml", name_en="Vacuum flask", points_price=800, stock=12),
                Gift(name="环保购物袋", name_en="Shopping bag", points_price=150, stock=240),
                Gift(name="五常大米 5kg（限本店）", points_price=3_000, stock=0, branch_id=1),
                Gift(name="旧款雨伞", points_price=500, stock=3, active=False),
            ]
        )

    services.store.db.write(work)


def test_counter_offers_the_slip(qtbot: QtBot, window: MainWindow, regular: int, shots: Path) -> None:
    window.counter.open_member(regular)
    qtbot.keyClick(window.counter.lookup, Qt.Key.Key_F4)
    dialog = window.counter.dialog
    assert isinstance(dialog, PurchaseDialog)
    dialog.amount.setText("88.60")
    dialog.points.setText("300")
    dialog.receipt.setText("R20261123-0042")
    dialog.ok.click()
    grab(dialog, shots / "purchase-confirm.png")
    dialog.ok.click()
    grab(window, shots / "counter-slip-offer.png")
    qtbot.keyClick(window.counter.lookup, Qt.Key.Key_F9)
    grab_preview(qtbot, shots / "slip-preview.png")
    window.counter.print_member_card()
    grab_preview(qtbot, shots / "card-preview.png")


def test_admin_screens(
    qtbot: QtBot, owner_services: Services, translators: object, tmp_path: Path, shots: Path
) -> None:
    add_gifts(owner_services)
    window = sign_in_with_the_starting_pin(qtbot, owner_services.store, LocalSettings(tmp_path))
    prompt = shown(ChangePinDialog)
    grab(prompt, shots / "first-sign-in.png")
    prompt.reject()
    area = settings_area(window)
    for page, name in ((area.gifts, "gifts"), (area.tiers, "tiers"), (area.staff, "staff"), (area.this_pc, "this-pc")):
        assert page is not None
        area.tabs.setCurrentWidget(page)
        grab(window, shots / f"settings-{name}.png")

    area.tabs.setCurrentWidget(area.tiers)
    area.tiers.rows[2].spend.setText("1500")
    area.tiers.rows[3].multiplier.setValue(100)
    area.tiers.save()
    grab(window, shots / "settings-tiers-refused.png")

    area.tabs.setCurrentWidget(area.gifts)
    area.gifts.view.selectRow(0)
    area.gifts.edit_gift()
    dialog = shown(GiftEditDialog)
    dialog.name.clear()
    dialog.ok.click()
    grab(dialog, shots / "gift-edit.png")
    dialog.reject()

    area.tabs.setCurrentWidget(area.staff)
    area.staff.add_staff()
    add = shown(AddStaffDialog)
    add.username.setText("cashier3")
    enter_new_pin(add.new_pin, "1234", "4321")
    add.ok.click()
    grab(add, shots / "add-staff.png")


def test_a_cashiers_settings(qtbot: QtBot, services: Services, translators: object, shots: Path) -> None:
    window = build_main_window(services, SyncTaskRunner())
    show_active(qtbot, window)
    area = settings_area(window)
    area.tabs.setCurrentWidget(area.staff)
    grab(window, shots / "settings-staff-cashier.png")
    area.staff.change_own_pin()
    dialog = shown(ChangePinDialog)
    dialog.current.setText("9999")
    enter_new_pin(dialog.new_pin, "2468")
    dialog.ok.click()
    grab(dialog, shots / "change-pin-refused.png")
