"""One coupon scanned at two counters at the same moment: two processes (two PCs, each with its own connections)
record a purchase with it at once; exactly one sale takes it, the other is refused with a plain message and leaves
nothing behind. On SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import uuid
from multiprocessing.synchronize import Barrier

from sqlalchemy import func, select

from app.clock import FixedClock
from app.context import Services, Store
from app.coupons.campaigns import CampaignDraft
from app.coupons.redemption import CouponRefused
from app.integrity import check_database
from app.loyalty.service import LoyaltyService, PurchaseRequest
from app.members.service import MemberForm
from app.security.operator import Operator
from db.engine import Database
from db.enums import CampaignTarget, CouponKind
from db.models import CouponLedger, Sale
from tests.services.conftest import START

ROUNDS = 3


def counter(
    url: str, operator: Operator, member_id: int, code: str, barrier: Barrier, results: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    """One counter PC: its own engine, waiting for the other at the barrier, then recording the purchase."""
    db = Database(url)
    service = LoyaltyService(db, operator, FixedClock(START))
    request = PurchaseRequest(member_id, 20_000, str(uuid.uuid4()), coupon_code=code)
    try:
        barrier.wait(timeout=60)
        service.record_purchase(request)
        results.put("recorded")
    except CouponRefused as exc:
        results.put(f"refused: {exc.english}")
    except Exception as exc:  # reported to the test, which fails with it
        results.put(f"error: {type(exc).__name__}: {exc}")
    finally:
        db.dispose()


def test_a_coupon_scanned_at_two_counters_at_once_is_used_once(store: Store, boss: Services) -> None:
    members = [
        boss.members.register(MemberForm(phone=f"1381234567{i}", name=f"顾客{i}", membership_consent=True))
        for i in range(2)
    ]
    draft = CampaignDraft(
        "BOTH",
        "满100减20",
        CouponKind.AMOUNT_OFF,
        START - dt.timedelta(days=1),
        START + dt.timedelta(days=9),
        value_fen=2_000,
        min_spend_fen=10_000,
        target=CampaignTarget.BEARER,
    )
    campaign = boss.coupons.create_campaign(draft).campaign_id
    boss.coupons.activate(campaign)
    boss.coupons.issue(campaign, str(uuid.uuid4()), count=ROUNDS)
    codes = [c.code for c in boss.coupons.print_job(campaign).coupons]
    url = store.db.url.render_as_string(hide_password=False)
    cashier = store.operator("cashier")
    spawn = multiprocessing.get_context("spawn")
    for code in codes:
        barrier, results = spawn.Barrier(2), spawn.Queue()
        processes = [
            spawn.Process(target=counter, args=(url, cashier, member, code, barrier, results)) for member in members
        ]
        for process in processes:
            process.start()
        outcomes = sorted(results.get(timeout=120) for _ in processes)
        for process in processes:
            process.join(timeout=60)
        assert outcomes[0] == "recorded", outcomes
        assert outcomes[1].startswith("refused: This coupon was"), (
            outcomes
        )  # "just used at another counter" or "already used"
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Sale)) == ROUNDS
        assert session.scalar(select(func.count()).where(CouponLedger.action == "redeem")) == ROUNDS
    assert check_database(store.db) == []
