"""Coupons on paper: A4 sheets to cut by hand (2 × 5 a page, cut marks in the margins) and single coupons from an
80 mm or 58 mm roll printer. Each carries the store's name and logo, the offer, the terms, the validity, the code as
Code128 and as QR, and the code in text for typing when a scan fails.

Bars are sized for the printer that prints them: 0.36 mm on A4 (2 px even at a 150 dpi draft setting), 0.25 mm on a
203 dpi receipt printer (2 dots). Everything a sheet's coupons share is drawn once into a PDF form and placed per
coupon, so a thousand coupons cost a thousand barcodes and little more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.colors import Color, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.coupons.codes import grouped
from app.coupons.service import PrintJob
from app.errors import MemberDeskError
from app.i18n import QT_TRANSLATE_NOOP, translate
from app.printing.barcodes import Code128Symbol, QrSymbol
from app.printing.fonts import regular_font
from app.printing.pdf import ascent, draw_text, open_canvas, text_width
from app.printing.slip import PAPER, _Layout
from app.printing.text import fit_text, wrap_text

LAYOUTS = ("a4", "80mm", "58mm")
COLUMNS, ROWS = 2, 5
CELL_W, CELL_H = 95 * mm, 55 * mm
ORIGIN_X = (A4[0] - COLUMNS * CELL_W) / 2
ORIGIN_Y = (A4[1] - ROWS * CELL_H) / 2
PAD = 4 * mm
SHEET_BAR = 0.36 * mm
SHEET_QR_MODULE = 0.6 * mm
ROLL_QR_MODULE = 0.5 * mm
BAR_HEIGHT = 11 * mm
ROLL_BAR_HEIGHT = 12 * mm
LOGO = 8 * mm
MARK = 5 * mm
MARK_GAP = 1.5 * mm
MUTED = Color(0.3, 0.3, 0.3)
ACCENT = Color(0.75, 0.12, 0.12)

VALIDITY = QT_TRANSLATE_NOOP("Printing", "Valid {start} to {end}")
HOLDER = QT_TRANSLATE_NOOP("Printing", "For {name}")
CODE = QT_TRANSLATE_NOOP("Printing", "Code {code}")


@dataclass(frozen=True)
class CouponPrintData:
    store_name: str
    campaign_name: str
    offer: str
    terms: str
    first_day: dt.date
    last_day: dt.date
    """The validity in the store's own days (the last day included)."""
    coupons: Sequence[tuple[str, str | None]]
    """(code, holder's name or None for a bearer coupon), in print order."""
    logo_path: Path | None = None


Progress = Callable[[int, int, str], bool]
"""(coupons drawn, coupons in all, step) before each page; False stops the PDF (`PrintingStopped`)."""
WRITING = QT_TRANSLATE_NOOP("Printing", "Writing the PDF")


class PrintingStopped(MemberDeskError):
    def __init__(self) -> None:
        super().__init__(QT_TRANSLATE_NOOP("Errors", "Printing stopped: no PDF was made."))


def _told(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and not progress(done, total, WRITING):
        raise PrintingStopped()


def validity(data: CouponPrintData) -> str:
    return translate("Printing", VALIDITY).format(start=data.first_day.isoformat(), end=data.last_day.isoformat())


def write_print_job(job: PrintJob, path: str | Path, layout: str, progress: Progress | None = None) -> int:
    """A print job of the coupon service as a PDF; returns its page count."""
    data = CouponPrintData(
        job.store_name,
        job.campaign_name,
        job.offer,
        job.terms,
        job.first_day,
        job.last_day,
        [(coupon.code, coupon.member_name) for coupon in job.coupons],
        Path(job.logo_file) if job.logo_file else None,
    )
    return write_coupons(data, path, layout, progress)


def write_coupons(data: CouponPrintData, path: str | Path, layout: str = "a4", progress: Progress | None = None) -> int:
    """The PDF; returns its page count. A layout not in LAYOUTS is a programming error."""
    if layout not in LAYOUTS:
        raise ValueError(f"no coupon layout {layout!r}; use one of {LAYOUTS}")
    if not data.coupons:
        raise ValueError("no coupons to print")
    if layout == "a4":
        return _write_sheets(data, path, progress)
    return _write_roll(data, path, int(layout.removesuffix("mm")), progress)


def _draw_logo(canvas: Canvas, data: CouponPrintData, x: float, y: float, side: float) -> None:
    """The store's logo image when one is set and readable, else its monogram in a seal."""
    if data.logo_path is not None and data.logo_path.is_file():
        canvas.drawImage(str(data.logo_path), x, y, side, side, preserveAspectRatio=True, mask="auto")
        return
    canvas.saveState()
    canvas.setFillColor(ACCENT)
    canvas.roundRect(x, y, side, side, side * 0.18, stroke=0, fill=1)
    canvas.restoreState()
    size = side * 0.62
    draw_text(
        canvas,
        data.store_name[:1],
        x + side / 2,
        y + (side - ascent(size)) / 2 + size * 0.08,
        size,
        align="center",
        color=white,
    )


# ---- A4 sheets ------------------------------------------------------------------------------------------------
def _cell_form(canvas: Canvas, data: CouponPrintData) -> None:
    """Everything a sheet's coupons share, drawn once relative to a cell's lower-left corner."""
    canvas.beginForm("coupon_cell", 0, 0, CELL_W, CELL_H)
    top = CELL_H - PAD
    _draw_logo(canvas, data, PAD, top - LOGO, LOGO)
    text_left = PAD + LOGO + 2 * mm
    width = CELL_W - text_left - PAD
    draw_text(canvas, _fit_line(data.store_name, width, 11, 7), text_left, top - 4 * mm, 11, bold=True)
    draw_text(canvas, _fit_line(data.campaign_name, width, 8, 6), text_left, top - 7.8 * mm, 8, color=MUTED)
    offer = fit_text(data.offer, regular_font(), CELL_W - 2 * PAD, 9 * mm, 16, 9)
    baseline = top - LOGO - 2.5 * mm - ascent(offer.size if offer else 9)
    for line in offer.lines if offer else [data.offer]:
        draw_text(canvas, line, PAD, baseline, offer.size if offer else 9, bold=True, color=ACCENT)
        baseline -= offer.leading if offer else 11
    terms = fit_text(data.terms, regular_font(), CELL_W - 2 * PAD, 6.5 * mm, 7, 5) if data.terms else None
    baseline = 26.5 * mm
    for line in terms.lines if terms else []:
        draw_text(canvas, line, PAD, baseline, terms.size if terms else 7, color=MUTED)
        baseline -= terms.leading if terms else 0
    draw_text(canvas, validity(data), PAD, 21.5 * mm, 7.5)
    canvas.endForm()


def _fit_line(text: str, width: float, size: float, smallest: float) -> str:
    """One line of text at `size` if it fits, else cut with an ellipsis (a store name must not run off the cell)."""
    if text_width(text, size) <= width:
        return text
    lines = wrap_text(text, regular_font(), size, width - text_width("…", size))
    return lines[0] + "…" if lines else text


def _cut_marks(canvas: Canvas) -> None:
    """Marks in the margins where the guillotine goes: at every column and row edge, clear of the coupons."""
    right, top = ORIGIN_X + COLUMNS * CELL_W, ORIGIN_Y + ROWS * CELL_H
    canvas.saveState()
    canvas.setLineWidth(0.3)
    for column in range(COLUMNS + 1):
        x = ORIGIN_X + column * CELL_W
        canvas.line(x, ORIGIN_Y - MARK_GAP, x, ORIGIN_Y - MARK_GAP - MARK)
        canvas.line(x, top + MARK_GAP, x, top + MARK_GAP + MARK)
    for row in range(ROWS + 1):
        y = ORIGIN_Y + row * CELL_H
        canvas.line(ORIGIN_X - MARK_GAP, y, ORIGIN_X - MARK_GAP - MARK, y)
        canvas.line(right + MARK_GAP, y, right + MARK_GAP + MARK, y)
    canvas.restoreState()


def _write_sheets(data: CouponPrintData, path: str | Path, progress: Progress | None) -> int:
    canvas = open_canvas(path, A4, data.campaign_name)
    _cell_form(canvas, data)
    per_page = COLUMNS * ROWS
    pages = 0
    for index, (code, holder) in enumerate(data.coupons):
        slot = index % per_page
        if slot == 0:
            _told(progress, index, len(data.coupons))
            if index:
                canvas.showPage()
            _cut_marks(canvas)
            pages += 1
        row, column = divmod(slot, COLUMNS)
        x = ORIGIN_X + column * CELL_W
        y = ORIGIN_Y + (ROWS - 1 - row) * CELL_H
        canvas.saveState()
        canvas.translate(x, y)
        canvas.doForm("coupon_cell")
        canvas.restoreState()
        if holder:
            draw_text(
                canvas,
                translate("Printing", HOLDER).format(name=holder),
                x + CELL_W - PAD,
                y + CELL_H - PAD - 4 * mm,
                8,
                align="right",
            )
        bars = Code128Symbol.encode(code)
        bars.draw(canvas, x + PAD - 10 * SHEET_BAR, y + 8.5 * mm, BAR_HEIGHT, SHEET_BAR)
        bars_centre = x + PAD - 10 * SHEET_BAR + bars.width(SHEET_BAR) / 2
        draw_text(canvas, grouped(code), bars_centre, y + 4 * mm, 10, align="center")
        qr = QrSymbol.encode(code)
        qr.draw(canvas, x + CELL_W - qr.side(SHEET_QR_MODULE) - 1.5 * mm, y + 2 * mm, SHEET_QR_MODULE)
    canvas.showPage()
    canvas.save()
    return pages


# ---- single coupons on a roll ----------------------------------------------------------------------------------
def _write_roll(data: CouponPrintData, path: str | Path, width_mm: int, progress: Progress | None) -> int:
    page_width = width_mm * mm
    printable, body = PAPER[width_mm]
    left = (page_width - printable) / 2
    pages: list[_Layout] = []
    for index, (code, holder) in enumerate(data.coupons):
        if index % (COLUMNS * ROWS) == 0:
            _told(progress, index, len(data.coupons))
        layout = _Layout(left, printable, body)
        layout.add(
            LOGO + 1 * mm, lambda canvas, top: _draw_logo(canvas, data, page_width / 2 - LOGO / 2, top - LOGO, LOGO)
        )
        layout.text(data.store_name, body + 3, align="center", bold=True)
        layout.text(data.campaign_name, body, align="center")
        layout.rule()
        layout.text(data.offer, body + 5, align="center", bold=True)
        if data.terms:
            layout.text(data.terms, body - 1)
        layout.text(validity(data), body, align="center")
        if holder:
            layout.text(translate("Printing", HOLDER).format(name=holder), body, align="center")
        layout.space(2 * mm)
        _roll_symbols(layout, code)
        layout.text(translate("Printing", CODE).format(code=grouped(code)), body + 1, align="center", bold=True)
        pages.append(layout)
    height = 4 * mm + max(layout.height for layout in pages) + 8 * mm
    canvas = open_canvas(path, (page_width, height), data.campaign_name)
    for layout in pages:
        for offset, draw in layout.pieces:
            draw(canvas, height - 4 * mm - offset)
        canvas.showPage()
    canvas.save()
    return len(pages)


def _roll_symbols(layout: _Layout, code: str) -> None:
    bars = Code128Symbol.encode(code)
    bar_width = bars.bar_width_for(layout.width)
    qr = QrSymbol.encode(code)
    side = qr.side(ROLL_QR_MODULE)
    centre = layout.left + layout.width / 2

    def draw_bars(canvas: Canvas, top: float) -> None:
        bars.draw(canvas, centre - bars.width(bar_width) / 2, top - ROLL_BAR_HEIGHT, ROLL_BAR_HEIGHT, bar_width)

    def draw_qr(canvas: Canvas, top: float) -> None:
        qr.draw(canvas, centre - side / 2, top - side, ROLL_QR_MODULE)

    layout.add(ROLL_BAR_HEIGHT + 1 * mm, draw_bars)
    layout.add(side, draw_qr)
