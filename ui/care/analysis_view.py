"""Complaint analysis: counts and median time to resolve by category, product/supplier, branch or staff, with a
chart; repeat complainers; this month's top issues against last month's; CSV/XLSX export of each table (audited).

The table by the chosen dimension is read and painted first; repeat complainers and the top issues (which do not
change with the dimension) follow in a second read, and only when the period or the data changed."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.care.analysis import (
    DIMENSION_LABELS,
    Dimension,
    GroupFigures,
    GroupTable,
    Patterns,
    RepeatComplainer,
    TopIssue,
)
from app.i18n import translate
from ui import formatting as fmt
from ui.care.charts import Chart
from ui.care.export import export_table
from ui.care.periods import PeriodBox
from ui.models import RIGHT, Column, RowsModel, row_table
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services

CHART_GROUPS = 12


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


class AnalysisView(QWidget):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("complaintAnalysis")
        self.tasks = tasks
        self.services: Services | None = None
        self.table: GroupTable | None = None
        self.patterns: Patterns | None = None
        self._patterns_for: tuple[dt.datetime | None, dt.datetime | None] | None = None
        """The period `patterns` were read for; None: read them again (the data changed)."""
        self.dimension = QComboBox()
        self.dimension.setObjectName("dimension")
        for dimension in Dimension:
            self.dimension.addItem(translate("Care", DIMENSION_LABELS[dimension]), dimension)
        self.dimension.currentIndexChanged.connect(lambda _i: self.reload(patterns=False))
        self.period = PeriodBox("365")
        self.period.changed.connect(self.reload)
        self.summary = QLabel()
        self.summary.setObjectName("analysisSummary")
        self.groups: RowsModel[GroupFigures] = RowsModel(
            [
                Column(lambda: self.dimension.currentText(), lambda g: g.label),
                Column(lambda: self.tr("Complaints"), lambda g: fmt.points(g.count), RIGHT),
                Column(lambda: self.tr("Still open"), lambda g: fmt.points(g.still_open), RIGHT),
                Column(lambda: self.tr("Resolved"), lambda g: fmt.points(g.resolved), RIGHT),
                Column(lambda: self.tr("Median hours to resolve"), lambda g: _hours(g.median_hours), RIGHT),
            ],
            self,
        )
        self.repeat: RowsModel[RepeatComplainer] = RowsModel(
            [
                Column(lambda: self.tr("Member no."), lambda r: r.member_no),
                Column(lambda: self.tr("Name"), lambda r: r.name or ""),
                Column(lambda: self.tr("Complaints"), lambda r: str(r.count), RIGHT),
                Column(lambda: self.tr("Last"), lambda r: fmt.local_date(r.last_at)),
            ],
            self,
        )
        self.top: RowsModel[TopIssue] = RowsModel(
            [
                Column(lambda: self.tr("Category"), lambda t: t.category),
                Column(lambda: self.tr("This month"), lambda t: str(t.this_month), RIGHT),
                Column(lambda: self.tr("Last month"), lambda t: str(t.last_month), RIGHT),
                Column(lambda: self.tr("Change"), lambda t: f"{t.this_month - t.last_month:+d}", RIGHT),
            ],
            self,
        )
        self.group_view = row_table(self.groups, takes_focus=True)
        self.group_view.setObjectName("analysisGroups")
        self.repeat_view = row_table(self.repeat, takes_focus=True)
        self.top_view = row_table(self.top, takes_focus=True)
        self.group_chart = Chart("groupChart")
        self.top_chart = Chart("topChart")
        export = QPushButton(self.tr("Export…"))
        export.setObjectName("exportAnalysis")
        self.export_menu = QMenu(export)
        for text, which in (
            (self.tr("By the chosen dimension"), "groups"),
            (self.tr("Repeat complainers"), "repeat"),
            (self.tr("Top issues"), "top"),
        ):
            action = self.export_menu.addAction(text)
            action.setObjectName(f"export-{which}")
            action.triggered.connect(lambda _c=False, which=which: self.export(which))
        export.setMenu(self.export_menu)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("By")))
        bar.addWidget(self.dimension)
        bar.addWidget(self.period)
        bar.addWidget(self.summary, 1)
        bar.addWidget(export)
        grid = QGridLayout()
        grid.addWidget(self.group_view, 0, 0)
        grid.addWidget(self.group_chart, 0, 1)
        grid.addWidget(self._titled(self.tr("Repeat complainers"), self.repeat_view), 1, 0)
        grid.addWidget(
            self._titled(self.tr("Top issues: this month (blue) and last month (grey)"), self.top_view, self.top_chart),
            1,
            1,
        )
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(grid, 1)

    @staticmethod
    def _titled(title: str, *widgets: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(f"<b>{title}</b>"))
        for widget in widgets:
            layout.addWidget(widget, 1)
        return box

    def attach(self, services: Services) -> None:
        self.services = services
        self._patterns_for = None

    def data_changed(self) -> None:
        """Complaints changed: the next reload reads every view again."""
        self._patterns_for = None

    def reload(self, patterns: bool = True) -> None:
        """Read the table by the chosen dimension, then (unless only the dimension changed) the other views if their
        period or the data changed since they were read."""
        if self.services is None:
            return
        analysis, dimension = self.services.care.analysis, Dimension(self.dimension.currentData())
        since, until = self.period.bounds()
        stale = patterns and self._patterns_for != (since, until)

        def shown(table: GroupTable) -> None:
            self.show_groups(table)
            if stale:
                self._patterns_for = (since, until)
                self.tasks.run(lambda: analysis.patterns(since, until), self.show_patterns)

        self.tasks.run(lambda: analysis.groups(dimension, since, until), shown)

    def show_groups(self, table: GroupTable) -> None:
        self.table = table
        self.summary.setText(self.tr("{count} complaints in the period").format(count=fmt.points(table.total)))
        self.groups.set_rows(table.groups)
        shown = table.groups[:CHART_GROUPS]
        self.group_chart.bars([g.label for g in shown], [g.count for g in shown])

    def show_patterns(self, patterns: Patterns) -> None:
        self.patterns = patterns
        self.repeat.set_rows(patterns.repeat)
        self.top.set_rows(patterns.top)
        top = patterns.top[:CHART_GROUPS]
        self.top_chart.bars([t.category for t in top], [t.this_month for t in top], [t.last_month for t in top])

    def export(self, which: str) -> None:
        """Save one of the tables as shown (the figures as numbers) as CSV or XLSX; audited."""
        if self.services is None:
            return
        table, patterns = self.table, self.patterns
        models: dict[str, RowsModel[Any]] = {"groups": self.groups, "repeat": self.repeat, "top": self.top}
        model = models[which]
        heads = [str(model.headerData(i, Qt.Orientation.Horizontal)) for i in range(model.columnCount())]
        rows: list[list[object]]
        if which == "groups" and table is not None:
            rows = [
                [g.label, g.count, g.still_open, g.resolved, "" if g.median_hours is None else round(g.median_hours, 1)]
                for g in table.groups
            ]
            name = f"complaints-{table.dimension.value}.csv"
        elif which == "repeat" and patterns is not None:
            rows = [[r.member_no, r.name or "", r.count, fmt.local_date(r.last_at)] for r in patterns.repeat]
            name = "complaints-repeat.csv"
        elif which == "top" and patterns is not None:
            rows = [[t.category, t.this_month, t.last_month, t.this_month - t.last_month] for t in patterns.top]
            name = "complaints-top-issues.csv"
        else:
            return
        export_table(self.tasks, self, self.services, "complaint_analysis", name, lambda: (heads, rows))
