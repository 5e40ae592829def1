"""Saved segments: named filters over member fields and the stored segment figures, with a live count.

Every field of a filter narrows the members (AND); a list matches any of its values (OR). Members never refreshed
have no segment figures and match no segment condition. Anonymised members never match.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.changes import Changes
from app.errors import ConflictError, NotFoundError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.insights.labels import PYRAMID, RFM_CLASSES, STAGES
from app.members.validation import mask_phone
from app.security.operator import Operator, require_role
from app.trust.audit import record_audit
from db.engine import Database
from db.enums import CampaignStatus, MemberStatus, StaffRole
from db.models import CouponCampaign, Member, MemberSegment, MemberTag, SavedSegment, Tag, Tier


@dataclass(frozen=True)
class SegmentFilter:
    tiers: tuple[str, ...] = ()
    """Tier codes."""
    pyramid_levels: tuple[str, ...] = ()
    rfm_classes: tuple[str, ...] = ()
    lifecycle_stages: tuple[str, ...] = ()
    churn_warning: bool | None = None
    birthday_month: int | None = None
    tags: tuple[str, ...] = ()
    branch_ids: tuple[int, ...] = ()
    """Home branches."""
    marketing_consent: bool | None = None
    spend_min_fen: int | None = None
    spend_max_fen: int | None = None
    """Spend in the segment period (the refresh's monetary figure), inclusive."""

    def check(self) -> None:
        for values, known in (
            (self.pyramid_levels, PYRAMID),
            (self.rfm_classes, RFM_CLASSES),
            (self.lifecycle_stages, STAGES),
        ):
            unknown = [v for v in values if v not in known]
            if unknown:
                raise ValidationError(S("Errors", "Unknown segment: {name}"), name=unknown[0])
        if self.birthday_month is not None and not 1 <= self.birthday_month <= 12:
            raise ValidationError(S("Errors", "A birthday month is 1 to 12."), field="birthday_month")
        if (
            self.spend_min_fen is not None
            and self.spend_max_fen is not None
            and self.spend_min_fen > self.spend_max_fen
        ):
            raise ValidationError(S("Errors", "The lowest spend is above the highest."), field="spend_min_fen")

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SegmentFilter:
        names = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
        return cls(**values)


def members_matching(flt: SegmentFilter) -> Select[int]:
    query = select(Member.id).where(Member.status != MemberStatus.ANONYMISED)
    needs_segment = any(
        (
            flt.pyramid_levels,
            flt.rfm_classes,
            flt.lifecycle_stages,
            flt.churn_warning is not None,
            flt.spend_min_fen is not None,
            flt.spend_max_fen is not None,
        )
    )
    if needs_segment:
        query = query.join(MemberSegment, MemberSegment.member_id == Member.id)
    if flt.pyramid_levels:
        query = query.where(MemberSegment.pyramid_level.in_(flt.pyramid_levels))
    if flt.rfm_classes:
        query = query.where(MemberSegment.rfm_class.in_(flt.rfm_classes))
    if flt.lifecycle_stages:
        query = query.where(MemberSegment.lifecycle_stage.in_(flt.lifecycle_stages))
    if flt.churn_warning is not None:
        query = query.where(MemberSegment.churn_warning.is_(flt.churn_warning))
    if flt.spend_min_fen is not None:
        query = query.where(MemberSegment.monetary_fen >= flt.spend_min_fen)
    if flt.spend_max_fen is not None:
        query = query.where(MemberSegment.monetary_fen <= flt.spend_max_fen)
    if flt.tiers:
        query = query.where(Member.tier_id.in_(select(Tier.id).where(Tier.code.in_(flt.tiers))))
    if flt.birthday_month is not None:
        query = query.where(Member.birthday_mmdd.like(f"{flt.birthday_month:02d}-%"))
    if flt.tags:
        tagged = select(MemberTag.member_id).join(Tag, Tag.id == MemberTag.tag_id).where(Tag.name.in_(flt.tags))
        query = query.where(Member.id.in_(tagged))
    if flt.branch_ids:
        query = query.where(Member.home_branch_id.in_(flt.branch_ids))
    if flt.marketing_consent is not None:
        query = query.where(Member.marketing_consent.is_(flt.marketing_consent))
    return query


def saved_segment_members(session: Session, segment_id: int | None) -> Select[int]:
    """The ids of the members a saved segment matches now (a query to use inside another)."""
    filters = (
        None
        if segment_id is None
        else session.scalar(select(SavedSegment.filters).where(SavedSegment.id == segment_id))
    )
    if filters is None:
        raise NotFoundError(S("Errors", "Segment not found."))
    return members_matching(SegmentFilter.from_json(filters))


@dataclass(frozen=True)
class SegmentMember:
    """A member of a segment as the saved segments screen lists them (the phone masked unless the role sees it)."""

    id: int
    member_no: str
    name: str
    phone: str
    tier: str | None
    pyramid_level: str | None
    rfm_class: str | None
    churn_warning: bool | None
    marketing_consent: bool


@dataclass(frozen=True)
class SegmentMembersPage:
    rows: list[SegmentMember]
    total: int


@dataclass(frozen=True)
class SavedSegmentView:
    id: int
    name: str
    filter: SegmentFilter
    members: int = field(default=0)


@dataclass(frozen=True)
class SegmentChoices:
    """What a filter can name: tiers (code, name) in rank order, and the tags in use."""

    tiers: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class SegmentSaved:
    segment_id: int
    changes: Changes = Changes.SEGMENTS


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError(S("Errors", "A segment needs a name of at most 100 characters."), field="name")
    return name


class SavedSegmentService:
    def __init__(self, db: Database, operator: Operator) -> None:
        self.db = db
        self.operator = operator

    def choices(self) -> SegmentChoices:
        def work(session: Session) -> SegmentChoices:
            tiers = tuple(
                (code, name) for code, name in session.execute(select(Tier.code, Tier.name).order_by(Tier.rank))
            )
            tags = tuple(session.scalars(select(Tag.name).order_by(Tag.name).limit(500)))
            return SegmentChoices(tiers, tags)

        return self.db.read(work)

    def count(self, flt: SegmentFilter) -> int:
        """The live count: how many members the filter matches now."""
        flt.check()
        return self.db.read(lambda s: s.scalar(select(func.count()).select_from(members_matching(flt).subquery())) or 0)

    def save(self, name: str, flt: SegmentFilter) -> int:
        """Managers and owners; a name is used once."""
        require_role(self.operator, StaffRole.MANAGER)
        name = _checked_name(name)
        flt.check()

        def work(session: Session) -> int:
            if session.scalar(select(SavedSegment.id).where(SavedSegment.name == name)) is not None:
                raise ConflictError(S("Errors", "A segment named {name} already exists."), name=name)
            row = SavedSegment(name=name, filters=flt.to_json(), created_by_id=self.operator.staff_id)
            session.add(row)
            session.flush()
            record_audit(session, self.operator, "create", "saved_segment", row.id, {"name": name, **flt.to_json()})
            return row.id

        try:
            return self.db.write(work)
        except IntegrityError:  # the same name saved at the same moment on another counter
            raise ConflictError(S("Errors", "A segment named {name} already exists."), name=name) from None

    def all(self) -> list[SavedSegmentView]:
        """Every saved segment with its live count."""

        def work(session: Session) -> list[SavedSegmentView]:
            views = []
            for row in session.scalars(select(SavedSegment).order_by(SavedSegment.name)):
                flt = SegmentFilter.from_json(row.filters)
                count = session.scalar(select(func.count()).select_from(members_matching(flt).subquery())) or 0
                views.append(SavedSegmentView(row.id, row.name, flt, count))
            return views

        return self.db.read(work)

    def remove(self, segment_id: int) -> SegmentSaved:
        """A segment a running campaign still targets is kept (the campaign issues by it); ended and past
        campaigns forget it."""
        require_role(self.operator, StaffRole.MANAGER)

        def work(session: Session) -> SegmentSaved:
            row = session.get(SavedSegment, segment_id)
            if row is None:
                raise NotFoundError(S("Errors", "Segment not found."))
            running = session.scalar(
                select(CouponCampaign.code).where(
                    CouponCampaign.saved_segment_id == segment_id, CouponCampaign.status != CampaignStatus.ENDED
                )
            )
            if running is not None:
                raise ConflictError(
                    S("Errors", "The campaign {code} targets this segment: end it before deleting the segment."),
                    code=running,
                )
            session.execute(
                update(CouponCampaign)
                .where(CouponCampaign.saved_segment_id == segment_id)
                .values(saved_segment_id=None)
            )
            record_audit(session, self.operator, "delete", "saved_segment", segment_id, {"name": row.name})
            session.execute(delete(SavedSegment).where(SavedSegment.id == segment_id))
            return SegmentSaved(segment_id)

        return self.db.write(work)

    def rename(self, segment_id: int, name: str) -> SegmentSaved:
        require_role(self.operator, StaffRole.MANAGER)
        name = _checked_name(name)

        def work(session: Session) -> SegmentSaved:
            row = session.get(SavedSegment, segment_id)
            if row is None:
                raise NotFoundError(S("Errors", "Segment not found."))
            if row.name == name:
                return SegmentSaved(segment_id)
            if session.scalar(select(SavedSegment.id).where(SavedSegment.name == name)) is not None:
                raise ConflictError(S("Errors", "A segment named {name} already exists."), name=name)
            record_audit(session, self.operator, "rename", "saved_segment", segment_id, {"from": row.name, "to": name})
            row.name = name
            return SegmentSaved(segment_id)

        try:
            return self.db.write(work)
        except IntegrityError:
            raise ConflictError(S("Errors", "A segment named {name} already exists."), name=name) from None

    def members(self, segment_id: int, offset: int = 0, limit: int = 200) -> SegmentMembersPage:
        """One page of the segment's members (by member number) and how many it has."""

        def work(session: Session) -> SegmentMembersPage:
            ids = saved_segment_members(session, segment_id).subquery()
            total = session.scalar(select(func.count()).select_from(ids)) or 0
            query = (
                select(
                    Member.id,
                    Member.member_no,
                    Member.name,
                    Member.phone,
                    Tier.name,
                    MemberSegment.pyramid_level,
                    MemberSegment.rfm_class,
                    MemberSegment.churn_warning,
                    Member.marketing_consent,
                )
                .outerjoin(Tier, Tier.id == Member.tier_id)
                .outerjoin(MemberSegment, MemberSegment.member_id == Member.id)
                .where(Member.id.in_(select(ids.c.id)))
                .order_by(Member.member_no)
                .offset(offset)
                .limit(limit)
            )
            full = self.operator.sees_full_phone
            rows = [
                SegmentMember(
                    member_id,
                    member_no,
                    name or "",
                    (phone or "") if full else mask_phone(phone),
                    tier,
                    level,
                    rfm,
                    churn,
                    consent,
                )
                for member_id, member_no, name, phone, tier, level, rfm, churn, consent in session.execute(query)
            ]
            return SegmentMembersPage(rows, total)

        return self.db.read(work)
