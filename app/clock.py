"""Time for services: injected so tests can move it, always timezone-aware UTC. Times are shown in the store's time
zone (the `store.timezone` setting), never the PC's: a counter whose Windows clock is set to another zone must still
show and print the same times the store's rules use (a member day, an expiry at midnight)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stays where it is put; tests and the demo generator move it by hand."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, delta: dt.timedelta) -> None:
        self.at = self.at + delta


def store_zone(name: str) -> ZoneInfo:
    """The store's time zone (the `store.timezone` setting); an unknown name falls back to China's."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def to_store_time(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """A stored time (UTC; a naive one is read as UTC, never as the PC's time) as the store's wall clock shows it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone)


def pc_zone_differs(zone: dt.tzinfo, at: dt.datetime) -> bool:
    """Whether this PC's clock shows another time than the store's at `at` (a counter set to another zone)."""
    return at.astimezone().utcoffset() != at.astimezone(zone).utcoffset()


def pc_utc_offset(at: dt.datetime) -> str:
    """This PC's offset from UTC at `at`, as `UTC+08:00`."""
    offset = at.astimezone().utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
