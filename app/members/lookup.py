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

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, not_, or_, select, text, true, tuple_
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from app.members.validation import fold_width
from db.models import Member

EXACT_MIN = 5
"""A card or member number is at least this long; shorter text is never looked up as one exactly."""
PREFIX_END = "\U0010ffff"
"""Appended to a prefix, the end of its range."""


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
    def params(self) -> dict[str, str]:
        return {"text": self.text, "text_end": self.text + PREFIX_END}


def lookup_text(raw: str) -> str:
    """The text as the lookup reads it: full-width folded to ASCII, all spaces dropped (any white space, as `\\s`
    matches it; split and join, not a regular expression, on the counter's path)."""
    return "".join(fold_width(raw or "").split())


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


def plan_lookup(raw: str) -> list[Step]:
    """The steps for `raw`; none for blank text."""
    text = lookup_text(raw)
    if not text:
        return []
    if not text.isascii():
        return [Step(NAME, text)]
    digits = text.isdigit()
    if digits and len(text) == 4:
        return [Step(LAST4, text)]
    upper = text.upper()
    steps: list[Step] = []
    if digits and len(text) == 11 and text[0] == "1":
        steps.append(Step(PHONE, text))
    if len(text) >= EXACT_MIN:
        steps.append(Step(CARD_OR_NUMBER, upper))
    if digits:
        steps.append(Step(PHONE_OR_CARD_PREFIX, text))
        return steps
    if text.isalpha():
        steps.append(Step(PINYIN, text.lower()))
    steps.append(Step(CARD_OR_NUMBER_PREFIX, upper))
    return steps


def first_rows(base: Select, part: Part) -> Select:
    """`base`'s first `:limit` rows of `part`, in the part's order (built once per part by the caller)."""
    return base.where(part.where).order_by(*part.order).limit(bindparam("limit"))


PartRows = Callable[[Part, dict[str, Any]], Sequence[Any]]
"""The rows of one part for the step's parameters (`Step.params` and `limit`)."""


def find_first(rows: PartRows, steps: Sequence[Step], limit: int) -> tuple[list[Any], bool]:
    """The counter's matches: the first `limit` rows of the first step that has any (`rows(part, params)`), and
    whether they are one exact hit."""
    for step in steps:
        want = 2 if step.stage.exact else limit
        params: dict[str, Any] = step.params
        found: list[Any] = []
        for part in step.stage.parts:
            params["limit"] = want - len(found)
            found += rows(part, params)
            if len(found) >= want:
                break
        if found:
            return found, step.stage.exact and len(found) == 1
    return [], False


_SQLITE = sqlite.dialect()
SQLiteStatement = tuple[str, tuple[Any, ...]]
"""SQL text and its positional parameters, as the sqlite3 driver takes them."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    slots: tuple[tuple[str | None, Any], ...]
    """Each positional parameter: the name of a lookup parameter (`text`, `text_end`, `limit`), or None and the
    statement's own constant, already as the driver takes it."""
    results: tuple[tuple[int, Callable[[Any], Any]], ...]
    """The columns whose stored value SQLAlchemy would convert (a UTC time from its text), with the conversion."""

    def args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        return tuple([params[key] if key else value for key, value in self.slots])


class SQLiteParts:
    """Each part's statement (`build(part)`) compiled once for SQLite and run on the driver's own connection: a
    keystroke costs SQLite's search and a few microseconds of Python, not SQLAlchemy's execution of a statement
    (its cache key, execution context and result rows: ~0.1 ms a statement, most of a lookup's CPU time). The rows
    are what SQLAlchemy would return for the same statement: the same SQL, the same parameters, each column
    converted by its own type."""

    def __init__(self, build: Callable[[Part], Select]) -> None:
        self._build = build
        self._compiled: dict[Part, _Compiled] = {}

    def _compile(self, part: Part) -> _Compiled:
        statement = self._build(part)
        compiled = statement.compile(dialect=_SQLITE)
        slots: list[tuple[str | None, Any]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if bind.required:
                slots.append((bind.key, None))
            else:
                process = bind.type.dialect_impl(_SQLITE).bind_processor(_SQLITE)
                slots.append((None, process(bind.value) if process else bind.value))
        results = tuple(
            (index, process)
            for index, column in enumerate(statement.selected_columns)
            if (process := column.type.dialect_impl(_SQLITE).result_processor(_SQLITE, None)) is not None
        )
        self._compiled[part] = done = _Compiled(compiled.string, tuple(slots), results)
        return done

    def statement(self, part: Part, params: dict[str, Any]) -> SQLiteStatement:
        """The SQL of `part` and its parameters for `params`, as `rows` runs them."""
        compiled = self._compiled.get(part) or self._compile(part)
        return compiled.sql, compiled.args(params)

    def rows(self, driver: sqlite3.Connection, part: Part, params: dict[str, Any]) -> list[Any]:
        """The rows of `part` for `params`, read on `driver` (a sqlite3 connection in autocommit: the statement is
        its own read transaction)."""
        compiled = self._compiled.get(part) or self._compile(part)
        found = driver.execute(compiled.sql, compiled.args(params)).fetchall()
        if not compiled.results:
            return found
        converted: list[Any] = []
        for row in found:
            values = list(row)
            for index, process in compiled.results:
                values[index] = process(values[index])
            converted.append(values)
        return converted


EVERYONE = Step(Stage((Part(true(), (Member.id.desc(),), (Member.id,), descending=True),)), "")
"""The list without a filter: every member, newest first."""
ANONYMISED = text("status = 'anonymised'")
"""Written as the partial index `ix_members_anonymised` is, so counting them searches that small index."""


def _after(part: Part, keys: tuple[Any, ...]) -> ColumnElement[bool]:
    """The rows of `part` after the row with `keys`: a search of the part's index, not a skip."""
    mine, theirs = (tuple_(*part.keys), tuple_(*keys)) if len(keys) > 1 else (part.keys[0], keys[0])
    return mine < theirs if part.descending else mine > theirs


def _count(session: Session, part: Part, params: dict[str, str]) -> int:
    """The members of `part` less the anonymised ones, each count read from an index alone (filtering on the status
    instead reads every matching member's row: 0.4 s warm and 5.6 s cold for `z` on 1M members)."""
    everyone = select(func.count()).select_from(Member)
    listed = everyone if part is EVERYONE.stage.parts[0] else everyone.where(part.where)
    return (session.scalar(listed, params) or 0) - (session.scalar(everyone.where(ANONYMISED, part.where), params) or 0)


def _first(session: Session, steps: Sequence[Step]) -> ListCursor | None:
    for number, step in enumerate(steps):
        total = sum(_count(session, part, step.params) for part in step.stage.parts)
        if total:
            return ListCursor(number, 0, (), 0, total)
    return None


def find_page(
    session: Session, base: Select, steps: Sequence[Step], after: ListCursor | None, limit: int
) -> tuple[list[Any], ListCursor | None, int]:
    """A page of the member list: `limit` rows of the first step that has any, from `after` (None: the first
    page, which counts the step's rows); where the next page starts (None at the end) and the step's count.
    The rows end with the part's keys (the caller reads its own columns and ignores them)."""
    steps = steps or [EVERYONE]
    start = after or _first(session, steps)
    if start is None:
        return [], None, 0
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
            return rows, ListCursor(start.stage, number, keys, shown + wanted, start.total), start.total
        keys, shown = (), 0
    return rows, None, start.total
