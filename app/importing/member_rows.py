"""Judging a member file's rows: each row is validated like a registration at the counter (app.members.validation:
same limits, same messages) and either becomes the values to insert or a RefusedRow with its line. Touches no
database, so it can run in a forked worker while the writer stores the batch before.

A batch is judged a column at a time, which gives the same answers as judging it row by row (each row is refused
for the first of its faults in the order a registration checks its fields, and a repeat within the file is found
against the rows before it that were valid), with far less Python a row:
- a column is checked whole where one test on its joined text answers for every cell (all names printable, at most
  40 characters and not quoted; all phones 11 characters of mobile numbers; all member numbers letters and digits);
  only the cells that fail it go through the counter's functions;
- a column whose texts repeat (gender, dates, tier, points, tags, notes) is judged once per distinct text;
- the valid rows are zipped into the driver's tuples, and their ID numbers hashed and sealed together.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from itertools import islice
from operator import itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.importing.cells import parse_date, parse_gender, parse_points, parse_time
from app.importing.report import RefusedRow, batched
from app.importing.tables import Row, unquote_formula
from app.members.pinyin import pinyin_keys
from app.members.validation import (
    MEMBER_NO_MAX,
    NAME_MAX,
    check_birthday,
    clean_member_no,
    clean_name,
    clean_notes,
    clean_tags,
    normalize_card_no,
    normalize_id_number,
    normalize_phone,
    split_tags,
)
from app.security.crypto import FieldCipher
from app.settings import StoreSettings
from db.bulk import DriverValues, ordered_uuids
from db.models import Tier

MEMBER_INSERT = (
    "client_uuid",
    "member_no",
    "phone",
    "phone_last4",
    "name",
    "gender",
    "birthday",
    "birthday_mmdd",
    "card_no",
    "tier_id",
    "joined_at",
    "membership_consent_at",
    "notes",
    "id_number_enc",
    "id_number_hash",
    "pinyin_initials",
    "pinyin_full",
    "points_balance",
)
"""The member columns that differ from row to row, in the order RowParser.judge makes them (BatchWriter adds
those that are the same for every row)."""
UNNUMBERED = "t"
"""Stands in front of the phone as a member number until the member's id is known (a member number from the file
is upper-cased, so it can never start with a lower-case t)."""
MEMBER_NO_AT, PHONE_AT, NAME_AT, CARD_AT, POINTS_AT = (
    MEMBER_INSERT.index(c) for c in ("member_no", "phone", "name", "card_no", "points_balance")
)
_MOBILES = re.compile(r"(?:1[3-9][0-9]{9})*")
"""Mobile numbers one after another: 11 characters each, as normalize_phone takes them unchanged."""

Verdicts = tuple[list[Any], dict[int, ValidationError]]
"""A column's results, and the refusal of each cell that was refused (by position in the batch)."""


class ParsedBatch(NamedTuple):
    """A batch of the file's rows, validated. Plain lists and tuples, because they cross to the writing process:
    unpickling a NamedTuple a row cost the writer 10 s for 1M rows."""

    rows: int
    refused: list[RefusedRow]
    lines: list[int]
    """The line of each valid row, in the file."""
    members: list[tuple[Any, ...]]
    """Each valid row as MEMBER_INSERT, the way the driver takes them."""
    tags: dict[int, list[str]]
    """Tag names by position in `members`, for the rows that have any."""


class RowParser:
    """Reads and validates the file's rows batch by batch, checking duplicates within the file."""

    def __init__(
        self,
        settings: StoreSettings,
        tiers: Sequence[Tier],
        now: dt.datetime,
        cipher: FieldCipher,
        *,
        sqlite: bool,
    ) -> None:
        self.tiers = _tier_index(tiers)
        self.default_tier = tiers[0].id
        self.tz = ZoneInfo(settings.store_timezone)
        self.now = now
        self.cipher = cipher
        self.convert = DriverValues(sqlite=sqlite)
        self.uuids = ordered_uuids(now)
        self.seen: tuple[dict[str, int], ...] = ({}, {}, {})
        """Line of each member number, phone and card number of the valid rows so far."""
        self.card_prefix = settings.cards_prefix
        self.today = now.date()
        self._birthdays: dict[str, tuple[Any, str | None]] = {}
        self._joined_at: dict[str, Any] = {}

    def batches(self, rows: Iterator[Row], size: int) -> Generator[ParsedBatch, None, None]:
        for batch in batched(rows, size):
            yield self.judge(batch)

    def judge(self, batch: list[Row]) -> ParsedBatch:
        """The batch's valid rows as the values to insert (MEMBER_INSERT, ID numbers sealed) with their tags,
        and each other row refused for its first fault, in the order a registration checks the fields."""
        cells = [row.values for row in batch]

        def column(name: str) -> list[str]:
            try:
                return list(map(itemgetter(name), cells))
            except KeyError:  # a column the file lacks, an unreadable line or a short one
                return [v.get(name, "") for v in cells]

        first: dict[int, ValidationError] = {
            i: ValidationError(S("Errors", "The line cannot be read: {reason}"), reason=row.problem)
            for i, row in enumerate(batch)
            if row.problem
        }
        names, phones, numbers, cards = checked = (
            _names(column("name")),
            _phones(column("phone")),
            _numbers(column("member_no")),
            _filled(column("card_no"), lambda text: normalize_card_no(text, self.card_prefix)),
        )
        _first_faults(first, checked)
        then: dict[int, ValidationError] = {}
        genders, birthdays, joined, tiers, points, notes, tags, ids = later = (
            _by_text(column("gender"), parse_gender),
            _by_text(column("birthday"), self._birthday),
            _by_text(column("joined_at"), self._joined),
            _by_text(column("tier"), self._tier),
            _by_text(column("points"), parse_points),
            _by_text(column("notes"), _notes),
            _by_text(column("tags"), _tags),
            _filled(column("id_number"), lambda text: normalize_id_number(text, today=self.today)),
        )
        _first_faults(then, later)
        keys = list(zip(numbers[0], phones[0], cards[0], strict=True))
        refused, valid = self._sift(batch, keys, first, then)
        members = self._members(
            valid,
            [names, phones, numbers, cards, genders, birthdays, joined, tiers, points, notes, ids],
        )
        tag_lists = [tags[0][i] for i in valid] if len(valid) < len(batch) else tags[0]
        return ParsedBatch(
            len(batch),
            refused,
            [batch[i].line for i in valid],
            members,
            {at: found for at, found in enumerate(tag_lists) if found},
        )

    def _sift(
        self,
        batch: list[Row],
        keys: list[tuple[str, str, str | None]],
        first: dict[int, ValidationError],
        then: dict[int, ValidationError],
    ) -> tuple[list[RefusedRow], list[int]]:
        """Row by row: a fault of the identifying fields, else a repeat of an earlier valid row's member number,
        phone or card, else a fault of the other fields; the keys of a valid row are remembered. When no key of
        the rows without a first fault comes twice or was seen before, no row can be a repeat, and the faults
        alone say which rows are refused."""
        seen = self.seen
        if not _may_repeat([k for i, k in enumerate(keys) if i not in first], seen):
            faults = {**then, **first}
            valid = [i for i in range(len(batch)) if i not in faults]
            if valid:
                for lines, values in zip(seen, zip(*keys, strict=True), strict=True):
                    lines.update((values[i], batch[i].line) for i in valid if values[i])
            return [RefusedRow(batch[i].line, str(faults[i])) for i in sorted(faults)], valid
        refused: list[RefusedRow] = []
        valid = []
        for i, (row, row_keys) in enumerate(zip(batch, keys, strict=True)):
            fault = first.get(i)
            if fault is None:
                fault = _repeat(row_keys, seen) or then.get(i)
            if fault is not None:
                refused.append(RefusedRow(row.line, str(fault)))
                continue
            for lines, value in zip(seen, row_keys, strict=True):
                if value:
                    lines[value] = row.line
            valid.append(i)
        return refused, valid

    def _members(self, valid: list[int], judged: list[Verdicts]) -> list[tuple[Any, ...]]:
        """The valid rows as the driver's tuples (MEMBER_INSERT)."""
        every = len(valid) == len(judged[0][0])
        columns = [results if every else [results[i] for i in valid] for results, _refused in judged]
        names, phones, numbers, cards, genders, birthdays, joined, tiers, points, notes, ids = columns
        readings = {name: pinyin_keys(name) for name in set(names)}
        keys = [readings[name] for name in names]
        hashes = [None if number is None else self.cipher.lookup_hash(number) for number in ids]
        self._seal(ids)
        return list(
            zip(
                islice(self.uuids, len(names)),
                [number or UNNUMBERED + phone for number, phone in zip(numbers, phones, strict=True)],
                phones,
                [phone[-4:] for phone in phones],
                names,
                genders,
                map(itemgetter(0), birthdays),
                map(itemgetter(1), birthdays),
                cards,
                tiers,
                joined,
                joined,
                notes,
                ids,
                hashes,
                map(itemgetter(0), keys),
                map(itemgetter(1), keys),
                points,
                strict=True,
            )
        )

    def _seal(self, ids: list[Any]) -> None:
        """The ID numbers encrypted all at once (FieldCipher.encrypt_many), in place of their clear text."""
        at = [i for i, number in enumerate(ids) if number is not None]
        for i, token in zip(at, self.cipher.encrypt_many([ids[i] for i in at]), strict=True):
            ids[i] = token

    def _birthday(self, text: str) -> tuple[Any, str | None]:
        """The birthday as the driver takes it and its MM-DD, remembered by text (a file has a few thousand)."""
        known = self._birthdays.get(text)
        if known is None:
            day = check_birthday(parse_date(text, "birthday"), self.today)
            known = self._birthdays[text] = (self.convert(day), day.strftime("%m-%d") if day else None)
        return known

    def _joined(self, text: str) -> Any:
        known = self._joined_at.get(text)
        if known is None:
            moment = parse_time(text, self.tz, "joined_at", now=self.now) or self.now
            known = self._joined_at[text] = self.convert(moment)
        return known

    def _tier(self, text: str) -> int:
        if not text:
            return self.default_tier
        tier_id = self.tiers.get(text.lower())
        if tier_id is None:
            raise ValidationError(S("Errors", "Unknown tier: {value}"), value=text[:40])
        return tier_id


def _first_faults(faults: dict[int, ValidationError], columns: Iterable[Verdicts]) -> None:
    """Each row's first refusal, columns taken in order (`faults` may already hold some)."""
    for _results, refused in columns:
        for i, fault in refused.items():
            faults.setdefault(i, fault)


def _may_repeat(keys: list[tuple[str, str, str | None]], seen: tuple[dict[str, int], ...]) -> bool:
    """Whether a member number, phone or card number comes twice among `keys` or was seen before."""
    for at, lines in enumerate(seen):
        values = [k[at] for k in keys if k[at]]
        if len(set(values)) < len(values) or not lines.keys().isdisjoint(values):
            return True
    return False


def _repeat(keys: tuple[str, str, str | None], seen: tuple[dict[str, int], ...]) -> ValidationError | None:
    for what, value, lines in zip(("member_no", "phone", "card_no"), keys, seen, strict=True):
        earlier = lines.get(value) if value else None
        if earlier is not None:
            return ValidationError(
                S("Errors", "Same {what} as line {line} of this file: {value}"), what=what, line=earlier, value=value
            )
    return None


def _each(results: list[Any], texts: list[str], judge: Callable[[str], Any], suspects: Iterable[int]) -> Verdicts:
    """`results` as given, except at `suspects`, whose texts go through `judge` (its result, or its refusal)."""
    refused: dict[int, ValidationError] = {}
    for i in suspects:
        try:
            results[i] = judge(texts[i])
        except ValidationError as exc:
            refused[i] = exc
    return results, refused


def _by_text(texts: list[str], judge: Callable[[str], Any]) -> Verdicts:
    """Each distinct text judged once: a file repeats its genders, dates, tiers, points and tag lists."""
    known: dict[str, Any] = {}
    bad: dict[str, ValidationError] = {}
    for text in set(texts):
        try:
            known[text] = judge(text)
        except ValidationError as exc:
            bad[text] = exc
    refused = {i: bad[text] for i, text in enumerate(texts) if text in bad} if bad else {}
    return list(map(known.get, texts)), refused


def _filled(texts: list[str], judge: Callable[[str], Any]) -> Verdicts:
    """None for an empty cell, else what `judge` makes of it."""
    return _each([None] * len(texts), texts, judge, [i for i, text in enumerate(texts) if text])


def _names(texts: list[str]) -> Verdicts:
    """clean_name(unquote_formula(text)) for each: a printable name of 1 to NAME_MAX characters, not starting with
    an apostrophe, is what it gives back unchanged (the cells are already trimmed)."""
    joined = "".join(texts)
    if all(texts) and "'" not in joined and joined.isprintable() and max(map(len, texts), default=0) <= NAME_MAX:
        return texts, {}
    suspects = [i for i, t in enumerate(texts) if not t or t[0] == "'" or len(t) > NAME_MAX or not t.isprintable()]
    return _each(list(texts), texts, _name, suspects)


def _name(text: str) -> str:
    return clean_name(unquote_formula(text))


def _phones(texts: list[str]) -> Verdicts:
    """normalize_phone for each: a mobile number of 11 digits as written is what it gives back unchanged."""
    if set(map(len, texts)) <= {11} and _MOBILES.fullmatch("".join(texts)):
        return texts, {}
    suspects = [i for i, t in enumerate(texts) if len(t) != 11 or not _MOBILES.fullmatch(t)]
    return _each(list(texts), texts, normalize_phone, suspects)


def _numbers(texts: list[str]) -> Verdicts:
    """clean_member_no for each: letters and digits (or nothing) of at most MEMBER_NO_MAX, upper-cased."""
    upper = list(map(str.upper, texts))
    joined = "".join(texts)
    if joined.isascii() and (joined.isalnum() or not joined) and max(map(len, texts), default=0) <= MEMBER_NO_MAX:
        return upper, {}
    suspects = [i for i, t in enumerate(texts) if not (t.isascii() and t.isalnum() and len(t) <= MEMBER_NO_MAX)]
    return _each(upper, texts, clean_member_no, suspects)


def _notes(text: str) -> str | None:
    return clean_notes(unquote_formula(text)) if text else None


def _tags(text: str) -> list[str]:
    return clean_tags(split_tags(unquote_formula(text))) if text else []


def _tier_index(tiers: Sequence[Tier]) -> dict[str, int]:
    index: dict[str, int] = {}
    for tier in tiers:
        for name in (tier.code, tier.name, tier.name_en, tier.name.removesuffix("会员")):
            index[name.lower()] = tier.id
    return index
