"""SIGKILL at random moments while a counter records purchases, gift redemptions and returns: every operation the
counter saw committed is there exactly once, the one it was in the middle of is replayed with its idempotency key
(done once, never twice), and `db check` — points invariants and the audit chain — passes after every batch.

The counter is a forked child of the test (no interpreter start-up per kill, so hundreds of kills fit in CI); it
journals each operation before and after, as a counter's screen would know what it had sent."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.context import Store
from app.errors import MemberDeskError
from app.integrity import check_database
from app.loyalty.service import LoyaltyService, PurchaseRequest
from app.members.service import MemberForm
from db.engine import Database
from db.enums import SaleKind
from db.models import Gift, GiftRedemption, Member, Sale
from tests.windows.support import NEEDS_FORK

KILLS = 200
CHECK_EVERY = 25
MEMBERS = 6


def operation(loyalty: LoyaltyService, line: str) -> object:
    kind, key, *args = line.split()
    if kind == "buy":
        member, total, use = map(int, args)
        return loyalty.record_purchase(
            PurchaseRequest(member_id=member, total_fen=total, idempotency_key=key, points_to_use=use)
        )
    if kind == "gift":
        member, gift = map(int, args)
        return loyalty.redeem_gift(member, gift, 1, key)
    return loyalty.return_sale(int(args[0]), key, "退货")


def plan(rng: random.Random, n: int, members: list[int], gift: int, sales: list[int]) -> str:
    roll = rng.random()
    if roll < 0.15 and sales:
        return f"ret r{n} {rng.choice(sales)}"
    if roll < 0.35:
        return f"gift g{n} {rng.choice(members)} {gift}"
    return f"buy p{n} {rng.choice(members)} {rng.randint(500, 40_000)} {rng.choice([0, 0, 100, 300])}"


def open_sales(session: Any) -> list[int]:
    """The latest sales not yet returned (a sale is returned once)."""
    returned = select(Sale.original_sale_id).where(Sale.original_sale_id.is_not(None))
    query = select(Sale.id).where(Sale.kind == SaleKind.SALE, Sale.id.not_in(returned))
    return list(session.scalars(query.order_by(Sale.id.desc()).limit(20)))


def counter(url: str, store: Store, journal: Path, seed: int, start: int) -> None:
    """The child: operations until it is killed. `I line` before each, `D key` (done) or `R key` (refused) after."""
    db = Database(url)
    loyalty = LoyaltyService(db, store.operator("cashier"), store.clock)
    members = db.read(lambda s: list(s.scalars(select(Member.id))))
    gift = db.read(lambda s: s.scalar(select(Gift.id)))
    rng = random.Random(seed)
    with journal.open("a", encoding="utf-8") as log:
        for n in range(start, start + 10_000):
            sales = db.read(open_sales)
            line = plan(rng, n, members, gift, sales)
            log.write(f"I {line}\n")
            log.flush()
            try:
                operation(loyalty, line)
                log.write(f"D {line.split()[1]}\n")
            except MemberDeskError:
                log.write(f"R {line.split()[1]}\n")
            log.flush()


def in_store(db: Database, key: str) -> int:
    def count(s: Any) -> int:
        sales = s.scalar(select(func.count()).where(Sale.idempotency_key == key)) or 0
        gifts = s.scalar(select(func.count()).where(GiftRedemption.idempotency_key == key)) or 0
        return int(sales + gifts)

    return db.read(count)


@NEEDS_FORK
def test_sigkill_during_purchases_redemptions_and_returns(store: Store) -> None:
    if store.db.sqlite_path is None:
        pytest.skip("one counter's file killed; the server case is the concurrency test")
    boss = store.services(store.operator("owner"))
    for i in range(MEMBERS):
        mid = boss.members.register(MemberForm(phone=f"1381234{i:04d}", name=f"顾客{i}", membership_consent=True))
        boss.loyalty.adjust_points(mid, 5_000, "开卡赠送", f"open-{mid}")
    with store.db.session() as session, session.begin():
        session.add(Gift(name="抽纸", points_price=200, stock=100_000))
    url = store.db.url.render_as_string(hide_password=False)
    journal = store.paths.root / "journal.txt"
    rng = random.Random(9)
    replayed_done = replayed_new = committed = 0
    started = time.perf_counter()
    for kill in range(1, KILLS + 1):
        store.db.dispose()  # no connection crosses the fork
        pid = os.fork()
        if pid == 0:
            try:
                counter(url, store, journal, seed=kill, start=kill * 10_000)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.05, 0.4))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        lines = journal.read_text(encoding="utf-8").splitlines()
        intents = {line.split()[2]: line[2:] for line in lines if line.startswith("I ")}
        ended = {line.split()[1] for line in lines if line[0] in "DR"}
        loyalty = store.services(store.operator("cashier")).loyalty
        for key, line in intents.items():
            if key in ended:
                continue
            before = in_store(store.db, key)
            try:
                operation(loyalty, line)
                outcome = "D"
            except MemberDeskError:
                outcome = "R"
            replayed_done += before
            replayed_new += outcome == "D" and not before
            with journal.open("a", encoding="utf-8") as log:
                log.write(f"{outcome} {key}\n")
        if kill % CHECK_EVERY == 0:
            assert [str(p) for p in check_database(store.db)] == [], f"after {kill} kills"
    lines = journal.read_text(encoding="utf-8").splitlines()
    done = [line.split()[1] for line in lines if line.startswith("D ")]
    refused = {line.split()[1] for line in lines if line.startswith("R ")}
    for key in done:
        assert in_store(store.db, key) == 1, f"{key}: committed operation lost or doubled"
    for key in refused:
        assert in_store(store.db, key) == 0, f"{key}: refused operation left a trace"
    committed = len(set(done))
    seconds = time.perf_counter() - started
    print(
        f"\n{KILLS} SIGKILLs in {seconds:.1f} s: {committed} operations committed, {len(refused)} refused; "
        f"of the operations cut off, {replayed_done} had committed (replay returned them) and {replayed_new} were "
        f"done by the replay; none lost, none doubled; db check OK after every {CHECK_EVERY} kills"
    )
