"""What typed text is looked up as, without the database library: the stages `app.members.lookup` runs (its module
docstring says what each kind of text means), named, so the counter's first lookup can run them on a plain
connection before SQLAlchemy is loaded (`app.members.first_lookup`, docs/ARCHITECTURE.md §7)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from app.members.validation import fold_width

P = TypeVar("P")

EXACT_MIN = 5
"""A card or member number is at least this long; shorter text is never looked up as one exactly."""
Stages = dict[str, tuple[bool, list[tuple[str, dict[str, Any]]]]]
"""The lookup's statements for one kind of database, by stage name: whether the stage is exact, and each part's SQL
with the values it binds besides the typed text and the limit (`app/members/first_sql.py` for SQLite)."""
PREFIX_END = "\U0010ffff"
"""Appended to a prefix, the end of its range."""


def lookup_text(raw: str) -> str:
    """The text as the lookup reads it: full-width folded to ASCII, all spaces dropped (any white space `\\s`
    matches; split and join, not a regular expression, on the counter's path)."""
    return "".join(fold_width(raw or "").split())


def plan_stages(raw: str) -> list[tuple[str, str]]:
    """The stages for `raw`, by name (`app.members.lookup.STAGES`), each with the text it looks for; none for blank
    text."""
    text = lookup_text(raw)
    if not text:
        return []
    if not text.isascii():
        return [("NAME", text)]
    digits = text.isdigit()
    if digits and len(text) == 4:
        return [("LAST4", text)]
    upper = text.upper()
    steps: list[tuple[str, str]] = []
    if digits and len(text) == 11 and text[0] == "1":
        steps.append(("PHONE", text))
    if len(text) >= EXACT_MIN:
        steps.append(("CARD_OR_NUMBER", upper))
    if digits:
        steps.append(("PHONE_OR_CARD_PREFIX", text))
        return steps
    if text.isalpha():
        steps.append(("PINYIN", text.lower()))
    steps.append(("CARD_OR_NUMBER_PREFIX", upper))
    return steps


def text_params(text: str) -> dict[str, Any]:
    """The parameters every part of a stage is run with."""
    return {"text": text, "text_end": text + PREFIX_END}


def first_matches(
    steps: Sequence[tuple[bool, Sequence[P], dict[str, Any]]],
    run: Callable[[P, dict[str, Any]], Sequence[Any]],
    limit: int,
) -> tuple[list[Any], bool]:
    """The counter's matches: the first `limit` rows of the first step (exact?, parts, parameters) that has any,
    part after part (`run(part, params)`), and whether they are one exact hit."""
    for exact, parts, params in steps:
        want = 2 if exact else limit
        rows: list[Any] = []
        for part in parts:
            params["limit"] = want - len(rows)
            rows += run(part, params)
            if len(rows) >= want:
                break
        if rows:
            return rows, exact and len(rows) == 1
    return [], False
