"""Code128 and QR symbols drawn straight onto a ReportLab canvas, sized to scan.

Bars and modules are emitted as one filled path per symbol, in the symbol's own units under one transform, instead of
ReportLab's one `rect` call per bar; the QR matrix comes from app.printing.qr (~0.1 ms a code, against ~2.3 ms for
ReportLab's encoder). Together that is what lets a sheet of a thousand coupons render inside the two seconds
docs/ARCHITECTURE.md §7 allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.graphics.barcode import qrencoder
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP
from app.printing.qr import qr_matrix

# 0.25 mm is the narrowest bar PLATFORM.md saw read back exactly from a 200 dpi render and what a 203 dpi receipt
# printer can place (2 dots); 0.2 mm is the floor when a long number must still fit a card (2.4 dots at 300 dpi).
BAR_WIDTH = 0.25 * mm
MIN_BAR_WIDTH = 0.2 * mm
QUIET_MODULES = 10  # Code128 quiet zone, in bar widths, each side
QR_MODULE = 0.5 * mm
QR_QUIET_MODULES = 4
QR_MAX_BYTES = 300  # denser than this is hard to read from paper with a phone camera

CODE128_TOO_LONG = QT_TRANSLATE_NOOP("Printing", "{value} is too long to print as a barcode here")
CODE128_NOT_ASCII = QT_TRANSLATE_NOOP("Printing", "A barcode can only hold letters, digits and ASCII signs: {value}")
QR_TOO_LONG = QT_TRANSLATE_NOOP("Printing", "Too much text for a QR code ({length} bytes, at most {limit})")


def _fill_path(canvas: Canvas, transform: tuple[float, float, float, float], rects: str) -> None:
    """Rectangles given in the symbol's own units (bars or modules) filled as one path: the units are mapped onto the
    page by one transform (x scale, y scale, x, y), so the path itself is small integers, cheap to write."""
    sx, sy, x, y = transform
    canvas.addLiteral(f"q 0 g {sx:.5f} 0 0 {sy:.5f} {x:.3f} {y:.3f} cm\n{rects}f Q")


@dataclass(frozen=True)
class Code128Symbol:
    """A Code128 encoding of `value`, measured in modules so layouts can size it before drawing."""

    value: str
    bars: tuple[tuple[int, int], ...]  # (offset, width) of each bar, in modules
    modules: int

    @classmethod
    def encode(cls, value: str) -> Code128Symbol:
        # ReportLab silently drops characters it cannot encode, which would print a barcode of a different number.
        if not value or not all(" " <= char <= "~" for char in value):
            raise ValidationError(CODE128_NOT_ASCII, field="barcode", value=value)
        pattern = Code128(value, barWidth=1, quiet=0)
        pattern.width  # noqa: B018 - computing the width fills in the bar pattern
        bars: list[tuple[int, int]] = []
        offset = 0
        for code in pattern.decomposed:  # a letter per element: its case says bar or space, its place the width
            width = ord(code.lower()) - ord("a") + 1
            if code.isupper():
                bars.append((offset, width))
            offset += width
        return cls(value, tuple(bars), offset)

    def width(self, bar_width: float = BAR_WIDTH) -> float:
        """Width including both quiet zones."""
        return (self.modules + 2 * QUIET_MODULES) * bar_width

    def bar_width_for(self, available: float) -> float:
        """The standard bar width, or narrower down to the floor when `available` is short."""
        bar_width = min(BAR_WIDTH, available / (self.modules + 2 * QUIET_MODULES))
        if bar_width < MIN_BAR_WIDTH:
            raise ValidationError(CODE128_TOO_LONG, field="barcode", value=self.value)
        return bar_width

    def draw(self, canvas: Canvas, x: float, y: float, height: float, bar_width: float = BAR_WIDTH) -> None:
        """Bars from (x, y) upwards; x is the outer edge of the left quiet zone, which is left blank."""
        rects = "".join(f"{offset} 0 {width} 1 re\n" for offset, width in self.bars)
        _fill_path(canvas, (bar_width, height, x + QUIET_MODULES * bar_width, y), rects)


@dataclass(frozen=True)
class QrSymbol:
    """A QR code of `value` (error correction M: survives a crease or a smudge on a coupon)."""

    value: str
    rects: str  # the dark modules as PDF rectangles, a module a unit, rows counted downwards from the top
    size: int  # modules per side, without the quiet zone

    @classmethod
    def encode(cls, value: str) -> QrSymbol:
        data = value.encode("utf-8")
        if len(data) > QR_MAX_BYTES:
            raise ValidationError(QR_TOO_LONG, field="qr", length=len(data), limit=QR_MAX_BYTES)
        # Explicit UTF-8 bytes for anything not ASCII: ReportLab would otherwise try Shift-JIS Kanji mode on Chinese.
        matrix = qr_matrix(value if value.isascii() else qrencoder.QR8bitByte(data))
        rects = "".join(f"{column} {row} {length} 1.02 re\n" for row, column, length in matrix.dark_runs)
        return cls(value, rects, matrix.size)

    def side(self, module: float = QR_MODULE) -> float:
        """Side length including the quiet zone."""
        return (self.size + 2 * QR_QUIET_MODULES) * module

    def draw(self, canvas: Canvas, x: float, y: float, module: float = QR_MODULE) -> None:
        """The symbol with its lower-left quiet-zone corner at (x, y); the quiet zone is left blank."""
        top = y + (self.size + QR_QUIET_MODULES) * module
        # Rows overlap by a hair so viewers that anti-alias do not show white seams between them.
        _fill_path(canvas, (module, -module, x + QR_QUIET_MODULES * module, top), self.rects)
