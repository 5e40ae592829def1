"""The pure book and pricing: how points move between lots, how tiers are decided, how a purchase is priced."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import InsufficientPoints, ValidationError
from app.loyalty.book import REVIEW_REASON, UPGRADE_REASON, Account, Lot, TierLadder, TierRule, refund_expiry
from app.loyalty.pricing import price_purchase
from app.loyalty.rules import RedeemPolicy

REDEEM = RedeemPolicy(points_per_yuan=100, cap_pct=50)
LADDER = TierLadder(
    [
        TierRule(3, 2, 800_000, 8_000, 125),
        TierRule(1, 0, 0, 0, 100),
        TierRule(2, 1, 200_000, 2_000, 110),
    ],
    "spend",
)


def price(total: int, **kw: int) -> tuple[int, int, int, int]:
    args = {"excluded_fen": 0, "points_to_use": 0, "balance": 0, "tier_pct": 100, "day_pct": 100}
    args.update(kw)
    p = price_purchase(total_fen=total, fen_per_point=100, redeem=REDEEM, **args)
    return p.points_value_fen, p.paid_fen, p.points_to_earn, p.max_points_usable


def test_a_coupon_is_not_paid_in_money_and_earns_nothing() -> None:
    assert price(10_000) == (0, 10_000, 100, 0)
    assert price(10_000, coupon_discount_fen=2_000) == (0, 8_000, 80, 0)
    # Points pay up to half of what the coupon left: ¥40 of ¥80.
    assert price(10_000, coupon_discount_fen=2_000, balance=9_000) == (0, 8_000, 80, 4_000)
    assert price(10_000, coupon_discount_fen=2_000, balance=9_000, points_to_use=4_000) == (4_000, 4_000, 40, 4_000)
    assert price(10_000, coupon_discount_fen=10_000) == (0, 0, 0, 0)
    with pytest.raises(ValidationError):
        price(10_000, coupon_discount_fen=10_001)
    with pytest.raises(ValidationError):
        price(10_000, coupon_discount_fen=-1)
    with pytest.raises(ValidationError):
        price(10_000, coupon_discount_fen=2_000, balance=9_000, points_to_use=4_100)


def test_excluded_goods_tier_and_member_day() -> None:
    assert price(10_000, excluded_fen=4_000) == (0, 10_000, 60, 0)
    assert price(10_000, tier_pct=125, day_pct=200) == (0, 10_000, 250, 0)
    with pytest.raises(InsufficientPoints):
        price(10_000, balance=100, points_to_use=200)
    with pytest.raises(ValidationError):
        price(0)


@given(
    total=st.integers(1, 10_000_000),
    coupon_share=st.integers(0, 100),
    excluded_share=st.integers(0, 100),
    balance=st.integers(0, 10_000_000),
    tier_pct=st.sampled_from([100, 110, 125, 150]),
)
def test_points_are_earned_only_on_money(
    total: int, coupon_share: int, excluded_share: int, balance: int, tier_pct: int
) -> None:
    coupon = total * coupon_share // 100
    most = price(total, coupon_discount_fen=coupon, balance=balance)[3]
    value, paid, earned, _most = price(
        total,
        coupon_discount_fen=coupon,
        balance=balance,
        points_to_use=most,
        excluded_fen=total * excluded_share // 100,
        tier_pct=tier_pct,
    )
    assert value + paid + coupon == total
    assert paid >= 0 and value * 2 <= total - coupon + 1
    assert earned * 100 * 100 <= paid * tier_pct


def test_debits_take_the_given_lots_then_the_soonest_to_expire() -> None:
    lots = [Lot(1, 10, 300, 50), Lot(2, 20, 100, 50), Lot(3, 30, None, 50), Lot(4, 40, 100, 50)]
    account = Account(200, lots)
    moved = account.post(-70)
    assert [(lot.id, take) for lot, take in moved.taken] == [(2, 50), (4, 20)]
    moved = account.post(-40, first=[lots[2]])
    assert [(lot.id, take) for lot, take in moved.taken] == [(3, 40)]
    assert {lot.id for lot in account.due(300)} == {1, 4}
    moved = account.post(-30, first=account.due(100), only_first=True)
    assert [(lot.id, take) for lot, take in moved.taken] == [(4, 30)]
    assert account.balance == 60 and account.next_expiry == 300
    with pytest.raises(InsufficientPoints):
        account.post(-61)


def test_a_reversal_may_go_into_debt_which_the_next_credit_pays_first() -> None:
    account = Account[int](20, [Lot(1, 10, None, 20)])
    assert account.post(-50, allow_negative=True).balance_after == -30
    moved = account.post(100)
    assert (moved.balance_after, moved.new_lot_points) == (70, 70)
    assert account.post(10).new_lot_points == 10


@given(st.lists(st.tuples(st.integers(-500, 500), st.booleans(), st.integers(0, 50)), max_size=60))
def test_balance_and_lots_always_agree(steps: list[tuple[int, bool, int]]) -> None:
    """db check's invariant, kept by the book alone: max(balance, 0) == points left in open lots."""
    account = Account[int]()
    next_id = 1
    for delta, reversal, expires in steps:
        try:
            moved = account.post(delta, allow_negative=reversal)
        except InsufficientPoints:
            continue
        if moved.new_lot_points:
            account.add_lot(Lot(next_id, next_id, expires or None, moved.new_lot_points))
            next_id += 1
        assert max(account.balance, 0) == sum(lot.remaining for lot in account.open_lots)


def test_refunded_points_keep_the_latest_expiry_they_came_from() -> None:
    assert refund_expiry([5, None, 9, 7], 100) == 9
    assert refund_expiry([None], 100) == 100
    assert refund_expiry([], None) is None


def test_tiers_go_up_at_once_and_down_only_at_the_review() -> None:
    assert LADDER.decide(1, 199_999, review_due=False) is None
    up = LADDER.decide(1, 900_000, review_due=False)
    assert up is not None and (up.tier_id, up.reason) == (3, UPGRADE_REASON)
    assert LADDER.decide(3, 0, review_due=False) is None
    down = LADDER.decide(3, 250_000, review_due=True)
    assert down is not None and (down.tier_id, down.reason) == (2, REVIEW_REASON)
    stay = LADDER.decide(2, 250_000, review_due=True)
    assert stay is not None and (stay.tier_id, stay.reason) == (2, None)
    assert LADDER.rule(3).earn_multiplier_pct == 125
    assert TierLadder(LADDER.rules, "points").qualifying(2_500).id == 2
