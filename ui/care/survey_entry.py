"""Entering returned survey forms from the keyboard: scan or type the form number, then the answers — a digit for a
rating, a number for NPS, letters for choices — each field accepting only what its question allows. A rating, a
single choice or an NPS answer that cannot grow moves on by itself; Tab and Enter move too; Enter on the last
answer saves and the form number field is ready for the next form."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QRegularExpression, Qt
from PySide6.QtGui import QKeyEvent, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.care.questions import Question, QuestionKind
from app.care.surveys import FormToEnter, ResponseSaved
from app.errors import MemberDeskError
from ui.forms import error_label
from ui.i18n import is_chinese
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services


def answer_pattern(question: Question) -> str:
    if question.kind == QuestionKind.RATING:
        return "[1-5]?"
    if question.kind == QuestionKind.NPS:
        return "(10|[0-9])?"
    letters = question.letters + question.letters.lower()
    if question.kind == QuestionKind.SINGLE:
        return f"[{letters}]?"
    return f"[{letters}]{{0,{len(question.letters)}}}"


def is_complete(question: Question, text: str) -> bool:
    """Nothing more can be typed into this answer, so the cursor may move on."""
    if question.kind in (QuestionKind.RATING, QuestionKind.SINGLE):
        return len(text) == 1
    if question.kind == QuestionKind.NPS:
        return text not in ("", "1")
    return False


class _EnterMoves(QObject):
    """Enter in an answer moves to the next answer; on the last one it saves."""

    def __init__(self, view: SurveyEntryView) -> None:
        super().__init__(view)
        self.view = view

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.view.enter_pressed(watched)
            return True
        return False


class SurveyEntryView(QWidget):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("surveyEntry")
        self.tasks = tasks
        self.services: Services | None = None
        self.code: str | None = None
        self.target: FormToEnter | None = None
        self.fields: list[tuple[Question, QLineEdit]] = []
        self.entered = 0
        self.key = str(uuid.uuid4())
        self._enter = _EnterMoves(self)
        self.form_no = QLineEdit()
        self.form_no.setObjectName("formNumber")
        self.form_no.setPlaceholderText(self.tr("Scan or type the form number, then Enter"))
        self.form_no.installEventFilter(self._enter)
        self.form_info = QLabel()
        self.form_info.setObjectName("formInfo")
        self.message = error_label("entryMessage")
        self.saved_note = QLabel()
        self.saved_note.setObjectName("entrySaved")
        self.save = QPushButton(self.tr("Save (Enter on the last answer)"))
        self.save.setObjectName("saveAnswers")
        self.save.clicked.connect(self.submit)
        self.save.setEnabled(False)
        self.answers = QWidget()
        self.answers_layout = QFormLayout(self.answers)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.answers)
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Form number")))
        top.addWidget(self.form_no, 1)
        top.addWidget(self.form_info, 2)
        bottom = QHBoxLayout()
        bottom.addWidget(self.saved_note, 1)
        bottom.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(scroll, 1)
        layout.addLayout(bottom)

    def attach(self, services: Services, code: str | None) -> None:
        self.services = services
        self.code = code
        self.reset()

    def reset(self) -> None:
        """Ready for the next form: number field empty and focused, no answers shown."""
        self.target = None
        self.key = str(uuid.uuid4())
        self._clear_fields()
        self.form_info.clear()
        self.save.setEnabled(False)
        self.form_no.clear()
        self.form_no.setFocus()

    def _clear_fields(self) -> None:
        while self.answers_layout.rowCount():
            self.answers_layout.removeRow(0)
        self.fields = []

    def enter_pressed(self, watched: QObject) -> None:
        if watched is self.form_no:
            self.look_up()
            return
        editors = [field for _q, field in self.fields]
        if watched in editors:
            index = editors.index(watched)
            if index == len(editors) - 1:
                self.submit()
            else:
                editors[index + 1].setFocus()
                editors[index + 1].selectAll()

    def look_up(self) -> None:
        if self.services is None:
            return
        raw, surveys, code = self.form_no.text(), self.services.care.surveys, self.code
        self.message.hide()
        self.tasks.run(lambda: surveys.form_to_enter(raw, code), self._show_form, self._refused)

    def _refused(self, error: MemberDeskError) -> None:
        self.message.setText(str(error))
        self.message.show()
        if self.target is None:
            self.form_no.setFocus()
            self.form_no.selectAll()
        elif self.fields:
            field = next((f for q, f in self.fields if q.key == getattr(error, "field", None)), None)
            if field is not None:
                field.setFocus()
                field.selectAll()

    def _show_form(self, target: FormToEnter) -> None:
        self.target = target
        self.form_no.setText(target.form_no)
        who = target.member_name or target.member_no
        info = self.tr("{title} v{version}").format(
            title=target.template.shown_title(not is_chinese()), version=target.template.version
        )
        if who:
            info += " · " + self.tr("member {name}").format(name=who)
        if target.reward_points:
            info += " · " + self.tr("reward {points} points").format(points=target.reward_points)
        self.form_info.setText(info)
        self._clear_fields()
        english = not is_chinese()
        for number, question in enumerate(target.template.questions, start=1):
            field = QLineEdit()
            field.setObjectName(f"answer_{question.key}")
            if question.kind != QuestionKind.TEXT:
                field.setValidator(QRegularExpressionValidator(QRegularExpression(answer_pattern(question)), field))
                field.setMaximumWidth(120)
                field.setPlaceholderText(question.hint())
            else:
                field.setMaxLength(500)
            field.installEventFilter(self._enter)
            field.textEdited.connect(lambda text, q=question, f=field: self._typed(q, f, text))
            label = f"{number}. {question.shown(english)}"
            if question.choices:
                label += "\n" + "  ".join(
                    f"{letter} {c.text_en or c.text if english else c.text}"
                    for letter, c in zip(question.letters, question.choices, strict=True)
                )
            # Lines broken here, not by word wrap: a wrapped question in a form row was sized for one line and
            # cut off top and bottom. The choices go on a line of their own.
            self.answers_layout.addRow(QLabel(label), field)
            self.fields.append((question, field))
        self.save.setEnabled(True)
        if self.fields:
            self.fields[0][1].setFocus()

    def _typed(self, question: Question, field: QLineEdit, text: str) -> None:
        if text != text.upper():
            field.setText(text.upper())
        if is_complete(question, text):
            editors = [f for _q, f in self.fields]
            index = editors.index(field)
            if index < len(editors) - 1:
                editors[index + 1].setFocus()
                editors[index + 1].selectAll()

    def submit(self) -> None:
        if self.services is None or self.target is None or not self.save.isEnabled():
            return
        typed = {q.key: f.text() for q, f in self.fields}
        surveys, form_no, key, code = self.services.care.surveys, self.target.form_no, self.key, self.code
        self.save.setEnabled(False)
        self.message.hide()

        def refused(error: MemberDeskError) -> None:
            self.save.setEnabled(True)
            self._refused(error)

        self.tasks.run(lambda: surveys.enter(form_no, typed, key, code), self._saved, refused)

    def _saved(self, saved: ResponseSaved) -> None:
        self.entered += 1
        note = self.tr("Form {form} saved.").format(form=saved.form_no)
        if saved.reward_points:
            note += " " + self.tr("The member got {points} points.").format(points=saved.reward_points)
        self.saved_note.setText(note + " " + self.tr("{count} entered in this session.").format(count=self.entered))
        self.reset()
