"""`db check` beside counters that keep writing (issue 16): it reads one snapshot of the store, so purchases committed
while it runs never make a consistent store look inconsistent, and a forged row is still reported.

Another counter (its own `Database`, as another PC) records a purchase before each statement the check sends, so
every statement of the check would see a store a few purchases later than the one before it. Reading at Read
Committed, as the check did, the audit chain then ran past the head it had read first, and sales and ledger rows
appeared whose entries it had not read: a false failure on PostgreSQL every time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from app.context import Services, Store
from app.integrity import StoreCheck, check_store
from app.loyalty.service import LoyaltyService, PurchaseRequest
from app.members.service import MemberForm
from app.trust.verify import UNTIED, chain_heads
from db.engine import Database
from db.models import Sale

PURCHASES = 40


@pytest.fixture
def other_counter(store: Store) -> Iterator[LoyaltyService]:
    db = Database(store.db.url)
    yield LoyaltyService(db, store.operator("cashier"), store.clock)
    db.dispose()


def member(svc: Services, phone: str) -> int:
    return svc.members.register(MemberForm(phone=phone, name="顾客", membership_consent=True))


def sales(store: Store) -> int:
    return store.db.read(lambda s: s.scalar(select(func.count()).select_from(Sale))) or 0


def check_while_buying(store: Store, counter: LoyaltyService, member_id: int) -> tuple[StoreCheck, int]:
    """`db check`, with the other counter recording a purchase before each of the check's statements from its
    second on; what the check found and how many purchases were made meanwhile."""
    made = 0
    seen = 0

    def purchase_first(*_args: Any) -> None:
        nonlocal made, seen
        seen += 1
        if seen > 1 and made < PURCHASES:
            made += 1
            counter.record_purchase(PurchaseRequest(member_id, 1_000 + made, f"under-check-{uuid.uuid4()}"))

    event.listen(store.db.engine, "before_cursor_execute", purchase_first)
    try:
        checked = check_store(store.db)
    finally:
        event.remove(store.db.engine, "before_cursor_execute", purchase_first)
    return checked, made


def test_db_check_reads_one_snapshot_while_a_counter_writes(
    store: Store, svc: Services, other_counter: LoyaltyService
) -> None:
    buyer = member(svc, "13812345678")
    svc.loyalty.record_purchase(PurchaseRequest(buyer, 5_000, str(uuid.uuid4())))
    before = sales(store)
    head_before = store.db.read(chain_heads)[0].seq
    checked, made = check_while_buying(store, other_counter, buyer)
    assert made >= 10, "the check should have sent a statement after each of many purchases"
    assert sales(store) == before + made
    assert [str(p) for p in checked.problems] == []
    # The heads it reports are the ones it checked: of its snapshot (taken at its first read; SQLite's first
    # statement is BEGIN, so one purchase precedes it there), not the chain's head once it is done.
    assert head_before <= checked.heads[0].seq <= head_before + 1
    assert store.db.read(chain_heads)[0].seq == head_before + made
    assert [str(p) for p in check_store(store.db).problems] == []


def test_a_forgery_is_still_reported_while_a_counter_writes(
    store: Store, svc: Services, other_counter: LoyaltyService
) -> None:
    """+50,000 points with a matching lot and balance on one member while another member buys: only the tie fails."""
    forged_for = member(svc, "13812345678")
    buyer = member(svc, "13912345678")
    svc.loyalty.record_purchase(PurchaseRequest(forged_for, 5_000, str(uuid.uuid4())))
    with store.db.session() as session, session.begin():
        session.execute(
            text(
                """INSERT INTO points_ledger (client_uuid, idempotency_key, member_id, branch_id, source, delta,
                                              balance_after, reason, created_at)
                   SELECT 'forged-uuid', 'forged-key', id, home_branch_id, 'adjustment', 50000,
                          points_balance + 50000, 'gift', joined_at FROM members WHERE id = :m"""
            ),
            {"m": forged_for},
        )
        session.execute(
            text(
                """INSERT INTO points_lots (member_id, ledger_id, earned_at, points, remaining)
                   SELECT member_id, id, created_at, 50000, 50000 FROM points_ledger
                   WHERE idempotency_key = 'forged-key'"""
            )
        )
        session.execute(
            text("UPDATE members SET points_balance = points_balance + 50000 WHERE id = :m"), {"m": forged_for}
        )
    assert [p.message for p in check_store(store.db).problems] == [UNTIED]
    checked, made = check_while_buying(store, other_counter, buyer)
    assert made >= 10
    assert [p.message for p in checked.problems] == [UNTIED]
    assert checked.problems[0].examples[0].startswith("points_ledger#")
