"""Segments on a real database: the CDNOW validation, totals kept with purchases and returns, bad input."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
import uuid
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update

from app import child_process
from app.clock import FixedClock
from app.context import Services, Store
from app.errors import ConflictError, PermissionDenied, ValidationError
from app.importing.sales import SalesImporter
from app.insights import refresh
from app.insights.aggregates import month_total_differences
from app.insights.clv import BgNbd, p_alive
from app.insights.compute import BuyerFigures, Histories, Ints, Segments
from app.insights.export import COLUMNS, write_segments
from app.insights.refresh import RefreshCancelled
from app.insights.saved import SegmentFilter
from app.integrity import check_database
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from db import member_histories
from db.enums import MemberStatus
from db.models import Member, MemberHistory, MemberMonthTotal, MemberSegment

CDNOW = Path(__file__).resolve().parent.parent / "data" / "cdnow"
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def local(y: int, m: int, d: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(y, m, d, hour, tzinfo=SHANGHAI)


def buy(svc: Services, member: int, fen: int, at: dt.datetime) -> int:
    request = PurchaseRequest(member_id=member, total_fen=fen, idempotency_key=str(uuid.uuid4()), sold_at=at)
    return svc.loyalty.record_purchase(request).sale_id


def register(svc: Services, phone: str) -> int:
    return svc.members.register(MemberForm(phone=phone, name="张三", membership_consent=True))


def test_cdnow_sample_reproduces_the_published_fits(store: Store, boss: Services, tmp_path: Path) -> None:
    report = SalesImporter(store.db, store.operator("owner"), store.clock).run(
        CDNOW / "cdnow_sample_2357_customers.csv", create_missing=True
    )
    assert report.imported == 6919 and not report.refused
    result = boss.segments.refresh(as_of=dt.date(1997, 9, 30), with_numbers=True)
    fit = result.fit
    assert fit.bgnbd is not None and fit.gamma_gamma is not None, fit.reason
    for name, published in PUBLISHED_BGNBD.items():
        assert getattr(fit.bgnbd, name) == pytest.approx(published, rel=0.01), name
    for name, published in PUBLISHED_GG.items():
        assert getattr(fit.gamma_gamma, name) == pytest.approx(published, rel=0.01), name
    assert len(result.segments.member_ids) == 2357 and fit.buyers == 2357 and fit.repeat_buyers == 946
    assert result.later_sales_ignored > 0 and not result.stored  # 1997 is not the latest day

    # Per member: the published summary's (x, t_x, T) put through the fitted model give our P(alive).
    with (CDNOW / "cdnow_customers_summary_with_transactions.csv").open() as fh:
        summary = {row["member_no"]: row for row in csv.DictReader(fh)}
    index = {no: i for i, no in enumerate(result.numbers.member_no)}
    model = BgNbd(fit.bgnbd.r, fit.bgnbd.alpha, fit.bgnbd.a, fit.bgnbd.b)
    numbers = sorted(summary)
    x = np.array([float(summary[n]["x"]) for n in numbers])
    t_x = np.array([float(summary[n]["t_x"]) for n in numbers])
    big_t = np.array([float(summary[n]["T"]) for n in numbers])
    ours = result.segments.p_alive[[index[n] for n in numbers]]
    np.testing.assert_allclose(ours, p_alive(model, x, t_x, big_t), atol=2e-3)
    frequency_ever = result.segments.model  # every CDNOW customer bought: the model made every figure
    assert (frequency_ever == 0).all()

    out = tmp_path / "segments.csv"
    assert write_segments(result, out) == 2357
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0][: len(COLUMNS)]) == COLUMNS
    assert not any(cell.lower() == "nan" for row in rows for cell in row)


def test_totals_follow_purchases_and_returns(store: Store, svc: Services, boss: Services) -> None:
    member = register(svc, "13812345678")
    first = buy(svc, member, 10000, local(2026, 10, 3))
    buy(svc, member, 5000, local(2026, 10, 3, 18))
    buy(svc, member, 2000, local(2026, 10, 9))
    buy(svc, member, 700, local(2026, 11, 2))
    with store.db.session() as session:
        rows = session.execute(
            select(
                MemberMonthTotal.month,
                MemberMonthTotal.spend_fen,
                MemberMonthTotal.sales,
                MemberMonthTotal.days_mask,
                MemberMonthTotal.first_day_spend_fen,
            ).order_by(MemberMonthTotal.month)
        ).all()
    assert [tuple(r) for r in rows] == [(202610, 17000, 3, (1 << 2) | (1 << 8), 15000), (202611, 700, 1, 1 << 1, 700)]
    svc.loyalty.return_sale(first, str(uuid.uuid4()))
    with store.db.session() as session:
        october = session.get(MemberMonthTotal, (member, 202610))
        assert october is not None
        assert (october.spend_fen, october.sales, october.days_mask, october.first_day_spend_fen) == (
            7000,
            2,
            (1 << 2) | (1 << 8),
            5000,
        )
        assert month_total_differences(session.connection(), "Asia/Shanghai") == []
    assert check_database(store.db) == []


def _history(store: Store, member: int) -> tuple[tuple[int, ...], list[tuple[int, ...]]] | None:
    """A member's history row, unpacked (db/member_histories.py)."""
    with store.db.session() as session:
        row = session.get(MemberHistory, member)
        if row is None:
            return None
        head = member_histories.HEAD.unpack(row.head)
        months = [member_histories.MONTH.unpack_from(row.months, i) for i in range(0, len(row.months), 13)]
        return head, months


def day_no(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def test_history_rows_follow_purchases_returns_and_imports(
    store: Store, svc: Services, boss: Services, tmp_path: Path
) -> None:
    """The short per-member row the refresh reads: kept with each purchase, a return and an import, months more than
    36 before the latest folded into the row's totals, and always what `db check` makes from the sales."""
    member = register(svc, "13812345678")
    boss.segments.refresh()  # the store's totals counted once: from here `db check` compares them
    assert _history(store, member) is None
    buy(svc, member, 4000, local(2022, 3, 5))  # 55 months before October 2026: outside the 36 months
    buy(svc, member, 10000, local(2026, 10, 3))
    buy(svc, member, 5000, local(2026, 10, 3, 18))
    second = buy(svc, member, 2000, local(2026, 10, 9))
    head_month = 2026 * 12 + 9
    assert _history(store, member) == (
        (member, day_no(dt.date(2022, 3, 5)), head_month, 1, 1, day_no(dt.date(2022, 3, 5)), 4000, 4000),
        [(0, (1 << 2) | (1 << 8), 17000)],
    )
    buy(svc, member, 700, local(2026, 11, 2))  # a new head month: October moves one back
    found = _history(store, member)
    assert found is not None and found[0][2] == head_month + 1
    assert found[1] == [(0, 1 << 1, 700), (1, (1 << 2) | (1 << 8), 17000)]
    svc.loyalty.return_sale(second, str(uuid.uuid4()))
    found = _history(store, member)
    assert found is not None and found[1] == [(0, 1 << 1, 700), (1, 1 << 2, 15000)]

    sales = tmp_path / "sales.csv"
    sales.write_text("member_no,time,amount\nNEW001,2026-09-01,12.50\nNEW001,2026-09-20,3.00\n", encoding="utf-8")
    report = SalesImporter(store.db, store.operator("owner"), store.clock).run(sales, create_missing=True)
    assert report.imported == 2
    with store.db.session() as session:
        imported = session.scalar(select(MemberHistory.member_id).where(MemberHistory.member_id != member))
        assert month_total_differences(session.connection(), "Asia/Shanghai") == []
    assert imported is not None
    assert _history(store, imported) == (
        (imported, day_no(dt.date(2026, 9, 1)), 2026 * 12 + 8, 1, 0, -1, 1250, 0),
        [(0, 1 | (1 << 19), 1550)],
    )
    assert check_database(store.db) == []

    store.db.write(
        lambda s: s.execute(update(MemberHistory).where(MemberHistory.member_id == member).values(months=b""))
    )
    assert any(str(member) in str(p) for p in check_database(store.db))
    boss.segments.refresh(recount=True)
    assert check_database(store.db) == []


def test_db_check_finds_totals_that_differ_from_the_sales(store: Store, svc: Services, boss: Services) -> None:
    member = register(svc, "13812345678")
    buy(svc, member, 10000, local(2026, 10, 3))
    boss.segments.refresh()
    store.db.write(lambda s: s.execute(update(MemberMonthTotal).values(spend_fen=1)))
    problems = [str(p) for p in check_database(store.db)]
    assert any("monthly purchase totals differ" in p for p in problems)
    boss.segments.refresh(recount=True)
    assert check_database(store.db) == []


def test_refresh_stores_what_the_member_panel_shows(
    store: Store, svc: Services, boss: Services, clock: FixedClock
) -> None:
    member = register(svc, "13812345678")
    quiet = register(svc, "13812345679")
    buy(svc, member, 10000, local(2026, 11, 10))
    clock.advance(dt.timedelta(days=2))
    report = boss.segments.refresh()
    assert report.stored and report.as_of == dt.date(2026, 11, 19)
    shown = svc.segments.member_segment(member)
    assert shown is not None and shown.pyramid_level == "vip" and shown.lifecycle_stage == "new"
    assert shown.model == "interval rule"
    never = svc.segments.member_segment(quiet)
    assert never is not None and never.lifecycle_stage == "registered" and never.rfm_class is None
    with store.db.session() as session:
        assert session.query(MemberSegment).count() == 2


def test_a_cancelled_refresh_keeps_the_previous_results(store: Store, svc: Services, boss: Services) -> None:
    """The refresh runs in a forked process of its own; a cancel answered to its progress stops it there."""
    member = register(svc, "13812345678")
    buy(svc, member, 10000, local(2026, 11, 10))
    first = boss.segments.refresh(per_member=False)
    assert first.stored and first.segments is None and first.members == 1
    seen: list[str] = []

    def stop_before_storing(done: int, total: int, what: str) -> bool:
        seen.append(what)
        return what != "Storing the results"

    buy(svc, register(svc, "13812345679"), 5000, local(2026, 11, 12))
    with pytest.raises(RefreshCancelled):
        boss.segments.refresh(progress=stop_before_storing)
    assert seen[-1] == "Storing the results"
    with store.db.session() as session:
        assert session.query(MemberSegment).count() == 1


def test_the_refresh_runs_where_it_is_inside_a_job_process(
    store: Store, svc: Services, boss: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(child_process, "in_a_child", lambda: True)
    forks: list[object] = []
    monkeypatch.setattr(child_process, "run_in_child", lambda *args, **_: forks.append(args))
    member = register(svc, "13812345678")
    buy(svc, member, 10000, local(2026, 11, 10))
    report = boss.segments.refresh()
    assert report.stored and not forks
    shown = svc.segments.member_segment(member)
    assert shown is not None and shown.lifecycle_stage == "new"


def test_a_cashier_cannot_refresh(svc: Services) -> None:
    with pytest.raises(PermissionDenied):
        svc.segments.refresh()


def test_bad_input_gets_a_rule_or_a_message(store: Store, svc: Services, boss: Services, clock: FixedClock) -> None:
    # No sales at all: everyone is registered, the rule is named, nothing is NaN.
    register(svc, "13812345678")
    clock.advance(dt.timedelta(days=2))
    empty = boss.segments.refresh()
    assert empty.fit.model == "interval rule" and empty.fit.reason is not None
    assert empty.counts["lifecycle"]["registered"] == 1
    # As-of in the future: a clear message.
    with pytest.raises(ValidationError):
        boss.segments.refresh(as_of=dt.date(2027, 1, 1))
    # Every purchase on one day, and one in the future (a till with a wrong clock): left out and counted.
    members = [register(svc, f"1381234{i:04d}") for i in range(3)]
    for m in members:
        buy(svc, m, 1000, local(2026, 11, 19))
    buy(svc, members[0], 999, local(2026, 11, 30))
    one_day = boss.segments.refresh()
    assert one_day.later_sales_ignored == 1
    assert one_day.counts["lifecycle"]["new"] == 3
    assert all(math.isfinite(v) for v in one_day.segments.p_alive[one_day.segments.model == 1])
    # As-of before the first sale: nobody has bought yet.
    before = boss.segments.refresh(as_of=dt.date(2026, 1, 1))
    assert before.fit.buyers == 0 and not before.stored


def test_daily_maintenance_refreshes_once_a_day(svc: Services, clock: FixedClock) -> None:
    member = register(svc, "13812345678")
    buy(svc, member, 10000, local(2026, 11, 10))
    first = svc.segments.refresh_if_due()  # a cashier's counter runs the maintenance too
    assert first is not None and first.stored
    assert svc.segments.refresh_if_due() is None
    clock.advance(dt.timedelta(days=1))
    assert svc.segments.refresh_if_due() is not None


def test_saved_segments_count_live(store: Store, svc: Services, boss: Services, clock: FixedClock) -> None:
    big = svc.members.register(
        MemberForm(
            phone="13812345678", name="张伟", birthday=dt.date(1990, 3, 8), tags=["宝妈"], membership_consent=True
        )
    )
    small = register(svc, "13812345679")
    register(svc, "13812345670")
    buy(svc, big, 90000, local(2026, 11, 10))
    buy(svc, small, 1000, local(2026, 11, 12))
    clock.advance(dt.timedelta(days=2))
    boss.segments.refresh()
    vip = SegmentFilter(pyramid_levels=("vip",))
    assert boss.saved_segments.count(vip) == 1
    assert boss.saved_segments.count(SegmentFilter(lifecycle_stages=("new", "registered"))) == 3
    assert boss.saved_segments.count(SegmentFilter(birthday_month=3, tags=("宝妈",))) == 1
    assert boss.saved_segments.count(SegmentFilter(spend_min_fen=500, spend_max_fen=5000)) == 1
    saved = boss.saved_segments.save("大客户关怀", vip)
    with pytest.raises(ConflictError):
        boss.saved_segments.save("大客户关怀", vip)
    with pytest.raises(PermissionDenied):
        svc.saved_segments.save("收银员的", vip)
    with pytest.raises(ValidationError):
        boss.saved_segments.count(SegmentFilter(rfm_classes=("best",)))
    [view] = boss.saved_segments.all()
    assert (view.id, view.name, view.filter, view.members) == (saved, "大客户关怀", vip, 1)
    boss.saved_segments.remove(saved)
    assert boss.saved_segments.all() == []


def test_the_sliced_read_gives_what_one_slice_gives(
    store: Store, svc: Services, boss: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refresh reads the history rows a slice of member ids at a time, leaves out anonymised members and later
    buyers slice by slice, and makes each slice's figures on threads: cut into slices of two member ids, every
    column, every figure and the whole refresh come out exactly as from one slice."""
    members = [register(svc, f"138123456{i:02d}") for i in range(9)]
    for i, member in enumerate(members[:-1]):  # the last never buys
        for k in range(i % 4 + 1):
            buy(svc, member, 1000 * (i + 1) + 7 * k, local(2025 - k % 2, (i + 3 * k) % 12 + 1, 1 + (5 * i + k) % 27))
    buy(svc, members[1], 2500, local(2026, 11, 3))
    buy(svc, members[2], 900, local(2026, 11, 12))  # after the as-of day below: made again from the totals
    buy(svc, members[3], 400, local(2026, 11, 1))
    store.db.write(
        lambda s: s.execute(update(Member).where(Member.id == members[4]).values(status=MemberStatus.ANONYMISED))
    )
    as_of = dt.date(2026, 11, 5)
    gone = np.array([members[4]], dtype=np.int64)

    def read(slice_size: int) -> tuple[list[tuple[int, Histories]], Ints]:
        monkeypatch.setattr(refresh, "HISTORY_SLICE", slice_size)
        parts: list[tuple[int, Histories]] = []
        with store.db.session() as session:
            count, later = refresh.read_histories(
                session.connection(), gone, lambda part, start: parts.append((start, part)), day_no(as_of)
            )
        parts.sort(key=lambda part: part[0])
        assert count == sum(len(part.member_id) for _, part in parts)
        return parts, later

    (whole,), later = read(1_000)
    sliced, later_sliced = read(2)
    assert len(sliced) == 4  # ids 1–8 have rows: 4 slices of 2
    assert later.tolist() == later_sliced.tolist() == [members[2]]
    assert [start for start, _ in sliced] == [0, *np.cumsum([len(part.member_id) for _, part in sliced])[:-1]]
    joined = Histories.joined([part for _, part in sliced])
    assert members[4] not in joined.member_id and members[2] not in joined.member_id
    for field in dataclasses.fields(Histories):
        assert getattr(joined, field.name).tolist() == getattr(whole[1], field.name).tolist(), field.name
    figures = BuyerFigures.empty(10, as_of, 12)  # room for more than there are
    for start, part in reversed(sliced):  # in any order, as the threads finish
        figures.put(part, start)
    figures = figures.first(len(joined.member_id))
    at_once = BuyerFigures.of(whole[1], as_of, 12)
    for field in dataclasses.fields(BuyerFigures):
        assert np.array_equal(getattr(figures, field.name), getattr(at_once, field.name)), field.name

    def refreshed(slice_size: int) -> Segments:
        monkeypatch.setattr(refresh, "HISTORY_SLICE", slice_size)  # the refresh's process is forked: it sees this
        return boss.segments.refresh(as_of=as_of).per_member()

    one, many = refreshed(1_000), refreshed(2)
    assert len(one.member_ids) == 7 and one.moves  # not the anonymised member, nor who joined after the day
    for field in dataclasses.fields(Segments):
        found, expected = getattr(many, field.name), getattr(one, field.name)
        if isinstance(expected, np.ndarray):
            assert np.array_equal(found, expected, equal_nan=expected.dtype.kind == "f"), field.name
        else:
            assert found == expected, field.name


def test_the_refresh_runs_in_a_spawned_process_too(
    store: Store, svc: Services, boss: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows has no fork: the refresh's process is spawned there, its reading threads run in it as here, and it
    gives what the forked one gives."""
    for i in range(4):
        member = register(svc, f"1381234567{i}")
        for k in range(i):
            buy(svc, member, 1000 * (i + 1) + k, local(2026, 8 + k, 3 + i))
    forked = boss.segments.refresh().per_member()
    monkeypatch.setattr(child_process, "start_method", lambda: "spawn")
    spawned = boss.segments.refresh()
    assert spawned.stored and spawned.members == 3  # who never bought joined after the as-of day
    for field in dataclasses.fields(Segments):
        found, expected = getattr(spawned.per_member(), field.name), getattr(forked, field.name)
        if isinstance(expected, np.ndarray):
            assert np.array_equal(found, expected, equal_nan=expected.dtype.kind == "f"), field.name
        else:
            assert found == expected, field.name
