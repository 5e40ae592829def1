"""What a chart shows: the filter it was asked with, its categories and series, and the members behind a click."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from app.i18n import QT_TRANSLATE_NOOP as S


class ChartId(enum.StrEnum):
    PYRAMID = "pyramid"
    RFM = "rfm"
    HEAT = "heat"
    LIFECYCLE = "lifecycle"
    MOVES = "moves"
    SALES = "sales"
    PARETO = "pareto"
    POINTS = "points"
    TIERS = "tiers"
    TIER_MOVES = "tier_moves"
    NEW_MEMBERS = "new_members"
    COMPLAINTS = "complaints"
    SATISFACTION = "satisfaction"


CHART_TITLES = {
    ChartId.PYRAMID: S("Charts", "Customer pyramid"),
    ChartId.RFM: S("Charts", "RFM classes"),
    ChartId.HEAT: S("Charts", "Recency × frequency"),
    ChartId.LIFECYCLE: S("Charts", "Lifecycle stages"),
    ChartId.MOVES: S("Charts", "Lifecycle moves by month"),
    ChartId.SALES: S("Charts", "Sales trend"),
    ChartId.PARETO: S("Charts", "Pareto curve"),
    ChartId.POINTS: S("Charts", "Points and liability"),
    ChartId.TIERS: S("Charts", "Tier distribution"),
    ChartId.TIER_MOVES: S("Charts", "Tier moves by month"),
    ChartId.NEW_MEMBERS: S("Charts", "New members"),
    ChartId.COMPLAINTS: S("Charts", "Complaints by category"),
    ChartId.SATISFACTION: S("Charts", "CSAT and NPS trend"),
}


class Grain(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


GRAIN_LABELS = {
    Grain.DAY: S("Charts", "By day"),
    Grain.WEEK: S("Charts", "By week"),
    Grain.MONTH: S("Charts", "By month"),
}


class Unit(enum.StrEnum):
    COUNT = "count"
    FEN = "fen"
    """Integer fen, drawn and exported in yuan."""
    POINTS = "points"
    PERCENT = "percent"
    HOURS = "hours"


class Look(enum.StrEnum):
    BARS = "bars"
    """One bar per category for each series, side by side."""
    STACKED = "stacked"
    """The series stacked in one bar per category."""
    LINES = "lines"
    CURVE = "curve"
    """A line over a numeric x (the Pareto curve)."""
    HEAT = "heat"


@dataclass(frozen=True)
class ChartFilter:
    """A period of whole days in the store's time zone (`until` included; None: open) and a branch (None: all)."""

    since: dt.date | None = None
    until: dt.date | None = None
    branch_id: int | None = None
    grain: Grain = Grain.MONTH
    survey: str | None = None
    """The survey template (code) of the CSAT / NPS chart; None: the one with the most answers."""


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]
    unit: Unit = Unit.COUNT
    right_axis: bool = False
    """Drawn against a second axis on the right (a share in % beside amounts)."""
    line: bool = False
    """A line over bars (e.g. the member share over the sales)."""
    clickable: bool = True
    drawn: bool = True
    """False: only in the hover text and the CSV (e.g. outstanding points beside the liability in yuan)."""


@dataclass(frozen=True)
class ChartData:
    chart: ChartId
    look: Look
    x_title: str
    y_title: str
    categories: tuple[str, ...] = ()
    series: tuple[Series, ...] = ()
    keys: tuple[str, ...] = ()
    """One drill-down key per category (HEAT: per row), handed back to `ChartService.members`."""
    heat: tuple[tuple[int, ...], ...] = ()
    """HEAT: counts by row (categories, bottom to top) and column (`columns`)."""
    columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    """Lines shown under the chart: as of which day, the classes' suggested actions, what a filter means here."""
    empty: str | None = None
    """Why there is nothing to draw (empty store, future period, nothing in the period); None when there is."""
    right_title: str = ""
    drill: bool = True
    """False when the figures are not per member (a click lists nobody) and the notes say why."""

    def table(self) -> tuple[list[str], list[list[object]]]:
        """The figures as a table for the CSV: one row per category, one column per series (HEAT: per column).
        Fen are written as yuan with two decimals, shares as percent with one."""
        if self.look == Look.HEAT:
            header = [self.y_title, *self.columns]
            rows: list[list[object]] = [
                [category, *counts] for category, counts in zip(self.categories, self.heat, strict=True)
            ]
            return header, rows
        header = [self.x_title, *[s.name for s in self.series]]
        rows = []
        for index, category in enumerate(self.categories):
            rows.append([category, *[cell(s.values[index], s.unit) for s in self.series]])
        return header, rows


def cell(value: float | None, unit: Unit) -> object:
    if value is None:
        return ""
    if unit == Unit.FEN:
        fen = int(value)
        sign = "-" if fen < 0 else ""
        return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"
    if unit in (Unit.PERCENT, Unit.HOURS):
        return f"{value:.1f}"
    return int(value)


@dataclass(frozen=True)
class MemberRow:
    member_id: int
    member_no: str
    name: str
    phone: str
    """Masked unless the operator may see phones in full."""
    tier: str


@dataclass(frozen=True)
class MemberList:
    """The members behind a bar or a cell: every id (for an action on all of them) and the first rows to show."""

    title: str
    member_ids: tuple[int, ...]
    rows: tuple[MemberRow, ...] = field(default=())

    @property
    def count(self) -> int:
        return len(self.member_ids)
