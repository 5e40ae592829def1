"""The one reading of what was typed into the counter's lookup box or the member list's filter.

`plan_lookup` turns the text into stages tried in order; the first stage that finds anyone is the answer. A stage
is one or more parts that never share a member, each an index range scan in index order (docs/ARCHITECTURE.md §7:
p95 ≤ 2 ms on 1M members), so the counter takes the first `limit` rows part after part and the member list pages
through the parts one after another with exact counts. Both go through here, so the same text finds the same
members in both.

What the text is taken for (spaces dropped, full-width characters folded to ASCII first):
- 4 digits: the last 4 digits of a phone (their own indexed column), most recent visitor first;
- 11 digits starting with 1: that phone (exact);
- 5 or more letters or digits: that card number or member number (exact), else a prefix of them as below;
- other digits: a phone prefix, then a card number prefix;
- Chinese characters (or any other non-ASCII text): a name prefix (a range, never LIKE);
- letters: pinyin initials or full pinyin prefix (`zs`, `zhangs`, `shan` for 单田芳), then a card or member
  number prefix (`MD0000`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, select, true
from sqlalchemy.orm import Session

from app.members.validation import fold_width
from db.enums import MemberStatus
from db.models import Member

_SPACES = re.compile(r"\s+")
EXACT_MIN = 5
"""A card or member number is at least this long; shorter text is never looked up as one exactly."""


@dataclass(frozen=True)
class Part:
    where: ColumnElement[bool]
    order: tuple[Any, ...]
    """The index's own order, ties broken by id in the same direction (free in SQLite: the id ends every index)."""


@dataclass(frozen=True)
class Stage:
    parts: tuple[Part, ...]
    exact: bool = False
    """A full phone, card or member number: a single hit opens the member at once."""


def lookup_text(raw: str) -> str:
    """The text as the lookup reads it: full-width folded to ASCII, all spaces dropped."""
    return _SPACES.sub("", fold_width(raw or ""))


def _prefix(column: Any, prefix: str) -> ColumnElement[bool]:
    """A prefix match as an index range (SQLite's LIKE never uses the index)."""
    return and_(column >= prefix, column < prefix + "\U0010ffff")


def _ranges(*columns: tuple[Any, str]) -> Stage:
    """Prefix parts over several columns, each leaving out what the ones before it found."""
    parts: list[Part] = []
    taken: list[ColumnElement[bool]] = []
    for column, prefix in columns:
        where = _prefix(column, prefix)
        parts.append(Part(and_(where, *[not_(t) for t in taken]), (column, Member.id)))
        taken.append(where)
    return Stage(tuple(parts))


def _exact(column: Any, value: str) -> Stage:
    return Stage((Part(column == value, ()),), exact=True)


def plan_lookup(raw: str) -> list[Stage]:
    """The stages for `raw`; none for blank text."""
    text = lookup_text(raw)
    if not text:
        return []
    if not text.isascii():
        return [_ranges((Member.name, text))]
    digits = text.isdigit()
    if digits and len(text) == 4:
        return [Stage((Part(Member.phone_last4 == text, (Member.last_visit_at.desc(), Member.id.desc())),))]
    upper = text.upper()
    stages: list[Stage] = []
    if digits and len(text) == 11 and text[0] == "1":
        stages.append(_exact(Member.phone, text))
    if len(text) >= EXACT_MIN:
        stages += [_exact(Member.card_no, upper), _exact(Member.member_no, upper)]
    if digits:
        stages.append(_ranges((Member.phone, text), (Member.card_no, text)))
        return stages
    if text.isalpha():
        key = text.lower()
        stages.append(_ranges((Member.pinyin_initials, key), (Member.pinyin_full, key)))
    stages.append(_ranges((Member.card_no, upper), (Member.member_no, upper)))
    return stages


def find_first(session: Session, base: Select, stages: Sequence[Stage], limit: int) -> tuple[list[Any], bool]:
    """The counter's matches: the first `limit` rows of `base` of the first stage that has any, and whether they
    are one exact hit."""
    for stage in stages:
        want = 2 if stage.exact else limit
        rows: list[Any] = []
        for part in stage.parts:
            rows += session.execute(base.where(part.where).order_by(*part.order).limit(want - len(rows))).all()
            if len(rows) >= want:
                break
        if rows:
            return rows, stage.exact and len(rows) == 1
    return [], False


def find_page(
    session: Session, base: Select, stages: Sequence[Stage], offset: int, limit: int
) -> tuple[list[Any], int]:
    """A page of the member list: rows `offset`…`offset + limit` of the first stage that has any, and how many that
    stage has in all. With no stages, every member listed, newest first."""
    if not stages:
        stages = [Stage((Part(true(), (Member.id.desc(),)),))]
    counted = select(func.count()).select_from(Member).where(Member.status != MemberStatus.ANONYMISED)
    for stage in stages:
        counts = [session.scalar(counted.where(part.where)) or 0 for part in stage.parts]
        total = sum(counts)
        if not total:
            continue
        rows: list[Any] = []
        skip = offset
        for part, count in zip(stage.parts, counts, strict=True):
            if skip >= count:
                skip -= count
                continue
            query = base.where(part.where).order_by(*part.order)
            rows += session.execute(query.offset(skip).limit(limit - len(rows))).all()
            skip = 0
            if len(rows) >= limit:
                break
        return rows, total
    return [], 0
