"""The charts' own pre-aggregates on hand-made data (SQLite and PostgreSQL): the members' spend per branch and month
with its packs (the Pareto curve) and the segment counts per home branch, kept with every write and proven equal to
the raw data by `db check`; the tier and new-member charts read from indexes give the same figures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, update

from app.charts.model import ChartFilter, ChartId, Grain
from app.context import Services, Store
from app.integrity import check_database
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from db import spend_months
from db.models import Branch, Member, MemberBranchMonth, MemberSegment, SegmentBranchCount, SpendPack

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
AUTUMN = ChartFilter(dt.date(2026, 10, 1), dt.date(2026, 11, 18))


def local(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 12, tzinfo=SHANGHAI)


@pytest.fixture
def east(store: Store) -> int:
    """A second branch, 城东店."""

    def add(session: object) -> int:
        branch = Branch(code="EAST", name="城东店")
        session.add(branch)  # type: ignore[attr-defined]
        session.flush()  # type: ignore[attr-defined]
        return branch.id

    return store.db.write(add)


def at_branch(store: Store, branch_id: int) -> Services:
    owner = store.operator("owner")
    return store.services(dataclasses.replace(owner, branch_id=branch_id))


def buy(svc: Services, member: int, fen: int, at: dt.datetime) -> int:
    return svc.loyalty.record_purchase(PurchaseRequest(member, fen, str(uuid.uuid4()), sold_at=at)).sale_id


def stored_rows(store: Store) -> dict[tuple[int, int, int], int]:
    """The rows, a row of 0 (a member's month emptied by a return, until the next packing) left out."""
    return store.db.read(
        lambda s: {
            (m, b, i): spend
            for m, b, i, spend in s.execute(
                select(
                    MemberBranchMonth.month,
                    MemberBranchMonth.branch_id,
                    MemberBranchMonth.member_id,
                    MemberBranchMonth.spend_fen,
                ).where(MemberBranchMonth.spend_fen != 0)
            )
        }
    )


def marked(store: Store) -> int:
    return store.db.read(
        lambda s: s.scalar(select(func.count()).select_from(MemberBranchMonth).where(MemberBranchMonth.since_pack))
    )


def packs(store: Store) -> set[tuple[int, int]]:
    return store.db.read(lambda s: {(m, b) for m, b in s.execute(select(SpendPack.month, SpendPack.branch_id))})


def top_share(boss: Services, chart_filter: ChartFilter) -> float:
    """The Pareto curve's share at the top 1 % (with two or three buyers: the first of them)."""
    value = boss.charts.chart(ChartId.PARETO, chart_filter).series[0].values[1]
    assert value is not None
    return value


def test_spend_per_branch_and_month_follows_purchases_returns_and_packs(
    store: Store, boss: Services, east: int
) -> None:
    home = boss.charts.branches()[0][0]
    zhang = boss.members.register(MemberForm(phone="13800000001", name="张伟", membership_consent=True))
    li = boss.members.register(MemberForm(phone="13800000002", name="李娜", membership_consent=True))
    there = at_branch(store, east)
    buy(boss, zhang, 20_000, local(10, 5))
    buy(boss, li, 30_000, local(10, 6))
    buy(boss, zhang, 10_000, local(11, 2))
    far = buy(there, li, 50_000, local(10, 20))
    buy(there, zhang, 5_000, local(11, 3))
    assert stored_rows(store) == {
        (202610, home, zhang): 20_000,
        (202610, home, li): 30_000,
        (202610, east, li): 50_000,
        (202611, home, zhang): 10_000,
        (202611, east, zhang): 5_000,
    }
    assert packs(store) == set()
    unpacked = top_share(boss, AUTUMN)
    assert unpacked == pytest.approx(100.0 * 80_000 / 115_000)  # 李娜 80,000 of 115,000

    assert marked(store) == 5
    assert boss.charts.pack_spend_months() == 4  # October and November at both branches
    assert packs(store) == {(202610, home), (202610, east), (202611, home), (202611, east)}
    assert marked(store) == 0 and boss.charts.pack_spend_months() == 0
    # The same figures from the packs (another filter over the same months: not the figures kept for the first).
    assert top_share(boss, ChartFilter(dt.date(2026, 10, 2), dt.date(2026, 11, 18))) == unpacked
    at_east = ChartFilter(dt.date(2026, 10, 1), dt.date(2026, 11, 18), east)
    assert top_share(boss, at_east) == pytest.approx(100.0 * 50_000 / 55_000)
    assert boss.charts.members(ChartId.PARETO, at_east, "1", 0, "").member_ids == (li,)

    boss.loyalty.return_sale(far, str(uuid.uuid4()))  # 李娜's October purchase at 城东店 is returned
    assert (202610, east, li) not in stored_rows(store)
    assert marked(store) == 1  # 李娜's October at 城东店, now 0, put over its pack by every reader
    assert top_share(boss, AUTUMN) == pytest.approx(100.0 * 35_000 / 65_000)  # 张伟 35,000, 李娜 30,000
    assert top_share(boss, at_east) == 100.0  # 张伟 alone at 城东店 now
    assert store.db.read(lambda s: spend_months.differences(s.connection(), "Asia/Shanghai")) == []
    assert check_database(store.db) == []

    buy(there, li, 7_000, local(11, 17))  # a purchase after the packing is seen at once too
    assert top_share(boss, at_east) == pytest.approx(100.0 * 7_000 / 12_000)
    assert boss.charts.pack_spend_months() == 2  # 城东店's October (now empty: its pack goes) and November
    assert packs(store) == {(202610, home), (202611, home), (202611, east)} and marked(store) == 0
    assert top_share(boss, at_east) == pytest.approx(100.0 * 7_000 / 12_000)
    store.db.write(
        lambda s: s.execute(
            update(MemberBranchMonth)
            .where(MemberBranchMonth.month == 202611, MemberBranchMonth.branch_id == home)
            .values(spend_fen=MemberBranchMonth.spend_fen + 1)
        )
    )
    store.db.write(
        lambda s: s.execute(
            update(SpendPack)
            .where(SpendPack.month == 202610, SpendPack.branch_id == home)
            .values(spend_fen=(1).to_bytes(8, "little"))
        )
    )
    found = store.db.read(lambda s: spend_months.differences(s.connection(), "Asia/Shanghai"))
    assert found == [f"2026-10 branch {home}", f"2026-11 branch {home}"]
    problems = [str(p) for p in check_database(store.db)]
    assert any("Pareto" in p and f"2026-11 branch {home}" in p for p in problems)
    store.db.write(lambda s: spend_months.rebuild(s.connection(), "Asia/Shanghai"))
    assert check_database(store.db) == []


def test_segment_counts_per_home_branch_equal_the_members(store: Store, boss: Services, east: int) -> None:
    home = boss.charts.branches()[0][0]
    there = at_branch(store, east)
    for n in range(6):
        branch = east if n % 3 == 0 else home
        member = boss.members.register(
            MemberForm(phone=f"1380000010{n}", name=f"会员{n}", membership_consent=True, home_branch_id=branch)
        )
        for visit in range(n % 4):
            buy(there if visit % 2 else boss, member, 10_000 * (n + 1), local(10 + visit % 2, 3 + visit))
    boss.segments.refresh()

    def live(branch_id: int, column: object) -> dict[str, int]:
        return store.db.read(
            lambda s: {
                str(code): int(n)
                for code, n in s.execute(
                    select(column, func.count())  # type: ignore[call-overload]
                    .join(Member, Member.id == MemberSegment.member_id)
                    .where(Member.home_branch_id == branch_id)
                    .group_by(column)
                )
                if code is not None
            }
        )

    for branch_id in (home, east):
        for chart, column in (
            (ChartId.PYRAMID, MemberSegment.pyramid_level),
            (ChartId.RFM, MemberSegment.rfm_class),
            (ChartId.LIFECYCLE, MemberSegment.lifecycle_stage),
        ):
            data = boss.charts.chart(chart, ChartFilter(branch_id=branch_id))
            shown = {key: int(v or 0) for key, v in zip(data.keys, data.series[0].values, strict=True) if v}
            assert shown == live(branch_id, column), (chart, branch_id)
        heat = boss.charts.chart(ChartId.HEAT, ChartFilter(branch_id=branch_id))
        cells = {f"{r}{f}": n for r, row in enumerate(heat.heat, 1) for f, n in enumerate(row, 1) if n}
        assert cells == live(branch_id, MemberSegment.r_score * 10 + MemberSegment.f_score)
    whole = boss.charts.chart(ChartId.HEAT, ChartFilter())
    assert sum(map(sum, whole.heat)) == 4  # the four who bought; who never bought has no scores
    assert store.db.read(lambda s: s.scalar(select(func.count()).select_from(SegmentBranchCount))) > 0


def test_tiers_of_a_branch_and_new_members_by_day(store: Store, boss: Services, east: int) -> None:
    ids = [
        boss.members.register(
            MemberForm(
                phone=f"1380000020{n}",
                name=f"会员{n}",
                membership_consent=True,
                home_branch_id=east if n < 2 else None,
            )
        )
        for n in range(4)
    ]
    boss.privacy.anonymise(ids[0], "本人申请")  # an anonymised member is in no tier's count
    tiers = boss.charts.chart(ChartId.TIERS, ChartFilter(branch_id=east))
    assert sum(v or 0 for v in tiers.series[0].values) == 1
    assert sum(v or 0 for v in boss.charts.chart(ChartId.TIERS, ChartFilter()).series[0].values) == 3
    by_day = boss.charts.chart(ChartId.NEW_MEMBERS, ChartFilter(None, dt.date(2026, 11, 18), grain=Grain.DAY))
    assert by_day.categories == ("11-18",)  # from the first member's day, not an empty axis from 1970
    assert by_day.series[0].values == (4.0,)
    at_east = boss.charts.chart(ChartId.NEW_MEMBERS, ChartFilter(dt.date(2026, 11, 16), dt.date(2026, 11, 18), east))
    assert at_east.series[0].values == (2.0,)


def test_a_pack_is_int32_when_every_number_fits_else_int64() -> None:
    import numpy as np

    from db.spend_months import _packed, _unpacked

    small = np.array([1, 2**31 - 1], dtype=np.int64)
    big = np.array([-(2**31) - 1, 2**40], dtype=np.int64)
    assert len(_packed(small)) == 8 and _unpacked(_packed(small), 2).tolist() == small.tolist()
    assert len(_packed(big)) == 16 and _unpacked(_packed(big), 2).tolist() == big.tolist()
