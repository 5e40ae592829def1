"""The one reading of what was typed into the counter's lookup box or the member list's filter.

`plan_lookup` turns the text into stages tried in order; the first stage that finds anyone is the answer. A stage
is one or more parts that never share a member, each an index range scan in index order (docs/ARCHITECTURE.md §7:
p95 ≤ 2 ms on 1M members), so the counter takes the first `limit` rows part after part and the member list pages
through the parts one after another. Both go through here, so the same text finds the same members in both.
Every stage is built once, at import, with the text as a parameter: a keystroke runs statements already built and
compiled, the counter's straight on a connection (`first_rows`, `find_first`), never through the ORM.

The member list pages by key, never by offset: a page starts right after the last row shown (`ListCursor`), a search
of the index wherever the page is, and only the first page counts the rows (the count rides along in the cursor).
An offset made every page of a 1M-member list recount and skip what came before it (185–192 ms a page).

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, bindparam, func, not_, or_, select, text, true, tuple_
from sqlalchemy.orm import Session

from app.members.plan import first_matches, plan_stages, text_params
from app.members.plan import lookup_text as lookup_text
from db.models import Member


@dataclass(frozen=True, eq=False)
class Part:
    where: ColumnElement[bool]
    """On the parameters `text` and `text_end` (`Step.params`): every part is built once, and each lookup runs the
    same statements with new parameters (nothing to build or compile per keystroke)."""
    order: tuple[Any, ...]
    """The index's own order, ties broken by id in the same direction (free in SQLite: the id ends every index)."""
    keys: tuple[Any, ...] = ()
    """The order's columns, all ascending (or all descending with `descending`), never NULL in this part: the list
    pages through the part by key. Without keys (a last-4 part ordered by a last visit that may be NULL, an exact
    hit) the part is short and pages by position."""
    descending: bool = False


@dataclass(frozen=True)
class ListCursor:
    """Where the member list's next page starts: the stage that has the rows, the part the last row shown came
    from, and that row's keys (or, in a part without keys, how many of its rows were shown)."""

    stage: int
    part: int
    after: tuple[Any, ...]
    shown_in_part: int
    total: int
    """The stage's rows, counted once for the first page."""
    more: bool = False
    """The filter matched more than `total` (COUNT_CAP) members: counting stopped there."""


@dataclass(frozen=True, eq=False)
class Stage:
    parts: tuple[Part, ...]
    exact: bool = False
    """A full phone, card or member number: a single hit opens the member at once."""


@dataclass(frozen=True)
class Step:
    """A stage of the plan and the text it looks for."""

    stage: Stage
    text: str

    @property
    def params(self) -> dict[str, Any]:
        return text_params(self.text)


def _prefix(column: Any) -> ColumnElement[bool]:
    """A prefix match as an index range (SQLite's LIKE never uses the index)."""
    return and_(column >= bindparam("text"), column < bindparam("text_end"))


def _ranges(*columns: Any) -> Stage:
    """Prefix parts over several columns, each leaving out what the ones before it found."""
    parts: list[Part] = []
    taken: list[ColumnElement[bool]] = []
    for column in columns:
        where = _prefix(column)
        parts.append(Part(and_(where, *[not_(t) for t in taken]), (column, Member.id), (column, Member.id)))
        taken.append(where)
    return Stage(tuple(parts))


def _exact(*columns: Any) -> Stage:
    """Whoever holds the text in one of `columns` (each indexed): one statement, a search of each index."""
    return Stage((Part(or_(*[column == bindparam("text") for column in columns]), ()),), exact=True)


NAME = _ranges(Member.name)
LAST4 = Stage((Part(Member.phone_last4 == bindparam("text"), (Member.last_visit_at.desc(), Member.id.desc())),))
PHONE = _exact(Member.phone)
CARD_OR_NUMBER = _exact(Member.card_no, Member.member_no)
PHONE_OR_CARD_PREFIX = _ranges(Member.phone, Member.card_no)
PINYIN = _ranges(Member.pinyin_initials, Member.pinyin_full)
CARD_OR_NUMBER_PREFIX = _ranges(Member.card_no, Member.member_no)


STAGES = {
    "NAME": NAME,
    "LAST4": LAST4,
    "PHONE": PHONE,
    "CARD_OR_NUMBER": CARD_OR_NUMBER,
    "PHONE_OR_CARD_PREFIX": PHONE_OR_CARD_PREFIX,
    "PINYIN": PINYIN,
    "CARD_OR_NUMBER_PREFIX": CARD_OR_NUMBER_PREFIX,
}
"""Every stage by the name `app.members.plan.plan_stages` gives it."""


def plan_lookup(raw: str) -> list[Step]:
    """The steps for `raw`; none for blank text."""
    return [Step(STAGES[name], text) for name, text in plan_stages(raw)]


def first_rows(base: Select, part: Part) -> Select:
    """`base`'s first `:limit` rows of `part`, in the part's order (built once per part by the caller)."""
    return base.where(part.where).order_by(*part.order).limit(bindparam("limit"))


def find_first(
    reader: Connection | Session, statement: Callable[[Part], Select], steps: Sequence[Step], limit: int
) -> tuple[list[Any], bool]:
    """The counter's matches: the first `limit` rows of the first step that has any (`statement(part)`, from
    `first_rows`), and whether they are one exact hit."""
    return first_matches(
        [(step.stage.exact, step.stage.parts, step.params) for step in steps],
        lambda part, params: reader.execute(statement(part), params).all(),
        limit,
    )


EVERYONE = Step(Stage((Part(true(), (Member.id.desc(),), (Member.id,), descending=True),)), "")
"""The list without a filter: every member, newest first."""
ANONYMISED = text("status = 'anonymised'")
"""Written as the partial index `ix_members_anonymised` is, so counting them searches that small index."""


def _after(part: Part, keys: tuple[Any, ...]) -> ColumnElement[bool]:
    """The rows of `part` after the row with `keys`: a search of the part's index, not a skip."""
    mine, theirs = (tuple_(*part.keys), tuple_(*keys)) if len(keys) > 1 else (part.keys[0], keys[0])
    return mine < theirs if part.descending else mine > theirs


COUNT_CAP = 10_000
"""A filter's count stops here: "z" matches ~300,000 of 1M members and counting them took 1.5 s of CPU before the
first page showed. The list says "more than 10,000" and keeps paging by key to the end; the whole list (no filter)
is counted exactly, which SQLite does from its smallest index."""


def _count(session: Session, part: Part, params: dict[str, str]) -> int:
    """The members of `part` less the anonymised ones, each count read from an index alone (filtering on the status
    instead reads every matching member's row: 0.4 s warm and 5.6 s cold for `z` on 1M members). A filtered part
    is counted up to COUNT_CAP + 1 listed members."""
    everyone = select(func.count()).select_from(Member)
    gone = session.scalar(everyone.where(ANONYMISED, part.where), params) or 0
    if part is EVERYONE.stage.parts[0]:
        return (session.scalar(everyone, params) or 0) - gone
    some = select(Member.id).where(part.where).limit(COUNT_CAP + 1 + gone).subquery()
    return (session.scalar(select(func.count()).select_from(some), params) or 0) - gone


def _first(session: Session, steps: Sequence[Step]) -> ListCursor | None:
    for number, step in enumerate(steps):
        total = sum(_count(session, part, step.params) for part in step.stage.parts)
        if total:
            more = step is not EVERYONE and total > COUNT_CAP
            return ListCursor(number, 0, (), 0, COUNT_CAP if more else total, more)
    return None


def find_page(
    session: Session, base: Select, steps: Sequence[Step], after: ListCursor | None, limit: int
) -> tuple[list[Any], ListCursor | None, int, bool]:
    """A page of the member list: `limit` rows of the first step that has any, from `after` (None: the first
    page, which counts the step's rows); where the next page starts (None at the end) and the step's count
    and whether it matched more than that (the count stops at COUNT_CAP).
    The rows end with the part's keys (the caller reads its own columns and ignores them)."""
    steps = steps or [EVERYONE]
    start = after or _first(session, steps)
    if start is None:
        return [], None, 0, False
    step = steps[start.stage]
    parts = step.stage.parts
    rows: list[Any] = []
    keys, shown = start.after, start.shown_in_part
    for number in range(start.part, len(parts)):
        part = parts[number]
        query = base.where(part.where).add_columns(*part.keys).order_by(*part.order)
        if keys:
            query = query.where(_after(part, keys))
        elif shown:
            query = query.offset(shown)
        wanted = limit - len(rows)
        found = session.execute(query.limit(wanted), step.params).all()
        rows += found
        if len(found) == wanted:
            last = tuple(found[-1])
            keys = last[len(last) - len(part.keys) :] if part.keys else ()
            following = ListCursor(start.stage, number, keys, shown + wanted, start.total, start.more)
            return rows, following, start.total, start.more
        keys, shown = (), 0
    return rows, None, start.total, start.more
