"""The charts page (图表, managers and owners): a list of charts, the period, branch and grain filters, the chart with
its notes, PNG and CSV export, and a click on a bar or a cell listing those members. Figures are fetched through the
task runner; a reply to an older filter is dropped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.charts.model import CHART_TITLES, GRAIN_LABELS, ChartData, ChartFilter, ChartId, Grain, MemberList
from ui.care.export import export_table
from ui.charts.members_dialog import ChartMembersDialog
from ui.charts.view import ChartView, Pick
from ui.messages import show_info
from ui.pages.base import Page
from ui.signals import emit

if TYPE_CHECKING:
    from app.charts.service import SurveyChoice
    from app.context import Services
    from app.errors import MemberDeskError
    from ui.tasks import TaskRunner

PRESETS = ("30", "12w", "12m", "year", "all", "custom")


def _charts(text: str) -> str:
    return QCoreApplication.translate("Charts", text)


def preset_since(key: str, today: dt.date) -> dt.date | None:
    """The first day of a preset period ending today (None: from the start)."""
    if key == "30":
        return today - dt.timedelta(days=29)
    if key == "12w":
        return today - dt.timedelta(days=today.weekday() + 7 * 11)
    if key == "12m":
        month = today.year * 12 + today.month - 1 - 11
        return dt.date(month // 12, month % 12 + 1, 1)
    if key == "year":
        return today.replace(month=1, day=1)
    return None


class ChartsPage(Page):
    selection_made = Signal(object)
    """MemberList: the members behind the last click (every id), for an action on them."""

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self._asked = 0
        self.data: ChartData | None = None
        self.today = dt.date.today()
        """The store's today (its time zone, not the PC's), once the service has said it."""
        heading = QLabel(self.tr("Charts"))
        heading.setObjectName("pageHeading")
        self.list = QListWidget()
        self.list.setObjectName("chartList")
        for chart in ChartId:
            self.list.addItem(_charts(CHART_TITLES[chart]))
        self.list.setMaximumWidth(200)

        self.preset = QComboBox()
        self.preset.setObjectName("chartPeriod")
        for key, text in zip(
            PRESETS,
            (
                self.tr("Last 30 days"),
                self.tr("Last 12 weeks"),
                self.tr("Last 12 months"),
                self.tr("This year"),
                self.tr("All time"),
                self.tr("Chosen days"),
            ),
            strict=True,
        ):
            self.preset.addItem(text, key)
        today = QDate.currentDate()
        self.since = QDateEdit(today)
        self.until = QDateEdit(today)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.branch = QComboBox()
        self.branch.setObjectName("chartBranch")
        self.branch.addItem(self.tr("All branches"), None)
        self.grain = QComboBox()
        self.grain.setObjectName("chartGrain")
        for grain in Grain:
            self.grain.addItem(_charts(GRAIN_LABELS[grain]), grain.value)
        self.grain.setCurrentIndex(self.grain.findData(Grain.MONTH.value))
        self.survey = QComboBox()
        self.survey.setObjectName("chartSurvey")
        self.survey.addItem(self.tr("Most answered"), None)
        self.survey_label = QLabel(self.tr("Survey"))
        self.png_button = QPushButton(self.tr("Export PNG…"))
        self.csv_button = QPushButton(self.tr("Export CSV…"))
        self.png_button.clicked.connect(self.export_png)
        self.csv_button.clicked.connect(self.export_csv)

        filters = QHBoxLayout()
        for label, widget in (
            (self.tr("Period"), self.preset),
            (self.tr("From"), self.since),
            (self.tr("To"), self.until),
            (self.tr("Branch"), self.branch),
            (self.tr("Show"), self.grain),
        ):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addWidget(self.survey_label)
        filters.addWidget(self.survey)
        self.survey_label.hide()  # both shown for the CSAT / NPS chart only
        self.survey.hide()
        filters.addStretch(1)
        filters.addWidget(self.png_button)
        filters.addWidget(self.csv_button)

        self.title = QLabel()
        self.title.setObjectName("chartTitle")
        self.title.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.view = ChartView()
        self.view.picked.connect(self.list_members)
        self.notes = QLabel()
        self.notes.setObjectName("chartNotes")
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint = QLabel(self.tr("Point at a bar or a cell for its figures; click it to list those members."))
        self.hint.setStyleSheet("color: #555;")
        self.chart_frame = QWidget()
        frame = QVBoxLayout(self.chart_frame)
        frame.setContentsMargins(0, 0, 0, 0)
        frame.addWidget(self.title)
        frame.addWidget(self.view, 1)
        frame.addWidget(self.notes)

        right = QVBoxLayout()
        right.addLayout(filters)
        right.addWidget(self.chart_frame, 1)
        right.addWidget(self.hint)
        body = QHBoxLayout()
        body.addWidget(self.list)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(body, 1)

        self.preset.setCurrentIndex(self.preset.findData("12m"))
        self._set_preset_dates()
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        for edit in (self.since, self.until):
            edit.dateChanged.connect(self._dates_typed)
        self.branch.currentIndexChanged.connect(lambda _i: self.reload())
        self.grain.currentIndexChanged.connect(lambda _i: self.reload())
        self.survey.currentIndexChanged.connect(lambda _i: self.reload())
        self.list.currentRowChanged.connect(lambda _r: self.reload())
        self.list.setCurrentRow(0)

    # -- filters ------------------------------------------------------------------------------------------------
    @property
    def chart(self) -> ChartId:
        return list(ChartId)[max(0, self.list.currentRow())]

    def chart_filter(self) -> ChartFilter:
        all_time = self.preset.currentData() == "all"
        return ChartFilter(
            None if all_time else self.since.date().toPython(),  # type: ignore[arg-type]
            self.until.date().toPython(),  # type: ignore[arg-type]
            self.branch.currentData(),
            Grain(self.grain.currentData()),
            self.survey.currentData() if self.chart == ChartId.SATISFACTION else None,
        )

    def _set_preset_dates(self) -> None:
        today = self.today
        since = preset_since(self.preset.currentData() or "12m", today)
        for edit, day in ((self.since, since or today), (self.until, today)):
            edit.blockSignals(True)
            edit.setDate(QDate(day.year, day.month, day.day))
            edit.blockSignals(False)
        self.since.setEnabled(self.preset.currentData() != "all")

    def _preset_chosen(self) -> None:
        if self.preset.currentData() != "custom":
            self._set_preset_dates()
        self.reload()

    def _dates_typed(self) -> None:
        custom = self.preset.findData("custom")
        if self.preset.currentIndex() != custom:
            self.preset.blockSignals(True)
            self.preset.setCurrentIndex(custom)
            self.preset.blockSignals(False)
        self.reload()

    # -- loading ------------------------------------------------------------------------------------------------
    def attach(self, services: Services) -> None:
        super().attach(services)
        self.tasks.run(services.charts.branches, self._show_branches, self._refused)
        self._load_surveys()
        self.tasks.run(services.charts.today, self._set_today, self._refused)

    def _set_today(self, today: dt.date) -> None:
        """The periods end on the store's today: past midnight in Shanghai is still yesterday on a PC set to UTC."""
        self.today = today
        if self.preset.currentData() != "custom":
            self._set_preset_dates()
        self.reload_when_seen()

    def _load_surveys(self) -> None:
        if self.services is not None:
            self.tasks.run(self.services.charts.surveys, self._show_surveys, self._refused)

    def _show_surveys(self, surveys: list[SurveyChoice]) -> None:
        """The surveys answered so far, most answered first; 'most answered' (the default) follows the busiest."""
        chosen = self.survey.currentData()
        self.survey.blockSignals(True)
        while self.survey.count() > 1:
            self.survey.removeItem(1)
        for survey in surveys:
            text = self.tr("{title} ({code}), {n} answers").format(
                title=survey.title, code=survey.code, n=f"{survey.responses:,}"
            )
            self.survey.addItem(text, survey.code)
        self.survey.setCurrentIndex(max(0, self.survey.findData(chosen)))
        self.survey.blockSignals(False)

    def _show_branches(self, branches: list[tuple[int, str]]) -> None:
        chosen = self.branch.currentData()
        self.branch.blockSignals(True)
        while self.branch.count() > 1:
            self.branch.removeItem(1)
        for branch_id, name in branches:
            self.branch.addItem(name, branch_id)
        self.branch.setCurrentIndex(max(0, self.branch.findData(chosen)))
        self.branch.blockSignals(False)

    def reload(self) -> None:
        if self.services is None:
            return
        chart, chart_filter = self.chart, self.chart_filter()
        self.title.setText(_charts(CHART_TITLES[chart]))
        self.survey_label.setVisible(chart == ChartId.SATISFACTION)
        self.survey.setVisible(chart == ChartId.SATISFACTION)
        self._asked += 1
        asked = self._asked
        service = self.services.charts

        def shown(data: ChartData) -> None:
            if asked == self._asked:
                self.show_data(data)

        self.tasks.run(lambda: service.chart(chart, chart_filter), shown, self._refused)

    def on_changed(self, changes: Changes) -> None:
        if changes & Changes.SURVEYS:
            self._load_surveys()
        if changes:
            self.reload_when_seen()

    def show_data(self, data: ChartData) -> None:
        self.data = data
        self.view.show_data(data)
        self.notes.setText("\n".join(data.notes))
        has_figures = data.empty is None
        self.png_button.setEnabled(has_figures)
        self.csv_button.setEnabled(has_figures)
        self.hint.setVisible(has_figures and data.drill)

    def _refused(self, error: MemberDeskError) -> None:
        self.data = None
        self.view.show_message(str(error))
        self.notes.clear()
        self.png_button.setEnabled(False)
        self.csv_button.setEnabled(False)

    # -- a click ------------------------------------------------------------------------------------------------
    def list_members(self, pick: Pick) -> None:
        if self.services is None:
            return
        chart, chart_filter = self.chart, self.chart_filter()
        title = f"{_charts(CHART_TITLES[chart])} · {pick.description}"
        service = self.services.charts
        self.tasks.run(lambda: service.members(chart, chart_filter, pick.key, pick.series, title), self._show_members)

    def _show_members(self, members: MemberList) -> None:
        emit(self.selection_made, members)
        if self.services is None:
            return
        dialog = ChartMembersDialog(self.tasks, self.services, members, self)
        dialog.setModal(False)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    # -- export -------------------------------------------------------------------------------------------------
    def _suggested(self, suffix: str) -> str:
        return f"{_charts(CHART_TITLES[self.chart])}-{self.today:%Y%m%d}{suffix}"

    def export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export PNG"), self._suggested(".png"), "PNG (*.png)")
        if path:
            self.save_png(Path(path))

    def save_png(self, path: Path) -> None:
        target = path if path.suffix.lower() == ".png" else path.with_suffix(".png")
        if self.chart_frame.grab().save(str(target), "PNG"):
            show_info(self, self.tr("Saved to {file}").format(file=target))
        else:
            show_info(self, self.tr("Could not write {file}.").format(file=target))

    def export_csv(self) -> None:
        data, services = self.data, self.services
        if data is not None and services is not None:
            export_table(self.tasks, self, services, "chart", self._suggested(".csv"), data.table)
