"""Two counters redeeming the same member's points at the same moment: no double spend, no negative balance.

Each counter has its own `Database` (its own connections), as two PCs would; threads start together at a barrier."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app.context import Store
from app.errors import InsufficientPoints, MemberDeskError
from app.integrity import check_database
from app.loyalty.service import LoyaltyService, PurchaseRequest
from app.members.service import MemberForm
from db.engine import Database
from db.models import Gift, GiftRedemption, Member

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


PROCESSES = 8


def _counter_process(
    url: str, operator: object, clock: object, work: str, args: tuple[int, ...], go: Any, out: Any
) -> None:
    """One counter PC: its own process and connections, waiting at the barrier so all start together."""
    db = Database(url)
    loyalty = LoyaltyService(db, operator, clock)  # type: ignore[arg-type]
    go.wait()
    try:
        if work == "gift":
            loyalty.redeem_gift(args[0], args[1], 1, str(uuid.uuid4()))
        else:
            loyalty.record_purchase(
                PurchaseRequest(
                    member_id=args[0], total_fen=args[1], idempotency_key=str(uuid.uuid4()), points_to_use=args[2]
                )
            )
        out.put((work, "ok"))
    except MemberDeskError as exc:
        out.put((work, type(exc).__name__))
    finally:
        db.dispose()


def test_eight_processes_on_one_member_and_the_last_gifts(store: Store) -> None:
    """8 counter processes at once on one member: 4 take the last 3 units of a gift, 4 pay with points. The member
    can afford 5 such spends; stock and balance never go below zero, nothing is spent twice, and the audit chain of
    the branch has no fork (db check)."""
    services = store.services(store.operator("owner"))
    mid = services.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    services.loyalty.adjust_points(mid, 5_000, "开卡赠送", str(uuid.uuid4()))
    with store.db.session() as session, session.begin():
        session.add(Gift(name="电饭煲", points_price=1_000, stock=3))
    gift_id = store.db.read(lambda s: s.scalar(select(Gift.id)))
    url = store.db.url.render_as_string(hide_password=False)
    cashier = store.operator("cashier")
    # Spawned where there is no fork (Windows): the counters start slower, the barrier still lines them up.
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    go, out = ctx.Barrier(PROCESSES), ctx.Queue()
    jobs = [("gift", (mid, gift_id))] * 4 + [("buy", (mid, 2_000, 1_000))] * 4
    store.db.dispose()
    started = time.perf_counter()
    processes = [
        ctx.Process(target=_counter_process, args=(url, cashier, store.clock, work, args, go, out))
        for work, args in jobs
    ]
    for p in processes:
        p.start()
    results = [out.get(timeout=120) for _ in processes]
    for p in processes:
        p.join(timeout=60)
    seconds = time.perf_counter() - started
    gifts = sum(1 for work, r in results if work == "gift" and r == "ok")
    buys = sum(1 for work, r in results if work == "buy" and r == "ok")
    with store.db.session() as session:
        stock = session.scalar(select(Gift.stock))
        balance = session.scalar(select(Member.points_balance).where(Member.id == mid))
        spent = session.scalar(select(func.count()).select_from(GiftRedemption)) or 0
    assert gifts == spent <= 3 and stock == 3 - gifts
    assert gifts + buys <= 5 and balance is not None and balance >= 0
    assert balance == 5_000 - 1_000 * (gifts + buys) + 10 * buys  # each ¥20 purchase paying ¥10 in points earns 10
    assert [str(p) for p in check_database(store.db)] == []
    print(
        f"\n{PROCESSES} processes on {store.db.url.get_backend_name()} in {seconds:.1f} s: {gifts} gifts of the "
        f"last 3, {buys} points payments; refused {sorted(r for _w, r in results if r != 'ok')}; "
        f"balance {balance}, stock {stock}"
    )
