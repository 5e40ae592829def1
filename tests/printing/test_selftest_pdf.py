from __future__ import annotations

from pathlib import Path

import pytest

from app.printing.selftest import write_selftest_pdf

from . import readback


def test_selftest_page_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "selftest.pdf"
    page = write_selftest_pdf(path)

    width, height = readback.page_size_mm(path)
    assert (width, height) == (pytest.approx(210, abs=0.5), pytest.approx(297, abs=0.5))
    text = readback.squeeze(readback.text(path))
    assert any(not expected.isascii() for expected in page.texts)
    for expected in page.texts:
        assert readback.squeeze(expected) in text
    fonts = readback.fonts(path)
    assert fonts and all(font.embedded for font in fonts), fonts
    assert readback.barcodes(path) == sorted([("CODE-128", page.code128), ("QR-Code", page.qr)])
