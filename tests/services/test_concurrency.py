"""Two counters redeeming the same member's points at the same moment: no double spend, no negative balance.

Each counter has its own `Database` (its own connections), as two PCs would; threads start together at a barrier."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select

from app.context import Store
from app.errors import InsufficientPoints
from app.integrity import check_database
from app.loyalty.service import LoyaltyService, PurchaseRequest
from app.members.service import MemberForm
from db.engine import Database
from db.models import Gift, Member

ROUNDS = 5


def run_together(actions: list[Callable[[], object]]) -> list[object]:
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def runner(i: int) -> None:
        barrier.wait()
        try:
            results[i] = actions[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def counters(store: Store) -> list[LoyaltyService]:
    url = store.db.url.render_as_string(hide_password=False)
    dbs = [Database(url), Database(url)]
    yield [LoyaltyService(db, store.operator("cashier"), store.clock) for db in dbs]
    for db in dbs:
        db.dispose()


def test_two_counters_redeeming_points_at_once(store: Store, counters: list[LoyaltyService]) -> None:
    services = store.services(store.operator("owner"))
    mid = services.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    services.loyalty.adjust_points(mid, 1_000, "开卡赠送", str(uuid.uuid4()))
    for _ in range(ROUNDS):
        with store.db.session() as session:
            bal = session.scalar(select(Member.points_balance).where(Member.id == mid)) or 0
        use = bal * 2 // 3  # two thirds: only one counter can have it, even with what the first one earns
        reqs = [
            PurchaseRequest(member_id=mid, total_fen=use * 2, idempotency_key=str(uuid.uuid4()), points_to_use=use)
            for _ in counters
        ]
        results = run_together([lambda c=c, r=r: c.record_purchase(r) for c, r in zip(counters, reqs, strict=True)])
        failures = [r for r in results if isinstance(r, Exception)]
        assert len(failures) == 1 and isinstance(failures[0], InsufficientPoints), results
    with store.db.session() as session:
        assert (session.scalar(select(Member.points_balance).where(Member.id == mid)) or 0) >= 0
    assert check_database(store.db) == []


def test_two_counters_taking_the_last_gift(store: Store, counters: list[LoyaltyService]) -> None:
    services = store.services(store.operator("owner"))
    mids = [
        services.members.register(MemberForm(phone=f"1381234567{i}", name=f"顾客{i}", membership_consent=True))
        for i in range(2)
    ]
    for mid in mids:
        services.loyalty.adjust_points(mid, 500, "开卡赠送", str(uuid.uuid4()))
    with store.db.session() as session, session.begin():
        session.add(Gift(name="食用油5L", points_price=300, stock=1))
        session.flush()
        gift_id = session.scalar(select(Gift.id))
    assert gift_id is not None
    results = run_together(
        [lambda c=c, m=m: c.redeem_gift(m, gift_id, 1, str(uuid.uuid4())) for c, m in zip(counters, mids, strict=True)]
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    with store.db.session() as session:
        assert session.scalar(select(Gift.stock)) == 0
        balances = sorted(session.scalars(select(Member.points_balance)))
    assert balances == [200, 500]
    assert check_database(store.db) == []


def test_same_purchase_sent_by_two_counters_is_recorded_once(store: Store, counters: list[LoyaltyService]) -> None:
    services = store.services(store.operator("owner"))
    mid = services.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    req = PurchaseRequest(member_id=mid, total_fen=10_000, idempotency_key=str(uuid.uuid4()), receipt_no="R9")
    results = run_together([lambda c=c: c.record_purchase(req) for c in counters])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.sale_id for r in results}) == 1  # type: ignore[attr-defined]
    with store.db.session() as session:
        assert session.scalar(select(Member.points_balance).where(Member.id == mid)) == 100
