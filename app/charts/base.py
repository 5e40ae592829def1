"""What every chart's query gets, and the shape of a chart: its figures and the members behind a click."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.orm import Session

from app.charts.model import ChartData, ChartFilter
from app.charts.periods import Period
from app.settings import StoreSettings


@dataclass(frozen=True)
class Ask:
    session: Session
    filter: ChartFilter
    period: Period
    today: dt.date
    settings: StoreSettings

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name


class Chart(Protocol):
    def figures(self, ask: Ask) -> ChartData:
        """The chart's figures for the filter."""

    def members(self, ask: Ask, key: str, series: int) -> Select[Any] | list[int]:
        """The member ids behind the category `key` of series number `series`: a query (may repeat an id) or, when
        they had to be ranked in Python, the ids themselves."""
