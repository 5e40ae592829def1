"""A period chooser shared by the care screens: all time, this month, last 30/90 days, this year, last 12 months."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from ui.signals import emit

DAYS = {"30": 30, "90": 90, "365": 365}


class PeriodBox(QComboBox):
    changed = Signal()

    def __init__(self, default: str = "all", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("periodFilter")
        for key, text in (
            ("all", self.tr("All time")),
            ("month", self.tr("This month")),
            ("30", self.tr("Last 30 days")),
            ("90", self.tr("Last 90 days")),
            ("365", self.tr("Last 12 months")),
            ("year", self.tr("This year")),
        ):
            self.addItem(text, key)
        self.setCurrentIndex(max(0, self.findData(default)))
        self.currentIndexChanged.connect(lambda _i: emit(self.changed))

    def bounds(self, now: dt.datetime | None = None) -> tuple[dt.datetime | None, dt.datetime | None]:
        """(since, until) in UTC; None for an open end. Months and years start at local midnight."""
        key = self.currentData()
        local = (now or dt.datetime.now(dt.UTC)).astimezone()
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if key in DAYS:
            return (midnight - dt.timedelta(days=DAYS[key])).astimezone(dt.UTC), None
        if key == "month":
            return midnight.replace(day=1).astimezone(dt.UTC), None
        if key == "year":
            return midnight.replace(month=1, day=1).astimezone(dt.UTC), None
        return None, None
