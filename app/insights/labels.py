"""Segment codes and their labels and suggested actions, shown wherever a segment is (no numpy here: the
member panel imports it)."""

from __future__ import annotations

from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate

PYRAMID = ("vip", "major", "regular", "small")
PYRAMID_LABELS = {
    "vip": S("Segments", "VIP"),
    "major": S("Segments", "Major customer"),
    "regular": S("Segments", "Regular customer"),
    "small": S("Segments", "Small customer"),
}

RFM_CLASSES = (
    "general_retain",  # R F M: low low low
    "general_develop",  # high low low
    "general_keep",  # low high low
    "general_value",  # high high low
    "important_retain",  # low low high
    "important_develop",  # high low high
    "important_keep",  # low high high
    "important_value",  # high high high
)
"""Indexed by R_high + 2·F_high + 4·M_high."""
RFM_LABELS = {
    "important_value": S("Segments", "Important value customer"),
    "important_develop": S("Segments", "Important development customer"),
    "important_keep": S("Segments", "Important keep customer"),
    "important_retain": S("Segments", "Important retention customer"),
    "general_value": S("Segments", "General value customer"),
    "general_develop": S("Segments", "General development customer"),
    "general_keep": S("Segments", "General keep customer"),
    "general_retain": S("Segments", "General retention customer"),
}
RFM_ACTIONS = {
    "important_value": S("Segments", "Keep them close: VIP service, first look at new goods, no discounts needed."),
    "important_develop": S(
        "Segments", "Recent and big spenders who come rarely: member-day offers to come more often."
    ),
    "important_keep": S(
        "Segments", "Frequent big spenders who have not come lately: call them, a personal invitation."
    ),
    "important_retain": S("Segments", "Big spenders slipping away: win them back now with a strong personal offer."),
    "general_value": S("Segments", "Frequent and recent but small baskets: bundles and add-on offers to raise spend."),
    "general_develop": S("Segments", "New or occasional small buyers: a welcome coupon and reasons to return."),
    "general_keep": S("Segments", "Used to come often, small baskets, not lately: a reminder with a small coupon."),
    "general_retain": S("Segments", "Low value and lapsed: low-cost messages only."),
}

STAGES = ("registered", "new", "active", "loyal", "dormant", "lost")
STAGE_LABELS = {
    "registered": S("Segments", "Registered, no purchase"),
    "new": S("Segments", "New"),
    "active": S("Segments", "Active"),
    "loyal": S("Segments", "Loyal"),
    "dormant": S("Segments", "Dormant"),
    "lost": S("Segments", "Lost"),
}

MODEL_LABELS = {
    "bgnbd+gg": S("Segments", "BG/NBD + Gamma-Gamma"),
    "interval rule": S("Segments", "purchase-interval rule"),
    "no purchase": S("Segments", "no purchase"),
}


def segment_line(
    pyramid_level: str, rfm_class: str | None, lifecycle_stage: str, churn_warning: bool, p_alive_permille: int | None
) -> str:
    """The member panel's segment line: level, class, stage, the churn warning and the class's suggested action."""
    parts = [translate("Segments", PYRAMID_LABELS[pyramid_level])]
    if rfm_class is not None:
        parts.append(translate("Segments", RFM_LABELS[rfm_class]))
    parts.append(translate("Segments", STAGE_LABELS[lifecycle_stage]))
    line = " · ".join(parts)
    if churn_warning:
        warning = translate("Segments", S("Segments", "Churn warning: still-active probability {percent}%"))
        line += " · " + warning.format(percent=round((p_alive_permille or 0) / 10))
    if rfm_class is not None:
        line += "\n" + translate("Segments", S("Segments", "Suggested: {action}")).format(
            action=translate("Segments", RFM_ACTIONS[rfm_class])
        )
    return line
