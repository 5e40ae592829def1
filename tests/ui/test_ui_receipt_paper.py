"""Finding 6: a Windows receipt-printer driver ignores a custom page size; the slip goes on the driver's own roll
paper of its width. The driver's list is played by the paper sizes Windows drivers for 58/80 mm printers name."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSizeF
from PySide6.QtGui import QPageSize
from PySide6.QtPrintSupport import QPrinter

from ui.printing.preview import MM_PER_POINT, roll_paper, use_roll_paper


def driver_paper(name: str, width_mm: float, height_mm: float) -> QPageSize:
    return QPageSize(QSizeF(width_mm, height_mm), QPageSize.Unit.Millimeter, name)


OFFICE = [QPageSize(QPageSize.PageSizeId.A4), QPageSize(QPageSize.PageSizeId.Letter)]
XPRINTER_80 = [*OFFICE, driver_paper("80(72) x 297 mm", 80, 297), driver_paper("80(72) x 3276 mm", 80, 3276)]
EPSON_TM = [
    *OFFICE,
    driver_paper("Roll Paper 79.5 x 297 mm", 79.5, 297),
    driver_paper("Roll Paper 58 x 297 mm", 58, 297),
]
GPRINTER_58 = [driver_paper("58 x 210 mm", 58, 210), driver_paper("58(48) x 3276 mm", 58, 3276)]


def slip(width_mm: float, height_mm: float) -> QSizeF:
    return QSizeF(width_mm / MM_PER_POINT, height_mm / MM_PER_POINT)


@pytest.mark.parametrize(
    ("supported", "width", "height", "chosen"),
    [
        (XPRINTER_80, 80, 120, "80(72) x 297 mm"),
        (XPRINTER_80, 80, 400, "80(72) x 3276 mm"),
        (EPSON_TM, 80, 140, "Roll Paper 79.5 x 297 mm"),
        (EPSON_TM, 58, 140, "Roll Paper 58 x 297 mm"),
        (GPRINTER_58, 58, 90, "58 x 210 mm"),
    ],
)
def test_the_drivers_own_roll_paper_of_the_slips_width_is_chosen(
    supported: list[QPageSize], width: float, height: float, chosen: str
) -> None:
    assert roll_paper(supported, slip(width, height)).name() == chosen
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    use_roll_paper(printer, slip(width, height), supported)
    assert printer.pageLayout().pageSize().name() == chosen
    assert printer.fullPage()


@pytest.mark.parametrize("supported", [OFFICE, GPRINTER_58, []])
def test_without_a_fitting_driver_paper_the_page_is_the_slips_own_size(supported: list[QPageSize]) -> None:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    use_roll_paper(printer, slip(80, 150), supported)
    size = printer.pageLayout().pageSize().size(QPageSize.Unit.Millimeter)
    assert round(size.width()) == 80 and round(size.height()) == 150


def test_a_slip_longer_than_every_driver_paper_gets_its_own_size() -> None:
    size = roll_paper(GPRINTER_58[:1], slip(58, 260)).size(QPageSize.Unit.Millimeter)
    assert round(size.height()) == 260
