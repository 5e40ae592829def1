"""What a purchase costs and earns, pure and integer-only: the counter, the demo and the benchmarks price with it.

Order of a till: the coupon comes off first, then points pay up to the cap of what is left, and the member pays the
rest in money. Points are earned only on the part paid in money, and not on excluded goods.
"""

from __future__ import annotations

from typing import NamedTuple

from app.errors import InsufficientPoints, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.loyalty.rules import RedeemPolicy

MAX_SALE_FEN = 100_000_000  # ¥1,000,000: a typo guard, not a business rule


class Price(NamedTuple):
    """A NamedTuple, not a dataclass: the demo prices millions of purchases."""

    total_fen: int
    coupon_discount_fen: int
    points_to_use: int
    points_value_fen: int
    paid_fen: int
    """Paid in money: the total less the coupon and the points."""
    points_to_earn: int
    max_points_usable: int
    points_step: int


def eligible_fen(total_fen: int, excluded_fen: int, paid_fen: int) -> int:
    """The part of a purchase that earns: goods outside excluded categories, in proportion to what was paid in
    money (no points on the part paid with points or a coupon). Rounds down."""
    if total_fen <= 0 or paid_fen <= 0 or excluded_fen >= total_fen:
        return 0
    return (total_fen - excluded_fen) * (paid_fen if paid_fen < total_fen else total_fen) // total_fen


def points_for(eligible: int, fen_per_point: int, tier_pct: int, day_pct: int) -> int:
    """Points earned: base rate, then tier and member-day multipliers, rounding down once at the end."""
    if eligible <= 0:
        return 0
    return eligible * tier_pct * day_pct // (fen_per_point * 100 * 100)


def price_purchase(
    *,
    total_fen: int,
    excluded_fen: int,
    points_to_use: int,
    balance: int,
    tier_pct: int,
    day_pct: int,
    fen_per_point: int,
    redeem: RedeemPolicy,
    coupon_discount_fen: int = 0,
) -> Price:
    """Price one purchase, refusing what a till would refuse: a bad amount, a coupon worth more than the goods,
    points out of step, over the balance or over the cap."""
    if not 0 < total_fen <= MAX_SALE_FEN:
        raise ValidationError(S("Errors", "The amount must be more than ¥0 and at most ¥1,000,000."), field="amount")
    if points_to_use < 0:
        raise ValidationError(S("Errors", "Points to use cannot be negative."), field="points")
    if not 0 <= coupon_discount_fen <= total_fen:
        raise ValidationError(
            S("Errors", "A coupon cannot take off more than the purchase amount."), field="coupon_discount_fen"
        )
    after_coupon = total_fen - coupon_discount_fen
    most = redeem.max_points(after_coupon, balance)
    step = redeem.step
    value = 0
    if points_to_use:
        if points_to_use % step:
            raise ValidationError(S("Errors", "Points are used in steps of {step}."), field="points", step=step)
        if points_to_use > balance:
            raise InsufficientPoints(
                S("Errors", "Not enough points: {balance} available, {needed} needed."),
                balance=balance,
                needed=points_to_use,
            )
        if points_to_use > most:
            raise ValidationError(
                S("Errors", "At most {most} points can be used on this purchase."), field="points", most=most
            )
        value = redeem.value_fen(points_to_use)
    paid = after_coupon - value
    earned = points_for(eligible_fen(total_fen, excluded_fen, paid), fen_per_point, tier_pct, day_pct)
    return Price(total_fen, coupon_discount_fen, points_to_use, value, paid, earned, most, step)
