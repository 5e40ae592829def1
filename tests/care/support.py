"""Shared by the care tests."""

from __future__ import annotations

from app.care.questions import ChoiceText, Question, QuestionKind

QUESTIONS_OF_SAT: tuple[Question, ...] = (
    *(Question(k, QuestionKind.RATING, t) for k, t in (("quality", "商品质量"), ("range", "商品种类是否齐全"))),
    Question("nps", QuestionKind.NPS, "您有多大可能向亲友推荐本店？"),
    Question("visits", QuestionKind.SINGLE, "您多久来一次本店？", choices=(ChoiceText("每周多次"), ChoiceText("每月"))),
    Question("buys", QuestionKind.MULTI, "常买", choices=(ChoiceText("生鲜"), ChoiceText("日用品"))),
    Question("comment", QuestionKind.TEXT, "其他意见和建议"),
)
"""A shortened default survey for the printing tests."""
