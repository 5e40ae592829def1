"""1,000 unique coupons, each with a Code128, a QR and Chinese text, to one A4 PDF (docs/ARCHITECTURE.md §7: ≤ 2 s).

Draws the same grid twice in the same run: through app.printing's helpers, and with ReportLab's own barcode widgets
and canvas calls as the baseline. Font registration (~0.1 s, once per process) is timed separately because both share
it. The coupon layout itself is a later issue; this grid only has to carry the same marks a coupon sheet will.

    .venv/bin/python bench/bench_coupons_pdf.py [--count N] [--repeat R] [--keep DIR]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.qr import QrCode, QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.printing.barcodes import BAR_WIDTH, QR_MODULE, Code128Symbol, QrSymbol
from app.printing.fonts import regular_font
from app.printing.pdf import draw_text, open_canvas

COLUMNS, ROWS = 2, 5
CELL_W, CELL_H = 95 * mm, 55 * mm
ORIGIN_X, ORIGIN_Y = 10 * mm, 10 * mm
STORE = "悦享生活超市"
OFFER = "满100元减20元 优惠券"
VALID = "有效期至 2026-12-31，仅限本店使用"
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
BAR_HEIGHT = 12 * mm


def coupon_codes(count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        codes.add("".join(secrets.choice(ALPHABET) for _ in range(12)))
    return sorted(codes)


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


def timed(run: Callable[[list[str], Path], None], codes: list[str], path: Path, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run(codes, path)
        times.append(time.perf_counter() - start)
    return times


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
            ("app.printing helpers", "helpers", with_helpers),
            ("raw ReportLab flowables", "raw-flowables", with_raw_flowables),
            ("raw ReportLab widgets", "raw-widgets", with_raw_widgets),
        )
        for name, slug, run in runs:
            path = folder / f"coupons-{slug}.pdf"
            times = timed(run, codes, path, args.repeat)
            results.append((name, times, path.stat().st_size))
        print(
            f"{args.count} unique coupons (Code128 + QR + Chinese text), A4 {COLUMNS}×{ROWS} grid, "
            f"best of {args.repeat}; target ≤ 2 s"
        )
        for name, times, size in results:
            print(f"  {name:24s} best {min(times):.3f} s  median {statistics.median(times):.3f} s  {size / 1e6:.2f} MB")
        helpers = min(results[0][1])
        for name, times, _size in results[1:]:
            print(f"  helpers / {name}: {helpers / min(times):.2f}")


if __name__ == "__main__":
    main()
