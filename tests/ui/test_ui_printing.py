"""Printing at the counter: the member card (F8) and the slips a points purchase, a gift and a return offer (F9),
previewed, printed and saved, and read back the way a person or a scanner would (poppler, zbar)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.changes import Changes
from app.context import Services
from db.models import Gift
from tests.printing import readback
from tests.ui.ui_support import buy, none_shown, open_member, register, show_active, shown
from ui.counter.gift_dialog import GiftDialog
from ui.counter.page import CounterPage
from ui.counter.purchase_dialog import PurchaseDialog
from ui.counter.return_dialog import ReturnDialog
from ui.local_settings import SLIP_WIDTH_MM, LocalSettings
from ui.main_window import MainWindow
from ui.printing.preview import PrintPreviewDialog, paint_pages
from ui.tasks import SyncTaskRunner

PHONE = "13812345678"
MASKED_PHONE = "138****5678"


@pytest.fixture
def page(window: MainWindow) -> CounterPage:
    return window.counter


@pytest.fixture
def member_id(services: Services) -> int:
    member_id = register(services, PHONE, "张伟")
    buy(services, member_id, 50_000)  # 500 points
    return member_id


@pytest.fixture
def gift(services: Services) -> None:
    def add_gift(session: Session) -> None:
        session.add(Gift(name="保温杯", name_en="Vacuum flask", points_price=200, stock=3))

    services.store.db.write(add_gift)


def press(qtbot: QtBot, page: CounterPage, key: Qt.Key) -> None:
    qtbot.keyClick(page.lookup, key)


def card_preview(qtbot: QtBot, page: CounterPage, member_id: int) -> PrintPreviewDialog:
    open_member(qtbot, page, member_id)
    press(qtbot, page, Qt.Key.Key_F8)
    return shown(PrintPreviewDialog)


def redeem_gift(qtbot: QtBot, page: CounterPage, member_id: int) -> None:
    open_member(qtbot, page, member_id)
    press(qtbot, page, Qt.Key.Key_F5)
    dialog = page.dialog
    assert isinstance(dialog, GiftDialog)
    dialog.ok.click()


def slip_preview(qtbot: QtBot, page: CounterPage, member_id: int) -> PrintPreviewDialog:
    redeem_gift(qtbot, page, member_id)
    assert page.panel.notice_button.isVisible(), "the confirmation offers the slip"
    press(qtbot, page, Qt.Key.Key_F9)
    return shown(PrintPreviewDialog)


def pdf_printer(path: Path, preview: PrintPreviewDialog) -> QPrinter:
    """The printer the preview would start the print dialog with, printing to a PDF file."""
    printer = preview.new_printer()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_the_preview_shows_the_member_card(qtbot: QtBot, page: CounterPage, member_id: int, services: Services) -> None:
    preview = card_preview(qtbot, page, member_id)
    assert preview.document.status() == QPdfDocument.Status.Ready
    assert preview.document.pageCount() == 1
    assert preview.view.document() is preview.document
    assert not preview.printout.roll_paper
    card_no = services.members.profile(member_id).card_no
    assert card_no is not None
    text = readback.squeeze(readback.text(preview.printout.path))
    assert "张伟" in text and card_no in text and "会员台示例超市" in text


def test_the_card_is_offered_only_where_the_store_prints_cards(
    qtbot: QtBot, page: CounterPage, member_id: int, owner_services: Services
) -> None:
    assert not page.card_action.isEnabled(), "no member open"
    open_member(qtbot, page, member_id)
    assert page.card_action.isEnabled()
    owner_services.settings.update({"cards.print_enabled": False})
    page.on_changed(Changes.SETTINGS)
    assert not page.card_action.isEnabled()
    press(qtbot, page, Qt.Key.Key_F8)
    assert none_shown(PrintPreviewDialog)


def test_printing_to_a_pdf_file_keeps_the_text_and_the_slips_size(
    qtbot: QtBot, page: CounterPage, member_id: int, gift: None, tmp_path: Path
) -> None:
    preview = slip_preview(qtbot, page, member_id)
    assert preview.printout.roll_paper
    out = tmp_path / "printed.pdf"
    preview.print_to(pdf_printer(out, preview))
    assert str(out) in preview.status.text()
    text = readback.squeeze(readback.text(out))
    for expected in ("礼品兑换凭条", "张伟", MASKED_PHONE, "保温杯×1", "-200", "300"):
        assert expected in text
    width, _height = readback.page_size_mm(out)
    assert width == pytest.approx(80, abs=0.5)


def test_a_printer_gets_each_page_at_its_true_size(
    qtbot: QtBot, page: CounterPage, member_id: int, gift: None, services: Services, tmp_path: Path
) -> None:
    """What a real printer receives (rendered pages): a slip on paper of its own size, a card that still scans."""
    slip = slip_preview(qtbot, page, member_id)
    out = tmp_path / "slip-as-printed.pdf"
    printer = pdf_printer(out, slip)
    assert printer.pageLayout().fullRectPoints().width() == pytest.approx(227, abs=1), "roll paper, not A4"
    paint_pages(slip.printout.path, printer)
    slip_size, printed_size = readback.page_size_mm(slip.printout.path), readback.page_size_mm(out)
    assert printed_size == pytest.approx(slip_size, abs=0.5)
    assert printed_size[0] == pytest.approx(80, abs=0.5)
    slip.reject()

    card = card_preview(qtbot, page, member_id)
    out = tmp_path / "card-as-printed.pdf"
    paint_pages(card.printout.path, pdf_printer(out, card))  # on the printer's own paper
    card_no = services.members.profile(member_id).card_no
    assert ("CODE-128", card_no) in readback.barcodes(out)


def test_roll_paper_is_set_again_after_the_print_dialog(
    qtbot: QtBot, page: CounterPage, member_id: int, gift: None
) -> None:
    """Choosing a printer in the dialog brings back its default paper; a slip must still get its own."""
    preview = slip_preview(qtbot, page, member_id)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(Path(preview.printout.path).with_name("a4.pdf")))
    assert printer.pageLayout().fullRectPoints().width() > 500
    preview.print_to(printer)
    assert printer.pageLayout().fullRectPoints().width() == pytest.approx(227, abs=1)


def test_print_opens_the_print_dialog(qtbot: QtBot, page: CounterPage, member_id: int) -> None:
    preview = card_preview(qtbot, page, member_id)
    preview.print_button.click()
    dialog = shown(QPrintDialog)
    dialog.reject()
    assert preview.isVisible()


def test_save_as_pdf_copies_the_printout_and_closing_removes_it(
    qtbot: QtBot, page: CounterPage, member_id: int, tmp_path: Path
) -> None:
    preview = card_preview(qtbot, page, member_id)
    scratch = preview.printout.path
    assert scratch.parent.name == "printouts" and scratch.exists()
    preview.save_button.click()
    chooser = shown(QFileDialog)
    assert chooser.selectedFiles()[0].endswith("会员卡-张伟.pdf")
    chooser.selectFile(str(tmp_path / "card.pdf"))
    chooser.accept()
    assert (tmp_path / "card.pdf").read_bytes() == scratch.read_bytes()
    assert "card.pdf" in preview.status.text()
    preview.save_to(tmp_path / "missing-folder" / "card.pdf")
    assert preview.error.isVisible() and "无法写入" in preview.error.text()
    preview.reject()
    assert not scratch.exists()


def test_a_purchase_offers_a_slip_only_when_it_used_points(
    qtbot: QtBot, page: CounterPage, member_id: int, tmp_path: Path
) -> None:
    open_member(qtbot, page, member_id)
    for points, offered in (("0", False), ("100", True)):
        press(qtbot, page, Qt.Key.Key_F4)
        dialog = page.dialog
        assert isinstance(dialog, PurchaseDialog)
        dialog.amount.setText("20")
        dialog.points.setText(points)
        dialog.receipt.setText(f"R-{points}")
        dialog.ok.click()  # the confirmation
        dialog.ok.click()
        assert page.slip_action.isEnabled() is offered
        assert page.panel.notice_button.isVisible() is offered
    page.panel.notice_button.click()
    preview = shown(PrintPreviewDialog)
    text = readback.squeeze(readback.text(preview.printout.path))
    for expected in ("积分兑换凭条", "R-100", "-100", "¥20.00", "¥19.00", "张伟", MASKED_PHONE):
        assert expected in text
    preview.reject()
    page.close_member()
    assert not page.slip_action.isEnabled(), "a slip belongs to the member it was made for"


def test_a_return_offers_its_slip_on_the_result_page(
    qtbot: QtBot, page: CounterPage, member_id: int, services: Services
) -> None:
    buy(services, member_id, 10_000)
    open_member(qtbot, page, member_id)
    press(qtbot, page, Qt.Key.Key_F6)
    dialog = page.dialog
    assert isinstance(dialog, ReturnDialog)
    assert not dialog.print_button.isVisible()
    dialog.view.selectRow(0)
    dialog.ok.click()
    dialog.reason.setText("质量问题")
    dialog.ok.click()
    assert dialog.print_button.isVisible()
    dialog.print_button.click()
    preview = shown(PrintPreviewDialog)
    assert preview.parent() is dialog, "the preview comes above the dialog that offered it"
    text = readback.squeeze(readback.text(preview.printout.path))
    for expected in ("退货凭条", "¥100.00", "-100", "质量问题", "500"):
        assert expected in text


def test_this_pcs_paper_width_lays_the_slip_out(
    qtbot: QtBot, services: Services, member_id: int, gift: None, tmp_path: Path, translators: object
) -> None:
    local = LocalSettings(tmp_path)
    local.set(SLIP_WIDTH_MM, 58)
    window = MainWindow(SyncTaskRunner(), local)
    window.attach(services)
    show_active(qtbot, window)
    preview = slip_preview(qtbot, window.counter, member_id)
    width, _height = readback.page_size_mm(preview.printout.path)
    assert width == pytest.approx(58, abs=0.5)
