"""Receipt slips for a roll printer (80 mm or 58 mm paper): points redemptions and returns.

The page is exactly as long as its content, so a roll printer feeds and cuts once instead of spitting an A4-length
strip. The layout is measured first and drawn second, because the page height must be known before the first mark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.i18n import QT_TRANSLATE_NOOP, translate
from app.printing.fonts import regular_font
from app.printing.pdf import Align, ascent, descent, draw_text, open_canvas, text_width
from app.printing.text import wrap_balanced, wrap_text

# Printable width of common roll printers: 72 mm of 80 mm paper, 48 mm of 58 mm paper.
PAPER = {80: (72 * mm, 9.0), 58: (48 * mm, 8.0)}
TOP_MARGIN = 4 * mm
BOTTOM_MARGIN = 8 * mm  # the tear bar sits above the print head; without this the last line is torn through
LINE_SPACING = 1.35
LABEL_GAP = 3 * mm
VALUE_INDENT = 3 * mm

MEMBER = QT_TRANSLATE_NOOP("Printing", "Member")
PHONE = QT_TRANSLATE_NOOP("Printing", "Phone")
BALANCE = QT_TRANSLATE_NOOP("Printing", "Points balance")
NEGATIVE_BALANCE = QT_TRANSLATE_NOOP("Printing", "The points balance is below zero")
PRINTED_AT = QT_TRANSLATE_NOOP("Printing", "Printed at")


@dataclass(frozen=True)
class SlipData:
    store_name: str
    branch_name: str
    title: str  # "积分兑换凭条", "退货凭条"
    lines: list[tuple[str, str]]  # (label, value) rows in order, e.g. ("礼品", "保温杯 ×1")
    member_name: str
    masked_phone: str
    points_balance: int
    printed_at: dt.datetime  # aware, in the store's time zone: printed as its own wall time, never the PC's


Draw = Callable[[Canvas, float], None]  # draws given the y of its top edge


@dataclass
class _Layout:
    """Content stacked from the top; each piece knows its height and how to draw itself below a given y."""

    left: float
    width: float
    body_size: float
    height: float = 0.0
    pieces: list[tuple[float, Draw]] = field(default_factory=list)

    def add(self, height: float, draw: Draw) -> None:
        self.pieces.append((self.height, draw))
        self.height += height

    def space(self, height: float) -> None:
        self.height += height

    def text(self, text: str, size: float, *, align: Align = "left", bold: bool = False, indent: float = 0) -> None:
        leading = size * LINE_SPACING
        left = self.left + indent
        x = {"left": left, "center": self.left + self.width / 2, "right": self.left + self.width}[align]
        wrap = wrap_balanced if align == "center" else wrap_text
        for line in wrap(text, regular_font(), size, self.width - indent):
            self.add(leading, self._line(line, x, size, align, bold))

    def row(self, label: str, value: str, *, size: float | None = None, bold: bool = False) -> None:
        """Label on the left, value on the right. When both do not fit one line the value moves below the label (a long
        gift name must never run over its points): right-aligned if it fits a line, else wrapped under an indent."""
        size = size or self.body_size
        leading = size * LINE_SPACING
        right = self.left + self.width
        if text_width(label, size) + LABEL_GAP + text_width(value, size) <= self.width:
            label_draw = self._line(label, self.left, size, "left", bold)
            value_draw = self._line(value, right, size, "right", bold)

            def draw(canvas: Canvas, top: float) -> None:
                label_draw(canvas, top)
                value_draw(canvas, top)

            self.add(leading, draw)
            return
        self.text(label, size, bold=bold)
        if text_width(value, size) <= self.width:
            self.text(value, size, align="right", bold=bold)
        else:
            self.text(value, size, bold=bold, indent=VALUE_INDENT)

    def rule(self) -> None:
        gap = self.body_size * 0.5

        def draw(canvas: Canvas, top: float) -> None:
            canvas.saveState()
            canvas.setLineWidth(0.6)
            canvas.setDash(2, 1.5)
            canvas.line(self.left, top - gap, self.left + self.width, top - gap)
            canvas.restoreState()

        self.add(2 * gap, draw)

    @staticmethod
    def _line(text: str, x: float, size: float, align: Align, bold: bool) -> Draw:
        # Centre the glyphs' ascent and descent within the line's leading.
        offset = (size * LINE_SPACING - ascent(size) - descent(size)) / 2 + ascent(size)
        return lambda canvas, top: draw_text(canvas, text, x, top - offset, size, align=align, bold=bold)


def _balance_box(layout: _Layout, balance: int) -> None:
    """The new balance, larger and boxed; a negative one (a return after the points were spent) also says so in words,
    because a lone minus sign is easy to miss on a faint thermal print."""
    size = layout.body_size + 2
    inner = _Layout(layout.left + 2 * mm, layout.width - 4 * mm, layout.body_size)
    inner.space(1 * mm)
    inner.row(translate("Printing", BALANCE), f"{balance:,}", size=size, bold=True)
    if balance < 0:
        inner.text(translate("Printing", NEGATIVE_BALANCE), layout.body_size, bold=True)
    inner.space(1 * mm)

    def draw(canvas: Canvas, top: float) -> None:
        canvas.saveState()
        canvas.setLineWidth(1.2 if balance < 0 else 0.6)
        canvas.rect(layout.left, top - inner.height, layout.width, inner.height, stroke=1, fill=0)
        canvas.restoreState()
        for offset, piece in inner.pieces:
            piece(canvas, top - offset)

    layout.add(inner.height, draw)


def write_slip(data: SlipData, path: str | Path, width_mm: int = 80) -> None:
    """Paper other than 80 or 58 mm, or a naive time, is a programming error (ValueError), not a cashier's."""
    if width_mm not in PAPER:
        raise ValueError(f"no slip layout for {width_mm} mm paper; use one of {sorted(PAPER)}")
    if data.printed_at.tzinfo is None:
        raise ValueError("printed_at must be timezone-aware")
    page_width = width_mm * mm
    printable, body = PAPER[width_mm]
    layout = _Layout((page_width - printable) / 2, printable, body)

    layout.text(data.store_name, body + 3, align="center", bold=True)
    if data.branch_name:
        layout.text(data.branch_name, body, align="center")
    layout.space(1.5 * mm)
    layout.text(data.title, body + 2, align="center", bold=True)
    layout.rule()
    for label, value in data.lines:
        layout.row(label, value)
    layout.rule()
    layout.row(translate("Printing", MEMBER), data.member_name)
    layout.row(translate("Printing", PHONE), data.masked_phone)
    layout.space(1.5 * mm)
    _balance_box(layout, data.points_balance)
    layout.space(1.5 * mm)
    layout.row(translate("Printing", PRINTED_AT), data.printed_at.strftime("%Y-%m-%d %H:%M:%S"))

    page_height = TOP_MARGIN + layout.height + BOTTOM_MARGIN
    canvas = open_canvas(path, (page_width, page_height), data.title)
    for offset, draw in layout.pieces:
        draw(canvas, page_height - TOP_MARGIN - offset)
    canvas.showPage()
    canvas.save()
