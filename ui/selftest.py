"""Read-back checks for `python main.py self-test`, using only what ships in the bundle (QtPdf, QtGui).

The Windows build has no poppler or zbar, so the checks the test suite makes with those tools are approximated here:
the text must come out of the PDF (so the font maps to Unicode), a font must be embedded (so a PC without Chinese fonts
shows no boxes), and the first page must paint something. A QGuiApplication must exist before calling these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QWidget

RENDER_DPI = 100
DARK = bytes(range(160))  # grey levels that count as ink
MIN_INK_FRACTION = 0.0005
MIN_WINDOW_SIDE = 100
_WHITESPACE = re.compile(r"\s+")


def _squeeze(text: str) -> str:
    """Line breaks come back as CRLF and spacing may shift, so compare text with all whitespace removed."""
    return _WHITESPACE.sub("", text)


def on_white(image: QImage) -> QImage:
    """QPdfDocument renders onto transparency; transparent pixels would read as black once the alpha is dropped."""
    flat = QImage(image.size(), QImage.Format.Format_RGB32)
    flat.fill(QColor("white"))
    painter = QPainter(flat)
    painter.drawImage(0, 0, image)
    painter.end()
    return flat


def _ink_fraction(image: QImage) -> float:
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = grey.width(), grey.height(), grey.bytesPerLine()
    data = bytes(grey.constBits())
    dark = 0
    for y in range(height):
        row = data[y * stride : y * stride + width]
        dark += width - len(row.translate(None, DARK))
    return dark / (width * height)


def _embeds_a_font(pdf: bytes) -> bool | None:
    """Whether the file carries font programs; None when it uses object streams, which hide the font dictionaries
    from a byte scan (ReportLab does not write them)."""
    if b"/ObjStm" in pdf:
        return None
    return b"/FontFile" in pdf


def check_pdf(path: str | Path, expected_text: Iterable[str]) -> list[str]:
    """Problems with the PDF at `path`, in English for the log; an empty list means it passed."""
    path = Path(path)
    expected = list(expected_text)
    document = QPdfDocument()
    error = document.load(str(path))
    if error != QPdfDocument.Error.None_:
        return [f"{path}: cannot be opened ({error.name})"]
    try:
        if document.pageCount() < 1:
            return [f"{path}: has no pages"]
        problems = []
        page_text = _squeeze(document.getAllText(0).text())
        problems += [f"{path}: page 1 lacks the text {text!r}" for text in expected if _squeeze(text) not in page_text]
        if any(not text.isascii() for text in expected) and _embeds_a_font(path.read_bytes()) is False:
            problems.append(f"{path}: no embedded font, so Chinese shows as boxes on a PC without Chinese fonts")
        points = document.pagePointSize(0)
        size = QSize(max(1, round(points.width() * RENDER_DPI / 72)), max(1, round(points.height() * RENDER_DPI / 72)))
        image = document.render(0, size)
        if image.isNull():
            problems.append(f"{path}: page 1 cannot be rendered")
        elif _ink_fraction(on_white(image)) < MIN_INK_FRACTION:
            problems.append(f"{path}: page 1 renders blank")
        return problems
    finally:
        document.close()


def grab_window_png(widget: QWidget, path: str | Path) -> list[str]:
    """Renders `widget` (works offscreen) to a PNG at `path` and checks the file read back is a real picture."""
    path = Path(path)
    pixmap = widget.grab()
    if pixmap.isNull():
        return ["the window could not be grabbed"]
    if not pixmap.save(str(path), "PNG"):
        return [f"{path}: cannot be written"]
    image = QImage(str(path))
    if image.isNull():
        return [f"{path}: the written PNG cannot be read back"]
    problems = []
    if image.width() < MIN_WINDOW_SIDE or image.height() < MIN_WINDOW_SIDE:
        problems.append(f"{path}: only {image.width()}×{image.height()} pixels")
    pixels = bytes(image.convertToFormat(QImage.Format.Format_RGB32).constBits())
    if pixels == pixels[:4] * (len(pixels) // 4):
        problems.append(f"{path}: the window painted in a single colour")
    return problems
