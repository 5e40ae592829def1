"""Purchases, points, redemption, gifts, returns, expiry, adjustments, tiers, referral — every rule on both backends,
with `db check` (app.integrity) agreeing after each scenario."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.changes import Changes
from app.clock import FixedClock
from app.context import Services, Store
from app.errors import ConflictError, InsufficientPoints, PermissionDenied, ValidationError
from app.integrity import check_database
from app.loyalty.service import PurchaseRequest, PurchaseResult, SaleLineInput
from app.members.service import MemberForm
from db.enums import LedgerSource
from db.models import Gift, Member, PointsLedger, PointsLot, Sale, Tier, TierChange
from tests.staff_support import MANAGER_PIN


def key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def member(svc: Services) -> int:
    return svc.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))


@pytest.fixture(autouse=True)
def ledger_stays_sound(store: Store) -> Iterator[None]:
    yield
    assert [str(p) for p in check_database(store.db)] == []


def buy(svc: Services, member: int, fen: int, points_to_use: int = 0, **kw: Any) -> PurchaseResult:
    return svc.loyalty.record_purchase(
        PurchaseRequest(member_id=member, total_fen=fen, idempotency_key=key(), points_to_use=points_to_use, **kw)
    )


def balance(store: Store, member: int) -> int:
    with store.db.session() as session:
        return session.scalar(select(Member.points_balance).where(Member.id == member)) or 0


def set_settings(boss: Services, **values: object) -> None:
    boss.settings.update({k.replace("__", "."): v for k, v in values.items()})


def test_base_rate_rounds_down(svc: Services, store: Store, member: int) -> None:
    result = buy(svc, member, 12_399)
    assert result.points_earned == 123
    assert balance(store, member) == 123


def test_preview_shows_what_the_purchase_will_do(svc: Services, store: Store, member: int) -> None:
    buy(svc, member, 50_000)
    req = PurchaseRequest(member_id=member, total_fen=10_000, idempotency_key=key(), points_to_use=300)
    preview = svc.loyalty.preview_purchase(req)
    assert (preview.points_value_fen, preview.paid_fen, preview.points_to_earn) == (300, 9_700, 97)
    assert preview.max_points_usable == 500
    assert balance(store, member) == 500  # a preview writes nothing
    result = svc.loyalty.record_purchase(req)
    assert (result.points_earned, result.balance_after) == (97, 500 - 300 + 97)


def test_tier_multiplier_and_member_day(
    svc: Services, boss: Services, store: Store, member: int, clock: FixedClock
) -> None:
    with store.db.engine.begin() as conn:
        conn.execute(update(Tier).where(Tier.rank == 1).values(earn_multiplier_pct=150))
    assert buy(svc, member, 10_000).points_earned == 150
    set_settings(boss, points__member_day_weekday=clock.now().astimezone(dt.timezone(dt.timedelta(hours=8))).weekday())
    assert buy(svc, member, 10_000).points_earned == 300
    set_settings(
        boss,
        points__member_day_weekday=-1,
        points__member_day_from="2026-11-01",
        points__member_day_until="2026-11-30",
        points__member_day_multiplier_pct=300,
    )
    assert buy(svc, member, 10_000).points_earned == 450


def test_excluded_categories_earn_nothing(svc: Services, boss: Services, member: int) -> None:
    lines = [SaleLineInput(6_000, "tobacco"), SaleLineInput(4_000, "fresh")]
    assert buy(svc, member, 10_000, lines=lines).points_earned == 40
    set_settings(boss, points__excluded_categories=["fresh"])
    assert buy(svc, member, 10_000, lines=lines).points_earned == 0
    with pytest.raises(ValidationError):
        buy(svc, member, 10_000, lines=[SaleLineInput(9_000, "fresh")])
    with pytest.raises(ValidationError):
        buy(svc, member, 10_000, lines=[SaleLineInput(10_000, "nonsense")])


def test_no_points_on_the_part_paid_with_points(svc: Services, store: Store, member: int) -> None:
    buy(svc, member, 100_000)  # 1000 points
    result = buy(svc, member, 20_000, points_to_use=1_000)  # ¥10 in points, ¥190 paid
    assert (result.points_value_fen, result.paid_fen, result.points_earned) == (1_000, 19_000, 190)
    assert balance(store, member) == 190


def test_redemption_cap_step_and_balance(svc: Services, boss: Services, member: int) -> None:
    buy(svc, member, 100_000)
    with pytest.raises(ValidationError):  # cap 50% of ¥10 = ¥5 = 500 points
        buy(svc, member, 1_000, points_to_use=600)
    with pytest.raises(InsufficientPoints):
        buy(svc, member, 1_000_000, points_to_use=2_000)
    set_settings(boss, points__redeem_points_per_yuan=200)  # 2 points a fen
    with pytest.raises(ValidationError) as err:
        buy(svc, member, 10_000, points_to_use=101)
    assert "steps of 2" in err.value.english
    assert buy(svc, member, 10_000, points_to_use=200).points_value_fen == 100


def test_bad_amounts_are_refused(svc: Services, store: Store, member: int) -> None:
    for fen in (0, -100, 100_000_001):
        with pytest.raises(ValidationError):
            buy(svc, member, fen)
    with pytest.raises(ValidationError):
        buy(svc, member, 1_000, points_to_use=-1)
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Sale)) == 0


def test_same_key_without_receipt_is_found_by_the_sales_unique_key(svc: Services, store: Store, member: int) -> None:
    """No receipt: the replay is not looked for before the sale is written; the second INSERT is refused by the
    key's unique index and the second try returns the first sale."""
    req = PurchaseRequest(member_id=member, total_fen=5_000, idempotency_key=key())
    first = svc.loyalty.record_purchase(req)
    again = svc.loyalty.record_purchase(req)
    assert again.replayed and not first.replayed
    assert (again.sale_id, again.points_earned, again.balance_after) == (first.sale_id, 50, 50)
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Sale)) == 1


def test_a_replay_the_pricing_would_refuse_returns_the_first_result(svc: Services, store: Store, member: int) -> None:
    """The points the first try used are gone, so pricing the resend again fails: the replay is found then."""
    buy(svc, member, 30_000)  # 300 points
    req = PurchaseRequest(member_id=member, total_fen=10_000, idempotency_key=key(), points_to_use=300)
    first = svc.loyalty.record_purchase(req)
    assert balance(store, member) < 300
    again = svc.loyalty.record_purchase(req)
    assert again.replayed and (again.sale_id, again.points_used) == (first.sale_id, 300)
    with pytest.raises(InsufficientPoints):  # a new purchase asking the same is refused
        buy(svc, member, 10_000, points_to_use=300)


def test_same_key_or_receipt_never_records_twice(svc: Services, store: Store, member: int) -> None:
    req = PurchaseRequest(member_id=member, total_fen=5_000, idempotency_key=key(), receipt_no="R-001")
    first = svc.loyalty.record_purchase(req)
    again = svc.loyalty.record_purchase(req)
    resent = buy(svc, member, 5_000, receipt_no="R-001")
    assert again.replayed and resent.replayed
    assert again.sale_id == first.sale_id == resent.sale_id
    with pytest.raises(ConflictError):
        buy(svc, member, 6_000, receipt_no="R-001")
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Sale)) == 1
    assert balance(store, member) == 50


def test_return_reverses_earned_and_refunds_used(svc: Services, store: Store, member: int) -> None:
    buy(svc, member, 100_000)  # +1000
    sale = buy(svc, member, 10_000, points_to_use=500)  # -500, +95
    assert balance(store, member) == 595
    result = svc.loyalty.return_sale(sale.sale_id, key(), "顾客退货")
    assert (result.points_reversed, result.points_refunded, result.balance_after) == (95, 500, 1_000)
    again = svc.loyalty.return_sale(sale.sale_id, key())
    assert again.replayed and again.return_sale_id == result.return_sale_id
    assert balance(store, member) == 1_000


def test_return_after_spending_goes_negative_and_later_earnings_pay_it_back(
    svc: Services, store: Store, member: int
) -> None:
    first = buy(svc, member, 100_000)  # +1000
    buy(svc, member, 200_000, points_to_use=1_000)  # all spent, +1990
    buy(svc, member, 1_000)  # now 银卡: +11
    assert balance(store, member) == 2_001
    svc.loyalty.adjust_points(member, -2_001, "测试清零", key(), approver_pin=MANAGER_PIN)
    assert balance(store, member) == 0
    result = svc.loyalty.return_sale(first.sale_id, key())
    assert result.balance_after == -1_000
    profile = svc.members.profile(member)
    assert profile.points_balance == -1_000
    later = buy(svc, member, 150_000)  # 银卡 +1650: 1000 pays the debt, 650 into a lot
    assert later.balance_after == 650
    with store.db.session() as session:
        lot = session.scalar(select(PointsLot).order_by(PointsLot.id.desc()).limit(1))
        assert lot is not None and (lot.points, lot.remaining) == (650, 650)


def test_redemption_and_expiry_take_the_oldest_lots_first(
    svc: Services, store: Store, member: int, clock: FixedClock
) -> None:
    buy(svc, member, 10_000)  # lot A: 100, expires in 24 months
    clock.advance(dt.timedelta(days=400))
    buy(svc, member, 20_000)  # lot B: 200
    buy(svc, member, 10_000, points_to_use=50)  # takes 50 from A
    with store.db.session() as session:
        remaining = session.scalars(select(PointsLot.remaining).order_by(PointsLot.id)).all()
    assert remaining[:2] == [50, 200]
    clock.advance(dt.timedelta(days=400))  # A has expired, B not yet
    before = balance(store, member)
    expired = svc.loyalty.expire_points()
    assert expired == 50
    assert balance(store, member) == before - 50
    assert svc.loyalty.expire_points() == 0  # running again expires nothing twice
    with store.db.session() as session:
        sources = session.scalars(select(PointsLedger.source).order_by(PointsLedger.id)).all()
    assert sources[-1] == LedgerSource.EXPIRY


def test_points_expiring_soon_shown_on_the_panel(svc: Services, member: int, clock: FixedClock) -> None:
    buy(svc, member, 10_000)
    clock.advance(dt.timedelta(days=600))
    assert svc.members.profile(member).points_expiring == 0
    clock.advance(dt.timedelta(days=111))  # 24 months minus 20 days after earning: inside the 30-day warning
    profile = svc.members.profile(member)
    assert profile.points_expiring == 100 and profile.points_expiring_at is not None


def test_yearly_clearing(svc: Services, boss: Services, store: Store, member: int, clock: FixedClock) -> None:
    set_settings(boss, points__expiry_mode="yearly", points__expiry_clearing_date="12-31")
    buy(svc, member, 10_000)  # earned Nov 2026: cleared after 31 Dec 2027
    clock.at = dt.datetime(2027, 12, 31, 12, 0, tzinfo=dt.UTC)
    assert svc.loyalty.expire_points() == 0
    clock.at = dt.datetime(2028, 1, 1, 0, 0, tzinfo=dt.UTC)
    assert svc.loyalty.expire_points() == 100
    assert balance(store, member) == 0


def test_no_expiry_mode(svc: Services, boss: Services, member: int, clock: FixedClock) -> None:
    set_settings(boss, points__expiry_mode="none")
    buy(svc, member, 10_000)
    clock.advance(dt.timedelta(days=3650))
    assert svc.loyalty.expire_points() == 0


def test_gift_redemption_takes_points_and_stock(svc: Services, store: Store, member: int) -> None:
    with store.db.session() as session, session.begin():
        session.add(Gift(name="环保购物袋", points_price=300, stock=2))
    gift = svc.loyalty.gifts()[0]
    buy(svc, member, 100_000)
    k = key()
    result = svc.loyalty.redeem_gift(member, gift.id, 2, k)
    assert (result.points, result.balance_after) == (600, 400)
    assert svc.loyalty.redeem_gift(member, gift.id, 2, k).replayed
    with pytest.raises(ConflictError):
        svc.loyalty.redeem_gift(member, gift.id, 1, key())
    with store.db.session() as session:
        assert session.scalar(select(Gift.stock)) == 0
    with store.db.session() as session, session.begin():
        session.execute(update(Gift).values(stock=10))
    with pytest.raises(InsufficientPoints):
        svc.loyalty.redeem_gift(member, gift.id, 2, key())
    with pytest.raises(ValidationError):
        svc.loyalty.redeem_gift(member, gift.id, 0, key())
    assert balance(store, member) == 400


def test_adjustment_needs_reason_and_manager_pin_for_a_cashier(
    svc: Services, boss: Services, store: Store, member: int
) -> None:
    with pytest.raises(PermissionDenied):
        svc.loyalty.adjust_points(member, 100, "补录积分", key())
    with pytest.raises(PermissionDenied):
        svc.loyalty.adjust_points(member, 100, "补录积分", key(), approver_pin="1234")  # a cashier's PIN
    with pytest.raises(ValidationError):
        svc.loyalty.adjust_points(member, 100, "  ", key(), approver_pin=MANAGER_PIN)
    with pytest.raises(ValidationError):
        svc.loyalty.adjust_points(member, 0, "x", key(), approver_pin=MANAGER_PIN)
    entry = svc.loyalty.adjust_points(member, 100, "补录积分", key(), approver_pin=MANAGER_PIN)
    assert entry.approved_by_id == store.operator("manager").staff_id
    assert (entry.delta, entry.balance_after, entry.changes) == (100, 100, Changes.POINTS)
    with store.db.session() as session:
        row = session.get(PointsLedger, entry.ledger_id)
        assert row is not None and row.staff_id == store.operator("cashier").staff_id
    with pytest.raises(InsufficientPoints):
        boss.loyalty.adjust_points(member, -101, "扣减", key())
    boss.loyalty.adjust_points(member, -100, "扣减", key())
    assert balance(store, member) == 0


def test_tier_upgrades_at_once_and_downgrades_at_review(
    svc: Services, store: Store, member: int, clock: FixedClock
) -> None:
    result = buy(svc, member, 250_000)  # ¥2,500 in 12 months: 银卡
    assert result.tier_changed_to == "银卡会员"
    assert svc.members.profile(member).tier_name == "银卡会员"
    clock.advance(dt.timedelta(days=200))
    assert svc.loyalty.review_tiers() == 0  # review date not reached: no downgrade
    clock.advance(dt.timedelta(days=200))  # 400 days on, the spend has left the window and the review is due
    assert svc.loyalty.review_tiers() == 1
    assert svc.members.profile(member).tier_name == "普通会员"
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(TierChange)) == 2


def test_referrer_earns_bonus_after_first_purchase_only(svc: Services, store: Store) -> None:
    referrer = svc.members.register(MemberForm(phone="13900000000", name="王五", membership_consent=True))
    newcomer = svc.members.register(
        MemberForm(phone="13800000000", name="赵六", membership_consent=True, referrer="13900000000")
    )
    assert balance(store, referrer) == 0
    buy(svc, newcomer, 1_000)
    buy(svc, newcomer, 1_000)
    assert balance(store, referrer) == 200


def test_crash_in_the_middle_of_a_purchase_writes_nothing(
    svc: Services, store: Store, member: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    buy(svc, member, 100_000)

    def boom(*_args: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr("app.loyalty.purchases.move_tier", boom)
    with pytest.raises(RuntimeError):
        buy(svc, member, 50_000, points_to_use=500)
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Sale)) == 1
        assert session.scalar(select(func.count()).select_from(PointsLedger)) == 1
        assert session.scalar(select(func.sum(PointsLot.remaining))) == 1_000
    assert balance(store, member) == 1_000


def test_daily_maintenance_expires_and_reviews(svc: Services, member: int, clock: FixedClock) -> None:
    buy(svc, member, 250_000)
    clock.advance(dt.timedelta(days=800))
    result = svc.loyalty.daily_maintenance()
    assert (result.points_expired, result.tiers_changed) == (2_500, 1)
    assert svc.loyalty.daily_maintenance() == type(result)(0, 0)


def test_a_cashier_adjusts_within_the_limit_without_a_pin(
    svc: Services, boss: Services, store: Store, member: int
) -> None:
    with pytest.raises(PermissionDenied):  # the default limit is 0: every cashier adjustment needs a manager
        svc.loyalty.adjust_points(member, 10, "补录积分", key())
    set_settings(boss, points__adjust_limit_without_approval=50)
    within = svc.loyalty.adjust_points(member, 50, "补录积分", key())
    assert (within.approved_by_id, within.balance_after) == (None, 50)
    assert svc.loyalty.adjust_points(member, -50, "冲销", key()).balance_after == 0
    with pytest.raises(PermissionDenied):
        svc.loyalty.adjust_points(member, 51, "补录积分", key())
    with pytest.raises(PermissionDenied):
        svc.loyalty.adjust_points(member, 10, "补录积分", key(), approver_pin="1234")  # a PIN given must be a manager's
    above = svc.loyalty.adjust_points(member, 51, "补录积分", key(), approver_pin=MANAGER_PIN)
    assert above.approved_by_id == store.operator("manager").staff_id
    assert balance(store, member) == 51


def test_a_coupon_discount_is_not_paid_in_money_and_a_return_gives_it_back(
    svc: Services, store: Store, member: int
) -> None:
    buy(svc, member, 100_000)  # 1,000 points
    req = PurchaseRequest(
        member_id=member, total_fen=10_000, idempotency_key=key(), points_to_use=400, coupon_discount_fen=2_000
    )
    preview = svc.loyalty.preview_purchase(req)
    assert (preview.coupon_discount_fen, preview.points_value_fen, preview.paid_fen) == (2_000, 400, 7_600)
    assert (preview.points_to_earn, preview.max_points_usable) == (76, 1_000)
    result = svc.loyalty.record_purchase(req)
    assert (result.coupon_discount_fen, result.paid_fen, result.points_earned) == (2_000, 7_600, 76)
    with pytest.raises(ValidationError):
        buy(svc, member, 10_000, coupon_discount_fen=10_001)
    returned = svc.loyalty.return_sale(result.sale_id, key())
    with store.db.session() as session:
        sale, ret = session.get(Sale, result.sale_id), session.get(Sale, returned.return_sale_id)
        assert sale is not None and ret is not None
        assert (sale.coupon_discount_fen, ret.coupon_discount_fen, ret.paid_fen) == (2_000, -2_000, -7_600)
    assert balance(store, member) == 1_000


def test_results_say_what_changed(svc: Services, store: Store, member: int) -> None:
    bought = buy(svc, member, 50_000)
    assert bought.changes == Changes.POINTS | Changes.SALES | Changes.MEMBERS
    with store.db.session() as session, session.begin():
        session.add(Gift(name="环保购物袋", points_price=100, stock=3))
    gift = svc.loyalty.gifts()[0]
    assert svc.loyalty.redeem_gift(member, gift.id, 1, key()).changes == Changes.POINTS | Changes.CATALOGUE
    assert svc.loyalty.return_sale(bought.sale_id, key()).changes & Changes.POINTS
    assert svc.loyalty.daily_maintenance().changes == Changes.NONE
