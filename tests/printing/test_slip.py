from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from app.printing.slip import PAPER, SlipData, write_slip

from . import readback

PRINTED_AT = dt.datetime(2026, 11, 23, 7, 30, 5, tzinfo=dt.UTC)
REDEMPTION = SlipData(
    store_name="悦享生活超市",
    branch_name="朝阳门店",
    title="积分兑换凭条",
    lines=[("兑换礼品", "保温杯 ×1"), ("扣除积分", "-2,000"), ("兑换单号", "RD-20261123-000123")],
    member_name="张三",
    masked_phone="138****5678",
    points_balance=12345,
    printed_at=PRINTED_AT,
)
LONG_GIFT = "德国进口不锈钢真空保温杯大容量户外运动水杯 750ml 星空蓝限定款 ×2"
LONG_RETURN = SlipData(
    store_name="北京市朝阳区悦享生活连锁超市有限公司",
    branch_name="第一百二十三号分店（朝阳门外大街店）",
    title="退货凭条",
    lines=[("退货商品", LONG_GIFT), ("原销售单号", "S-BJ123-20261120-000045"), ("退回积分", "-1,560")],
    member_name="阿卜杜热合曼·买买提艾力·Christopher Alexander Montgomery",
    masked_phone="139****0001",
    points_balance=-320,
    printed_at=PRINTED_AT,
)


@pytest.mark.parametrize("width_mm", sorted(PAPER))
@pytest.mark.parametrize("slip", [REDEMPTION, LONG_RETURN], ids=["redemption", "long-return"])
def test_slip_reads_back(slip: SlipData, width_mm: int, tmp_path: Path) -> None:
    path = tmp_path / "slip.pdf"
    write_slip(slip, path, width_mm=width_mm)

    width, height = readback.page_size_mm(path)
    assert width == pytest.approx(width_mm, abs=0.5)
    assert 40 < height < 200, "a slip is as long as its content, not A4"
    assert readback.page_count(path) == 1

    text = readback.squeeze(readback.text(path))
    expected = [slip.store_name, slip.branch_name, slip.title, slip.member_name, slip.masked_phone]
    expected += [part for line in slip.lines for part in line]
    expected += [f"{slip.points_balance:,}", PRINTED_AT.strftime("%Y-%m-%d %H:%M:%S")]
    for part in expected:
        assert readback.squeeze(part) in text, part
    assert all(font.embedded for font in readback.fonts(path))


@pytest.mark.parametrize("width_mm", sorted(PAPER))
def test_long_text_wraps_inside_the_printable_width(width_mm: int, tmp_path: Path) -> None:
    path = tmp_path / "slip.pdf"
    write_slip(LONG_RETURN, path, width_mm=width_mm)
    words, width, _height = readback.words(path)
    printable, _size = PAPER[width_mm]
    margin = (width - printable) / 2
    for word in words:
        assert word.left >= margin - 0.5 and word.right <= width - margin + 0.5, word
    assert not readback.overlapping(words)
    # The gift name needs more than one line on either paper, and every part of it is there.
    gift_lines = [word for word in words if word.text and word.text in LONG_GIFT]
    assert len({round(word.top) for word in gift_lines}) >= 2


def test_negative_balance_is_spelled_out(tmp_path: Path) -> None:
    path = tmp_path / "slip.pdf"
    write_slip(LONG_RETURN, path)
    text = readback.text(path)
    assert "-320" in text
    assert "below zero" in text  # untranslated here; zh_CN shows the Chinese


def test_more_lines_make_a_longer_slip(tmp_path: Path) -> None:
    short, long = tmp_path / "short.pdf", tmp_path / "long.pdf"
    write_slip(REDEMPTION, short)
    write_slip(replace(REDEMPTION, lines=REDEMPTION.lines * 4), long)
    assert readback.page_size_mm(long)[1] > readback.page_size_mm(short)[1] + 10


def test_refuses_unknown_paper_and_naive_times(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mm paper"):
        write_slip(REDEMPTION, tmp_path / "slip.pdf", width_mm=76)
    with pytest.raises(ValueError, match="timezone"):
        write_slip(replace(REDEMPTION, printed_at=dt.datetime(2026, 11, 23, 7, 30)), tmp_path / "slip.pdf")
