"""Canvas set-up and text drawing shared by every document.

All text goes through the embedded CJK font, including the canvas's initial font: ReportLab otherwise declares an
unembedded Helvetica on every page, which `pdffonts` (and strict print shops) flag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from reportlab.lib.colors import Color
from reportlab.pdfbase.pdfmetrics import getAscent, getDescent, stringWidth
from reportlab.pdfgen.canvas import Canvas

from app.printing.fonts import regular_font

Align = Literal["left", "center", "right"]
BLACK = Color(0, 0, 0)


def open_canvas(path: str | Path, page_size: tuple[float, float], title: str) -> Canvas:
    font = regular_font()
    canvas = Canvas(str(path), pagesize=page_size, initialFontName=font, lang="zh-CN")
    canvas.setTitle(title)
    canvas.setCreator("MemberDesk")
    return canvas


def ascent(size: float) -> float:
    return getAscent(regular_font(), size)


def descent(size: float) -> float:
    """Below the baseline, as a positive distance."""
    return -getDescent(regular_font(), size)


def text_width(text: str, size: float) -> float:
    return stringWidth(text, regular_font(), size)


def draw_text(
    canvas: Canvas,
    text: str,
    x: float,
    baseline: float,
    size: float,
    *,
    align: Align = "left",
    bold: bool = False,
    color: Color = BLACK,
) -> None:
    """One line; `x` is the left edge, the centre or the right edge depending on `align`.

    The font has no bold face, so bold is the outline stroked over the fill: it survives thermal printing and still
    extracts as plain text.
    """
    width = text_width(text, size)
    left = {"left": x, "center": x - width / 2, "right": x - width}[align]
    canvas.saveState()  # colour and stroke set inside the text object would otherwise leak into later drawing
    canvas.setFillColor(color)
    obj = canvas.beginText(left, baseline)
    obj.setFont(regular_font(), size)
    if bold:
        canvas.setStrokeColor(color)
        canvas.setLineWidth(size * 0.04)
        obj.setTextRenderMode(2)
    obj.textOut(text)
    canvas.drawText(obj)
    canvas.restoreState()
