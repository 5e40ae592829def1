"""The survey template editor: add, reorder, edit and preview questions. Saving a template whose forms were already
printed or answered makes a new version, so old answers keep the questions they answered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.care.questions import KIND_LABELS, ChoiceText, Question, QuestionKind
from app.care.surveys import TemplateDraft, TemplateInfo, TemplateSaved
from app.errors import MemberDeskError, ValidationError
from app.i18n import translate
from ui.care.survey_print import preview_template
from ui.forms import error_label
from ui.signals import emit
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services

KIND, TEXT, TEXT_EN, CHOICES = range(4)
KEY_ROLE = Qt.ItemDataRole.UserRole


def choices_text(choices: tuple[ChoiceText, ...]) -> str:
    return "; ".join(f"{c.text}|{c.text_en}" if c.text_en else c.text for c in choices)


def parse_choices(text: str) -> tuple[ChoiceText, ...]:
    """`步行|On foot; 开车|By car` → choices (the English after | is optional)."""
    found = []
    for part in text.replace("；", ";").split(";"):
        zh, _bar, en = part.partition("|")
        if zh.strip():
            found.append(ChoiceText(zh.strip(), en.strip()))
    return tuple(found)


class SurveyTemplatesView(QWidget):
    saved = Signal()

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("surveyTemplates")
        self.tasks = tasks
        self.services: Services | None = None
        self.templates: list[TemplateInfo] = []
        self.list = QListWidget()
        self.list.setObjectName("templateList")
        self.list.currentRowChanged.connect(self._chosen)
        new = QPushButton(self.tr("New survey"))
        new.setObjectName("newTemplate")
        new.clicked.connect(self.new_template)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.list, 1)
        left_layout.addWidget(new)

        self.code = QLineEdit()
        self.code.setObjectName("templateCode")
        self.code.setMaxLength(20)
        self.title = QLineEdit()
        self.title.setObjectName("templateTitle")
        self.title_en = QLineEdit()
        self.description = QLineEdit()
        self.version = QLabel()
        form = QFormLayout()
        form.addRow(self.tr("Code"), self.code)
        form.addRow(self.tr("Title"), self.title)
        form.addRow(self.tr("Title (English)"), self.title_en)
        form.addRow(self.tr("Note printed under the title"), self.description)
        form.addRow(self.tr("Version"), self.version)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("questionTable")
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Kind"),
                self.tr("Question"),
                self.tr("Question (English)"),
                self.tr("Choices (A; B; … , English after |)"),
            ]
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(KIND, 170)
        self.table.setColumnWidth(TEXT, 240)
        self.table.setColumnWidth(TEXT_EN, 220)
        buttons = QHBoxLayout()
        for name, text, slot in (
            ("addQuestion", self.tr("Add question"), self.add_question),
            ("removeQuestion", self.tr("Remove"), self.remove_question),
            ("questionUp", self.tr("Move up"), lambda: self.move_question(-1)),
            ("questionDown", self.tr("Move down"), lambda: self.move_question(1)),
            ("previewTemplate", self.tr("Preview…"), self.preview),
            ("saveTemplate", self.tr("Save"), self.save),
        ):
            button = QPushButton(text)
            button.setObjectName(name)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        self.error = error_label("templateError")
        self.note = QLabel()
        self.note.setObjectName("templateNote")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(form)
        right_layout.addWidget(self.table, 1)
        right_layout.addWidget(self.error)
        right_layout.addWidget(self.note)
        right_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def attach(self, services: Services) -> None:
        self.services = services

    def show_templates(self, templates: list[TemplateInfo], code: str | None) -> None:
        self.templates = templates
        self.list.blockSignals(True)
        self.list.clear()
        for template in templates:
            item = QListWidgetItem(
                self.tr("{code} · {title} · v{version} · {forms} forms, {answers} answers").format(
                    code=template.code,
                    title=template.title,
                    version=template.version,
                    forms=template.forms,
                    answers=template.responses,
                )
            )
            self.list.addItem(item)
        self.list.blockSignals(False)
        codes = [t.code for t in templates]
        self.list.setCurrentRow(codes.index(code) if code in codes else 0)

    def _chosen(self, row: int) -> None:
        if 0 <= row < len(self.templates):
            self.load(self.templates[row])

    def load(self, template: TemplateInfo | None) -> None:
        self.error.hide()
        self.code.setText(template.code if template else "")
        self.code.setReadOnly(template is not None)
        self.title.setText(template.title if template else "")
        self.title_en.setText(template.title_en if template else "")
        self.description.setText(template.description if template else "")
        self.version.setText(str(template.version) if template else self.tr("new"))
        self.note.setText(
            self.tr("Forms of this version were printed or answered: saving makes version {next}.").format(
                next=template.version + 1
            )
            if template and (template.forms or template.responses)
            else ""
        )
        self.table.setRowCount(0)
        for question in template.questions if template else ():
            self._add_row(question)

    def new_template(self) -> None:
        self.list.clearSelection()
        self.load(None)
        self.add_question()
        self.code.setFocus()

    def _add_row(self, question: Question, at: int | None = None) -> None:
        row = self.table.rowCount() if at is None else at
        self.table.insertRow(row)
        kind = QComboBox()
        for value in QuestionKind:
            kind.addItem(translate("Care", KIND_LABELS[value]), value)
        kind.setCurrentIndex(kind.findData(question.kind))
        self.table.setCellWidget(row, KIND, kind)
        text = QTableWidgetItem(question.text)
        text.setData(KEY_ROLE, question.key)
        self.table.setItem(row, TEXT, text)
        self.table.setItem(row, TEXT_EN, QTableWidgetItem(question.text_en))
        self.table.setItem(row, CHOICES, QTableWidgetItem(choices_text(question.choices)))

    def add_question(self) -> None:
        self._add_row(Question("", QuestionKind.RATING, ""))
        self.table.setCurrentCell(self.table.rowCount() - 1, TEXT)

    def remove_question(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)

    def move_question(self, step: int) -> None:
        row = self.table.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.table.rowCount():
            return
        questions = self.questions()
        questions.insert(target, questions.pop(row))
        self.table.setRowCount(0)
        for question in questions:
            self._add_row(question)
        self.table.setCurrentCell(target, TEXT)

    def questions(self) -> list[Question]:
        found = []
        for row in range(self.table.rowCount()):
            kind = self.table.cellWidget(row, KIND)
            assert isinstance(kind, QComboBox)
            cells = [self.table.item(row, column) for column in (TEXT, TEXT_EN, CHOICES)]
            text, text_en, choices = (cell.text() if cell is not None else "" for cell in cells)
            key = cells[0].data(KEY_ROLE) if cells[0] is not None else ""
            found.append(Question(key or "", QuestionKind(kind.currentData()), text, text_en, parse_choices(choices)))
        return found

    def draft(self) -> TemplateDraft:
        return TemplateDraft(
            self.code.text(), self.title.text(), self.questions(), self.title_en.text(), self.description.text()
        )

    def preview(self) -> None:
        if self.services is None:
            return
        from app.care.questions import validate_questions

        draft = self.draft()
        try:
            questions = validate_questions(draft.questions)
        except ValidationError as exc:
            self._refused(exc)
            return
        info = TemplateInfo(0, draft.code, 0, draft.title, draft.title_en, draft.description, questions, True)
        preview_template(self.tasks, self.services, info, self)

    def save(self) -> None:
        if self.services is None:
            return
        surveys, draft = self.services.care.surveys, self.draft()
        self.error.hide()
        self.tasks.run(lambda: surveys.save_template(draft), self._saved, self._refused)

    def _refused(self, error: MemberDeskError) -> None:
        self.error.setText(str(error))
        self.error.show()

    def _saved(self, result: TemplateSaved) -> None:
        self.note.setText(self.tr("Saved as version {version}.").format(version=result.template.version))
        emit(self.saved)
