"""The care screens' charts (pyqtgraph through ui.charts.plotting, imported when a care screen is first opened)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtGui import QFont

from ui.charts.plotting import pg

BAR = "#1f4e79"
SECOND = "#9e9e9e"
LINE_COLORS = ("#1f4e79", "#e65100")
MAX_LABEL = 8
MAX_TICKS = 6


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


class Chart(pg.PlotWidget):
    """A white plot with category labels along the bottom."""

    def __init__(self, object_name: str) -> None:
        super().__init__(background="w")
        self.setObjectName(object_name)
        self.setMinimumHeight(180)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.showGrid(x=False, y=True, alpha=0.25)
        font = QFont()
        font.setPointSize(8)
        for axis in ("bottom", "left"):
            self.getAxis(axis).setTickFont(font)
            self.getAxis(axis).setTextPen("k")
        self.legend: pg.LegendItem | None = None

    def bars(self, labels: Sequence[str], values: Sequence[float], second: Sequence[float] | None = None) -> None:
        """One bar per label; `second` draws a grey bar beside each (e.g. last month beside this month)."""
        self.clear()
        xs = list(range(len(labels)))
        width = 0.4 if second is not None else 0.7
        shift = width / 2 if second is not None else 0.0
        self.addItem(pg.BarGraphItem(x=[x - shift for x in xs], height=list(values), width=width, brush=BAR, pen=BAR))
        if second is not None:
            self.addItem(
                pg.BarGraphItem(x=[x + shift for x in xs], height=list(second), width=width, brush=SECOND, pen=SECOND)
            )
        self.getAxis("bottom").setTicks([[(x, _short(label)) for x, label in zip(xs, labels, strict=True)]])
        self.setXRange(-0.6, max(len(labels), 1) - 0.4, padding=0)
        top = max([*values, *(second or []), 1])
        self.setYRange(0, top * 1.1, padding=0)
        # whole numbers on the count axis (pyqtgraph would mark 0.5, 1.5… under a bar of 3)
        step = max(1, math.ceil(top / MAX_TICKS))
        self.getAxis("left").setTicks([[(v, f"{v:,}") for v in range(0, int(top * 1.1) + 1, step)], []])

    def lines(self, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]) -> None:
        """One line per series over the labels (a gap where a value is None)."""
        self.clear()
        if self.legend is None:
            self.legend = self.addLegend(offset=(10, 5), labelTextColor="k", brush=(255, 255, 255, 210))
        xs = list(range(len(labels)))
        for (name, values), color in zip(series, LINE_COLORS, strict=False):
            points = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
            if points:
                self.plot(
                    [p[0] for p in points],
                    [p[1] for p in points],
                    pen=pg.mkPen(color, width=2),
                    symbol="o",
                    symbolSize=5,
                    symbolBrush=color,
                    name=name,
                )
        step = max(1, len(labels) // 8)
        self.getAxis("bottom").setTicks([[(x, labels[x]) for x in xs[::step]]])
        if labels:
            self.setXRange(-0.5, len(labels) - 0.5, padding=0)
