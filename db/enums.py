"""The fixed vocabularies stored in the database, as string enums (stored as their values)."""

from __future__ import annotations

import enum
from typing import Any


class StaffRole(enum.StrEnum):
    CASHIER = "cashier"
    MANAGER = "manager"
    OWNER = "owner"


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    ANONYMISED = "anonymised"


class Gender(enum.StrEnum):
    UNKNOWN = "unknown"
    FEMALE = "female"
    MALE = "male"


class SaleKind(enum.StrEnum):
    SALE = "sale"
    RETURN = "return"


class LedgerSource(enum.StrEnum):
    SALE = "sale"
    REDEMPTION = "redemption"
    GIFT = "gift"
    ADJUSTMENT = "adjustment"
    EXPIRY = "expiry"
    REVERSAL = "reversal"
    SURVEY_REWARD = "survey_reward"
    REFERRAL = "referral"
    IMPORT = "import"


class CouponKind(enum.StrEnum):
    AMOUNT_OFF = "amount_off"
    PERCENT_OFF = "percent_off"
    GIFT = "gift"
    POINTS_MULTIPLIER = "points_multiplier"


class CampaignTarget(enum.StrEnum):
    """Who a campaign's coupons are for."""

    ALL_MEMBERS = "all_members"
    TIER = "tier"
    CHOSEN_MEMBERS = "chosen_members"
    BEARER = "bearer"
    SAVED_SEGMENT = "saved_segment"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ENDED = "ended"


class CouponStatus(enum.StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"
    VOID = "void"
    EXPIRED = "expired"


class CouponAction(enum.StrEnum):
    ISSUE = "issue"
    PRINT = "print"
    REDEEM = "redeem"
    RESTORE = "restore"
    VOID = "void"
    EXPIRE = "expire"


class ComplaintStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ComplaintSeverity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class FormStatus(enum.StrEnum):
    PRINTED = "printed"
    RETURNED = "returned"
    VOID = "void"


class FollowUpReason(enum.StrEnum):
    CHURN_WARNING = "churn_warning"
    COMPLAINT = "complaint"
    BIRTHDAY = "birthday"
    CUSTOM = "custom"


class FollowUpChannel(enum.StrEnum):
    PHONE = "phone"
    WECHAT = "wechat"
    IN_STORE = "in_store"


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


def str_enum(kind: type[enum.StrEnum], length: int = 20) -> Any:
    """A portable enum column: VARCHAR holding the value, no native type (so SQLite and PostgreSQL agree)."""
    from sqlalchemy import Enum  # here: the roles and states are read before the database library is loaded

    return Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
