"""Survey results: CSAT and NPS, per-question figures and distributions, the trend by month or week and by branch,
the free-text answers, charts, and CSV/XLSX export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.care.questions import QuestionKind
from app.care.surveys import PeriodFigures, QuestionResult, SurveyResults, results_table
from ui import formatting as fmt
from ui.care.charts import Chart
from ui.care.export import export_table
from ui.care.periods import PeriodBox
from ui.i18n import is_chinese
from ui.models import RIGHT, Column, RowsModel, row_table
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


class SurveyResultsView(QWidget):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("surveyResults")
        self.tasks = tasks
        self.services: Services | None = None
        self.code: str | None = None
        self.results: SurveyResults | None = None
        self.period = PeriodBox("all")
        self.period.changed.connect(self.reload)
        self.by = QComboBox()
        self.by.setObjectName("trendBy")
        self.by.addItem(self.tr("By month"), True)
        self.by.addItem(self.tr("By week"), False)
        self.by.currentIndexChanged.connect(lambda _i: self.reload())
        self.branch = QComboBox()
        self.branch.setObjectName("resultsBranch")
        self.branch.addItem(self.tr("All branches"), None)
        self.branch.currentIndexChanged.connect(lambda _i: self.reload())
        self.headline = QLabel()
        self.headline.setObjectName("surveyHeadline")
        export = QPushButton(self.tr("Export…"))
        export.setObjectName("exportResults")
        export.clicked.connect(self.export)
        english = lambda: not is_chinese()  # noqa: E731
        self.questions: RowsModel[QuestionResult] = RowsModel(
            [
                Column(lambda: self.tr("Question"), lambda q: q.question.shown(english())),
                Column(lambda: self.tr("Answers"), lambda q: fmt.points(q.answered), RIGHT),
                Column(lambda: "CSAT %", lambda q: pct(q.csat), RIGHT),
                Column(lambda: "NPS", lambda q: pct(q.nps), RIGHT),
                Column(lambda: self.tr("Mean"), lambda q: "—" if q.mean is None else f"{q.mean:.2f}", RIGHT),
            ],
            self,
        )
        self.question_view = row_table(self.questions, takes_focus=True)
        self.question_view.setObjectName("questionResults")
        self.question_view.selectionModel().currentRowChanged.connect(lambda c, _p: self._show_question(c.row()))
        self.branches: RowsModel[PeriodFigures] = RowsModel(
            [
                Column(lambda: self.tr("Branch"), lambda b: b.label),
                Column(lambda: self.tr("Responses"), lambda b: fmt.points(b.responses), RIGHT),
                Column(lambda: "CSAT %", lambda b: pct(b.csat), RIGHT),
                Column(lambda: "NPS", lambda b: pct(b.nps), RIGHT),
            ],
            self,
        )
        self.branch_view = row_table(self.branches, takes_focus=True)
        self.distribution = Chart("distributionChart")
        self.trend = Chart("trendChart")
        self.texts = QListWidget()
        self.texts.setObjectName("textAnswers")
        bar = QHBoxLayout()
        for widget in (self.period, self.by, self.branch):
            bar.addWidget(widget)
        bar.addWidget(self.headline, 1)
        bar.addWidget(export)
        grid = QGridLayout()
        grid.addWidget(self.question_view, 0, 0)
        grid.addWidget(self.distribution, 0, 1)
        grid.addWidget(self.trend, 1, 0)
        grid.addWidget(self.branch_view, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(grid, 1)
        layout.addWidget(QLabel(self.tr("Written answers (newest first)")))
        layout.addWidget(self.texts)
        self.texts.setMaximumHeight(110)

    def attach(self, services: Services, code: str | None, branches: list[tuple[int, str]]) -> None:
        self.services = services
        self.code = code
        self.branch.blockSignals(True)
        while self.branch.count() > 1:
            self.branch.removeItem(1)
        for branch_id, name in branches:
            self.branch.addItem(name, branch_id)
        self.branch.blockSignals(False)

    def reload(self) -> None:
        if self.services is None or self.code is None:
            return
        surveys, code = self.services.care.surveys, self.code
        since, until = self.period.bounds()
        by_month, branch = self.by.currentData(), self.branch.currentData()
        self.tasks.run(lambda: surveys.results(code, since, until, by_month, branch), self.show_results)

    def show_results(self, results: SurveyResults) -> None:
        self.results = results
        self.headline.setText(
            self.tr("{count} responses · CSAT {csat}% · NPS {nps}").format(
                count=fmt.points(results.responses), csat=pct(results.csat), nps=pct(results.nps)
            )
        )
        self.questions.set_rows(results.questions)
        self.branches.set_rows(results.branches)
        self.trend.lines(
            [p.label for p in results.trend],
            [("CSAT %", [p.csat for p in results.trend]), ("NPS", [p.nps for p in results.trend])],
        )
        self.texts.clear()
        for item in results.questions:
            for at, text in item.texts:
                self.texts.addItem(f"{fmt.local_date(at)}  {text}")
        if results.questions:
            self.question_view.selectRow(0)
            self._show_question(0)

    def _show_question(self, row: int) -> None:
        item = self.questions.row_at(row)
        if item is None:
            return
        if item.question.kind == QuestionKind.TEXT:
            self.distribution.bars([], [])
            return
        self.distribution.bars(list(item.distribution), list(item.distribution.values()))

    def export(self) -> None:
        results, services = self.results, self.services
        if results is None or services is None:
            return
        english = not is_chinese()
        export_table(
            self.tasks,
            self,
            services,
            "survey_results",
            f"survey-{results.template.code}.csv",
            lambda: results_table(results, english),
        )
