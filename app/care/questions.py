"""Survey questions, the answers typed from a returned form, and the survey arithmetic — pure, no database.

Keyboard codes: a 1–5 rating is its digit, NPS 0–10 its number, a single choice one letter (A, B…), a multiple
choice its letters (AC), a short text as written. An empty answer means the customer left it blank.

CSAT of a rating question: the share of its answers that are 4 or 5. NPS: % promoters (9–10) − % detractors (0–6).
"""

from __future__ import annotations

import enum
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S

MAX_CHOICES = 10
MAX_QUESTIONS = 30
MAX_TEXT = 500
LETTERS = string.ascii_uppercase[:MAX_CHOICES]
Answer = int | str | list[str]


class QuestionKind(enum.StrEnum):
    RATING = "rating"
    NPS = "nps"
    SINGLE = "single"
    MULTI = "multi"
    TEXT = "text"


KIND_LABELS = {
    QuestionKind.RATING: S("Care", "Rating 1–5"),
    QuestionKind.NPS: S("Care", "Recommend 0–10 (NPS)"),
    QuestionKind.SINGLE: S("Care", "Single choice"),
    QuestionKind.MULTI: S("Care", "Multiple choice"),
    QuestionKind.TEXT: S("Care", "Short text"),
}
_KEY = re.compile(r"[a-z][a-z0-9_]{0,19}")


@dataclass(frozen=True)
class ChoiceText:
    text: str
    text_en: str = ""


@dataclass(frozen=True)
class Question:
    key: str
    kind: QuestionKind
    text: str
    text_en: str = ""
    choices: tuple[ChoiceText, ...] = ()

    def shown(self, english: bool) -> str:
        return (self.text_en or self.text) if english else self.text

    @property
    def letters(self) -> str:
        return LETTERS[: len(self.choices)]

    def hint(self) -> str:
        """What may be typed, e.g. "1–5", "0–10", "A–D", "A–E…"."""
        if self.kind == QuestionKind.RATING:
            return "1–5"
        if self.kind == QuestionKind.NPS:
            return "0–10"
        if self.kind in (QuestionKind.SINGLE, QuestionKind.MULTI):
            return f"A–{self.letters[-1]}" + ("…" if self.kind == QuestionKind.MULTI else "")
        return ""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind.value,
            "text": self.text,
            "text_en": self.text_en,
            "choices": [{"text": c.text, "text_en": c.text_en} for c in self.choices],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Question:
        return cls(
            key=str(raw["key"]),
            kind=QuestionKind(raw["kind"]),
            text=str(raw.get("text", "")),
            text_en=str(raw.get("text_en", "") or ""),
            choices=tuple(
                ChoiceText(str(c.get("text", "")), str(c.get("text_en", "") or "")) for c in raw.get("choices", [])
            ),
        )

    def parse(self, raw: str, number: int) -> Answer | None:
        """The answer typed for this question (question `number` on the form), or None for a blank."""
        value = raw.strip()
        if not value:
            return None
        if self.kind == QuestionKind.TEXT:
            if len(value) > MAX_TEXT:
                raise ValidationError(
                    S("Errors", "Question {number}: at most {most} characters."),
                    field=self.key,
                    number=number,
                    most=MAX_TEXT,
                )
            return value
        if self.kind in (QuestionKind.RATING, QuestionKind.NPS):
            low, high = (1, 5) if self.kind == QuestionKind.RATING else (0, 10)
            if not value.isdigit() or not low <= int(value) <= high:
                raise ValidationError(
                    S("Errors", "Question {number}: enter a number from {low} to {high}."),
                    field=self.key,
                    number=number,
                    low=low,
                    high=high,
                )
            return int(value)
        letters = value.upper().replace(" ", "").replace(",", "")
        bad = [ch for ch in letters if ch not in self.letters]
        if bad or (self.kind == QuestionKind.SINGLE and len(letters) != 1):
            message = (
                S("Errors", "Question {number}: enter one letter from {first} to {last}.")
                if self.kind == QuestionKind.SINGLE
                else S("Errors", "Question {number}: enter letters from {first} to {last}.")
            )
            raise ValidationError(message, field=self.key, number=number, first=self.letters[0], last=self.letters[-1])
        if self.kind == QuestionKind.SINGLE:
            return letters
        return sorted(set(letters))


def validate_questions(questions: Sequence[Question]) -> tuple[Question, ...]:
    """A template's questions, checked; keys are made for new questions (q1, q2… not yet used)."""
    if not questions:
        raise ValidationError(S("Errors", "A survey needs at least one question."), field="questions")
    if len(questions) > MAX_QUESTIONS:
        raise ValidationError(
            S("Errors", "A survey has at most {most} questions."), field="questions", most=MAX_QUESTIONS
        )
    used = {q.key for q in questions if q.key}
    cleaned: list[Question] = []
    seen: set[str] = set()
    serial = 1
    for number, question in enumerate(questions, start=1):
        key = question.key
        if not key:
            while f"q{serial}" in used:
                serial += 1
            key = f"q{serial}"
            used.add(key)
        if not _KEY.fullmatch(key) or key in seen:
            raise ValidationError(S("Errors", "Question {number}: its key is not valid or used twice."), number=number)
        seen.add(key)
        text = question.text.strip()
        if not text:
            raise ValidationError(S("Errors", "Question {number} has no text."), field="questions", number=number)
        choices = tuple(ChoiceText(c.text.strip(), c.text_en.strip()) for c in question.choices if c.text.strip())
        if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTI):
            if not 2 <= len(choices) <= MAX_CHOICES:
                raise ValidationError(
                    S("Errors", "Question {number}: a choice question needs 2 to {most} choices."),
                    field="questions",
                    number=number,
                    most=MAX_CHOICES,
                )
        else:
            choices = ()
        cleaned.append(Question(key, question.kind, text, question.text_en.strip(), choices))
    return tuple(cleaned)


def parse_answers(questions: Sequence[Question], typed: Mapping[str, str]) -> dict[str, Answer]:
    """Every typed answer checked against its question; blanks are left out. A form with no answer at all is refused."""
    answers: dict[str, Answer] = {}
    for number, question in enumerate(questions, start=1):
        value = question.parse(typed.get(question.key, ""), number)
        if value is not None:
            answers[question.key] = value
    if not answers:
        raise ValidationError(S("Errors", "The form has no answers; enter at least one."), field="answers")
    return answers


# ---- arithmetic ------------------------------------------------------------------------------------------------
def csat(counts: Mapping[int, int]) -> float | None:
    """Share (0–100) of 1–5 ratings that are 4 or 5; None with no ratings."""
    total = sum(counts.values())
    if not total:
        return None
    return 100.0 * (counts.get(4, 0) + counts.get(5, 0)) / total


def nps(counts: Mapping[int, int]) -> float | None:
    """% promoters (9–10) − % detractors (0–6), from −100 to 100; None with no answers."""
    total = sum(counts.values())
    if not total:
        return None
    promoters = sum(n for score, n in counts.items() if score >= 9)
    detractors = sum(n for score, n in counts.items() if score <= 6)
    return 100.0 * (promoters - detractors) / total


def mean(counts: Mapping[int, int]) -> float | None:
    total = sum(counts.values())
    return sum(score * n for score, n in counts.items()) / total if total else None
