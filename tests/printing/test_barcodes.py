from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.graphics.barcode import qrencoder
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from app.errors import ValidationError
from app.printing.barcodes import BAR_WIDTH, QR_MAX_BYTES, Code128Symbol, QrSymbol
from app.printing.pdf import open_canvas
from app.printing.qr import LEVEL_M, _pack, penalty, qr_matrix

from . import readback

CODE128_VALUES = [
    "8800012345678",  # odd digit count: code set C with a switch
    "88000123456789",
    "MD-0001234567",
    "coupon-abc xyz",
    "A~!@#$%^&*()_+{}|:<>?",
    "1",
]
QR_VALUES = [
    "K7QX3MPA9RTC",  # alphanumeric mode
    "0123456789012345678901234567890123456789",  # numeric mode
    "https://example.com/c/k7qx3mpa9rtc?src=print",  # byte mode
    "会员台 优惠券 满100减20 单小明",  # UTF-8 bytes, not Shift-JIS Kanji mode
    "X" * QR_MAX_BYTES,
]


def test_every_symbol_reads_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "symbols.pdf"
    canvas = open_canvas(path, A4, "symbols")
    y = A4[1] - 25 * mm
    for value in CODE128_VALUES:
        Code128Symbol.encode(value).draw(canvas, 15 * mm, y, 12 * mm)
        y -= 20 * mm
    canvas.showPage()
    x, y = 10 * mm, A4[1] - 10 * mm
    for value in QR_VALUES:
        symbol = QrSymbol.encode(value)
        if x + symbol.side() > A4[0]:
            x, y = 10 * mm, y - 70 * mm
        symbol.draw(canvas, x, y - symbol.side())
        x += symbol.side() + 5 * mm
    canvas.showPage()
    canvas.save()
    expected = [("CODE-128", value) for value in CODE128_VALUES] + [("QR-Code", value) for value in QR_VALUES]
    assert readback.barcodes(path) == sorted(expected)


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40))
def test_code128_matches_reportlabs_own_measure(value: str) -> None:
    symbol = Code128Symbol.encode(value)
    assert symbol.modules == Code128(value, barWidth=1, quiet=0).width
    assert symbol.width() == pytest.approx((symbol.modules + 20) * BAR_WIDTH)


@pytest.mark.parametrize("value", ["", "会员卡001", "tab\there", "é"])
def test_code128_refuses_what_it_would_silently_drop(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Code128Symbol.encode(value)
    assert caught.value.field == "barcode"


def test_code128_narrows_to_fit_then_refuses() -> None:
    symbol = Code128Symbol.encode("MD-2024-ABCDEFGHIJKLMN")
    assert symbol.bar_width_for(200 * mm) == BAR_WIDTH
    narrowed = symbol.bar_width_for(symbol.width() * 0.9)
    assert 0.2 * mm <= narrowed < BAR_WIDTH
    with pytest.raises(ValidationError):
        symbol.bar_width_for(symbol.width() * 0.5)


def test_qr_refuses_too_much_text() -> None:
    with pytest.raises(ValidationError) as caught:
        QrSymbol.encode("优惠" * 60)  # 360 bytes of UTF-8
    assert caught.value.params == {"length": 360, "limit": QR_MAX_BYTES}


def _reference_penalty(modules: list[list[bool]]) -> int:
    """ISO/IEC 18004 §7.8.3 written out plainly, to check the bit-twiddling version against."""
    size = len(modules)
    lines = [list(row) for row in modules] + [[modules[r][c] for r in range(size)] for c in range(size)]
    score = 0
    for line in lines:
        run = 1
        for index in range(1, size + 1):
            if index < size and line[index] == line[index - 1]:
                run += 1
                continue
            if run >= 5:
                score += 3 + run - 5
            run = 1
        text = "".join("1" if dark else "0" for dark in line)
        for pattern in ("10111010000", "00001011101"):
            score += 40 * sum(text.startswith(pattern, start) for start in range(size))
    for r in range(size - 1):
        for c in range(size - 1):
            if modules[r][c] == modules[r][c + 1] == modules[r + 1][c] == modules[r + 1][c + 1]:
                score += 3
    dark = sum(map(sum, modules))
    score += 10 * int(abs(Fraction(100 * dark, size * size) - 50) // 5)
    return score


@st.composite
def matrices(draw: st.DrawFn) -> list[list[bool]]:
    """Symbols of any size, from nearly all light to nearly all dark, so long runs and blocks all occur."""
    size = draw(st.integers(min_value=21, max_value=45))
    density = draw(st.integers(min_value=0, max_value=100))
    cell = st.integers(min_value=0, max_value=99).map(lambda roll: roll < density)
    return draw(st.lists(st.lists(cell, min_size=size, max_size=size), min_size=size, max_size=size))


@settings(suppress_health_check=[HealthCheck.too_slow])  # big matrices; slow to draw on a busy machine
@given(matrices())
def test_mask_penalty_matches_the_standard(modules: list[list[bool]]) -> None:
    size, stride = len(modules), len(modules) + 1
    valid = sum(((1 << size) - 1) << (row * stride) for row in range(size))
    rows, columns = _pack(modules, stride, transpose=False), _pack(modules, stride, transpose=True)
    assert penalty(rows, columns, size, stride, valid) == _reference_penalty(modules)


def _reportlab_symbols(data: str | qrencoder.QR) -> list[list[list[bool]]]:
    """ReportLab's own symbol of `data` under each of the eight masks."""
    code = qrencoder.QRCode(None, LEVEL_M)
    code.addData(data)
    code.version = code.calculate_version()
    symbols = []
    for mask in range(8):
        code.makeImpl(False, mask)
        symbols.append([list(row) for row in code.modules])
    return symbols


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=40, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=300),
        st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", min_size=1, max_size=300),
        st.binary(min_size=1, max_size=300).map(qrencoder.QR8bitByte),
    )
)
def test_qr_matrix_is_reportlabs_symbol_with_the_least_penalised_mask(data: str | qrencoder.QR) -> None:
    """Module for module what ReportLab makes, for every mode and version up to the 300-byte limit."""
    matrix = qr_matrix(data)
    symbols = _reportlab_symbols(data)
    penalties = [_reference_penalty(symbol) for symbol in symbols]
    assert matrix.mask == penalties.index(min(penalties))
    drawn = [[False] * matrix.size for _ in range(matrix.size)]
    for row, column, length in matrix.dark_runs:
        assert not any(drawn[row][column : column + length])
        drawn[row][column : column + length] = [True] * length
    assert drawn == symbols[matrix.mask]
