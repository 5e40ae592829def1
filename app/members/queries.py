"""Read-only queries the GUI's lists need beyond the counter's lookup: the paged member list and the names shown in
the status bar. Each is one short read session; nothing here writes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, select

from app.members.profile import Page
from app.members.validation import mask_phone
from db.engine import Database
from db.enums import MemberStatus
from db.models import Branch, Member, Tier

_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class MemberRow:
    id: int
    member_no: str
    name: str
    masked_phone: str
    card_no: str | None
    tier_name: str
    tier_name_en: str
    points: int
    last_visit_at: dt.datetime | None
    joined_at: dt.datetime
    status: MemberStatus
    phone: str | None = None
    """The full phone, filled in only for staff who may see it (app.store_info)."""


def _prefix(column: Any, prefix: str) -> Any:
    """A prefix match as an index range (SQLite's LIKE never uses the index)."""
    return and_(column >= prefix, column < prefix + "\U0010ffff")


def _filtered(query: Select, text: str) -> tuple[Select, Any]:
    """The filter for `text` and the column to order by, so that a narrow filter walks its own index instead of
    scanning every member in id order."""
    if not text:
        return query, Member.id.desc()
    if text.isdigit() and len(text) == 4:
        return query.where(Member.phone_last4 == text), Member.id.desc()
    if text.isdigit():
        return query.where(_prefix(Member.phone, text)), Member.phone
    if _CJK.search(text):
        return query.where(_prefix(Member.name, text)), Member.name
    if text.isascii() and text.isalpha():
        return query.where(_prefix(Member.pinyin_initials, text.lower())), Member.pinyin_initials
    return query.where(_prefix(Member.card_no, text.upper())), Member.card_no


def listed_members(*extra: Any) -> Select:
    """What a lookup hit and a member list row show (id, member_no, name, phone, card_no, tier name and English
    name, points, last visit, then `extra`), anonymised members left out."""
    return (
        select(
            Member.id,
            Member.member_no,
            Member.name,
            Member.phone,
            Member.card_no,
            Tier.name,
            Tier.name_en,
            Member.points_balance,
            Member.last_visit_at,
            *extra,
        )
        .join(Tier, Tier.id == Member.tier_id)
        .where(Member.status != MemberStatus.ANONYMISED)
    )


def member_page(db: Database, offset: int, limit: int, text: str = "") -> Page[MemberRow]:
    """One page of the member list (newest first, or in the filter's order), anonymised members left out. The
    filter takes what the lookup box takes: phone prefix or last 4, name prefix, pinyin initials, card prefix."""
    text = re.sub(r"\s+", "", text or "")
    rows_query, order = _filtered(listed_members(Member.joined_at, Member.status), text)
    count_query, _ = _filtered(
        select(func.count()).select_from(Member).where(Member.status != MemberStatus.ANONYMISED), text
    )
    with db.session() as session:
        total = session.scalar(count_query) or 0
        rows = session.execute(rows_query.order_by(order, Member.id.desc()).offset(offset).limit(limit)).all()
    return Page(
        [
            MemberRow(
                id=r[0],
                member_no=r[1],
                name=r[2] or "",
                masked_phone=mask_phone(r[3]),
                card_no=r[4],
                tier_name=r[5],
                tier_name_en=r[6],
                points=r[7],
                last_visit_at=r[8],
                joined_at=r[9],
                status=r[10],
            )
            for r in rows
        ],
        total,
    )


def branch_name(db: Database, branch_id: int) -> str:
    """The branch's name for the status bar ('' if it was removed)."""
    with db.session() as session:
        return session.scalar(select(Branch.name).where(Branch.id == branch_id)) or ""
