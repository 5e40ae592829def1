"""Make resources/icons/memberdesk.ico from memberdesk.svg: the icon of the .exe files, the shortcuts and the
installer. Run again after changing the SVG (a test fails while the two disagree):

    .venv/bin/python packaging/make_icon.py

Each size is drawn from the SVG at that size (not scaled down from a big one) and stored as PNG inside the ICO,
which Windows reads since Vista.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "memberdesk.svg"
ICO = ROOT / "resources" / "icons" / "memberdesk.ico"
SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)
"""Explorer, the taskbar and the Start menu at 100-250 % scaling."""


def png_of(renderer: QSvgRenderer, size: int) -> bytes:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def ico_bytes(svg: Path) -> bytes:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG")
    images = [(size, png_of(renderer, size)) for size in SIZES]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, blobs = b"", b""
    for size, png in images:
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory entry
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + entries + blobs


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    ICO.write_bytes(ico_bytes(SVG))
    print(f"{ICO.relative_to(ROOT)}: {len(SIZES)} sizes, {ICO.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
