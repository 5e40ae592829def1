"""One chart drawn from app.charts' figures: bars (side by side or stacked), lines, a curve or a heat map, with
Chinese axis titles and legend, the values under the mouse, a click that names the bar or cell, and a clear
message instead of axes when there is nothing to draw."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QStackedWidget, QToolTip, QVBoxLayout, QWidget

from app.charts.model import ChartData, Look, Unit
from ui.charts.plotting import pg
from ui.signals import emit

COLORS = ("#1f4e79", "#e65100", "#2e7d32", "#6a1b9a", "#00838f", "#c62828", "#9e9e9e")
HEAT_LOW = (255, 255, 255)
HEAT_HIGH = (31, 78, 121)
MAX_TICKS = 14
LEGEND_ROOM = 0.08
"""Room above the data for each legend line, as a share of the highest value."""
MAX_LABEL = 10


@dataclass(frozen=True)
class Pick:
    """What a click chose: the category's drill key, the series (heat map: the column) and words for a title."""

    key: str
    series: int
    description: str


def shown(value: float, unit: Unit) -> float:
    """The number drawn on the axis: fen as yuan."""
    return value / 100 if unit == Unit.FEN else value


def value_text(value: float | None, unit: Unit) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == Unit.FEN:
        fen = int(value)
        return f"{'-' if fen < 0 else ''}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"
    if unit == Unit.PERCENT:
        return f"{value:.1f}%"
    if unit == Unit.HOURS:
        return f"{value:.1f} h"
    return f"{int(value):,}"


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


class ChartView(QWidget):
    picked = Signal(object)
    """Pick: a bar, a point or a cell was clicked (only for charts whose figures are per member)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: ChartData | None = None
        self.plot = pg.PlotWidget(background="w")
        self.plot.setObjectName("chartPlot")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(260)
        font = QFont()
        font.setPointSize(9)
        self.item = self.plot.getPlotItem()
        for name in ("bottom", "left", "right"):
            axis = self.item.getAxis(name)
            axis.setTickFont(font)
            axis.setTextPen("k")
            axis.setPen("k")
        self.right = pg.ViewBox()
        self.item.scene().addItem(self.right)
        self.item.getAxis("right").linkToView(self.right)
        self.right.setXLink(self.item)
        self.item.vb.sigResized.connect(self._follow)
        self.legend: pg.LegendItem | None = None
        self.empty = QLabel()
        self.empty.setObjectName("chartEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("font-size: 16px; color: #555;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.plot)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.plot.scene().sigMouseMoved.connect(self._hover)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

    def _follow(self) -> None:
        self.right.setGeometry(self.item.vb.sceneBoundingRect())
        self.right.linkedViewChanged(self.item.vb, self.right.XAxis)

    # -- drawing ------------------------------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        """A message instead of the chart (nothing to draw, not allowed, still loading)."""
        self.data = None
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty)

    def show_data(self, data: ChartData) -> None:
        if data.empty is not None:
            self.show_message(data.empty)
            return
        self.data = data
        self._reset()
        self.item.setLabel("bottom", data.x_title, color="k")
        self.item.setLabel("left", data.y_title, color="k")
        if data.look == Look.HEAT:
            self._heat(data)
        else:
            self._series(data)
        self.stack.setCurrentWidget(self.plot)

    def _reset(self) -> None:
        self.item.clear()
        self.right.clear()
        if self.legend is not None:
            self.legend.clear()
        self.item.hideAxis("right")
        self.item.getAxis("left").setTicks(None)
        self.item.getAxis("bottom").setTicks(None)

    def _series(self, data: ChartData) -> None:
        n = len(data.categories)
        drawn = [(i, s) for i, s in enumerate(data.series) if s.drawn]
        bars = [(i, s) for i, s in drawn if not s.line and data.look in (Look.BARS, Look.STACKED)]
        lines = [(i, s) for i, s in drawn if (i, s) not in bars]
        if self.legend is None:
            self.legend = self.item.addLegend(offset=(10, 5), labelTextColor="k", brush=pg.mkBrush(255, 255, 255, 220))
        xs = list(range(n))
        top = 0.0
        if data.look == Look.STACKED:
            base = [0.0] * n
            for i, s in bars:
                heights = [shown(v or 0.0, s.unit) for v in s.values]
                item = pg.BarGraphItem(x=xs, y0=base, height=heights, width=0.7, brush=COLORS[i], pen=COLORS[i])
                self.item.addItem(item)
                self.legend.addItem(item, s.name)
                base = [b + h for b, h in zip(base, heights, strict=True)]
            top = max([*base, 0.0])
        elif bars:
            width = 0.8 / len(bars)
            for slot, (i, s) in enumerate(bars):
                shift = -0.4 + width * (slot + 0.5)
                heights = [shown(v or 0.0, s.unit) for v in s.values]
                item = pg.BarGraphItem(
                    x=[x + shift for x in xs], height=heights, width=width * 0.9, brush=COLORS[i], pen=COLORS[i]
                )
                self.item.addItem(item)
                self.legend.addItem(item, s.name)
                top = max([top, *heights])
        right_top = 0.0
        for i, s in lines:
            points = [(x, shown(v, s.unit)) for x, v in zip(xs, s.values, strict=True) if v is not None]
            if not points:
                continue
            pen = pg.mkPen(COLORS[i], width=2)
            symbol = None if data.look == Look.CURVE else "o"
            curve = pg.PlotDataItem(
                [p[0] for p in points],
                [p[1] for p in points],
                pen=pen,
                symbol=symbol,
                symbolSize=6,
                symbolBrush=COLORS[i],
                symbolPen=COLORS[i],
                name=s.name,
            )
            if s.right_axis and (bars or data.look == Look.STACKED):
                self.right.addItem(curve)
                self.legend.addItem(curve, s.name)
                right_top = max([right_top, *(p[1] for p in points)])
            else:
                self.item.addItem(curve)
                top = max([top, *(p[1] for p in points)])
        bottom = min([0.0, *(shown(v, s.unit) for _, s in lines for v in s.values if v is not None)])
        entries = len(drawn) if len(drawn) > 1 else 0
        headroom = 1.12 + LEGEND_ROOM * entries  # the legend sits above the highest bar, never over it
        self.item.setYRange(bottom * 1.12, (top or 1.0) * headroom, padding=0)
        if right_top or any(s.right_axis for _, s in lines):
            self.item.showAxis("right")
            self.item.getAxis("right").setLabel(data.right_title, color="k")
            self.right.setYRange(0, (right_top or 1.0) * headroom, padding=0)
        self.legend.setVisible(len(drawn) > 1)
        self.item.setXRange(-0.6, max(n, 1) - 0.4, padding=0)
        step = max(1, math.ceil(n / MAX_TICKS))
        if data.look == Look.CURVE:
            step = 10
        self.item.getAxis("bottom").setTicks([[(x, _short(data.categories[x])) for x in xs[::step]]])
        self._follow()

    def _heat(self, data: ChartData) -> None:
        rows, cols = len(data.heat), len(data.columns)
        if self.legend is not None:
            self.legend.setVisible(False)
        peak = max([max(r) for r in data.heat] + [1])
        cells = [(r, c, count) for r, counts in enumerate(data.heat) for c, count in enumerate(counts)]
        brushes = [
            QColor(*(round(lo + (hi - lo) * count / peak) for lo, hi in zip(HEAT_LOW, HEAT_HIGH, strict=True)))
            for _, _, count in cells
        ]
        self.item.addItem(
            pg.BarGraphItem(
                x=[c for _, c, _ in cells],
                y0=[r - 0.5 for r, _, _ in cells],
                height=[1.0] * len(cells),
                width=0.98,
                brushes=brushes,
                pen="w",
            )
        )
        for r, c, count in cells:
            text = pg.TextItem(f"{count:,}", color="w" if count / peak > 0.5 else "k", anchor=(0.5, 0.5))
            text.setPos(c, r)
            self.item.addItem(text)
        self.item.getAxis("bottom").setTicks([[(c, label) for c, label in enumerate(data.columns)]])
        self.item.getAxis("left").setTicks([[(r, label) for r, label in enumerate(data.categories)]])
        self.item.setXRange(-0.5, cols - 0.5, padding=0)
        self.item.setYRange(-0.5, rows - 0.5, padding=0)

    # -- the mouse ----------------------------------------------------------------------------------------------
    def _at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(category index, series index) under a scene position: the series is the bar's (side by side), the
        stacked part's, the cell's column, or the first clickable one for lines."""
        data = self.data
        if data is None or not self.item.vb.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.item.vb.mapSceneToView(scene_pos)
        if data.look == Look.HEAT:
            row, col = round(point.y()), round(point.x())
            if 0 <= row < len(data.heat) and 0 <= col < len(data.columns):
                return row, col
            return None
        index = round(point.x())
        if not 0 <= index < len(data.categories):
            return None
        bars = [
            i for i, s in enumerate(data.series) if s.drawn and not s.line and data.look in (Look.BARS, Look.STACKED)
        ]
        if data.look == Look.BARS and bars:
            slot = min(len(bars) - 1, max(0, int((point.x() - index + 0.4) / (0.8 / len(bars)))))
            return index, bars[slot]
        if data.look == Look.STACKED and bars:
            height = 0.0
            for i in bars:
                height += shown(data.series[i].values[index] or 0.0, data.series[i].unit)
                if point.y() <= height:
                    return index, i
            return index, bars[-1]
        clickable = [i for i, s in enumerate(data.series) if s.clickable]
        return (index, clickable[0]) if clickable else None

    def describe(self, index: int, series: int) -> str:
        data = self.data
        assert data is not None
        if data.look == Look.HEAT:
            return f"{data.categories[index]} · {data.columns[series]}"
        return f"{data.categories[index]} · {data.series[series].name}"

    def hover_text(self, index: int, series: int) -> str:
        data = self.data
        assert data is not None
        if data.look == Look.HEAT:
            row, column = data.categories[index], data.columns[series]
            return f"{data.y_title} {row}\n{data.x_title} {column}\n{data.heat[index][series]:,}"
        lines = [f"{data.x_title}：{data.categories[index]}"]
        lines += [f"{s.name}：{value_text(s.values[index], s.unit)}" for s in data.series]
        return "\n".join(lines)

    def _hover(self, scene_pos: QPointF) -> None:
        found = self._at(scene_pos)
        if found is None:
            QToolTip.hideText()
            return
        view_pos = self.plot.mapFromScene(scene_pos)
        QToolTip.showText(self.plot.mapToGlobal(view_pos), self.hover_text(*found), self.plot)

    def _clicked(self, event: object) -> None:
        scene_pos = event.scenePos()  # type: ignore[attr-defined]
        self.click_at(scene_pos)

    def click_at(self, scene_pos: QPointF) -> None:
        data = self.data
        found = self._at(scene_pos)
        if data is None or found is None or not data.drill:
            return
        index, series = found
        if data.look != Look.HEAT and not data.series[series].clickable:
            return
        emit(self.picked, Pick(data.keys[index], series, self.describe(index, series)))

    def scene_point(self, index: int, series: int = 0) -> QPointF:
        """Where on the scene the middle of a category's bar (or a cell) is: for tests and for the keyboard."""
        data = self.data
        assert data is not None
        if data.look == Look.HEAT:
            return self.item.vb.mapViewToScene(QPointF(series, index))
        bars = [i for i, s in enumerate(data.series) if s.drawn and not s.line]
        x = float(index)
        y = 0.0
        if data.look == Look.BARS and series in bars:
            width = 0.8 / len(bars)
            x += -0.4 + width * (bars.index(series) + 0.5)
        if data.look in (Look.BARS, Look.STACKED):
            for i in bars:
                if data.look == Look.STACKED or i == series:
                    y += shown(data.series[i].values[index] or 0.0, data.series[i].unit)
                if i == series:
                    break
            y = y - shown(data.series[series].values[index] or 0.0, data.series[series].unit) / 2
        return self.item.vb.mapViewToScene(QPointF(x, y))
