"""The store's points policies read from its settings: earning (rate, member days, excluded categories),
paying with points (value, cap, step) and when earned points expire. Pure; pricing.py and book.py use them."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from app.settings import StoreSettings


@dataclass(frozen=True)
class EarnPolicy:
    fen_per_point: int
    member_day_weekday: int
    member_day_from: dt.date | None
    member_day_until: dt.date | None
    member_day_multiplier_pct: int
    excluded_categories: frozenset[str]
    timezone: ZoneInfo

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> EarnPolicy:
        return cls(
            fen_per_point=settings.points_fen_per_point,
            member_day_weekday=settings.points_member_day_weekday,
            member_day_from=_date_or_none(settings.points_member_day_from),
            member_day_until=_date_or_none(settings.points_member_day_until),
            member_day_multiplier_pct=settings.points_member_day_multiplier_pct,
            excluded_categories=frozenset(settings.points_excluded_categories),
            timezone=ZoneInfo(settings.store_timezone),
        )

    def is_member_day(self, at: dt.datetime) -> bool:
        day = at.astimezone(self.timezone).date()
        if self.member_day_from and self.member_day_until and self.member_day_from <= day <= self.member_day_until:
            return True
        return self.member_day_weekday >= 0 and day.weekday() == self.member_day_weekday

    def multiplier_pct(self, at: dt.datetime) -> int:
        return self.member_day_multiplier_pct if self.is_member_day(at) else 100


def _date_or_none(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class RedeemPolicy:
    points_per_yuan: int
    cap_pct: int
    step: int = field(init=False)
    """The smallest number of points worth a whole fen (100 points = ¥1 → 1; 200 points = ¥1 → 2): worked out
    once here, not on every purchase priced (the demo prices millions)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "step", self.points_per_yuan // math.gcd(self.points_per_yuan, 100))

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> RedeemPolicy:
        return cls(settings.points_redeem_points_per_yuan, settings.points_redeem_cap_pct)

    def value_fen(self, points: int) -> int:
        return points * 100 // self.points_per_yuan

    def max_points(self, total_fen: int, balance: int) -> int:
        """Most points usable on a purchase: the cap, the balance, whole fen only."""
        by_cap = total_fen * self.cap_pct // 100 * self.points_per_yuan // 100
        most = by_cap if by_cap < balance else balance
        return most - most % self.step if most > 0 else 0


def expiry_for(earned_at: dt.datetime, settings: StoreSettings) -> dt.datetime | None:
    """When points earned at `earned_at` expire under the store's rule (None: never)."""
    mode = settings.points_expiry_mode
    if mode == "none":
        return None
    tz = ZoneInfo(settings.store_timezone)
    local = earned_at.astimezone(tz)
    if mode == "rolling":
        months = settings.points_expiry_months
        year, month = divmod(local.month - 1 + months, 12)
        target = local.date().replace(day=1).replace(year=local.year + year, month=month + 1)
        day = min(local.day, _days_in_month(target.year, target.month))
        end = dt.datetime.combine(target.replace(day=day), dt.time(0, 0), tz)
        return (end + dt.timedelta(days=1)).astimezone(dt.UTC)
    month, day = (int(p) for p in settings.points_expiry_clearing_date.split("-"))
    clearing = dt.date(local.year, month, day)
    if clearing < local.date():
        clearing = dt.date(local.year + 1, month, day)
    # Points earned this year are cleared at the end of next year's clearing day, so nobody loses points
    # earned a day before the clearing.
    clearing = dt.date(clearing.year + 1, month, day)
    return dt.datetime.combine(clearing + dt.timedelta(days=1), dt.time(0, 0), tz).astimezone(dt.UTC)


def _days_in_month(year: int, month: int) -> int:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - dt.timedelta(days=1)).day
