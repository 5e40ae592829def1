"""Every coupon layout read back as a person and a scanner would: each coupon's Code128 and QR decode to exactly its
code at the printer's own resolution (150 dpi A4, 203 dpi receipt printers), the Chinese text extracts, the only
font is embedded, pages have the right size and count."""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from app.coupons.codes import grouped, new_codes
from app.printing.coupon import CELL_H, CELL_W, COLUMNS, ORIGIN_X, ORIGIN_Y, ROWS, CouponPrintData, write_coupons
from tests.printing import readback

DPI = {"a4": 150, "80mm": 203, "58mm": 203}


def sheet_cells(path: Path, dpi: int = DPI["a4"], pages: tuple[int, int] | None = None) -> list[list[tuple[str, str]]]:
    """What zbar reads in each coupon of an A4 sheet (of its pages first to last, when given), cut out at its cut
    marks as the store would (a scanner at the counter sees one coupon, not a page of ten: zbar's QR finder misses
    some on a whole page it reads alone)."""
    some = ["-f", str(pages[0]), "-l", str(pages[1])] if pages else []
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["pdftoppm", "-r", str(dpi), *some, "-png", str(path), f"{folder}/page"], check=True)
        cells = []
        for page in sorted(Path(folder).glob("page*.png")):
            image = Image.open(page)
            scale = dpi / 72
            for slot in range(COLUMNS * ROWS):
                row, column = divmod(slot, COLUMNS)
                left, top = (ORIGIN_X + column * CELL_W) * scale, (ORIGIN_Y + row * CELL_H) * scale
                cell = image.crop((round(left), round(top), round(left + CELL_W * scale), round(top + CELL_H * scale)))
                target = Path(folder) / f"{page.stem}-{slot}.png"
                cell.save(target)
                found = subprocess.run(["zbarimg", "-q", str(target)], capture_output=True, text=True, check=False)
                symbols = sorted(tuple(line.split(":", 1)) for line in found.stdout.splitlines())
                cells.append([(kind, value) for kind, value in symbols])
    return cells


STORE = "悦享生活超市（人民路店）"


def data(count: int) -> CouponPrintData:
    return CouponPrintData(
        STORE,
        "金卡会员专享",
        "满¥100减¥20",
        "每单限用一张，不与其他优惠同享，烟酒除外。",
        dt.date(2026, 11, 18),
        dt.date(2026, 12, 31),
        [(code, "张三" if index == 0 else None) for index, code in enumerate(sorted(new_codes(count)))],
    )


@pytest.mark.parametrize(("layout", "count", "pages"), [("a4", 12, 2), ("80mm", 3, 3), ("58mm", 3, 3)])
def test_every_layout_decodes_to_exactly_its_codes(tmp_path: Path, layout: str, count: int, pages: int) -> None:
    coupons = data(count)
    path = tmp_path / f"{layout}.pdf"
    assert write_coupons(coupons, path, layout) == pages
    assert readback.page_count(path) == pages
    codes = [code for code, _holder in coupons.coupons]
    if layout == "a4":  # each coupon, where it sits on the sheet, reads as exactly its own code, both symbols
        cells = sheet_cells(path)
        assert cells[: len(codes)] == [[("CODE-128", code), ("QR-Code", code)] for code in codes]
        assert not any(cells[len(codes) :]), "the empty places on the last sheet stay empty"
    else:
        expected = sorted([("CODE-128", code) for code in codes] + [("QR-Code", code) for code in codes])
        assert readback.barcodes(path, DPI[layout]) == expected
    text = readback.squeeze(readback.text(path))
    for piece in (STORE, "满¥100减¥20", "烟酒除外", "张三", grouped(codes[0])):
        assert readback.squeeze(piece) in text
    assert "2026-11-18" in text and "2026-12-31" in text
    fonts = readback.fonts(path)
    assert fonts and all(font.embedded for font in fonts)
    width, _height = readback.page_size_mm(path)
    assert round(width) == {"a4": 210, "80mm": 80, "58mm": 58}[layout]


def test_a_long_store_name_and_terms_stay_inside_the_coupon(tmp_path: Path) -> None:
    long = CouponPrintData(
        "悦享生活超市连锁有限公司人民路旗舰店暨会员服务中心",
        "一个很长很长的活动名称" * 3,
        "满¥100减¥20",
        "条款" * 200,
        dt.date(2026, 11, 17),
        dt.date(2026, 12, 31),
        [(code, None) for code in new_codes(2)],
    )
    path = tmp_path / "long.pdf"
    write_coupons(long, path, "a4")
    found, page_width, _ = readback.words(path)
    assert all(word.right <= page_width / 2 + 1 for word in found if word.left < page_width / 2 - 5)
    assert [len(cell) for cell in sheet_cells(path)][:2] == [2, 2]
