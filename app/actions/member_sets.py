"""A set of members an action is taken for: a saved segment, a filter (the win-back set: members with a churn
warning), or members named by id (a chart's bar, a work list). Resolved inside the action's own transaction, so the
members acted on are exactly those the set holds at that moment."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import QT_TRANSLATE_NOOP as S
from app.insights.saved import SegmentFilter, members_matching, saved_segment_members
from db.enums import MemberStatus
from db.models import Member

ID_CHUNK = 5000
"""Ids per IN list: SQLite takes at most 32,766 parameters a statement, PostgreSQL 65,535."""
WIN_BACK = S("Actions", "Members with a churn warning")


@dataclass(frozen=True)
class MemberSet:
    """Exactly one of `segment_id`, `flt` or `member_ids` says who; `label` says it in words (audit, screens)."""

    label: str
    segment_id: int | None = None
    flt: SegmentFilter | None = None
    member_ids: tuple[int, ...] = ()

    @classmethod
    def of_segment(cls, segment_id: int, name: str) -> MemberSet:
        return cls(name, segment_id=segment_id)

    @classmethod
    def of_filter(cls, flt: SegmentFilter, label: str) -> MemberSet:
        return cls(label, flt=flt)

    @classmethod
    def of_members(cls, member_ids: Sequence[int], label: str) -> MemberSet:
        return cls(label, member_ids=tuple(sorted(set(member_ids))))

    @classmethod
    def win_back(cls) -> MemberSet:
        """The win-back set: every member the last segment refresh gave a churn warning."""
        return cls(WIN_BACK, flt=SegmentFilter(churn_warning=True))

    def describe(self) -> dict[str, object]:
        """What the audit log keeps of the set."""
        if self.segment_id is not None:
            return {"set": self.label, "saved_segment_id": self.segment_id}
        if self.flt is not None:
            return {"set": self.label, "filter": self.flt.to_json()}
        return {"set": self.label, "members": len(self.member_ids)}

    def resolve(self, session: Session, consent_only: bool = False) -> list[int]:
        """The ids of the set's active members (with marketing consent only, if asked), in id order."""
        active = Member.status == MemberStatus.ACTIVE
        consent = Member.marketing_consent.is_(True)
        if not self.member_ids and self.segment_id is None and self.flt is None:
            return []
        if self.member_ids:
            found: list[int] = []
            for chunk in chunks(self.member_ids):
                query = select(Member.id).where(Member.id.in_(chunk), active)
                found.extend(session.scalars(query.where(consent) if consent_only else query))
            return sorted(found)
        inner = saved_segment_members(session, self.segment_id) if self.flt is None else members_matching(self.flt)
        query = select(Member.id).where(Member.id.in_(inner), active)
        return list(session.scalars((query.where(consent) if consent_only else query).order_by(Member.id)))


def chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield list(ids[start : start + ID_CHUNK])
