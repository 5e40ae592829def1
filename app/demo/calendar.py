"""When a demo store's customers shop: weekly rhythm, the Chinese retail calendar and opening hours.

The history ends at the store's real "now", so the demo looks alive on the day it is made. Every random draw is
mapped through this calendar (one uniform number per day or time, never a draw that depends on the date), so a seed
gives the same members and baskets on any day and only their dates move with the calendar.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from itertools import accumulate
from zoneinfo import ZoneInfo

# Spring Festival (春节) and Mid-Autumn (中秋) move with the lunar calendar; outside these years they add no peak.
SPRING_FESTIVAL = {
    2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12),
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
}
MID_AUTUMN = {
    2020: dt.date(2020, 10, 1),
    2021: dt.date(2021, 9, 21),
    2022: dt.date(2022, 9, 10),
    2023: dt.date(2023, 9, 29),
    2024: dt.date(2024, 9, 17),
    2025: dt.date(2025, 10, 6),
    2026: dt.date(2026, 9, 25),
    2027: dt.date(2027, 9, 15),
    2028: dt.date(2028, 10, 3),
    2029: dt.date(2029, 9, 22),
    2030: dt.date(2030, 9, 12),
}

WEEKDAY_TRAFFIC = (0.85, 0.85, 0.9, 0.9, 1.05, 1.3, 1.25)  # Monday first: weekends are busier
OPEN_HOUR, CLOSE_HOUR = 8, 22
HOUR_WEIGHTS = (3, 5, 8, 8, 6, 4, 4, 5, 7, 10, 10, 8, 5, 3)  # 08:00 … 21:00: late morning and after work
GROWTH = 0.3
"""Traffic grows by this share over the history, as a store's membership programme takes hold."""


def day_factors(day: dt.date) -> tuple[float, float]:
    """(traffic, basket size) multipliers for one day: weekday, New Year shopping (年货), the quiet first days of
    the Spring Festival, Mid-Autumn, National Day, 618 and Double 11."""
    traffic, basket = WEEKDAY_TRAFFIC[day.weekday()], 1.0
    for year in (day.year, day.year + 1):
        festival = SPRING_FESTIVAL.get(year)
        if festival is None:
            continue
        offset = (day - festival).days
        if -21 <= offset <= -8:
            traffic, basket = traffic * 1.3, basket * 1.3
        elif -7 <= offset <= -2:
            traffic, basket = traffic * 1.9, basket * 1.6
        elif offset == -1:
            traffic, basket = traffic * 1.1, basket * 1.4
        elif 0 <= offset <= 2:
            traffic *= 0.35
        elif 3 <= offset <= 6:
            traffic *= 0.75
        elif 13 <= offset <= 14:  # Lantern Festival: 汤圆
            traffic *= 1.15
    mid_autumn = MID_AUTUMN.get(day.year)
    if mid_autumn is not None and -7 <= (day - mid_autumn).days <= -1:
        traffic, basket = traffic * 1.3, basket * 1.3
    if day.month == 10 and 1 <= day.day <= 5:
        traffic *= 1.15
    if day.month == 6 and 16 <= day.day <= 18:
        traffic, basket = traffic * 1.2, basket * 1.1
    if day.month == 11 and 9 <= day.day <= 11:
        traffic, basket = traffic * 1.3, basket * 1.15
    return traffic, basket


class ShoppingCalendar:
    """Days 0 … days-1 of the history, the last being today (or yesterday before the store's first opening hour)."""

    def __init__(self, now: dt.datetime, days: int, tz: ZoneInfo) -> None:
        local = now.astimezone(tz)
        self.tz = tz
        self.now = int(now.timestamp())
        last = local.date() if local.hour >= OPEN_HOUR + 1 else local.date() - dt.timedelta(days=1)
        self.days = max(1, days)
        self.first = last - dt.timedelta(days=self.days - 1)
        self.dates = [self.first + dt.timedelta(days=d) for d in range(self.days)]
        self.midnight = [int(dt.datetime.combine(day, dt.time(0), tz).timestamp()) for day in self.dates]
        open_until = min(self.now - self.midnight[-1], CLOSE_HOUR * 3600)
        self._last_day_close = open_until
        traffic: list[float] = []
        self.basket: list[float] = []
        for index, day in enumerate(self.dates):
            day_traffic, day_basket = day_factors(day)
            day_traffic *= 1 - GROWTH / 2 + GROWTH * index / self.days
            traffic.append(day_traffic)
            self.basket.append(day_basket)
        traffic[-1] *= (open_until - OPEN_HOUR * 3600) / ((CLOSE_HOUR - OPEN_HOUR) * 3600)
        self._cumulative = list(accumulate(traffic))
        total = sum(HOUR_WEIGHTS)
        self._hours = [w / total for w in accumulate(HOUR_WEIGHTS)]

    def noon(self, day: int) -> dt.datetime:
        """A moment inside local `day`, for rules that depend on the local date only (expiry, member days)."""
        return dt.datetime.fromtimestamp(self.midnight[day] + 12 * 3600, dt.UTC)

    def pick_day(self, u: float, low: int, high: int) -> int:
        """The day in [low, high] at which the share `u` of that span's shoppers has been reached."""
        start = self._cumulative[low - 1] if low > 0 else 0.0
        target = start + u * (self._cumulative[high] - start)
        return min(bisect_right(self._cumulative, target, low, high), high)

    def pick_time(self, day: int, u: float) -> int:
        """A moment (Unix seconds) within opening hours on `day`, busier before noon and after work."""
        hour = min(bisect_right(self._hours, u), len(self._hours) - 1)
        below = self._hours[hour - 1] if hour else 0.0
        within = (u - below) / (self._hours[hour] - below)
        seconds = (OPEN_HOUR + hour) * 3600 + int(within * 3600)
        if day == self.days - 1:
            span = (CLOSE_HOUR - OPEN_HOUR) * 3600
            seconds = (
                OPEN_HOUR * 3600 + (seconds - OPEN_HOUR * 3600) * (self._last_day_close - OPEN_HOUR * 3600) // span
            )
        return self.midnight[day] + seconds
