"""What the counter's lookup answers: plain values the screens show, made from a row of the lookup's statement
(`app.members.queries.listed_members`) by one function, whichever connection read it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.members.validation import mask_phone
from db.plain import utc_from_store

LOOKUP_LIMIT = 20


@dataclass(frozen=True)
class MemberHit:
    id: int
    member_no: str
    name: str
    masked_phone: str
    phone: str | None
    card_no: str | None
    tier_name: str
    tier_name_en: str
    points: int
    last_visit_at: dt.datetime | None


@dataclass(frozen=True)
class LookupResult:
    hits: list[MemberHit]
    exact: bool
    """True when the query was a full phone or a card/member number and found exactly one member: open it."""


def member_hit(row: Sequence[Any], sees_full_phone: bool) -> MemberHit:
    """A hit from a row (id, member_no, name, phone, card_no, tier name, English tier name, points, last visit)."""
    phone = row[3]
    return MemberHit(
        id=row[0],
        member_no=row[1],
        name=row[2] or "",
        phone=phone if sees_full_phone else None,
        masked_phone=mask_phone(phone),
        card_no=row[4],
        tier_name=row[5],
        tier_name_en=row[6],
        points=row[7],
        last_visit_at=utc_from_store(row[8]),  # text when read on the plain connection
    )
