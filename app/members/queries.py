"""Read-only queries the GUI's lists need beyond the counter's lookup: the paged member list and the names shown in
the status bar. Each is one short read session; nothing here writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from app.members.lookup import ListCursor, find_page, plan_lookup
from app.members.profile import Page
from app.members.validation import mask_phone
from db.engine import Database
from db.enums import MemberStatus
from db.models import Branch, Member, Tier


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


def member_page(db: Database, after: ListCursor | None, limit: int, text: str = "") -> Page[MemberRow]:
    """One page of the member list (newest first, or in the filter's order), anonymised members left out, starting
    after `after` (the previous page's `next`; None for the first). The filter is read the way the counter's lookup
    box reads it (app.members.lookup), so both find the same members."""
    with db.session() as session:
        rows, following, total, more = find_page(
            session, listed_members(Member.joined_at, Member.status), plan_lookup(text), after, limit
        )
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
        following,
        more,
    )


def branch_name(db: Database, branch_id: int) -> str:
    """The branch's name for the status bar ('' if it was removed)."""
    with db.session() as session:
        return session.scalar(select(Branch.name).where(Branch.id == branch_id)) or ""
