"""Survey forms read back as a person and a scanner would: text, embedded font, every QR code at 150 dpi, layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.care.questions import ChoiceText, Question, QuestionKind
from app.care.surveys import FormBatch, PrintedForm, TemplateInfo, form_number
from app.errors import ValidationError
from app.printing.survey_form import ENGLISH, write_survey_forms
from tests.care.support import QUESTIONS_OF_SAT
from tests.printing import readback


def batch(count: int, questions: tuple[Question, ...] = QUESTIONS_OF_SAT, card: str | None = None) -> FormBatch:
    template = TemplateInfo(1, "SAT", 1, "顾客满意度调查", "Customer survey", "感谢您的宝贵意见！", questions, True)
    forms = tuple(PrintedForm(form_number(n), card, None) for n in range(1, count + 1))
    return FormBatch("b1", "会员台示例超市", template, forms)


def test_forms_read_back(tmp_path: Path) -> None:
    path = tmp_path / "forms.pdf"
    layout = write_survey_forms(batch(5, card="880000000013"), path)
    assert layout.per_page == 2 and layout.pages == 3 == readback.page_count(path)
    text = readback.squeeze(readback.text(path))
    for expected in (
        "会员台示例超市",
        "顾客满意度调查",
        "商品质量",
        "您有多大可能向亲友推荐本店？",
        "每周多次",
        "问卷编号",
    ):
        assert expected in text
    assert text.count("会员卡号880000000013") == 5
    for n in range(1, 6):
        assert form_number(n) in text
    assert all(font.embedded for font in readback.fonts(path))
    assert readback.barcodes(path, dpi=150) == sorted(("QR-Code", form_number(n)) for n in range(1, 6))
    found, _width, _height = readback.words(path)
    assert readback.overlapping(found) == []


def test_a_short_survey_fits_more_to_a_sheet(tmp_path: Path) -> None:
    path = tmp_path / "short.pdf"
    short = (Question("q1", QuestionKind.RATING, "总体满意度"), Question("q2", QuestionKind.TEXT, "建议"))
    layout = write_survey_forms(batch(9, short), path, ENGLISH)
    assert layout.per_page == 4 and readback.page_count(path) == 3
    assert "Form no." in readback.text(path)
    assert len(readback.barcodes(path, dpi=150)) == 9


def test_a_survey_too_long_for_a_page_is_refused(tmp_path: Path) -> None:
    many = tuple(
        Question(f"q{n}", QuestionKind.MULTI, f"问题{n}", choices=tuple(ChoiceText(f"选项{c}") for c in range(10)))
        for n in range(30)
    )
    with pytest.raises(ValidationError):
        write_survey_forms(batch(1, many), tmp_path / "long.pdf")
    assert not (tmp_path / "long.pdf").exists()
