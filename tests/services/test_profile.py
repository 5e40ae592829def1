"""The member panel's profile read (issue 16): one statement instead of a dozen, and the same profile as before.

The reference below is the profile as it was read before, one ORM query per figure; on a demo store (tags, itemised
purchases, returns, expiring points, complaints, coupons, follow-up tasks, segments, referrals, every tier) the lean
read must give every member the same profile, on either tier basis. On PostgreSQL each statement's plan must find
its rows through an index."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session, aliased

from app.bootstrap import ensure_store
from app.clock import FixedClock
from app.context import Store
from app.demo import DemoOptions, generate_demo
from app.insights.labels import segment_line
from app.loyalty.tiers import YEAR, TierProgress, all_tiers
from app.members.profile import (
    CategoryShare,
    MemberProfile,
    TaskItem,
    _birthday_flags,
    load_profile,
)
from app.members.validation import mask_phone
from app.paths import DataPaths
from app.security.crypto import FieldCipher
from app.security.operator import Operator
from app.settings import SettingsMemo, read_settings
from db.engine import Database
from db.enums import ComplaintSeverity, ComplaintStatus, CouponStatus, MemberStatus, TaskStatus
from db.models import (
    Category,
    Complaint,
    Coupon,
    FollowUpTask,
    Member,
    MemberSegment,
    MemberTag,
    PointsLot,
    Sale,
    SaleLine,
    Tag,
)

NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


def reference_profile(session: Session, operator: Operator, member_id: int, now: dt.datetime) -> MemberProfile:
    """The profile read as it was before issue 16's work: each figure its own query, through the ORM."""
    member = session.get(Member, member_id)
    assert member is not None and member.status != MemberStatus.ANONYMISED
    settings = read_settings(session)
    today = now.astimezone(ZoneInfo(settings.store_timezone)).date()
    is_today, this_week = _birthday_flags(member.birthday, today)
    lots = session.execute(
        select(PointsLot.remaining, PointsLot.expires_at).where(
            PointsLot.member_id == member.id,
            PointsLot.remaining > 0,
            PointsLot.expires_at <= now + dt.timedelta(days=settings.points_expiry_warning_days),
        )
    ).all()
    dates = [r[1] for r in lots if r[1] is not None]
    tags = list(
        session.scalars(
            select(Tag.name).join(MemberTag, MemberTag.tag_id == Tag.id).where(MemberTag.member_id == member.id)
        )
    )
    complaints = session.scalar(
        select(func.count()).where(
            Complaint.member_id == member.id,
            Complaint.status.in_([ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS]),
        )
    )
    coupons = session.scalar(
        select(func.count()).where(Coupon.member_id == member.id, Coupon.status == CouponStatus.ISSUED)
    )
    tasks = [
        TaskItem(t.id, t.title, t.due_at)
        for t in session.scalars(
            select(FollowUpTask)
            .where(FollowUpTask.member_id == member.id, FollowUpTask.status == TaskStatus.OPEN)
            .order_by(FollowUpTask.due_at.nulls_last(), FollowUpTask.id)
            .limit(10)
        )
    ]
    categories = [
        CategoryShare(name, name_en, int(amount))
        for name, name_en, amount in session.execute(
            select(Category.name, Category.name_en, func.sum(SaleLine.amount_fen))
            .join(SaleLine, SaleLine.category_id == Category.id)
            .join(Sale, Sale.id == SaleLine.sale_id)
            .where(Sale.member_id == member.id)
            .group_by(Category.id, Category.name, Category.name_en)
            .order_by(func.sum(SaleLine.amount_fen).desc())
            .limit(3)
        )
        if amount and amount > 0
    ]
    referrer = aliased(Member)
    referrer_name = (
        session.scalar(select(referrer.name).where(referrer.id == member.referrer_id)) if member.referrer_id else None
    )
    column = Sale.total_fen if settings.tiers_basis == "spend" else Sale.points_earned
    metric = int(
        session.scalar(
            select(func.coalesce(func.sum(column), 0)).where(Sale.member_id == member.id, Sale.sold_at > now - YEAR)
        )
        or 0
    )
    higher = [t for t in all_tiers(session) if t.rank > member.tier.rank]
    if higher:
        nxt = higher[0]
        threshold = nxt.min_spend_12m_fen if settings.tiers_basis == "spend" else nxt.min_points_12m
        tier_progress = TierProgress(metric, settings.tiers_basis, nxt.name, nxt.name_en, max(0, threshold - metric))
    else:
        tier_progress = TierProgress(metric, settings.tiers_basis, None, None, 0)
    segment = session.get(MemberSegment, member.id)
    return MemberProfile(
        id=member.id,
        member_no=member.member_no,
        name=member.name or "",
        masked_phone=mask_phone(member.phone),
        phone=member.phone if operator.sees_full_phone else None,
        card_no=member.card_no,
        gender=member.gender,
        birthday=member.birthday,
        birthday_today=is_today,
        birthday_this_week=this_week,
        tier_name=member.tier.name,
        tier_name_en=member.tier.name_en,
        tier_progress=tier_progress,
        points_balance=member.points_balance,
        points_expiring=sum(r[0] for r in lots),
        points_expiring_at=min(dates) if dates else None,
        tags=sorted(tags),
        segment=(
            segment_line(
                segment.pyramid_level,
                segment.rfm_class,
                segment.lifecycle_stage,
                segment.churn_warning,
                segment.p_alive_permille,
            )
            if segment is not None
            else None
        ),
        open_complaints=complaints or 0,
        coupons_held=coupons or 0,
        open_tasks=tasks,
        preferred_categories=categories,
        visit_count=member.visit_count,
        lifetime_spend_fen=member.lifetime_spend_fen,
        last_visit_at=member.last_visit_at,
        joined_at=member.joined_at,
        marketing_consent=member.marketing_consent,
        status=member.status,
        notes=member.notes,
        referrer_name=referrer_name,
    )


@pytest.fixture
def demo(database: Database, tmp_path: Path) -> Store:
    ensure_store(database)
    paths = DataPaths(tmp_path / "data").ensure()
    store = Store(paths, database, FieldCipher.from_key_file(paths.key_file), FixedClock(NOW))
    generate_demo(store, DemoOptions(members=150, days=400, seed=11), lambda *_: True)
    store.services(store.operator("owner")).segments.refresh()
    store.db.write(add_service_desk_work)
    return store


def add_service_desk_work(session: Session) -> None:
    """Complaints in every state and open, done and undated follow-up tasks for a few members (150 demo members
    may have none)."""
    members = list(session.execute(select(Member.id, Member.home_branch_id).order_by(Member.id).limit(6)))
    for n, (member_id, branch_id) in enumerate(members):
        for status in list(ComplaintStatus)[: n + 1]:
            session.add(
                Complaint(
                    member_id=member_id,
                    branch_id=branch_id,
                    channel="counter",
                    category="其他",
                    severity=ComplaintSeverity.LOW,
                    status=status,
                    subject="test",
                )
            )
        for day in (3, None, 1, None, 2)[: n + 1]:
            due = None if day is None else NOW + dt.timedelta(days=day)
            session.add(FollowUpTask(member_id=member_id, branch_id=branch_id, title=f"回访 {day}", due_at=due))
        session.add(FollowUpTask(member_id=member_id, branch_id=branch_id, title="已完成", status=TaskStatus.DONE))


def same_categories(a: list[CategoryShare], b: list[CategoryShare]) -> bool:
    """Categories with equal amounts may come in either order (neither read orders them further)."""
    return sorted(a, key=lambda c: (-c.amount_fen, c.name)) == sorted(b, key=lambda c: (-c.amount_fen, c.name))


def test_every_member_gets_the_same_profile_as_before(demo: Store) -> None:
    owner = demo.operator("owner")
    members = demo.db.read(lambda s: list(s.scalars(select(Member.id).where(Member.status != MemberStatus.ANONYMISED))))
    seen: dict[str, int] = {}
    # A year's warning reaches the lots earned in the demo's first weeks (points last 24 months).
    for basis in ("spend", "points"):
        demo.services(owner).settings.update({"tiers.basis": basis, "points.expiry_warning_days": 365})
        for member_id in members:
            # With the store's memo: the first member after the change finds the settings' version moved on.
            lean = demo.db.quick_read(
                lambda c, m=member_id: load_profile(c, SettingsMemo.of(demo.db.memo), owner, m, NOW)
            )
            before = demo.db.read(lambda s, m=member_id: reference_profile(s, owner, m, NOW))
            if demo.db.reads_on_driver:  # the counter's own path on a server: the driver's connection and rows
                driver = demo.db.driver_read(
                    lambda d, m=member_id: load_profile(d, SettingsMemo.of(demo.db.memo), owner, m, NOW)
                )
                assert same_categories(driver.preferred_categories, lean.preferred_categories), member_id
                assert {**vars(driver), "preferred_categories": None} == {**vars(lean), "preferred_categories": None}
            assert same_categories(lean.preferred_categories, before.preferred_categories), member_id
            assert {**vars(lean), "preferred_categories": None} == {**vars(before), "preferred_categories": None}
            for name, present in (
                ("tags", lean.tags),
                ("categories", lean.preferred_categories),
                ("tasks", lean.open_tasks),
                ("complaints", lean.open_complaints),
                ("coupons", lean.coupons_held),
                ("expiring", lean.points_expiring),
                ("segment", lean.segment),
                ("referrer", lean.referrer_name),
                ("next tier", lean.tier_progress.next_tier_name),
                ("progress", lean.tier_progress.metric),
            ):
                seen[name] = seen.get(name, 0) + bool(present)
    assert all(seen.values()), f"the demo should give some member each figure: {seen}"


def test_the_profile_is_one_statement(demo: Store) -> None:
    if demo.db.reads_on_driver:
        pytest.skip("on a server it reads on the driver's connection: tests/test_pg_outage.py counts its round trips")
    member_id = demo.db.read(lambda s: s.scalar(select(func.max(Member.id))))
    cashier = demo.operator()
    demo.services(cashier).members.profile(member_id)  # the settings are kept from here on
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(demo.db.engine, "before_cursor_execute", note)
    try:
        demo.services(cashier).members.profile(member_id)
    finally:
        event.remove(demo.db.engine, "before_cursor_execute", note)
    assert len(sent) == 1 and sent[0].lstrip().upper().startswith("SELECT"), sent


def test_a_settings_change_at_another_counter_is_seen_by_the_next_profile(demo: Store) -> None:
    """The profile reads the settings' version in its own statement: after a change made through another Database
    (another counter) it reads the settings again and runs with the new ones."""
    member_id = demo.db.read(lambda s: s.scalar(select(func.max(Member.id))))
    cashier = demo.operator()
    before = demo.services(cashier).members.profile(member_id)
    other = Database(demo.db.url)
    try:
        basis = "points" if before.tier_progress.basis == "spend" else "spend"
        Store(demo.paths, other, demo.cipher, demo.clock).services(demo.operator("owner")).settings.update(
            {"tiers.basis": basis}
        )
    finally:
        other.dispose()
    after = demo.services(cashier).members.profile(member_id)
    assert after.tier_progress.basis == basis


def test_each_profile_statement_finds_its_rows_by_index(demo: Store) -> None:
    """EXPLAIN of every statement the profile sends, with sequential scans priced out: a statement that has no
    index to use still scans, and none may."""
    if demo.db.is_sqlite:
        pytest.skip("the plans are PostgreSQL's")
    member_id = demo.db.read(lambda s: s.scalar(select(func.max(Member.id))))
    cashier = demo.operator()
    demo.db.read(read_settings)  # kept: the profile then reads them in its own statement
    plans: list[str] = []

    def explain(_conn: Any, cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            cursor.execute("EXPLAIN " + statement, parameters)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))

    def read(session: Session) -> MemberProfile:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        return load_profile(session.connection(), SettingsMemo.of(demo.db.memo), cashier, member_id, NOW)

    event.listen(demo.db.engine, "before_cursor_execute", explain)
    try:
        demo.db.read(read)
    finally:
        event.remove(demo.db.engine, "before_cursor_execute", explain)
    assert len(plans) == 1
    for plan in plans:
        print(plan)
        assert "Seq Scan" not in plan, plan
