"""Judging a member file's rows: each row is validated like a registration at the counter (app.members.validation:
same limits, same messages) and either becomes the values to insert or a RefusedRow with its line. Touches no
database, so it can run in a forked worker while the writer stores the batch before."""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterator, Sequence
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.importing.cells import parse_date, parse_gender, parse_points, parse_time
from app.importing.report import RefusedRow, batched
from app.importing.tables import Row, unquote_formula
from app.members.pinyin import pinyin_keys
from app.members.validation import (
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
from app.security.operator import Operator
from app.settings import StoreSettings
from db.bulk import DriverValues, ordered_uuids
from db.enums import MemberStatus
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
"""The member columns that differ from row to row, in the order RowParser.parse makes them."""
UNNUMBERED = "t"
"""Stands in front of the phone as a member number until the member's id is known (a member number from the file
is upper-cased, so it can never start with a lower-case t)."""
MEMBER_NO_AT, PHONE_AT, NAME_AT, CARD_AT, POINTS_AT, ID_AT = (
    MEMBER_INSERT.index(c) for c in ("member_no", "phone", "name", "card_no", "points_balance", "id_number_enc")
)


class ParsedBatch(NamedTuple):
    """A batch of the file's rows, validated. Plain lists and tuples, because they cross to the writing process:
    unpickling a NamedTuple a row cost the writer 10 s for 1M rows."""

    rows: int
    refused: list[RefusedRow]
    lines: list[int]
    """The line of each valid row, in the file."""
    members: list[tuple[Any, ...]]
    """Each valid row as RowParser.columns, the way the driver takes them."""
    tags: dict[int, list[str]]
    """Tag names by position in `members`, for the rows that have any."""


class RowParser:
    """Reads and validates the file's rows batch by batch, checking duplicates within the file."""

    def __init__(
        self,
        settings: StoreSettings,
        tiers: Sequence[Tier],
        now: dt.datetime,
        operator: Operator,
        cipher: FieldCipher,
        *,
        sqlite: bool,
    ) -> None:
        self.settings = settings
        self.tiers = _tier_index(tiers)
        self.default_tier = tiers[0].id
        self.tz = ZoneInfo(settings.store_timezone)
        self.now = now
        self.cipher = cipher
        self.convert = DriverValues(sqlite=sqlite)
        self.uuids = ordered_uuids(now)
        # The same for every row, as the driver takes them.
        fixed = {
            "status": MemberStatus.ACTIVE,
            "home_branch_id": operator.branch_id,
            "lifetime_spend_fen": 0,
            "visit_count": 0,
            "marketing_consent": False,
            "referral_rewarded": False,
            "created_by_id": operator.staff_id,
            "updated_at": now,
        }
        self.columns = (*MEMBER_INSERT, *fixed)
        self.fixed = tuple(self.convert(v) for v in fixed.values())
        self.seen_keys: dict[str, dict[str, int]] = {"member_no": {}, "phone": {}, "card_no": {}}
        self.card_prefix = settings.cards_prefix
        self.today = now.date()
        self.pinyin = lru_cache(maxsize=200_000)(pinyin_keys)
        self._birthdays: dict[str, tuple[Any, str | None]] = {}
        self._joined_at: dict[str, Any] = {}

    def batches(self, rows: Iterator[Row], size: int) -> Generator[ParsedBatch, None, None]:
        for batch in batched(rows, size):
            parsed = ParsedBatch(len(batch), [], [], [], {})
            with_id: list[int] = []
            for row in batch:
                try:
                    values, tags = self.parse(row)
                except ValidationError as exc:
                    parsed.refused.append(RefusedRow(row.line, str(exc)))
                    continue
                if tags:
                    parsed.tags[len(parsed.members)] = tags
                if values[ID_AT] is not None:
                    with_id.append(len(parsed.members))
                parsed.lines.append(row.line)
                parsed.members.append(values)
            self._seal_id_numbers(parsed.members, with_id)
            yield parsed

    def _seal_id_numbers(self, members: list[tuple[Any, ...]], at: list[int]) -> None:
        """The batch's ID numbers encrypted all at once (FieldCipher.encrypt_many), in place of their clear text."""
        sealed = self.cipher.encrypt_many([members[i][ID_AT] for i in at])
        for i, token in zip(at, sealed, strict=True):
            row = members[i]
            members[i] = (*row[:ID_AT], token, *row[ID_AT + 1 :])

    def parse(self, row: Row) -> tuple[tuple[Any, ...], list[str]]:
        """One row as the values to insert (RowParser.columns) and its tags; a bad row raises ValidationError. The
        ID number is still in clear text: `batches` encrypts a batch's ID numbers together."""
        if row.problem:
            raise ValidationError(S("Errors", "The line cannot be read: {reason}"), reason=row.problem)
        v = row.values
        name = clean_name(unquote_formula(v.get("name", "")))
        phone = normalize_phone(v.get("phone", ""))
        member_no = clean_member_no(v.get("member_no", ""))
        card = normalize_card_no(v["card_no"], self.card_prefix) if v.get("card_no") else None
        keys = (("member_no", member_no), ("phone", phone), ("card_no", card))
        for key, value in keys:
            earlier = self.seen_keys[key].get(value) if value else None
            if earlier is not None:
                raise ValidationError(
                    S("Errors", "Same {what} as line {line} of this file: {value}"), what=key, line=earlier, value=value
                )
        gender = parse_gender(v.get("gender", ""))
        birthday, birthday_mmdd = self._birthday(v.get("birthday", ""))
        joined = self._joined(v.get("joined_at", ""))
        tier_text = v.get("tier", "").lower()
        tier_id = self.tiers.get(tier_text) if tier_text else self.default_tier
        if tier_id is None:
            raise ValidationError(S("Errors", "Unknown tier: {value}"), value=v["tier"][:40])
        points = parse_points(v.get("points", ""))
        notes = clean_notes(unquote_formula(v["notes"])) if v.get("notes") else None
        tags = clean_tags(split_tags(unquote_formula(v["tags"]))) if v.get("tags") else []
        id_number = id_hash = None
        if v.get("id_number"):
            id_number = normalize_id_number(v["id_number"], today=self.today)
            id_hash = self.cipher.lookup_hash(id_number)
        initials, full = self.pinyin(name)
        for key, value in keys:
            if value:
                self.seen_keys[key][value] = row.line
        values = (
            next(self.uuids),
            member_no or UNNUMBERED + phone,
            phone,
            phone[-4:],
            name,
            gender,
            birthday,
            birthday_mmdd,
            card,
            tier_id,
            joined,
            joined,
            notes,
            id_number,
            id_hash,
            initials,
            full,
            points,
            *self.fixed,
        )
        return values, tags

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


def _tier_index(tiers: Sequence[Tier]) -> dict[str, int]:
    index: dict[str, int] = {}
    for tier in tiers:
        for name in (tier.code, tier.name, tier.name_en, tier.name.removesuffix("会员")):
            index[name.lower()] = tier.id
    return index
