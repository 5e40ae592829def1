"""Locks that never lie (issue 16, finding 2), on PostgreSQL with two connections.

A counter waiting for a member's row lock while another transaction changes that member's tier used to get "Member
not found." (a purchase) or an AttributeError (a return, the daily tier review): its locking SELECT joined the tier,
and PostgreSQL's Read Committed re-check of the locked row evaluates the join against the tier row read before the
wait. The member row is now locked alone and the tier read after the lock. SQLite has one writer at a time, so the
race cannot happen there."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Connection, select, text, update

from app.context import Store
from app.integrity import check_database
from app.loyalty.service import LoyaltyService, PurchaseRequest, PurchaseResult
from app.members.service import MemberForm
from db.engine import Database
from db.models import Member, Tier

pytestmark = pytest.mark.parametrize("backend", ["pg"], indirect=True)


@pytest.fixture
def counter(store: Store) -> Iterator[LoyaltyService]:
    """A second counter: its own Database, its own connections."""
    db = Database(store.db.url.render_as_string(hide_password=False))
    yield LoyaltyService(db, store.operator("cashier"), store.clock)
    db.dispose()


def tier_id(store: Store, rank: int) -> int:
    """1 the lowest tier, 2 银卡, 3 金卡."""
    found = store.db.read(lambda s: s.scalar(select(Tier.id).where(Tier.rank == rank)))
    assert found is not None
    return found


def while_tier_changes(store: Store, member_id: int, to_tier: int, action: Callable[[], object]) -> object:
    """Run `action` on the other counter while this connection holds the member's row with a changed tier, until
    the action is seen waiting for the lock; then commit. Returns the action's result or exception."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(action())
        except Exception as exc:
            outcome.append(exc)

    with store.db.engine.connect() as conn:
        conn.execute(update(Member).where(Member.id == member_id).values(tier_id=to_tier))
        worker = threading.Thread(target=run)
        worker.start()
        wait_for_a_lock_waiter(conn)
        conn.commit()
    worker.join(timeout=30)
    assert outcome, "the waiting counter never finished"
    return outcome[0]


def wait_for_a_lock_waiter(conn: Connection) -> None:
    """Poll the server's activity (a fresh snapshot each time: a transaction sees the one it took first)."""
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
    deadline = time.monotonic() + 10
    while conn.execute(text("SELECT pg_stat_clear_snapshot()")) and conn.execute(waiting).scalar() == 0:
        assert time.monotonic() < deadline, "the other counter never waited for the member's row"
        time.sleep(0.02)


@pytest.fixture
def member(store: Store) -> int:
    services = store.services(store.operator("owner"))
    return services.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))


@pytest.fixture
def svc_owner(store: Store) -> LoyaltyService:
    return store.services(store.operator("owner")).loyalty


def test_a_purchase_waiting_for_the_member_sees_the_new_tier(
    store: Store, counter: LoyaltyService, member: int
) -> None:
    silver = tier_id(store, 2)
    with store.db.engine.begin() as conn:
        conn.execute(update(Tier).where(Tier.id == silver).values(earn_multiplier_pct=150))

    def buy() -> object:
        return counter.record_purchase(PurchaseRequest(member_id=member, total_fen=10_000, idempotency_key="k1"))

    result = while_tier_changes(store, member, silver, buy)
    assert isinstance(result, PurchaseResult), repr(result)
    assert result.points_earned == 150
    assert check_database(store.db) == []


def test_a_return_and_the_tier_review_waiting_for_the_member_do_not_crash(
    store: Store, counter: LoyaltyService, svc_owner: LoyaltyService, member: int
) -> None:
    sale = svc_owner.record_purchase(PurchaseRequest(member_id=member, total_fen=10_000, idempotency_key="k2"))
    silver, gold = tier_id(store, 2), tier_id(store, 3)

    returned = while_tier_changes(store, member, silver, lambda: counter.return_sale(sale.sale_id, str(uuid.uuid4())))
    assert not isinstance(returned, Exception), repr(returned)

    with store.db.engine.begin() as conn:  # a review is due now
        conn.execute(update(Member).where(Member.id == member).values(tier_review_at=store.clock.now()))
    reviewed = while_tier_changes(store, member, gold, counter.review_tiers)
    assert reviewed == 1  # 金卡 -> the lowest tier: reviewed against the tier it had when the lock was granted
    assert check_database(store.db) == []


def test_editing_a_member_waiting_for_the_row_keeps_it(store: Store, member: int) -> None:
    services = store.services(store.operator("manager"))
    form = MemberForm(phone="13812345678", name="张三丰", membership_consent=True)
    edited = while_tier_changes(store, member, tier_id(store, 2), lambda: services.members.update(member, form))
    assert not isinstance(edited, Exception), repr(edited)
    assert services.members.profile(member).name == "张三丰"
