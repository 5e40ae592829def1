"""The surveys screen: choose a survey, print its forms, enter returned ones, see the results, edit templates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from app.care.complaints import ComplaintChoices
from app.care.surveys import TemplateInfo
from app.changes import Changes
from ui.care.survey_entry import SurveyEntryView
from ui.care.survey_print import PrintFormsDialog
from ui.care.survey_results import SurveyResultsView
from ui.care.survey_templates import SurveyTemplatesView
from ui.i18n import is_chinese
from ui.pages.base import Page
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services

ENTRY, RESULTS, TEMPLATES = range(3)


class SurveysPage(Page):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("surveysPage")
        self.templates: list[TemplateInfo] = []
        self.branches: list[tuple[int, str]] = []
        self.survey = QComboBox()
        self.survey.setObjectName("surveyChoice")
        self.survey.currentIndexChanged.connect(lambda _i: self._survey_chosen())
        self.print_button = QPushButton(self.tr("Print forms…"))
        self.print_button.setObjectName("printForms")
        self.print_button.clicked.connect(self.print_forms)
        self.entry = SurveyEntryView(tasks)
        self.results = SurveyResultsView(tasks)
        self.editor = SurveyTemplatesView(tasks)
        self.editor.saved.connect(self.reload)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("surveyTabs")
        self.tabs.addTab(self.entry, self.tr("Enter returned forms"))
        self.tabs.addTab(self.results, self.tr("Results"))
        self.tabs.addTab(self.editor, self.tr("Templates"))
        self.tabs.currentChanged.connect(self._tab_changed)
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Survey")))
        top.addWidget(self.survey, 1)
        top.addWidget(self.print_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)

    @property
    def code(self) -> str | None:
        data = self.survey.currentData()
        return data if isinstance(data, str) else None

    def template(self) -> TemplateInfo | None:
        return next((t for t in self.templates if t.code == self.code), None)

    def attach(self, services: Services) -> None:
        super().attach(services)
        self.editor.attach(services)
        self.reload()

    def on_changed(self, changes: Changes) -> None:
        if changes & (Changes.SURVEYS | Changes.SETTINGS):
            self.reload_when_seen()

    def reload(self) -> None:
        if self.services is None:
            return
        services = self.services

        def load() -> tuple[list[TemplateInfo], ComplaintChoices]:
            return services.care.surveys.templates(), services.care.complaints.choices()

        self.tasks.run(load, self._loaded)

    def _loaded(self, loaded: tuple[list[TemplateInfo], ComplaintChoices]) -> None:
        templates, choices = loaded
        self.templates = templates
        self.branches = [(b.id, b.name) for b in choices.branches]
        current = self.code
        english = not is_chinese()
        self.survey.blockSignals(True)
        self.survey.clear()
        for template in templates:
            if template.active:
                self.survey.addItem(f"{template.code} · {template.shown_title(english)}", template.code)
        index = self.survey.findData(current)
        self.survey.setCurrentIndex(max(0, index))
        self.survey.blockSignals(False)
        self.editor.show_templates(templates, current)
        self._survey_chosen(keep_entry=current == self.code)

    def _survey_chosen(self, keep_entry: bool = False) -> None:
        if self.services is None:
            return
        if not keep_entry or self.entry.code != self.code:
            self.entry.attach(self.services, self.code)
        self.results.attach(self.services, self.code, self.branches)
        self.print_button.setEnabled(self.template() is not None)
        if self.tabs.currentIndex() == RESULTS:
            self.results.reload()

    def _tab_changed(self, index: int) -> None:
        if index == RESULTS:
            self.results.reload()
        elif index == ENTRY:
            self.entry.form_no.setFocus()

    def print_forms(self) -> None:
        template = self.template()
        if self.services is not None and template is not None:
            PrintFormsDialog(self.tasks, self.services, template, self).open()
