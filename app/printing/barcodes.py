"""Code128 and QR symbols drawn straight onto a ReportLab canvas, sized to scan.

Bars and modules are emitted as one filled path per symbol instead of ReportLab's one `rect` call per bar, and the QR
mask is chosen by a bytes-based scorer instead of ReportLab's list-based one: together that is what lets a sheet of a
thousand coupons render inside the two seconds docs/ARCHITECTURE.md §7 allows (ReportLab's encoder alone needs ~1.9 ms
a code).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from reportlab.graphics.barcode import qrencoder
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP

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


def _fill_path(canvas: Canvas, rects: list[tuple[float, float, float, float]]) -> None:
    ops = "".join(f"{x:.2f} {y:.2f} {w:.2f} {h:.2f} re\n" for x, y, w, h in rects)
    canvas.addLiteral(f"q 0 g\n{ops}f Q")


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
        left = x + QUIET_MODULES * bar_width
        _fill_path(canvas, [(left + offset * bar_width, y, width * bar_width, height) for offset, width in self.bars])


_MASK_RUN = re.compile(rb"\x00{5,}|\x01{5,}")
_FINDER_LIKE = (
    b"\x01\x00\x01\x01\x01\x00\x01\x00\x00\x00\x00",
    b"\x00\x00\x00\x00\x01\x00\x01\x01\x01\x00\x01",
)
_AS_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def _mask_penalty(modules: list[list[bool]]) -> int:
    """ISO/IEC 18004 §7.8.3 penalty (N1=3, N2=3, N3=40, N4=10) of one masked symbol."""
    rows = [bytes(row) for row in modules]
    # Rows and columns joined by a separator that matches no pattern, so one C-level scan covers them all.
    lines = b"\x02".join(rows + [bytes(column) for column in zip(*modules, strict=True)])
    runs = sum(len(match) - 2 for match in _MASK_RUN.findall(lines))
    finder_like = 40 * sum(lines.count(pattern) for pattern in _FINDER_LIKE)
    size = len(rows)
    full = (1 << (size - 1)) - 1
    bits = [int(row.translate(_AS_DIGITS), 2) for row in rows]
    blocks = 0
    for upper, lower in itertools.pairwise(bits):
        dark = upper & lower & (upper >> 1) & (lower >> 1)
        light = ~(upper | lower | (upper >> 1) | (lower >> 1)) & full
        blocks += (dark & full).bit_count() + light.bit_count()
    cells = size * size
    dark_count = sum(row.count(1) for row in rows)
    balance = 10 * (abs(20 * dark_count - 10 * cells) // cells)  # 10 per whole 5 % away from half dark
    return runs + finder_like + 3 * blocks + balance


class _QRCode(qrencoder.QRCode):
    def getBestMaskPattern(self) -> int:
        penalties = []
        for pattern in range(8):
            self.makeImpl(True, pattern)
            penalties.append(_mask_penalty(self.modules))
        return penalties.index(min(penalties))


@dataclass(frozen=True)
class QrSymbol:
    """A QR code of `value` (error correction M: survives a crease or a smudge on a coupon)."""

    value: str
    dark_runs: tuple[tuple[int, int, int], ...]  # (row, column, length) of each horizontal run of dark modules
    size: int  # modules per side, without the quiet zone

    @classmethod
    def encode(cls, value: str) -> QrSymbol:
        data = value.encode("utf-8")
        if len(data) > QR_MAX_BYTES:
            raise ValidationError(QR_TOO_LONG, field="qr", length=len(data), limit=QR_MAX_BYTES)
        code = _QRCode(None, qrencoder.QRErrorCorrectLevel.M)
        if value.isascii():
            code.addData(value)  # ReportLab picks numeric, alphanumeric or byte mode, the densest that fits
        else:
            # Explicit UTF-8 bytes: ReportLab would otherwise try Shift-JIS Kanji mode on Chinese text.
            code.addData(qrencoder.QR8bitByte(data))
        code.make()
        runs: list[tuple[int, int, int]] = []
        for row_index, row in enumerate(code.modules):
            start = None
            for column, dark in enumerate([*row, False]):
                if dark and start is None:
                    start = column
                elif not dark and start is not None:
                    runs.append((row_index, start, column - start))
                    start = None
        return cls(value, tuple(runs), code.getModuleCount())

    def side(self, module: float = QR_MODULE) -> float:
        """Side length including the quiet zone."""
        return (self.size + 2 * QR_QUIET_MODULES) * module

    def draw(self, canvas: Canvas, x: float, y: float, module: float = QR_MODULE) -> None:
        """The symbol with its lower-left quiet-zone corner at (x, y); the quiet zone is left blank."""
        top = y + (self.size + QR_QUIET_MODULES) * module
        left = x + QR_QUIET_MODULES * module
        # Rows overlap by a hair so viewers that anti-alias do not show white seams between them.
        _fill_path(
            canvas,
            [
                (left + column * module, top - (row + 1) * module, length * module, module * 1.02)
                for row, column, length in self.dark_runs
            ],
        )
