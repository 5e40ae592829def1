"""Periods of whole store days, their buckets (day, ISO week, month) and a sale's local day computed in SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, cast, func, literal, type_coerce
from sqlalchemy.sql import ColumnElement

from app.charts.model import ChartFilter, Grain

EPOCH = dt.date(1970, 1, 1)
JULIAN_EPOCH = 2440587.5


@dataclass(frozen=True)
class Period:
    """The filter's days resolved against today: `first`..`last` (included), and the same as UTC instants."""

    first: dt.date | None
    last: dt.date
    zone: ZoneInfo

    @property
    def start(self) -> dt.datetime | None:
        return None if self.first is None else utc_start(self.first, self.zone)

    @property
    def end(self) -> dt.datetime:
        return utc_start(self.last + dt.timedelta(days=1), self.zone)


def utc_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


def resolve(chart_filter: ChartFilter, zone: ZoneInfo, today: dt.date) -> Period | None:
    """None when the whole period lies after today (nothing can have happened yet); a period ending later is cut
    at today."""
    if chart_filter.since is not None and chart_filter.since > today:
        return None
    last = min(chart_filter.until or today, today)
    return Period(chart_filter.since, last, zone)


def bucket_start(day: dt.date, grain: Grain) -> dt.date:
    if grain == Grain.DAY:
        return day
    if grain == Grain.WEEK:
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def next_bucket(start: dt.date, grain: Grain) -> dt.date:
    if grain == Grain.DAY:
        return start + dt.timedelta(days=1)
    if grain == Grain.WEEK:
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def buckets(first: dt.date, last: dt.date, grain: Grain) -> list[dt.date]:
    """Every bucket from the one holding `first` to the one holding `last`: a day without data is a zero, not a gap
    the axis silently closes."""
    found = []
    at = bucket_start(first, grain)
    while at <= last:
        found.append(at)
        at = next_bucket(at, grain)
    return found


def bucket_label(start: dt.date, grain: Grain, years: int) -> str:
    """`2026-11` by month; `11-16` by day or week (the week's Monday), with the year when the chart spans years."""
    if grain == Grain.MONTH:
        return f"{start:%Y-%m}"
    return f"{start:%Y-%m-%d}" if years > 1 else f"{start:%m-%d}"


def bucket_key(start: dt.date, grain: Grain) -> str:
    return f"{grain.value}:{start.isoformat()}"


def parse_bucket_key(key: str) -> tuple[dt.date, dt.date]:
    """The days of a bucket key: first, and the day after the last."""
    grain, _, day = key.partition(":")
    start = dt.date.fromisoformat(day)
    return start, next_bucket(start, Grain(grain))


def local_day(column: Any, dialect: str, zone: ZoneInfo) -> ColumnElement[int]:
    """A UTC column's day in the store's time zone, as days since 1970-01-01. SQLite has no time zones: it shifts
    by the zone's offset now, exact for zones without summer time (China's)."""
    if dialect == "sqlite":
        offset = dt.datetime.now(zone).utcoffset() or dt.timedelta()
        shift = f"{int(offset.total_seconds() // 60):+d} minutes"
        return cast(func.julianday(column, shift) - JULIAN_EPOCH, Integer)
    return type_coerce(cast(func.timezone(zone.key, column), Date) - literal(EPOCH, Date), Integer)


def span(period: Period, key: str) -> tuple[dt.datetime | None, dt.datetime]:
    """The UTC instants of a bucket key, cut to the period."""
    first, after = parse_bucket_key(key)
    if period.first is not None:
        first = max(first, period.first)
    after = min(after, period.last + dt.timedelta(days=1))
    return utc_start(first, period.zone), utc_start(after, period.zone)


def between(column: Any, start: dt.datetime | None, end: dt.datetime) -> list[ColumnElement[bool]]:
    """Range conditions on an indexed UTC column."""
    conditions: list[ColumnElement[bool]] = [column < end]
    if start is not None:
        conditions.append(column >= start)
    return conditions
