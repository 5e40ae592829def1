"""How figures look on screen: points with separators, money in yuan (from integer fen), times in the store's time.
One place, so the counter, the lists and the dialogs never disagree.

The store's time zone is set once when the store opens (`use_store_zone`), like Qt's default locale: it is how
this program shows time, whichever screen asks, and never the PC's own zone (which may differ)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QLocale
from PySide6.QtGui import QColor

from app.clock import DEFAULT_ZONE, store_zone, to_store_time
from app.money import format_yuan

NEGATIVE = QColor("#c62828")
"""Red for a negative balance (a returned sale whose points were already spent)."""


def points(value: int) -> str:
    return QLocale().toString(value)


def signed_points(value: int) -> str:
    return f"+{points(value)}" if value > 0 else points(value)


def yuan(fen: int) -> str:
    return format_yuan(fen)


_zone: list[dt.tzinfo] = [store_zone(DEFAULT_ZONE)]


def use_store_zone(name: str) -> None:
    _zone[0] = store_zone(name)


def shown_zone() -> dt.tzinfo:
    return _zone[0]


def _local(value: dt.datetime) -> dt.datetime:
    return to_store_time(value, _zone[0])


def local_datetime(value: dt.datetime | None) -> str:
    return _local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def local_date(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    return value.isoformat()
