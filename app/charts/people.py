"""Charts over the members themselves: the tier distribution (now), tier moves per bucket, and new members per
bucket split by referral. The branch is the member's home branch (a tier move: the branch where it was made)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, func, literal_column, select
from sqlalchemy.orm import aliased

from app.charts.activity import NOTHING, _bucketed, _labels, _x_title
from app.charts.base import Ask
from app.charts.model import ChartData, ChartId, Look, Series
from app.charts.periods import between, bucket_key, buckets, local_day, span
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from db.enums import MemberStatus
from db.models import Member, Tier, TierChange

MEMBERS = S("Charts", "Members")


def _t(text: str) -> str:
    return translate("Charts", text)


def _current(ask: Ask) -> Select[Any]:
    query = select(Member.id).where(Member.status != MemberStatus.ANONYMISED)
    if ask.filter.branch_id is not None:
        query = query.where(Member.home_branch_id == ask.filter.branch_id)
    return query


class TierDistribution:
    """Members in each tier now (the period does not apply)."""

    def figures(self, ask: Ask) -> ChartData:
        tiers = ask.session.execute(select(Tier.id, Tier.code, Tier.name).order_by(Tier.rank)).all()
        # Every member from an index alone (tier; home branch and tier), less the few anonymised ones, from their
        # own partial index: no GROUP BY with the status, or the planner would read every member's row for it.
        query = select(Member.tier_id, func.count())
        if ask.filter.branch_id is not None:
            query = query.where(Member.home_branch_id == ask.filter.branch_id)
        everyone = dict(ask.session.execute(query.group_by(Member.tier_id)).all())
        anonymised = Member.status == literal_column(f"'{MemberStatus.ANONYMISED.value}'")
        for tier_id, branch_id in ask.session.execute(select(Member.tier_id, Member.home_branch_id).where(anonymised)):
            if ask.filter.branch_id in (None, branch_id):  # the branch here: the partial index stays the only one
                everyone[tier_id] -= 1
        counts = {code: int(everyone.get(tier_id, 0)) for tier_id, code, _name in tiers}
        values = tuple(float(counts[code]) for _id, code, _name in tiers)
        return ChartData(
            ChartId.TIERS,
            Look.BARS,
            _t(S("Charts", "Tier")),
            _t(MEMBERS),
            tuple(name for _id, _code, name in tiers),
            (Series(_t(MEMBERS), values),),
            tuple(code for _id, code, _name in tiers),
            notes=(_t(S("Charts", "Members in each tier today; the period filter does not apply.")),),
            empty=None if any(values) else _t(S("Charts", "No members yet.")),
        )

    def members(self, ask: Ask, key: str, series: int) -> Select[Any]:
        return _current(ask).join(Tier, Tier.id == Member.tier_id).where(Tier.code == key)


class TierMoves:
    """Members moved up and down a tier in each bucket (by the tier review, a purchase or by hand); a member's first
    tier counts as up."""

    def __init__(self) -> None:
        self.before = aliased(Tier)
        self.after = aliased(Tier)

    def _query(self, ask: Ask, *columns: Any) -> Select[Any]:
        before, after = self.before, self.after
        query = (
            select(*columns)
            .select_from(TierChange)
            .join(after, after.id == TierChange.to_tier_id)
            .outerjoin(before, before.id == TierChange.from_tier_id)
        )
        if ask.filter.branch_id is not None:
            query = query.where(TierChange.branch_id == ask.filter.branch_id)
        return query

    def figures(self, ask: Ask) -> ChartData:
        before, after = self.before, self.after
        up = case((before.rank.is_(None), 0), (after.rank > before.rank, 0), else_=1)
        day = local_day(TierChange.created_at, ask.dialect, ask.period.zone)
        query = self._query(ask, day, up, func.count()).where(
            *between(TierChange.created_at, ask.period.start, ask.period.end)
        )
        rows = ask.session.execute(query.group_by(day, up)).all()
        starts, found = _bucketed(ask, [(d, (int(u), int(n))) for d, u, n in rows])
        ups = tuple(float(sum(n for u, n in found.get(s, []) if u == 0)) for s in starts)
        downs = tuple(float(sum(n for u, n in found.get(s, []) if u == 1)) for s in starts)
        labels, keys = _labels(ask, starts)
        return ChartData(
            ChartId.TIER_MOVES,
            Look.BARS,
            _x_title(ask),
            _t(MEMBERS),
            labels,
            (Series(_t(S("Charts", "Moved up")), ups), Series(_t(S("Charts", "Moved down")), downs)),
            keys,
            empty=None if rows else _t(S("Charts", "No tier changed in this period.")),
        )

    def members(self, ask: Ask, key: str, series: int) -> Select[Any]:
        before, after = self.before, self.after
        start, end = span(ask.period, key)
        direction = (
            and_(before.rank.is_not(None), after.rank < before.rank)
            if series == 1
            else (before.rank.is_(None) | (after.rank > before.rank))
        )
        return self._query(ask, TierChange.member_id).where(direction, *between(TierChange.created_at, start, end))


class NewMembers:
    """Members who joined in each bucket, those referred by another member apart."""

    def figures(self, ask: Ask) -> ChartData:
        # One count per bucket over a range of the joined_at index (which holds the referrer and the branch too):
        # no day worked out for every member who joined.
        first = ask.period.first
        if first is None:
            earliest = ask.session.scalar(_in_branch(ask, select(func.min(Member.joined_at))))
            first = (
                ask.period.last
                if earliest is None
                else min(earliest.astimezone(ask.period.zone).date(), ask.period.last)
            )
        starts = buckets(first, ask.period.last, ask.filter.grain)
        plain_n: list[float] = []
        referred_n: list[float] = []
        for start in starts:
            since, until = span(ask.period, bucket_key(start, ask.filter.grain))
            query = select(func.count(), func.count(Member.referrer_id)).where(*between(Member.joined_at, since, until))
            everyone, referred = ask.session.execute(_in_branch(ask, query)).one()
            plain_n.append(float(everyone - referred))
            referred_n.append(float(referred))
        plain, by_referral = tuple(plain_n), tuple(referred_n)
        labels, keys = _labels(ask, starts)
        return ChartData(
            ChartId.NEW_MEMBERS,
            Look.STACKED,
            _x_title(ask),
            _t(S("Charts", "New members")),
            labels,
            (Series(_t(S("Charts", "Joined by themselves")), plain), Series(_t(S("Charts", "Referred")), by_referral)),
            keys,
            notes=(
                _t(S("Charts", "{n} new members, {referred} of them referred by a member.")).format(
                    n=f"{int(sum(plain) + sum(by_referral)):,}", referred=f"{int(sum(by_referral)):,}"
                ),
            ),
            empty=None if any(plain) or any(by_referral) else _t(NOTHING),
        )

    def members(self, ask: Ask, key: str, series: int) -> Select[Any]:
        start, end = span(ask.period, key)
        referred = Member.referrer_id.is_not(None) if series == 1 else Member.referrer_id.is_(None)
        return _in_branch(ask, select(Member.id).where(referred, *between(Member.joined_at, start, end)))


Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def _in_branch(ask: Ask, query: Q) -> Q:
    """Members of the branch asked (their home branch), if one was. `+ 0`: the condition is checked in the
    joined_at index (which holds the branch), never by walking the branch's index and reading each member's row."""
    return query if ask.filter.branch_id is None else query.where(Member.home_branch_id + 0 == ask.filter.branch_id)
