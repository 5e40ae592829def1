"""What a campaign is and the pure rules on it: validation of a draft, the discount a coupon gives, the offer in
words. No database here; service.py stores and moves campaigns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.errors import ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from db.enums import CampaignStatus as CampaignStatus  # re-exported for the screens (ui/ never imports db/)
from db.enums import CampaignTarget as CampaignTarget
from db.enums import CouponKind as CouponKind
from db.enums import StaffRole as StaffRole

MAX_VALUE_FEN = 10_000_000  # ¥100,000 off: a typo guard
MAX_QUANTITY = 1_000_000
MAX_MULTIPLIER_PCT = 1000
MAX_DAYS = 3 * 366
CODE_PATTERN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

KIND_LABELS = {
    CouponKind.AMOUNT_OFF: S("Coupons", "Amount off"),
    CouponKind.PERCENT_OFF: S("Coupons", "Percent off"),
    CouponKind.GIFT: S("Coupons", "Gift"),
    CouponKind.POINTS_MULTIPLIER: S("Coupons", "Points multiplier"),
}
TARGET_LABELS = {
    CampaignTarget.ALL_MEMBERS: S("Coupons", "All members"),
    CampaignTarget.TIER: S("Coupons", "One tier"),
    CampaignTarget.CHOSEN_MEMBERS: S("Coupons", "Chosen members"),
    CampaignTarget.BEARER: S("Coupons", "Bearer (anyone)"),
    CampaignTarget.SAVED_SEGMENT: S("Coupons", "A saved segment"),
}
FORM_TARGETS = tuple(t for t in TARGET_LABELS if t != CampaignTarget.SAVED_SEGMENT)
"""The targets the campaign form offers; a saved segment's campaign is made from the saved segments screen."""
STATUS_LABELS = {
    CampaignStatus.DRAFT: S("Coupons", "Draft"),
    CampaignStatus.ACTIVE: S("Coupons", "Active"),
    CampaignStatus.ENDED: S("Coupons", "Ended"),
}
# Who may move a campaign: a manager activates, a manager or owner ends (the owner ranks above the manager).
TRANSITIONS = {
    (CampaignStatus.DRAFT, CampaignStatus.ACTIVE): StaffRole.MANAGER,
    (CampaignStatus.DRAFT, CampaignStatus.ENDED): StaffRole.MANAGER,
    (CampaignStatus.ACTIVE, CampaignStatus.ENDED): StaffRole.MANAGER,
}


OFF = S("Coupons", "{amount} off")
PERCENT = S("Coupons", "{percent}% off ({zhe}折)")
CAP = S("Coupons", " (at most {amount})")
GIFT = S("Coupons", "Free gift: {gift}")
TIMES = S("Coupons", "{times}× points")
SPEND = S("Coupons", "Spend {amount}: ")


@dataclass(frozen=True)
class CampaignDraft:
    """A campaign as typed on the campaigns screen or given by the demo, before it is stored."""

    code: str
    name: str
    kind: CouponKind
    valid_from: dt.datetime
    valid_until: dt.datetime
    value_fen: int = 0
    percent_off: int = 0
    max_discount_fen: int = 0
    points_multiplier_pct: int = 100
    gift_name: str = ""
    min_spend_fen: int = 0
    target: CampaignTarget = CampaignTarget.ALL_MEMBERS
    tier_id: int | None = None
    branch_ids: tuple[int, ...] = ()
    excluded_categories: tuple[str, ...] = ()
    total_quantity: int = 0
    per_member_limit: int = 1
    terms: str = ""
    automatic: str | None = None
    saved_segment_id: int | None = None


@dataclass(frozen=True)
class Offer:
    """The part of a campaign that prices a purchase."""

    kind: CouponKind
    value_fen: int
    percent_off: int
    max_discount_fen: int
    points_multiplier_pct: int
    min_spend_fen: int
    excluded_categories: frozenset[str] = field(default_factory=frozenset)

    def discount_fen(self, counted_fen: int) -> int:
        """Money off the goods that count; never more than those goods."""
        if self.kind == CouponKind.AMOUNT_OFF:
            return min(self.value_fen, counted_fen)
        if self.kind == CouponKind.PERCENT_OFF:
            off = counted_fen * self.percent_off // 100
            return min(off, self.max_discount_fen) if self.max_discount_fen else off
        return 0


def _bad(message: str, field_name: str, **params: object) -> ValidationError:
    return ValidationError(message, field=field_name, **params)


def validate_draft(draft: CampaignDraft) -> CampaignDraft:
    """The draft cleaned, or the first rule it breaks (each with the field it concerns)."""
    code = draft.code.strip().upper()
    name = draft.name.strip()
    if not code or len(code) > 20 or any(char not in CODE_PATTERN for char in code):
        raise _bad(S("Errors", "A campaign code is 1 to 20 letters, digits, - or _."), "code")
    if not name or len(name) > 100:
        raise _bad(S("Errors", "A campaign needs a name of at most 100 characters."), "name")
    if draft.valid_from.tzinfo is None or draft.valid_until.tzinfo is None:
        raise ValueError("campaign dates must be timezone-aware")
    if draft.valid_until <= draft.valid_from:
        raise _bad(S("Errors", "The campaign must end after it starts."), "valid_until")
    if draft.valid_until - draft.valid_from > dt.timedelta(days=MAX_DAYS):
        raise _bad(S("Errors", "A campaign runs for at most three years."), "valid_until")
    for value, field_name in (
        (draft.value_fen, "value"),
        (draft.max_discount_fen, "max_discount"),
        (draft.min_spend_fen, "min_spend"),
    ):
        if not 0 <= value <= MAX_VALUE_FEN:
            raise _bad(S("Errors", "An amount must be between ¥0 and ¥100,000."), field_name)
    if draft.kind == CouponKind.AMOUNT_OFF:
        if draft.value_fen <= 0:
            raise _bad(S("Errors", "Enter the amount off."), "value")
        if draft.min_spend_fen and draft.value_fen > draft.min_spend_fen:
            raise _bad(S("Errors", "The amount off cannot be more than the minimum spend."), "value")
    if draft.kind == CouponKind.PERCENT_OFF and not 1 <= draft.percent_off <= 100:
        raise _bad(S("Errors", "The percent off must be between 1 and 100."), "percent")
    if draft.kind == CouponKind.GIFT and not draft.gift_name.strip():
        raise _bad(S("Errors", "Name the gift."), "gift")
    if draft.kind == CouponKind.POINTS_MULTIPLIER and not 101 <= draft.points_multiplier_pct <= MAX_MULTIPLIER_PCT:
        raise _bad(S("Errors", "The points multiplier must be between 101 % and 1000 %."), "multiplier")
    if not 0 <= draft.total_quantity <= MAX_QUANTITY:
        raise _bad(S("Errors", "The quantity must be between 0 (no limit) and 1,000,000."), "quantity")
    if not 1 <= draft.per_member_limit <= 100:
        raise _bad(S("Errors", "Each member may hold between 1 and 100 coupons of a campaign."), "per_member")
    if draft.target == CampaignTarget.TIER and draft.tier_id is None:
        raise _bad(S("Errors", "Choose the tier the campaign is for."), "tier")
    if draft.target == CampaignTarget.SAVED_SEGMENT and draft.saved_segment_id is None:
        raise _bad(S("Errors", "Choose the saved segment the campaign is for."), "segment")
    if len(draft.terms) > 500:
        raise _bad(S("Errors", "The terms have at most 500 characters."), "terms")
    return CampaignDraft(
        **{
            **draft.__dict__,
            "code": code,
            "name": name,
            "gift_name": draft.gift_name.strip(),
            "terms": draft.terms.strip(),
            "tier_id": draft.tier_id if draft.target == CampaignTarget.TIER else None,
            "saved_segment_id": draft.saved_segment_id if draft.target == CampaignTarget.SAVED_SEGMENT else None,
        }
    )


def offer_text(offer: Offer, gift_name: str | None) -> str:
    """The offer in the store's words: 满100减20, 8.5折, 赠品, 双倍积分."""
    minimum = offer.min_spend_fen
    if offer.kind == CouponKind.AMOUNT_OFF:
        text = translate("Coupons", OFF).format(amount=_yuan(offer.value_fen))
    elif offer.kind == CouponKind.PERCENT_OFF:
        text = translate("Coupons", PERCENT).format(percent=offer.percent_off, zhe=_zhe(offer.percent_off))
        if offer.max_discount_fen:
            text += translate("Coupons", CAP).format(amount=_yuan(offer.max_discount_fen))
    elif offer.kind == CouponKind.GIFT:
        text = translate("Coupons", GIFT).format(gift=gift_name or "")
    else:
        text = translate("Coupons", TIMES).format(times=_times(offer.points_multiplier_pct))
    if minimum:
        text = translate("Coupons", SPEND).format(amount=_yuan(minimum)) + text
    return text


def _times(pct: int) -> str:
    whole, rest = divmod(pct, 100)
    return str(whole) if not rest else f"{whole}.{rest:02d}".rstrip("0")


def _yuan(fen: int) -> str:
    """¥100 for whole yuan (as a coupon says it), ¥12.50 otherwise."""
    yuan, cents = divmod(fen, 100)
    return f"¥{yuan:,}" if not cents else f"¥{yuan:,}.{cents:02d}"


def _zhe(percent_off: int) -> str:
    """A Chinese store's way of saying it: 20 % off is 8折, 15 % off 8.5折."""
    whole, tenth = divmod(100 - percent_off, 10)
    return f"{whole}.{tenth}" if tenth else str(whole)
