"""The hash-chained audit log: every sale and ledger row is tied to an entry, and `db check` reports a forged
consistent ledger row, a changed sale and a removed audit entry (none of which it saw before migration 0004)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.context import Services, Store
from app.coupons.campaigns import CampaignDraft
from app.integrity import DAY_TOTALS_DIFFER, check_database
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from app.trust.verify import ALTERED, BROKEN, CHANGED, HEAD, UNTIED, chain_heads
from db.engine import Database
from db.enums import CampaignTarget, CouponKind
from db.models import AuditLog, CouponLedger, Gift, PointsLedger, Sale
from tests.services.conftest import START


def key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def busy_member(store: Store, svc: Services, boss: Services) -> int:
    """A member with purchases (one paid partly in points), a return, an adjustment and a gift."""
    mid = svc.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    boss.loyalty.adjust_points(mid, 2_000, "开卡赠送", key())
    first = svc.loyalty.record_purchase(PurchaseRequest(member_id=mid, total_fen=30_000, idempotency_key=key()))
    svc.loyalty.record_purchase(
        PurchaseRequest(member_id=mid, total_fen=20_000, idempotency_key=key(), points_to_use=1_000)
    )
    svc.loyalty.return_sale(first.sale_id, key(), "不合适")
    with store.db.session() as session, session.begin():
        session.add(Gift(name="抽纸", points_price=100, stock=5))
    gift_id = store.db.read(lambda s: s.scalar(select(Gift.id)))
    assert gift_id is not None
    svc.loyalty.redeem_gift(mid, gift_id, 2, key())
    return mid


def messages(store: Store) -> set[str]:
    return {p.message for p in check_database(store.db)}


def raw(store: Store, sql: str, **params: object) -> None:
    with store.db.session() as session, session.begin():
        session.execute(text(sql), params)


def test_every_sale_and_ledger_row_is_tied_and_the_chain_checks(store: Store, busy_member: int) -> None:
    assert [str(p) for p in check_database(store.db)] == []
    with store.db.session() as session:
        assert session.scalar(select(func.count()).where(Sale.audit_id.is_(None))) == 0
        assert session.scalar(select(func.count()).where(PointsLedger.audit_id.is_(None))) == 0
        seqs = list(session.scalars(select(AuditLog.seq).order_by(AuditLog.seq)))
        heads = chain_heads(session)
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(heads) == 1 and heads[0].seq == len(seqs)
    print(f"\naudit chain: {len(seqs)} entries, head {heads[0]}")


def test_a_forged_consistent_ledger_row_is_reported(store: Store, busy_member: int) -> None:
    """+50,000 points with a matching lot and balance: every points invariant holds, only the audit tie fails."""
    raw(
        store,
        """INSERT INTO points_ledger (client_uuid, idempotency_key, member_id, branch_id, source, delta, balance_after,
                                      reason, created_at)
           SELECT 'forged-uuid', 'forged-key', id, home_branch_id, 'adjustment', 50000, points_balance + 50000,
                  'gift', joined_at FROM members WHERE id = :m""",
        m=busy_member,
    )
    raw(
        store,
        """INSERT INTO points_lots (member_id, ledger_id, earned_at, points, remaining)
           SELECT member_id, id, created_at, 50000, 50000 FROM points_ledger WHERE idempotency_key = 'forged-key'""",
    )
    raw(store, "UPDATE members SET points_balance = points_balance + 50000 WHERE id = :m", m=busy_member)
    assert messages(store) == {UNTIED}


def test_a_forged_row_borrowing_an_entrys_id_is_reported(store: Store, busy_member: int) -> None:
    raw(
        store,
        """INSERT INTO points_ledger (client_uuid, idempotency_key, member_id, branch_id, source, delta, balance_after,
                                      reason, created_at, audit_id)
           SELECT 'forged-uuid', 'forged-key', member_id, branch_id, 'adjustment', 50000, balance_after + 50000,
                  'gift', created_at, audit_id FROM points_ledger WHERE member_id = :m ORDER BY id DESC LIMIT 1""",
        m=busy_member,
    )
    raw(
        store,
        """INSERT INTO points_lots (member_id, ledger_id, earned_at, points, remaining)
           SELECT member_id, id, created_at, 50000, 50000 FROM points_ledger WHERE idempotency_key = 'forged-key'""",
    )
    raw(store, "UPDATE members SET points_balance = points_balance + 50000 WHERE id = :m", m=busy_member)
    assert messages(store) == {ALTERED}


def test_a_changed_sale_total_is_reported(store: Store, busy_member: int) -> None:
    raw(store, "UPDATE sales SET total_fen = total_fen + 100 WHERE id = (SELECT MIN(id) FROM sales)")
    assert messages(store) == {ALTERED, DAY_TOTALS_DIFFER}  # the dashboard's day totals no longer add up either


def test_a_deleted_audit_entry_is_reported(store: Store, busy_member: int) -> None:
    raw(store, "DELETE FROM audit_log WHERE id = (SELECT MIN(id) FROM audit_log WHERE action = 'purchase')")
    found = messages(store)
    assert BROKEN in found and ALTERED in found


def test_the_last_entry_deleted_is_reported(store: Store, busy_member: int) -> None:
    raw(store, "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
    assert HEAD in messages(store)


@pytest.fixture
def coupon_moves(boss: Services, svc: Services, busy_member: int) -> None:
    """A campaign's coupons issued and printed, one redeemed with a purchase and returned, one voided."""
    draft = CampaignDraft(
        code="C1",
        name="满100减20",
        kind=CouponKind.AMOUNT_OFF,
        valid_from=START - dt.timedelta(days=1),
        valid_until=START + dt.timedelta(days=30),
        value_fen=2_000,
        min_spend_fen=10_000,
        target=CampaignTarget.BEARER,
    )
    campaign = boss.coupons.create_campaign(draft).campaign_id
    boss.coupons.activate(campaign)
    boss.coupons.issue(campaign, key(), count=3)
    job = boss.coupons.print_job(campaign)
    boss.coupons.mark_printed([c.id for c in job.coupons], key())
    sale = svc.loyalty.record_purchase(
        PurchaseRequest(member_id=busy_member, total_fen=20_000, idempotency_key=key(), coupon_code=job.coupons[0].code)
    )
    svc.loyalty.return_sale(sale.sale_id, key(), "不合适")
    boss.coupons.void(job.coupons[1].id, "顾客遗失", key())


def test_coupon_ledger_rows_are_tied_and_a_forged_one_is_reported(store: Store, coupon_moves: None) -> None:
    assert [str(p) for p in check_database(store.db)] == []
    with store.db.session() as session:
        actions = sorted(str(a) for a in session.scalars(select(CouponLedger.action)))
        assert session.scalar(select(func.count()).where(CouponLedger.audit_id.is_(None))) == 0
    assert actions == sorted(["issue"] * 3 + ["print"] * 3 + ["redeem", "restore", "void"])
    raw(store, "UPDATE coupon_ledger SET sale_id = NULL WHERE action = 'restore'")
    assert messages(store) == {ALTERED}


def test_every_export_is_audited(store: Store, boss: Services, coupon_moves: None, tmp_path: Path) -> None:
    """Exports of members, coupons, campaign figures and complaints name who wrote how many rows to which file."""
    from app.care.cli import export_complaints
    from app.importing.export import export_members

    export_members(store.db, boss.operator, store.cipher, tmp_path / "members.csv")
    campaign = boss.coupons.find_campaign("C1")
    boss.coupons.export(campaign, tmp_path / "coupons.xlsx")
    campaigns = boss.coupons.export_figures(tmp_path / "campaigns.csv")
    export_complaints(boss, tmp_path / "complaints.csv", None, None)
    with store.db.session() as session:
        exports = session.execute(select(AuditLog.entity, AuditLog.details).where(AuditLog.action == "export")).all()
    assert [(entity, details["file"], details["count"]) for entity, details in exports] == [
        ("members", "members.csv", 1),
        ("coupons", "coupons.xlsx", 3),
        ("campaign_figures", "campaigns.csv", campaigns),
        ("complaints", "complaints.csv", 0),
    ]
    assert [str(p) for p in check_database(store.db)] == []


def test_an_edited_audit_entry_is_reported(store: Store, busy_member: int) -> None:
    raw(store, "UPDATE audit_log SET action = 'update' WHERE seq = 2")
    assert messages(store) == {CHANGED}


def test_counters_appending_to_one_chain_at_once_never_fork_it(store: Store, svc: Services) -> None:
    """Eight counters of one branch record purchases at the same moment, each on its own connection: every entry
    gets its own place in the chain, the head is the last entry, and the chain checks (on PostgreSQL the head is
    locked by one statement and moved by the next, with the sale's rows stamped in it)."""
    members = [
        svc.members.register(MemberForm(phone=f"1390000000{n}", name="并发", membership_consent=True)) for n in range(8)
    ]  # one each: the member rows, locked first, do not put them in a queue before the head
    operator = store.operator("cashier")
    counters = [Store(store.paths, Database(store.db.url), store.cipher, store.clock) for _ in range(8)]
    start = threading.Barrier(len(counters))
    failures: list[BaseException] = []

    def sell(counter: Store, member: int) -> None:
        loyalty = counter.services(operator).loyalty
        start.wait()
        try:
            for _ in range(15):
                loyalty.record_purchase(PurchaseRequest(member, 1_000, key()))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=sell, args=pair) for pair in zip(counters, members, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for counter in counters:
        counter.db.dispose()
    assert not failures, failures
    seqs = store.db.read(
        lambda s: list(s.scalars(select(AuditLog.seq).where(AuditLog.branch_id == operator.branch_id)))
    )
    assert sorted(seqs) == list(range(1, len(seqs) + 1))
    assert messages(store) == set()
