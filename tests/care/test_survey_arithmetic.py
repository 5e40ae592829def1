"""CSAT, NPS and the summaries worked out by hand on made-up answers; answer parsing; form numbers."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.care.questions import ChoiceText, Question, QuestionKind, csat, mean, nps, parse_answers, validate_questions
from app.care.surveys import TemplateInfo, form_number, parse_form_number, summarise
from app.errors import ValidationError

RATING = Question("q", QuestionKind.RATING, "满意度")
NPS = Question("n", QuestionKind.NPS, "推荐")
PICK = Question("p", QuestionKind.SINGLE, "来店", choices=(ChoiceText("步行"), ChoiceText("开车"), ChoiceText("公交")))
MANY = Question("m", QuestionKind.MULTI, "常买", choices=(ChoiceText("生鲜"), ChoiceText("日用")))
NOTE = Question("t", QuestionKind.TEXT, "建议")
QUESTIONS = (RATING, NPS, PICK, MANY, NOTE)


def test_csat_is_the_share_of_fours_and_fives() -> None:
    # ratings 5, 4, 3, 1: two of four are 4–5
    assert csat(Counter([5, 4, 3, 1])) == 50.0
    assert csat(Counter([5, 5, 5])) == 100.0
    assert csat(Counter()) is None


def test_nps_is_promoters_minus_detractors() -> None:
    # 10, 9, 9 promoters; 8, 7 passives; 6, 0 detractors; 7 answers: (3 - 2) / 7 = 14.29
    assert nps(Counter([10, 9, 9, 8, 7, 6, 0])) == pytest.approx(100 / 7)
    assert nps(Counter([0, 6])) == -100.0
    assert nps(Counter([7, 8])) == 0.0
    assert nps(Counter()) is None
    assert mean(Counter([1, 5])) == 3.0


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1))
def test_nps_stays_within_its_range(scores: list[int]) -> None:
    value = nps(Counter(scores))
    assert value is not None and -100 <= value <= 100


def test_summary_of_hand_made_forms() -> None:
    at = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
    rows = [
        ({"q": 5, "n": 10, "p": "A", "m": ["A", "B"], "t": "很好"}, at, "总店"),
        ({"q": 4, "n": 6, "p": "B", "m": ["A"]}, at, "总店"),
        ({"q": 2, "n": 9}, at + dt.timedelta(days=40), "二店"),
    ]
    template = TemplateInfo(1, "T", 1, "调查", "", "", QUESTIONS, True)
    results = summarise(template, QUESTIONS, rows, by_month=True)
    assert results.responses == 3
    assert results.csat == pytest.approx(200 / 3)  # 5 and 4 of 5, 4, 2
    assert results.nps == pytest.approx(100 / 3)  # promoters 10, 9; detractor 6
    rating, recommend, pick, many, note = results.questions
    assert rating.distribution == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert recommend.distribution["10"] == 1 and recommend.answered == 3
    assert pick.distribution == {"A": 1, "B": 1, "C": 0} and pick.answered == 2
    assert many.distribution == {"A": 2, "B": 1} and many.answered == 2
    assert note.texts == [(at, "很好")]
    assert [(p.label, p.responses, p.csat, p.nps) for p in results.trend] == [
        ("2026-03", 2, 100.0, 0.0),
        ("2026-04", 1, 0.0, 100.0),
    ]
    assert {b.label: b.responses for b in results.branches} == {"总店": 2, "二店": 1}
    weekly = summarise(template, QUESTIONS, rows, by_month=False)
    assert weekly.trend[0].label == "2026-W10"


@pytest.mark.parametrize(
    ("question", "typed", "answer"),
    [
        (RATING, "4", 4),
        (NPS, "0", 0),
        (NPS, "10", 10),
        (PICK, "c", "C"),
        (MANY, "b a", ["A", "B"]),
        (NOTE, " 好 ", "好"),
    ],
)
def test_typed_answers(question: Question, typed: str, answer: object) -> None:
    assert question.parse(typed, 1) == answer
    assert question.parse("  ", 1) is None


@pytest.mark.parametrize(
    ("question", "typed"),
    [(RATING, "0"), (RATING, "6"), (RATING, "x"), (NPS, "11"), (NPS, "-1"), (PICK, "D"), (PICK, "AB"), (MANY, "AC")],
)
def test_out_of_range_answers_are_refused(question: Question, typed: str) -> None:
    with pytest.raises(ValidationError, match="Question 3"):
        question.parse(typed, 3)


def test_a_blank_form_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_answers(QUESTIONS, {"q": "", "n": " "})
    assert parse_answers(QUESTIONS, {"q": "3"}) == {"q": 3}


def test_questions_get_keys_and_are_checked() -> None:
    made = validate_questions([Question("q1", QuestionKind.RATING, "a"), Question("", QuestionKind.TEXT, "b")])
    assert [q.key for q in made] == ["q1", "q2"]
    with pytest.raises(ValidationError):
        validate_questions([Question("", QuestionKind.RATING, " ")])
    with pytest.raises(ValidationError):
        validate_questions([])


def test_form_numbers_carry_a_check_digit() -> None:
    number = form_number(1234)
    assert len(number) == 11 and parse_form_number(f" {number.lower()} ") == number
    for wrong in (number[:-1] + str((int(number[-1]) + 1) % 10), "880000000017", "", "SV12"):
        with pytest.raises(ValidationError):
            parse_form_number(wrong)
