"""The member card: CR80 (ISO/IEC 7810 ID-1) size, for a card printer or for printing on card stock and cutting.

The card number is the barcode the counter scanner reads, so it is printed large enough to scan and repeated in digits
under the bars for when the scanner fails. Names shrink to fit rather than push the barcode off the card.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.colors import Color, white
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP
from app.printing.barcodes import Code128Symbol
from app.printing.fonts import regular_font
from app.printing.pdf import BLACK, ascent, draw_text, open_canvas
from app.printing.text import FittedText, fit_text

CARD_WIDTH = 85.6 * mm
CARD_HEIGHT = 53.98 * mm
MARGIN = 5 * mm
BAND_HEIGHT = 15 * mm
BAND_COLOR = Color(0.12, 0.31, 0.47)
MUTED = Color(0.35, 0.35, 0.35)
BAR_HEIGHT = 10 * mm
BARS_BOTTOM = 8.5 * mm
NUMBER_SIZE = 8.5

TOO_LONG = QT_TRANSLATE_NOOP("Printing", "{what} is too long to fit on the card: {text}")
STORE_NAME = QT_TRANSLATE_NOOP("Printing", "The store name")
MEMBER_NAME = QT_TRANSLATE_NOOP("Printing", "The member name")
TIER_NAME = QT_TRANSLATE_NOOP("Printing", "The tier name")


@dataclass(frozen=True)
class MemberCardData:
    store_name: str
    member_name: str
    card_no: str
    tier_name: str


def _fit(text: str, what: str, field: str, height: float, max_size: float, min_size: float) -> FittedText:
    fitted = fit_text(text, regular_font(), CARD_WIDTH - 2 * MARGIN, height, max_size, min_size)
    if fitted is None:
        raise ValidationError(TOO_LONG, field=field, what=what, text=text)
    return fitted


def _draw_block(canvas: Canvas, fitted: FittedText, top: float, *, bold: bool = False, color: Color = BLACK) -> float:
    """Draws the lines at the left margin downwards from `top`; returns the y just below the last line."""
    baseline = top - ascent(fitted.size)
    for line in fitted.lines:
        draw_text(canvas, line, MARGIN, baseline, fitted.size, bold=bold, color=color)
        baseline -= fitted.leading
    return top - fitted.height


def write_member_card(data: MemberCardData, path: str | Path) -> None:
    """Raises ValidationError when a name cannot fit even at the smallest legible size, or the card number cannot be a
    Code128 (not ASCII) or is too long for the card's width."""
    symbol = Code128Symbol.encode(data.card_no)
    bar_width = symbol.bar_width_for(CARD_WIDTH - 2 * mm)
    store = _fit(data.store_name, STORE_NAME, "store_name", BAND_HEIGHT - 4 * mm, 13, 7)
    member = _fit(data.member_name, MEMBER_NAME, "member_name", 10 * mm, 16, 8)
    tier = _fit(data.tier_name, TIER_NAME, "tier_name", 5 * mm, 9, 6)

    canvas = open_canvas(path, (CARD_WIDTH, CARD_HEIGHT), data.store_name)
    canvas.setFillColor(BAND_COLOR)
    canvas.rect(0, CARD_HEIGHT - BAND_HEIGHT, CARD_WIDTH, BAND_HEIGHT, stroke=0, fill=1)
    band_middle = CARD_HEIGHT - BAND_HEIGHT / 2
    _draw_block(canvas, store, band_middle + store.height / 2, bold=True, color=white)

    below_name = _draw_block(canvas, member, CARD_HEIGHT - BAND_HEIGHT - 3 * mm, bold=True)
    _draw_block(canvas, tier, below_name - 1 * mm, color=MUTED)

    symbol.draw(canvas, (CARD_WIDTH - symbol.width(bar_width)) / 2, BARS_BOTTOM, BAR_HEIGHT, bar_width)
    draw_text(
        canvas,
        data.card_no,
        CARD_WIDTH / 2,
        BARS_BOTTOM - 1.2 * mm - ascent(NUMBER_SIZE),
        NUMBER_SIZE,
        align="center",
    )
    canvas.showPage()
    canvas.save()
