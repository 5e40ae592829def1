"""The page `python main.py self-test` prints and reads back, to prove a bundle can make a usable PDF.

It holds what breaks first when a build is wrong: Chinese from the embedded font (heteronym surnames included), a
Code128 and a QR. The values come back with the page so a checker compares against exactly what was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from app.money import format_yuan
from app.printing.barcodes import Code128Symbol, QrSymbol
from app.printing.fonts import regular_font
from app.printing.pdf import draw_text, open_canvas
from app.printing.text import wrap_text

TITLE = "会员台 自检"
SAMPLE_LINE = "中文显示正常 张三 单小明"
SAMPLE_AMOUNT = format_yuan(123450)
CODE128_VALUE = "MD-SELFTEST-0123456789"
QR_VALUE = "MEMBERDESK:SELFTEST:QR:0123456789"
WRAP_SAMPLE = (
    "这是一段较长的说明文字，用来检查自动换行：会员台在打印会员卡、兑换凭条和优惠券时，"
    "过长的名称会换到下一行，不会被截断。Long Latin words wrap too."
)


@dataclass(frozen=True)
class SelfTestPage:
    texts: tuple[str, ...]  # each appears verbatim in the page's text
    code128: str
    qr: str


def write_selftest_pdf(path: str | Path) -> SelfTestPage:
    width, height = A4
    left = 20 * mm
    canvas = open_canvas(path, A4, TITLE)
    draw_text(canvas, TITLE, left, height - 30 * mm, 22, bold=True)
    draw_text(canvas, SAMPLE_LINE, left, height - 45 * mm, 14)
    draw_text(canvas, SAMPLE_AMOUNT, left, height - 55 * mm, 14)
    baseline = height - 68 * mm
    for line in wrap_text(WRAP_SAMPLE, regular_font(), 11, width - 2 * left):
        draw_text(canvas, line, left, baseline, 11)
        baseline -= 11 * 1.4

    code128 = Code128Symbol.encode(CODE128_VALUE)
    bars_bottom = baseline - 25 * mm
    code128.draw(canvas, left, bars_bottom, 15 * mm)
    draw_text(canvas, CODE128_VALUE, left + code128.width() / 2, bars_bottom - 5 * mm, 10, align="center")

    qr = QrSymbol.encode(QR_VALUE)
    module = 0.8 * mm
    qr_bottom = bars_bottom - 15 * mm - qr.side(module)
    qr.draw(canvas, left, qr_bottom, module)
    draw_text(canvas, QR_VALUE, left + qr.side(module) + 3 * mm, qr_bottom + qr.side(module) / 2, 10)
    canvas.showPage()
    canvas.save()
    return SelfTestPage((TITLE, SAMPLE_LINE, SAMPLE_AMOUNT), CODE128_VALUE, QR_VALUE)
