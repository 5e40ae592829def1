"""How figures look on screen: points with separators, money in yuan (from integer fen), times in local time.
One place, so the counter, the lists and the dialogs never disagree."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QLocale
from PySide6.QtGui import QColor

from app.money import format_yuan

NEGATIVE = QColor("#c62828")
"""Red for a negative balance (a returned sale whose points were already spent)."""


def points(value: int) -> str:
    return QLocale().toString(value)


def signed_points(value: int) -> str:
    return f"+{points(value)}" if value > 0 else points(value)


def yuan(fen: int) -> str:
    return format_yuan(fen)


def _local(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:  # stored times are UTC; never let a naive one be read as local
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone()


def local_datetime(value: dt.datetime | None) -> str:
    return _local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def local_date(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    return value.isoformat()
