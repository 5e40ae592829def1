from __future__ import annotations

import itertools

from hypothesis import assume, given
from hypothesis import strategies as st
from reportlab.pdfbase.pdfmetrics import stringWidth

from app.printing.fonts import regular_font
from app.printing.text import NO_LINE_START, fit_text, wrap_balanced, wrap_text

from .readback import squeeze

FONT = regular_font()

pieces = st.one_of(
    st.sampled_from(list("张三单小明会员积分兑换凭条退货保温杯北京朝阳")),
    st.sampled_from(list("，。、：（）《》·")),
    st.sampled_from(["Christopher", "Montgomery", "750ml", "RD-20261123-000123", "×2", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]),
    st.sampled_from([" ", "  ", ",", ".", "(", ")"]),
)
texts = st.lists(pieces, max_size=60).map("".join)


@given(texts, st.floats(min_value=30, max_value=300))
def test_lines_fit_and_nothing_is_lost(text: str, width: float) -> None:
    lines = wrap_text(text, FONT, 10, width)
    assert all(stringWidth(line, FONT, 10) <= width for line in lines)
    assert squeeze("".join(lines)) == squeeze(text)


@given(texts, st.floats(min_value=30, max_value=300))
def test_no_line_starts_with_closing_punctuation_or_a_space(text: str, width: float) -> None:
    # A run of closing punctuation wider than a line has no allowed break at all; real text never has one.
    breakless = NO_LINE_START | {" "}
    assume(not any(a in breakless and b in breakless for a, b in itertools.pairwise(text)))
    lines = wrap_text(text, FONT, 10, width)
    for line in lines[1:]:
        if line:
            assert line[0] not in NO_LINE_START, lines
            assert not line[0].isspace(), lines


@given(texts, st.floats(min_value=30, max_value=300))
def test_balanced_keeps_the_line_count(text: str, width: float) -> None:
    balanced = wrap_balanced(text, FONT, 10, width)
    assert len(balanced) == len(wrap_text(text, FONT, 10, width))
    assert all(stringWidth(line, FONT, 10) <= width for line in balanced)
    assert squeeze("".join(balanced)) == squeeze(text)


def test_chinese_breaks_anywhere_latin_words_stay_whole() -> None:
    width = stringWidth("阿卜杜热合曼·买买提艾力·", FONT, 10)
    lines = wrap_text("阿卜杜热合曼·买买提艾力·Christopher Alexander", FONT, 10, width)
    assert lines == ["阿卜杜热合曼·买买提艾力·", "Christopher Alexander"]


def test_balanced_heading_leaves_no_orphan() -> None:
    name = "北京市朝阳区悦享生活连锁超市有限公司"
    width = stringWidth(name[:-2], FONT, 12)
    assert wrap_text(name, FONT, 12, width)[-1] == "公司"
    assert [len(line) for line in wrap_balanced(name, FONT, 12, width)] == [9, 9]


def test_explicit_newlines_are_kept() -> None:
    assert wrap_text("第一行\n\n第三行", FONT, 10, 200) == ["第一行", "", "第三行"]


def test_fit_shrinks_then_gives_up() -> None:
    short = fit_text("张三", FONT, 100, 20, 16, 8)
    assert short is not None and short.size == 16
    long = fit_text("阿卜杜热合曼·买买提艾力" * 3, FONT, 100, 30, 16, 8)
    assert long is not None and long.size < 16 and long.height <= 30
    assert fit_text("阿卜杜热合曼·买买提艾力" * 30, FONT, 100, 30, 16, 8) is None
