"""Issue 10's "Done means", walked through as a new manager would on the demo store, on the real screens (pytest-qt,
offscreen, in Chinese): a campaign for a tier made on the campaigns screen, activated, 500 coupons issued and printed
on A4 through the preview to a PDF printer, three more on 80 mm roll paper; a coupon read off the printed sheet is
scanned at the counter and redeemed with a purchase, refused when scanned again, and valid again once the purchase is
returned. Set MEMBERDESK_UI_SHOTS=DIR to keep the pictures of each step (the README's campaigns.png and
coupon-sheet.png come from here)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app.context import Store
from app.coupons.codes import grouped
from app.demo import DemoOptions, generate_demo
from app.integrity import check_database
from app.printing.coupon import CELL_H, ORIGIN_Y
from db.enums import CampaignTarget, CouponKind
from db.models import Member
from tests.printing import readback
from tests.printing.test_coupon import sheet_cells
from tests.ui.test_ui_printing import pdf_printer
from tests.ui.ui_support import show_active, shown
from ui.application import build_main_window
from ui.counter.purchase_dialog import PurchaseDialog
from ui.counter.return_dialog import ReturnDialog
from ui.coupons.campaigns import CampaignDialog, CampaignsPage, IssueDialog
from ui.coupons.printing import CouponPreviewDialog
from ui.printing.preview import paint_pages
from ui.selftest import grab_window_png
from ui.tasks import SyncTaskRunner

DEMO = DemoOptions(members=900, days=365, seed=20261129)
PDF_RENDER_MS = 600
"""QPdfView renders on a thread of its own: the preview's picture is taken once it has painted."""


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MEMBERDESK_UI_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def demo(store: Store) -> Store:
    generate_demo(store, DEMO, lambda _done, _total, _what: True)
    return store


def grab(widget: QWidget, path: Path) -> None:
    assert grab_window_png(widget, path) == []


def top_two_rows(pdf: Path, target: Path) -> None:
    """The first sheet's top two rows of coupons at 100 dpi, as the README shows a printed sheet."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["pdftoppm", "-r", "100", "-f", "1", "-l", "1", "-png", str(pdf), f"{folder}/p"], check=True)
        page = Image.open(next(Path(folder).glob("p*.png")))
        page.crop((0, 0, page.width, round((ORIGIN_Y + 2 * CELL_H) * 100 / 72) + 2)).save(target)


def test_a_tier_campaign_from_the_screen_to_a_restored_coupon(
    qtbot: QtBot, demo: Store, tasks: SyncTaskRunner, translators: object, shots: Path, tmp_path: Path
) -> None:
    manager = demo.services(demo.operator("manager"))
    window = build_main_window(manager, tasks)
    window.setWindowState(Qt.WindowState.WindowNoState)  # the offscreen screen is smaller than a counter's
    show_active(qtbot, window)
    titles = [window.navigation.item(row).text() for row in range(window.navigation.count())]
    window.navigation.setCurrentRow(titles.index("优惠券"))
    page = window.page(titles.index("优惠券"))
    assert isinstance(page, CampaignsPage)
    demo_campaigns = page.model.rows()
    assert {c.kind for c in demo_campaigns} == set(CouponKind), "the demo store has a campaign of each kind"
    demo_figures = [(c.code, c.issued, c.redeemed) for c in demo_campaigns]
    assert all(c.issued for c in demo_campaigns) and any(c.redeemed for c in demo_campaigns), demo_figures

    # A campaign for the tier with the most members: 满100减20.
    sizes = dict(demo.db.read(lambda s: s.execute(select(Member.tier_id, func.count()).group_by(Member.tier_id)).all()))
    tier_id, tier_name = max(((t, name) for t, name, _en in manager.coupons.choices().tiers), key=lambda t: sizes[t[0]])
    assert sizes[tier_id] >= 503, f"the demo's biggest tier has {sizes[tier_id]} members"
    page.buttons["new"].click()
    dialog = shown(CampaignDialog)
    dialog.code.setText("TIER-MJ20")
    dialog.name.setText(f"{tier_name} 满100减20")
    dialog.offer.value.setText("20")
    dialog.offer.min_spend.setText("100")
    dialog.target.setCurrentIndex(dialog.target.findData(CampaignTarget.TIER))
    dialog.tier.setCurrentIndex(dialog.tier.findData(tier_id))
    dialog.terms.setPlainText("每单限用一张，不找零、不兑现。")
    grab(dialog, shots / "campaign-dialog.png")
    dialog.ok.click()
    assert not dialog.isVisible()
    codes_listed = [row.code for row in page.model.rows()]
    row = codes_listed.index("TIER-MJ20")
    page.view.selectRow(row)
    page.buttons["activate"].click()
    page.buttons["issue"].click()
    issue = shown(IssueDialog)
    issue.count.setValue(500)
    issue.ok.click()
    assert page.figure_labels["issued"].text() == "500"

    # 500 on A4: the preview, then Print… to a PDF printer.
    page.layout_choice.setCurrentIndex(page.layout_choice.findData("a4"))
    page.only_unprinted.setChecked(False)
    page.buttons["print"].click()
    preview = shown(CouponPreviewDialog)
    qtbot.waitExposed(preview)
    qtbot.wait(PDF_RENDER_MS)
    grab(preview, shots / "coupon-preview-a4.png")
    sheet = tmp_path / "a4.pdf"
    preview.print_to(pdf_printer(sheet, preview))
    assert str(sheet) in preview.status.text()
    preview.reject()
    assert readback.page_count(sheet) == 50
    first_sheet = sheet_cells(sheet, pages=(1, 1))
    codes = [cell[0][1] for cell in first_sheet]
    assert all(cell == [("CODE-128", code), ("QR-Code", code)] for cell, code in zip(first_sheet, codes, strict=True))
    text = readback.squeeze(readback.text(sheet))
    assert "满¥100减¥20" in text and "每单限用一张" in text and "专享" in text
    assert readback.fonts(sheet) and all(font.embedded for font in readback.fonts(sheet))
    top_two_rows(sheet, shots / "coupon-sheet.png")
    page.reload()
    page.view.selectRow(row)
    assert page.figure_labels["printed"].text() == "500 (0)"
    grab(window, shots / "campaigns.png")

    # Three more for members of the tier who have none yet, on the 80 mm receipt printer: only the unprinted.
    page.buttons["issue"].click()
    more = shown(IssueDialog)
    more.count.setValue(3)
    more.ok.click()
    assert page.figure_labels["issued"].text() == "503"
    page.layout_choice.setCurrentIndex(page.layout_choice.findData("80mm"))
    page.only_unprinted.setChecked(True)
    page.buttons["print"].click()
    roll = shown(CouponPreviewDialog)
    qtbot.waitExposed(roll)
    qtbot.wait(PDF_RENDER_MS)
    grab(roll, shots / "coupon-preview-80mm.png")
    printed = tmp_path / "80mm-as-printed.pdf"
    printer = pdf_printer(printed, roll)
    assert printer.pageLayout().fullRectPoints().width() == pytest.approx(227, abs=1), "roll paper, not A4"
    paint_pages(roll.printout.path, printer)  # what the receipt printer receives: each page rendered
    roll.print_to(pdf_printer(tmp_path / "80mm.pdf", roll))
    roll.reject()
    assert readback.page_count(printed) == 3
    assert readback.page_size_mm(printed)[0] == pytest.approx(80, abs=0.5)
    scanned = readback.barcodes(printed, dpi=203)
    assert len(scanned) == 6 and {value for _kind, value in scanned}.isdisjoint(codes)
    page.reload()
    page.view.selectRow(row)
    assert page.figure_labels["printed"].text() == "503 (0)"

    # At the counter: the first coupon on the sheet is scanned, then redeemed with a purchase of ¥150.
    code = codes[0]
    holder = manager.coupons.holder_member_no(code)
    window.show_page(0)
    counter = window.counter

    def press(key: Qt.Key) -> None:
        """A function key at the counter, once the window is active again (a dialog just closed had the focus)."""
        with qtbot.waitActive(window):
            window.activateWindow()
        qtbot.keyClick(counter.lookup, key)

    qtbot.keyClicks(counter.lookup, code)
    qtbot.keyClick(counter.lookup, Qt.Key.Key_Return)
    assert counter.panel.profile is not None and counter.panel.profile.member_no == holder
    press(Qt.Key.Key_F4)
    purchase = counter.dialog
    assert isinstance(purchase, PurchaseDialog)
    qtbot.keyClicks(purchase.amount, "150")
    qtbot.keyClicks(purchase.coupon, code)
    qtbot.waitUntil(lambda: purchase.preview_labels["coupon"].text() == "减¥20.00", timeout=3000)
    grab(purchase, shots / "purchase-with-coupon.png")
    purchase.ok.click()
    purchase.ok.click()
    assert not purchase.isVisible() and "优惠券减 ¥20.00" in counter.panel.notice.text()

    # Scanned again: refused by name, nothing recorded.
    press(Qt.Key.Key_F4)
    again = counter.dialog
    assert isinstance(again, PurchaseDialog)
    qtbot.keyClicks(again.amount, "150")
    qtbot.keyClicks(again.coupon, code)
    again.ok.click()
    refusal = again.errors.field_text("coupon")
    assert "已于" in refusal and "使用过" in refusal and again.isVisible()
    grab(again, shots / "coupon-refused.png")
    again.reject()

    # The purchase returned: the coupon is valid again.
    press(Qt.Key.Key_F6)
    returning = counter.dialog
    assert isinstance(returning, ReturnDialog)
    returning.view.selectRow(0)
    returning.ok.click()
    assert "¥150.00" in returning.summary.text()
    returning.ok.click()
    assert "优惠券" in returning.result_text.text()
    grab(returning, shots / "return-restores-coupon.png")
    returning.accept()
    tab = counter.panel.coupons_tab
    model = tab.model
    shown_status = {model.data(model.index(r, 0)): model.data(model.index(r, 4)) for r in range(model.rowCount())}
    assert shown_status[grouped(code)] == "可用", shown_status
    figures = manager.coupons.figures(manager.coupons.find_campaign("TIER-MJ20"))
    assert (figures.issued, figures.redeemed, figures.printed) == (503, 0, 503)
    assert [str(problem) for problem in check_database(demo.db)] == []
