"""Issue 11's "Done means", tried as a new user on a demo store through the real screens: a complaint logged for a
member at the counter (F11), taken through the workflow with goodwill points, found in the analysis; 50 survey forms
printed, three entered by keyboard (one of them twice: refused), CSAT and NPS moving. Each step is grabbed to PNG
(into $CARE_SHOTS when set, to look at; else the test's own folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app.care.analysis import Dimension
from app.care.questions import QuestionKind
from app.context import Services, Store
from app.demo import DemoOptions, generate_demo
from app.integrity import check_database
from db.enums import ComplaintStatus, SaleKind
from db.models import Member, Sale, SurveyForm
from tests.staff_support import MANAGER_PIN
from tests.ui.test_ui_care import complaints_page, surveys_page
from tests.ui.ui_support import open_member, shown
from ui.care.complaint_dialogs import ComplaintDialog, NoteDialog, ResolveDialog
from ui.care.survey_print import PrintFormsDialog
from ui.main_window import MainWindow
from ui.printing.preview import PrintPreviewDialog

SUBJECT = "酸奶胀袋，顾客要求退换"
GOODWILL = 50


@pytest.fixture
def services(store: Store) -> Services:
    """The demo store (200 members over 120 days, with complaints and surveys in every state), as its cashier."""
    generate_demo(store, DemoOptions(members=200, days=120, seed=7), lambda _done, _total, _text: True)
    return store.services(store.operator())


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CARE_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def grab(widget: QWidget, folder: Path, name: str) -> None:
    assert widget.grab().save(str(folder / f"{name}.png"))


def a_member_with_purchases(store: Store) -> tuple[int, str]:
    """The named demo member with the most purchases."""
    query = (
        select(Member.id, Member.name)
        .join(Sale, Sale.member_id == Member.id)
        .where(Sale.kind == SaleKind.SALE, Member.name.is_not(None))
        .group_by(Member.id, Member.name)
        .order_by(func.count().desc(), Member.id)
        .limit(1)
    )
    member_id, name = store.db.read(lambda s: s.execute(query).one())
    return int(member_id), str(name)


def test_a_new_user_logs_resolves_and_finds_a_complaint(
    qtbot: QtBot, window: MainWindow, services: Services, store: Store, shots: Path
) -> None:
    member_id, name = a_member_with_purchases(store)
    balance = services.members.profile(member_id).points_balance
    before = {g.label: g.count for g in services.care.analysis.groups(Dimension.CATEGORY).groups}
    # At the counter: the member is open, F11, the subject typed, a category and the purchase chosen, Enter.
    counter = window.counter
    open_member(qtbot, counter, member_id)
    open_before = int(counter.panel.complaints_card.value.text())
    qtbot.keyClick(counter.lookup, Qt.Key.Key_F11)
    dialog = counter.dialog
    assert isinstance(dialog, ComplaintDialog) and name in dialog.heading.text()
    dialog.subject.insert(SUBJECT)
    dialog.category.setCurrentIndex(dialog.category.findData("商品质量"))
    assert dialog.sale.count() > 1  # the member's recent purchases are offered
    dialog.sale.setCurrentIndex(1)
    qtbot.wait(50)  # laid out again: the purchases arrived after the dialog opened
    grab(dialog, shots, "1-counter-complaint")
    qtbot.keyClick(dialog.subject, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert int(counter.panel.complaints_card.value.text()) == open_before + 1
    grab(window, shots, "1b-counter-after")
    # The complaints list: found by its subject, started, resolved with goodwill points (a manager's PIN).
    page = complaints_page(window)
    page.search.setText("酸奶胀袋")
    page.reload()
    [row] = [r for r in page.model.rows() if r.subject == SUBJECT]
    assert row.member_name == name and row.status == ComplaintStatus.OPEN
    page.view.selectRow(page.model.rows().index(row))
    assert page.detail is not None and page.detail.row.id == row.id
    page.step_buttons["start"].click()
    step = shown(NoteDialog)
    step.note.setText("已联系顾客，换新")
    step.ok.click()
    page.step_buttons["resolve"].click()
    resolve = shown(ResolveDialog)
    resolve.resolution.setPlainText("更换新品并致歉")
    resolve.goodwill.setValue(GOODWILL)
    resolve.pin.setText(MANAGER_PIN)
    grab(resolve, shots, "2-resolve-with-goodwill")
    resolve.ok.click()
    assert not resolve.isVisible()
    assert page.detail is not None and page.detail.row.status == ComplaintStatus.RESOLVED
    history = page.history.toPlainText()
    assert "更换新品并致歉" in history and str(GOODWILL) in history and "已联系顾客，换新" in history
    assert services.members.profile(member_id).points_balance == balance + GOODWILL
    grab(window, shots, "3-complaint-history")
    # The analysis: the category counts one more, resolved; the member among the complainers if they repeat.
    page.tabs.setCurrentIndex(1)
    view = page.analysis
    view.period.setCurrentIndex(view.period.findData("all"))
    assert view.table is not None
    after = {g.label: g for g in view.table.groups}
    assert after["商品质量"].count == before.get("商品质量", 0) + 1
    assert view.patterns is not None and any(t.category == "商品质量" and t.this_month for t in view.patterns.top)
    grab(window, shots, "4-analysis")
    assert check_database(store.db) == []


def test_a_new_user_prints_50_forms_enters_three_and_sees_csat_and_nps_move(
    qtbot: QtBot, window: MainWindow, services: Services, store: Store, shots: Path
) -> None:
    page = surveys_page(window)
    page.tabs.setCurrentIndex(1)
    before = page.results.results
    assert before is not None and before.responses > 0  # the demo's two years of entered forms
    headline = page.results.headline.text()
    # Print 50: the dialog offers 50, the preview shows two forms to a sheet.
    page.print_forms()
    dialog = shown(PrintFormsDialog)
    assert dialog.count.value() == 50
    grab(dialog, shots, "5-print-forms")
    dialog.ok.click()
    preview = shown(PrintPreviewDialog)
    assert preview.document.pageCount() == 25
    qtbot.wait(1500)  # QtPdf renders the pages in the background
    grab(preview, shots, "6-forms-preview")
    preview.reject()
    printed = store.db.read(
        lambda s: list(s.scalars(select(SurveyForm.form_no).order_by(SurveyForm.id.desc()).limit(50)))
    )[::-1]
    # Enter three by keyboard: all fives and a 10 (a promoter) on the first two, all ones and a 0 on the third.
    page.tabs.setCurrentIndex(0)
    entry = page.entry
    for form_no, rating, nps in ((printed[0], "5", "10"), (printed[1], "5", "10"), (printed[2], "1", "0")):
        qtbot.keyClicks(entry.form_no, form_no)
        qtbot.keyClick(entry.form_no, Qt.Key.Key_Return)
        assert len(entry.fields) == 10, entry.message.text()
        for question, field in entry.fields:
            if question.kind == QuestionKind.RATING:
                qtbot.keyClicks(field, rating)
        qtbot.keyClicks(next(f for q, f in entry.fields if q.kind == QuestionKind.NPS), nps)
        if form_no == printed[0]:
            qtbot.wait(50)  # the answer fields laid out
            grab(window, shots, "7-survey-entry")
        qtbot.keyClick(entry.fields[-1][1], Qt.Key.Key_Return)
        assert entry.target is None and form_no in entry.saved_note.text(), entry.message.text()
    # The first one again: refused, naming when and by whom it was entered.
    qtbot.keyClicks(entry.form_no, printed[0])
    qtbot.keyClick(entry.form_no, Qt.Key.Key_Return)
    assert not entry.fields and "李收银" in entry.message.text()
    grab(window, shots, "8-entered-twice-refused")
    page.tabs.setCurrentIndex(1)
    after = page.results.results
    assert after is not None and after.responses == before.responses + 3
    assert (after.csat, after.nps) != (before.csat, before.nps) and page.results.headline.text() != headline
    grab(window, shots, "9-survey-results")
    assert check_database(store.db) == []
