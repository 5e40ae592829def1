"""Printing numbered survey forms (the form rows and the PDF made together in a process of its own, app/jobs.py, then
the preview) and a preview of a template being edited (no form rows)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QLineEdit, QSpinBox, QWidget

from app.care.surveys import MAX_FORMS, FormBatch, PrintedForm, TemplateInfo
from app.changes import Changes
from app.lanes import Lane
from app.printing.scratch import scratch_pdf
from ui.forms import ActionDialog
from ui.jobs import jobs_for
from ui.printing.preview import Printout, PrintPreviewDialog
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services

PREVIEW_NUMBER = "SV000000000"


class PrintFormsDialog(ActionDialog):
    changes = Changes.SURVEYS

    def __init__(self, tasks: TaskRunner, services: Services, template: TemplateInfo, parent: QWidget | None) -> None:
        super().__init__(
            tasks,
            services,
            self.tr("Print survey forms: {title}").format(title=template.title),
            self.tr("Print"),
            parent,
        )
        self.setObjectName("printFormsDialog")
        self.template = template
        self.count = QSpinBox()
        self.count.setObjectName("formCount")
        self.count.setRange(1, MAX_FORMS)
        self.count.setValue(50)
        self.member = QLineEdit()
        self.member.setObjectName("formMember")
        self.member.setPlaceholderText(self.tr("Optional: print for one member (member or card number)"))
        self.add_row(self.tr("Forms"), "count", self.count)
        self.add_row(self.tr("Member"), "member", self.scanned(self.member))
        self.resize(460, self.sizeHint().height())
        self.count.setFocus()
        self.count.selectAll()

    def prepare(self) -> Callable[[], Any]:
        jobs = jobs_for(self.services)
        code, count, member = self.template.code, self.count.value(), self.member.text().strip() or None
        return lambda: jobs().survey_forms(code, count, member)

    def succeeded(self, result: tuple[Path, FormBatch]) -> str:
        path, batch = result
        title = self.tr("Survey forms {first}–{last}").format(
            first=batch.forms[0].form_no, last=batch.forms[-1].form_no
        )
        PrintPreviewDialog(self.tasks, Printout(path, title, roll_paper=False), self.parentWidget()).open()
        return title


def preview_template(tasks: TaskRunner, services: Services, template: TemplateInfo, parent: QWidget) -> None:
    """How the form will look, with a sample number; nothing is stored."""
    root = services.store.paths.root

    def write() -> Path:
        from app.printing.survey_form import write_survey_forms

        store_name = services.settings.current().store_name
        batch = FormBatch("preview", store_name, template, (PrintedForm(PREVIEW_NUMBER, None, None),) * 2)

        def write_pdf(path: Path) -> None:
            write_survey_forms(batch, path)

        return scratch_pdf(root, "survey-preview", write_pdf)

    def show(path: Path) -> None:
        PrintPreviewDialog(tasks, Printout(path, template.title, roll_paper=False), parent).open()

    tasks.run(write, show, lane=Lane.HEAVY)
