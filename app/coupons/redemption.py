"""A coupon at the counter: checked against every rule, priced into the purchase, marked redeemed in the sale's own
transaction, given back when the sale is returned.

The loyalty purchase path makes exactly these calls (so they can move with it): `quote_coupon` while pricing,
`redeem_coupon` once the sale row exists, and `restore_coupon` in the return path. A coupon is used once even when
two counters scan it at the same moment: the redemption is a guarded update (`… WHERE status = 'issued'`), and the
counter whose update finds the coupon already taken rolls its whole sale back with a plain message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.clock import store_zone, to_store_time
from app.coupons.campaigns import STATUS_LABELS, Offer
from app.coupons.codes import is_well_formed, normalise
from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.money import format_yuan
from app.security.operator import Operator
from app.settings import read_settings
from app.trust.audit import record_audit, tie_row
from db.enums import CampaignStatus, CouponAction, CouponKind, CouponStatus
from db.models import Coupon, CouponCampaign, CouponLedger

NOT_A_CODE = S("Errors", "This is not a coupon code: check the characters (the last one is a check character).")
UNKNOWN = S("Errors", "No coupon with this code in this store.")
NOT_ACTIVE = S("Errors", "The campaign of this coupon is not running (status: {status}).")
NOT_YET = S("Errors", "This coupon is valid from {date}.")
EXPIRED = S("Errors", "This coupon expired on {date}.")
USED = S("Errors", "This coupon was already used on {date}.")
TAKEN = S("Errors", "This coupon was just used at another counter.")
VOIDED = S("Errors", "This coupon was voided by a manager.")
BRANCH = S("Errors", "This coupon is not valid at this branch.")
OTHER_MEMBER = S("Errors", "This coupon belongs to another member.")
MIN_SPEND = S("Errors", "This coupon needs a spend of {minimum} on goods it covers; this purchase has {counted}.")


class CouponRefused(ValidationError):
    """A coupon that cannot be taken; the message names the rule. Nothing was changed."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message, field="coupon", **params)


@dataclass(frozen=True)
class CouponQuote:
    """What a valid coupon does to this purchase."""

    coupon_id: int
    code: str
    campaign_name: str
    kind: CouponKind
    discount_fen: int
    points_multiplier_pct: int
    gift_name: str | None


_FIND = (
    select(
        Coupon.id,
        Coupon.code,
        Coupon.status,
        Coupon.member_id,
        Coupon.redeemed_at,
        CouponCampaign.name,
        CouponCampaign.kind,
        CouponCampaign.status.label("campaign_status"),
        CouponCampaign.valid_from,
        CouponCampaign.valid_until,
        CouponCampaign.value_fen,
        CouponCampaign.percent_off,
        CouponCampaign.max_discount_fen,
        CouponCampaign.points_multiplier_pct,
        CouponCampaign.min_spend_fen,
        CouponCampaign.gift_name,
        CouponCampaign.branch_ids,
        CouponCampaign.excluded_categories,
    )
    .join(CouponCampaign, CouponCampaign.id == Coupon.campaign_id)
    .where(Coupon.code == bindparam("code"))
)
_TAKE = (
    update(Coupon)
    .where(Coupon.id == bindparam("coupon_id"), Coupon.status == CouponStatus.ISSUED)
    .values(status=CouponStatus.REDEEMED, redeemed_at=bindparam("at"))
)
_INSERT_LEDGER = insert(CouponLedger)


def _day(session: Session, value: dt.datetime) -> str:
    """The day as the store's calendar shows it."""
    return to_store_time(value, store_zone(read_settings(session).store_timezone)).strftime("%Y-%m-%d")


def quote_coupon(
    session: Session,
    branch_id: int,
    typed_code: str,
    member_id: int | None,
    goods: Iterable[tuple[int, str | None]],
    at: dt.datetime,
) -> CouponQuote:
    """Every rule, in the order a cashier would check them by hand; `goods` is (amount fen, category code) per line
    (one uncategorised line for a purchase typed as a total). Reads only."""
    code = normalise(typed_code)
    if not is_well_formed(code):
        raise CouponRefused(NOT_A_CODE)
    row = session.connection().execute(_FIND, {"code": code}).first()
    if row is None:
        raise CouponRefused(UNKNOWN)
    if row.status == CouponStatus.REDEEMED:
        raise CouponRefused(USED, date=_day(session, row.redeemed_at) if row.redeemed_at else "")
    if row.status == CouponStatus.VOID:
        raise CouponRefused(VOIDED)
    if row.status == CouponStatus.EXPIRED or at >= row.valid_until:
        raise CouponRefused(EXPIRED, date=_day(session, row.valid_until))
    if row.campaign_status != CampaignStatus.ACTIVE:
        raise CouponRefused(NOT_ACTIVE, status=translate("Coupons", STATUS_LABELS[row.campaign_status]))
    if at < row.valid_from:
        raise CouponRefused(NOT_YET, date=_day(session, row.valid_from))
    if row.branch_ids and branch_id not in row.branch_ids:
        raise CouponRefused(BRANCH)
    if row.member_id is not None and row.member_id != member_id:
        raise CouponRefused(OTHER_MEMBER)
    offer = Offer(
        row.kind,
        row.value_fen,
        row.percent_off,
        row.max_discount_fen,
        row.points_multiplier_pct,
        row.min_spend_fen,
        frozenset(row.excluded_categories or ()),
    )
    counted = sum(amount for amount, category in goods if category not in offer.excluded_categories)
    money_off = offer.kind in (CouponKind.AMOUNT_OFF, CouponKind.PERCENT_OFF)
    if counted < offer.min_spend_fen or (counted <= 0 and money_off):
        raise CouponRefused(MIN_SPEND, minimum=format_yuan(max(offer.min_spend_fen, 1)), counted=format_yuan(counted))
    return CouponQuote(
        row.id,
        row.code,
        row.name,
        row.kind,
        offer.discount_fen(counted),
        row.points_multiplier_pct if row.kind == CouponKind.POINTS_MULTIPLIER else 100,
        row.gift_name if row.kind == CouponKind.GIFT else None,
    )


def redeem_coupon(
    session: Session, operator: Operator, quote: CouponQuote, sale_id: int, idempotency_key: str, at: dt.datetime
) -> None:
    """Mark the quoted coupon redeemed by `sale_id`, in the sale's transaction. Raises (rolling the sale back) when
    another counter took it since the quote."""
    conn = session.connection()
    taken = conn.execute(_TAKE, {"coupon_id": quote.coupon_id, "at": at})
    if cast(CursorResult[Any], taken).rowcount != 1:
        raise CouponRefused(TAKEN)
    _ledger_row(session, operator, quote.coupon_id, CouponAction.REDEEM, sale_id, f"{idempotency_key}:coupon", at)
    record_audit(
        session, operator, "redeem", "coupon", quote.coupon_id, {"sale_id": sale_id, "discount_fen": quote.discount_fen}
    )


def restore_coupon(
    session: Session,
    operator: Operator,
    coupon_id: int | None,
    return_sale_id: int,
    idempotency_key: str,
    at: dt.datetime,
) -> bool:
    """Give the coupon of a returned sale back to its holder if its campaign still runs and it has not expired;
    True when it was restored. An expired coupon stays redeemed: it could not be used again anyway."""
    if coupon_id is None:
        return False
    row = session.execute(
        select(Coupon.status, CouponCampaign.status, CouponCampaign.valid_until)
        .join(CouponCampaign, CouponCampaign.id == Coupon.campaign_id)
        .where(Coupon.id == coupon_id)
        .with_for_update(of=Coupon)
    ).first()
    if row is None or row[0] != CouponStatus.REDEEMED or row[1] != CampaignStatus.ACTIVE or at >= row[2]:
        return False
    session.execute(
        update(Coupon)
        .where(Coupon.id == coupon_id)
        .values(status=CouponStatus.ISSUED, redeemed_at=None)
        .execution_options(synchronize_session=False)
    )
    _ledger_row(session, operator, coupon_id, CouponAction.RESTORE, return_sale_id, f"{idempotency_key}:coupon", at)
    record_audit(session, operator, "restore", "coupon", coupon_id, {"return_sale_id": return_sale_id})
    return True


def _ledger_row(
    session: Session,
    operator: Operator,
    coupon_id: int,
    action: CouponAction,
    sale_id: int,
    idempotency_key: str,
    at: dt.datetime,
) -> None:
    """The coupon's ledger row for a sale or a return, tied to the transaction's audit entry."""
    values = {
        "idempotency_key": idempotency_key,
        "coupon_id": coupon_id,
        "action": action,
        "sale_id": sale_id,
        "staff_id": operator.staff_id,
        "branch_id": operator.branch_id,
        "created_at": at,
    }
    key = session.connection().execute(_INSERT_LEDGER, values).inserted_primary_key
    assert key is not None
    tie_row(session, operator, "coupon_ledger", int(key[0]), values)
