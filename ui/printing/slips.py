"""What a receipt slip says about one counter action, in the words of the interface's language. The store, the
branch and the time are added when it is printed (ui.printing.printouts), so a slip printed later is still true."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication

from app.i18n import QT_TRANSLATE_NOOP
from ui import formatting as fmt

if TYPE_CHECKING:
    from app.loyalty.service import GiftResult, PurchaseResult, ReturnResult
    from app.members.profile import MemberProfile, SaleRow

CONTEXT = "Slips"
POINTS_REDEMPTION_SLIP = QT_TRANSLATE_NOOP("Slips", "Points redemption slip")
RECEIPT_NO = QT_TRANSLATE_NOOP("Slips", "Receipt no.")
PURCHASE_AMOUNT = QT_TRANSLATE_NOOP("Slips", "Purchase amount")
POINTS_USED = QT_TRANSLATE_NOOP("Slips", "Points used")
PAID_WITH_POINTS = QT_TRANSLATE_NOOP("Slips", "Paid with points")
AMOUNT_PAID = QT_TRANSLATE_NOOP("Slips", "Amount paid")
POINTS_EARNED = QT_TRANSLATE_NOOP("Slips", "Points earned")
GIFT_REDEMPTION_SLIP = QT_TRANSLATE_NOOP("Slips", "Gift redemption slip")
GIFT = QT_TRANSLATE_NOOP("Slips", "Gift")
RETURN_SLIP = QT_TRANSLATE_NOOP("Slips", "Return slip")
PURCHASED_AT = QT_TRANSLATE_NOOP("Slips", "Purchased at")
AMOUNT_RETURNED = QT_TRANSLATE_NOOP("Slips", "Amount returned")
POINTS_TAKEN_BACK = QT_TRANSLATE_NOOP("Slips", "Points taken back")
POINTS_REFUNDED = QT_TRANSLATE_NOOP("Slips", "Points refunded")
REASON = QT_TRANSLATE_NOOP("Slips", "Reason")


def _tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


@dataclass(frozen=True)
class SlipContent:
    title: str
    lines: tuple[tuple[str, str], ...]
    """(label, value) rows saying what happened."""
    member_id: int
    member_name: str
    masked_phone: str
    """Always masked: the slip leaves the store in the customer's bag."""
    points_balance: int


def _slip(title: str, member: MemberProfile, balance: int, lines: list[tuple[str, str] | None]) -> SlipContent:
    return SlipContent(
        title, tuple(line for line in lines if line), member.id, member.name, member.masked_phone, balance
    )


def purchase_slip(member: MemberProfile, result: PurchaseResult, receipt_no: str | None) -> SlipContent | None:
    """Only a purchase paid partly with points gets a slip: the till's receipt covers the rest."""
    if not result.points_used:
        return None
    return _slip(
        _tr(POINTS_REDEMPTION_SLIP),
        member,
        result.balance_after,
        [
            (_tr(RECEIPT_NO), receipt_no) if receipt_no else None,
            (_tr(PURCHASE_AMOUNT), fmt.yuan(result.paid_fen + result.points_value_fen)),
            (_tr(POINTS_USED), fmt.signed_points(-result.points_used)),
            (_tr(PAID_WITH_POINTS), fmt.yuan(result.points_value_fen)),
            (_tr(AMOUNT_PAID), fmt.yuan(result.paid_fen)),
            (_tr(POINTS_EARNED), fmt.signed_points(result.points_earned)),
        ],
    )


def gift_slip(member: MemberProfile, gift_name: str, quantity: int, result: GiftResult) -> SlipContent:
    return _slip(
        _tr(GIFT_REDEMPTION_SLIP),
        member,
        result.balance_after,
        [
            (_tr(GIFT), f"{gift_name} ×{quantity}"),
            (_tr(POINTS_USED), fmt.signed_points(-result.points)),
        ],
    )


def return_slip(member: MemberProfile, sale: SaleRow, result: ReturnResult, reason: str) -> SlipContent:
    return _slip(
        _tr(RETURN_SLIP),
        member,
        result.balance_after,
        [
            (_tr(PURCHASED_AT), fmt.local_datetime(sale.sold_at)),
            (_tr(RECEIPT_NO), sale.receipt_no) if sale.receipt_no else None,
            (_tr(AMOUNT_RETURNED), fmt.yuan(sale.total_fen)),
            (_tr(POINTS_TAKEN_BACK), fmt.signed_points(-result.points_reversed)),
            (_tr(POINTS_REFUNDED), fmt.signed_points(result.points_refunded)),
            (_tr(REASON), reason) if reason else None,
        ],
    )
