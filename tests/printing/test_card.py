from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ValidationError
from app.printing.card import BAR_HEIGHT, BARS_BOTTOM, MemberCardData, write_member_card

from . import readback

PLAIN = MemberCardData("悦享生活超市（朝阳门店）", "张三", "8800012345678", "金卡会员")
LONG = MemberCardData(
    "北京市朝阳区悦享生活连锁超市有限公司第一百二十三号分店会员服务中心",
    "阿卜杜热合曼·买买提艾力·Christopher Alexander Montgomery",
    "MD-2024-ABCDEFGHIJKLMN",
    "钻石至尊黑金卡终身荣誉会员（限时特别版）",
)


@pytest.mark.parametrize("card", [PLAIN, LONG], ids=["plain", "long"])
def test_card_reads_back(card: MemberCardData, tmp_path: Path) -> None:
    path = tmp_path / "card.pdf"
    write_member_card(card, path)

    width, height = readback.page_size_mm(path)
    assert width == pytest.approx(85.6, abs=0.1)
    assert height == pytest.approx(53.98, abs=0.1)
    assert readback.page_count(path) == 1

    text = readback.squeeze(readback.text(path))
    for expected in (card.store_name, card.member_name, card.tier_name, card.card_no):
        assert readback.squeeze(expected) in text

    fonts = readback.fonts(path)
    assert fonts, "no fonts at all"
    assert all(font.embedded for font in fonts), fonts

    assert readback.barcodes(path) == [("CODE-128", card.card_no)]


@pytest.mark.parametrize("card", [PLAIN, LONG], ids=["plain", "long"])
def test_nothing_runs_off_the_card_or_over_the_bars(card: MemberCardData, tmp_path: Path) -> None:
    path = tmp_path / "card.pdf"
    write_member_card(card, path)
    words, width, height = readback.words(path)
    bars_top = height - (BARS_BOTTOM + BAR_HEIGHT)  # pdftotext measures from the top edge
    bars_bottom = height - BARS_BOTTOM
    for word in words:
        assert word.left > 0 and word.right < width and word.top > 0 and word.bottom < height, word
        assert word.bottom <= bars_top or word.top >= bars_bottom, f"{word} overlaps the barcode"
    assert not readback.overlapping(words)


def test_long_card_number_narrows_the_bars_but_still_scans(tmp_path: Path) -> None:
    card = MemberCardData("店", "张三", "MD-2024-ABCDEFGHIJKLMNOPQRS", "普通会员")
    path = tmp_path / "card.pdf"
    write_member_card(card, path)
    assert readback.barcodes(path, dpi=300) == [("CODE-128", card.card_no)]


@pytest.mark.parametrize(
    ("card", "field"),
    [
        (MemberCardData("店", "张三", "卡8800012345678", "金卡"), "barcode"),
        (MemberCardData("店", "张三", "X" * 40, "金卡"), "barcode"),
        (MemberCardData("店", "张三" * 200, "8800012345678", "金卡"), "member_name"),
        (MemberCardData("店" * 300, "张三", "8800012345678", "金卡"), "store_name"),
        (MemberCardData("店", "张三", "8800012345678", "金卡" * 60), "tier_name"),
    ],
)
def test_refuses_what_cannot_print_well(card: MemberCardData, field: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        write_member_card(card, tmp_path / "card.pdf")
    assert caught.value.field == field
    assert not (tmp_path / "card.pdf").exists()
