"""1,000 unique coupons, each with a Code128, a QR and Chinese text, to one A4 PDF (docs/ARCHITECTURE.md §7: ≤ 2 s and
≤ 1.0× raw ReportLab drawing the same marks).

Draws in the same run: the real coupon sheet (app.printing.coupon.write_coupons: logo, store, campaign, offer, terms,
validity, holder, Code128 + QR + the code in text, cut marks); raw ReportLab drawing exactly those marks per coupon
with its own canvas calls and barcode classes (the baseline the target is about); and the earlier plain grid through
app.printing's helpers and through ReportLab's flowables and widgets. Font registration (~0.1 s, once per process) is
timed separately because all share it.

    .venv/bin/python bench/bench_coupons_pdf.py [--count N] [--repeat R] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datetime as dt

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.qr import QrCode, QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.coupons.codes import grouped, new_codes
from app.printing import coupon as sheet
from app.printing.barcodes import BAR_WIDTH, QR_MODULE, Code128Symbol, QrSymbol
from app.printing.fonts import regular_font
from app.printing.pdf import draw_text, open_canvas

COLUMNS, ROWS = 2, 5
CELL_W, CELL_H = 95 * mm, 55 * mm
ORIGIN_X, ORIGIN_Y = 10 * mm, 10 * mm
STORE = "悦享生活超市"
OFFER = "满100元减20元 优惠券"
VALID = "有效期至 2026-12-31，仅限本店使用"
BAR_HEIGHT = 12 * mm


def coupon_codes(count: int) -> list[str]:
    return sorted(new_codes(count))


TERMS = "每单限用一张，不找零、不兑现，烟草不参与。"


def sheet_data(codes: list[str]) -> sheet.CouponPrintData:
    return sheet.CouponPrintData(
        STORE,
        "金卡会员专享",
        OFFER,
        TERMS,
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 31),
        [(code, "张三" if index % 3 == 0 else None) for index, code in enumerate(codes)],
    )


def with_coupon_sheet(codes: list[str], path: Path) -> None:
    sheet.write_coupons(sheet_data(codes), path, "a4")


def with_raw_same_marks(codes: list[str], path: Path) -> None:
    """The coupon sheet's marks, coupon by coupon, the plain ReportLab way: canvas text, Code128 and QrCode."""
    data = sheet_data(codes)
    font = regular_font()
    canvas = Canvas(str(path), pagesize=A4)
    side = (21 + 8) * sheet.SHEET_QR_MODULE
    validity = sheet.validity(data)
    per_page = sheet.COLUMNS * sheet.ROWS
    for index, (code, holder) in enumerate(data.coupons):
        slot = index % per_page
        if slot == 0:
            if index:
                canvas.showPage()
            right, top = sheet.ORIGIN_X + 2 * sheet.CELL_W, sheet.ORIGIN_Y + 5 * sheet.CELL_H
            for column in range(3):
                x = sheet.ORIGIN_X + column * sheet.CELL_W
                canvas.line(x, sheet.ORIGIN_Y - 1.5 * mm, x, sheet.ORIGIN_Y - 6.5 * mm)
                canvas.line(x, top + 1.5 * mm, x, top + 6.5 * mm)
            for row in range(6):
                y = sheet.ORIGIN_Y + row * sheet.CELL_H
                canvas.line(sheet.ORIGIN_X - 1.5 * mm, y, sheet.ORIGIN_X - 6.5 * mm, y)
                canvas.line(right + 1.5 * mm, y, right + 6.5 * mm, y)
        row, column = divmod(slot, sheet.COLUMNS)
        x = sheet.ORIGIN_X + column * sheet.CELL_W
        y = sheet.ORIGIN_Y + (sheet.ROWS - 1 - row) * sheet.CELL_H
        top = y + sheet.CELL_H - sheet.PAD
        canvas.setFillColor(sheet.ACCENT)
        canvas.roundRect(x + sheet.PAD, top - sheet.LOGO, sheet.LOGO, sheet.LOGO, 1.4 * mm, stroke=0, fill=1)
        canvas.setFillColorRGB(1, 1, 1)
        canvas.setFont(font, 5)
        canvas.drawCentredString(x + sheet.PAD + sheet.LOGO / 2, top - sheet.LOGO + 2 * mm, STORE[:1])
        canvas.setFillColorRGB(0, 0, 0)
        canvas.setFont(font, 11)
        canvas.drawString(x + 14 * mm, top - 4 * mm, STORE)
        canvas.setFont(font, 8)
        canvas.drawString(x + 14 * mm, top - 7.8 * mm, "金卡会员专享")
        canvas.setFont(font, 16)
        canvas.drawString(x + sheet.PAD, top - 17 * mm, OFFER)
        canvas.setFont(font, 7)
        canvas.drawString(x + sheet.PAD, y + 26.5 * mm, TERMS)
        canvas.drawString(x + sheet.PAD, y + 21.5 * mm, validity)
        if holder:
            canvas.setFont(font, 8)
            canvas.drawRightString(x + sheet.CELL_W - sheet.PAD, top - 4 * mm, holder)
        Code128(code, barWidth=sheet.SHEET_BAR, barHeight=sheet.BAR_HEIGHT, lquiet=10 * sheet.SHEET_BAR).drawOn(
            canvas, x + sheet.PAD - 10 * sheet.SHEET_BAR, y + 8.5 * mm
        )
        canvas.setFont(font, 10)
        canvas.drawCentredString(x + 32 * mm, y + 4 * mm, grouped(code))
        QrCode(code, width=side, height=side, qrLevel="M", qrBorder=4).drawOn(
            canvas, x + sheet.CELL_W - side - 1.5 * mm, y + 2 * mm
        )
    canvas.showPage()
    canvas.save()


def cells(count: int) -> list[tuple[bool, float, float]]:
    """(page break before?, x, y) of each cell's lower-left corner, filling A4 pages row by row."""
    out = []
    per_page = COLUMNS * ROWS
    for index in range(count):
        slot = index % per_page
        row, column = divmod(slot, COLUMNS)
        x = ORIGIN_X + column * CELL_W
        y = A4[1] - ORIGIN_Y - (row + 1) * CELL_H
        out.append((index > 0 and slot == 0, x, y))
    return out


def with_helpers(codes: list[str], path: Path) -> None:
    canvas = open_canvas(path, A4, "coupons")
    for code, (new_page, x, y) in zip(codes, cells(len(codes)), strict=True):
        if new_page:
            canvas.showPage()
        draw_text(canvas, STORE, x + 4 * mm, y + CELL_H - 9 * mm, 12, bold=True)
        draw_text(canvas, OFFER, x + 4 * mm, y + CELL_H - 16 * mm, 10)
        draw_text(canvas, VALID, x + 4 * mm, y + 4 * mm, 7)
        Code128Symbol.encode(code).draw(canvas, x + 1.5 * mm, y + 13 * mm, BAR_HEIGHT)
        draw_text(canvas, code, x + 28 * mm, y + 9 * mm, 8, align="center")
        qr = QrSymbol.encode(code)
        qr.draw(canvas, x + CELL_W - qr.side() - 2 * mm, y + 8 * mm)
    canvas.showPage()
    canvas.save()


def _raw_text_and_code128(canvas: Canvas, code: str, x: float, y: float) -> None:
    font = regular_font()
    canvas.setFont(font, 12)
    canvas.drawString(x + 4 * mm, y + CELL_H - 9 * mm, STORE)
    canvas.setFont(font, 10)
    canvas.drawString(x + 4 * mm, y + CELL_H - 16 * mm, OFFER)
    canvas.setFont(font, 7)
    canvas.drawString(x + 4 * mm, y + 4 * mm, VALID)
    Code128(code, barWidth=BAR_WIDTH, barHeight=BAR_HEIGHT, lquiet=10 * BAR_WIDTH).drawOn(
        canvas, x + 1.5 * mm, y + 13 * mm
    )
    canvas.setFont(font, 8)
    canvas.drawCentredString(x + 28 * mm, y + 9 * mm, code)


# 12 alphanumeric characters at level M make a version 1 symbol: 21 modules plus the 4-module quiet zone each side.
RAW_QR_SIDE = (21 + 8) * QR_MODULE


def with_raw_widgets(codes: list[str], path: Path) -> None:
    """The way ReportLab's documentation draws a QR: a QrCodeWidget in a Drawing, rendered onto the canvas."""
    canvas = Canvas(str(path), pagesize=A4)
    for code, (new_page, x, y) in zip(codes, cells(len(codes)), strict=True):
        if new_page:
            canvas.showPage()
        _raw_text_and_code128(canvas, code, x, y)
        widget = QrCodeWidget(code, barLevel="M", barBorder=4, barWidth=RAW_QR_SIDE, barHeight=RAW_QR_SIDE)
        drawing = Drawing(RAW_QR_SIDE, RAW_QR_SIDE)
        drawing.add(widget)
        renderPDF.draw(drawing, canvas, x + CELL_W - RAW_QR_SIDE - 2 * mm, y + 8 * mm)
    canvas.showPage()
    canvas.save()


def with_raw_flowables(codes: list[str], path: Path) -> None:
    """ReportLab's lighter path: the QrCode flowable, one canvas.rect per dark run."""
    canvas = Canvas(str(path), pagesize=A4)
    for code, (new_page, x, y) in zip(codes, cells(len(codes)), strict=True):
        if new_page:
            canvas.showPage()
        _raw_text_and_code128(canvas, code, x, y)
        QrCode(code, width=RAW_QR_SIDE, height=RAW_QR_SIDE, qrLevel="M", qrBorder=4).drawOn(
            canvas, x + CELL_W - RAW_QR_SIDE - 2 * mm, y + 8 * mm
        )
    canvas.showPage()
    canvas.save()


def timed(
    run: Callable[[list[str], Path], None], codes: list[str], path: Path, repeat: int
) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each run: on a machine shared with other work the CPU time is the steadier figure."""
    times, cpu_times = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        run(codes, path)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)
    return times, cpu_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the PDFs here instead of a temporary folder")
    args = parser.parse_args()

    start = time.perf_counter()
    regular_font()
    print(f"font registration (once per process): {time.perf_counter() - start:.3f} s")
    codes = coupon_codes(args.count)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        results = []
        runs = (
            ("coupon sheet (app)", "sheet", with_coupon_sheet),
            ("raw ReportLab, same marks", "raw-same", with_raw_same_marks),
            ("app.printing helpers", "helpers", with_helpers),
            ("raw ReportLab flowables", "raw-flowables", with_raw_flowables),
            ("raw ReportLab widgets", "raw-widgets", with_raw_widgets),
        )
        for name, slug, run in runs:
            path = folder / f"coupons-{slug}.pdf"
            times, cpu_times = timed(run, codes, path, args.repeat)
            results.append((name, times, cpu_times, path.stat().st_size))
        print(
            f"{args.count} unique coupons (Code128 + QR + Chinese text), A4 {COLUMNS}×{ROWS}, "
            f"best of {args.repeat}; target ≤ 2 s and ≤ 1.0× raw ReportLab drawing the same marks"
        )
        for name, times, cpu_times, size in results:
            print(
                f"  {name:26s} best {min(times):.3f} s  median {statistics.median(times):.3f} s"
                f"  CPU best {min(cpu_times):.3f} s  {size / 1e6:.2f} MB"
            )
        print(
            f"  coupon sheet / raw same marks: {min(results[0][1]) / min(results[1][1]):.2f} wall,"
            f" {min(results[0][2]) / min(results[1][2]):.2f} CPU"
        )
        helpers = min(results[2][1])
        for name, times, _cpu, _size in results[3:]:
            print(f"  helpers / {name}: {helpers / min(times):.2f}")
        print(
            f"(2-core machine shared with other work while measuring, load average {os.getloadavg()[0]:.1f}: wall"
            " times are upper bounds; CPU time is this process's own)"
        )


if __name__ == "__main__":
    main()
