"""The care screens driven as staff would: a complaint from the counter by keyboard, the workflow with goodwill
points in the complaints list, the analysis, survey forms entered by keyboard (twice: refused), the results moving,
the template editor, and the care settings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.care.complaints import ComplaintDraft, ComplaintFilter
from app.care.surveys import form_number
from app.context import Services, Store
from app.coupons.campaigns import CampaignDraft
from app.coupons.codes import grouped
from app.integrity import check_database
from db.enums import CampaignTarget, ComplaintSeverity, ComplaintStatus, CouponKind
from db.models import AuditLog
from tests.staff_support import MANAGER_PIN
from tests.ui.ui_support import buy, open_member, register, shown
from ui.care.complaint_dialogs import ComplaintDialog, NoteDialog, ResolveDialog
from ui.care.complaints_page import ComplaintsPage
from ui.care.follow_ups_view import CallDialog
from ui.care.settings_dialog import CareSettingsDialog
from ui.care.surveys_page import SurveysPage
from ui.main_window import MainWindow

COMPLAINTS_ROW = 2
SURVEYS_ROW = 4


@pytest.fixture
def member_id(services: Services) -> int:
    member = register(services, "13812345678", "张伟")
    buy(services, member, 8_800)
    return member


def complaints_page(window: MainWindow) -> ComplaintsPage:
    window.show_page(COMPLAINTS_ROW)
    page = window.stack.currentWidget()
    assert isinstance(page, ComplaintsPage)
    return page


def surveys_page(window: MainWindow) -> SurveysPage:
    window.show_page(SURVEYS_ROW)
    page = window.stack.currentWidget()
    assert isinstance(page, SurveysPage)
    return page


def test_complaint_from_the_counter_by_keyboard(
    qtbot: QtBot, window: MainWindow, services: Services, member_id: int
) -> None:
    page = window.counter
    open_member(qtbot, page, member_id)
    qtbot.keyClick(page.lookup, Qt.Key.Key_F11)
    dialog = page.dialog
    assert isinstance(dialog, ComplaintDialog)
    assert "张伟" in dialog.heading.text()
    qtbot.waitUntil(dialog.subject.hasFocus, timeout=2000)
    qtbot.keyClick(dialog.subject, Qt.Key.Key_Return)  # empty subject: refused by the field, nothing written
    assert dialog.isVisible() and dialog.errors.field_text("subject")
    dialog.subject.insert("酸奶胀袋")  # keyClicks types ASCII only
    assert dialog.sale.count() == 2  # "no particular purchase" and the member's purchase
    dialog.sale.setCurrentIndex(1)
    qtbot.keyClick(dialog.subject, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    rows = services.care.complaints.page(ComplaintFilter()).rows
    assert [(r.subject, r.member_name) for r in rows] == [("酸奶胀袋", "张伟")]
    assert services.care.complaints.detail(rows[0].id).sale is not None
    assert page.panel.complaints_card.value.text() == "1"


def test_a_walk_in_complaint_has_no_member(qtbot: QtBot, window: MainWindow, services: Services) -> None:
    page = window.counter
    qtbot.keyClick(page.lookup, Qt.Key.Key_F11)
    dialog = page.dialog
    assert isinstance(dialog, ComplaintDialog) and not dialog.sale.isEnabled()
    dialog.subject.insert("门口地滑")
    dialog.ok.click()
    assert services.care.complaints.page(ComplaintFilter()).rows[0].member_no is None


def test_workflow_with_goodwill_in_the_list(
    qtbot: QtBot, window: MainWindow, services: Services, store: Store, member_id: int
) -> None:
    care = services.care.complaints
    care.log(ComplaintDraft("价签错误", "counter", "价格标签", ComplaintSeverity.HIGH, member_id), "k1")
    page = complaints_page(window)
    assert page.model.rowCount() == 1 and "价签错误" in page.history.toPlainText()
    assert page.step_buttons["start"].isEnabled() and not page.step_buttons["close"].isEnabled()
    page.step_buttons["start"].click()
    step = shown(NoteDialog)
    step.note.setText("已联系顾客")
    step.ok.click()
    assert page.detail is not None and page.detail.row.status == ComplaintStatus.IN_PROGRESS
    page.step_buttons["resolve"].click()
    resolve = shown(ResolveDialog)
    resolve.resolution.setPlainText("退差价并致歉")
    resolve.goodwill.setValue(100)
    resolve.ok.click()
    assert "店长" in resolve.errors.field_text("pin")  # a cashier needs a manager's PIN for goodwill
    resolve.pin.setText(MANAGER_PIN)
    resolve.ok.click()
    assert not resolve.isVisible()
    assert page.detail is not None and page.detail.row.status == ComplaintStatus.RESOLVED
    assert "100" in page.history.toPlainText()
    assert services.members.profile(member_id).points_balance == 188  # 88 earned + 100 goodwill
    page.tabs.setCurrentIndex(2)
    assert page.follow_ups.model.rowCount() == 1
    page.follow_ups.record_call()
    call = shown(CallDialog)
    call.outcome.setText("顾客满意")
    call.satisfaction.setCurrentIndex(1)
    call.ok.click()
    assert page.follow_ups.model.rowCount() == 0
    page.tabs.setCurrentIndex(1)
    table = page.analysis.table
    assert table is not None and table.total == 1 and table.groups[0].label == "价格标签"


def test_resolved_with_a_coupon_from_the_list(
    qtbot: QtBot, window: MainWindow, services: Services, owner_services: Services, member_id: int, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    coupons = owner_services.coupons
    campaign = coupons.create_campaign(
        CampaignDraft(
            "SORRY",
            "投诉补偿券",
            CouponKind.AMOUNT_OFF,
            now - dt.timedelta(days=1),
            now + dt.timedelta(days=30),
            value_fen=1_000,
            target=CampaignTarget.CHOSEN_MEMBERS,
        )
    ).campaign_id
    coupons.activate(campaign)
    services.care.complaints.log(
        ComplaintDraft("找零少了", "counter", "服务态度", ComplaintSeverity.HIGH, member_id), "k-coupon"
    )
    page = complaints_page(window)
    page.step_buttons["resolve"].click()
    resolve = shown(ResolveDialog)
    assert resolve.coupon.isEnabled() and resolve.coupon.count() == 2  # "no coupon" and the running campaign
    resolve.coupon.setCurrentIndex(1)
    assert "投诉补偿券" in resolve.coupon.currentText()
    resolve.resolution.setPlainText("补足找零并致歉")
    resolve.ok.click()
    assert "店长" in resolve.errors.field_text("pin")  # a cashier gives no coupon without a manager's PIN
    resolve.grab().save(str(tmp_path / "resolve-dialog.png"))
    resolve.pin.setText(MANAGER_PIN)
    resolve.ok.click()
    assert not resolve.isVisible()
    [held] = services.coupons.member_coupons(member_id)
    assert grouped(held.code) in page.history.toPlainText()
    window.grab().save(str(tmp_path / "complaint-coupon.png"))


def test_filters_search_and_overdue(qtbot: QtBot, window: MainWindow, services: Services, store: Store) -> None:
    care = services.care.complaints
    care.log(ComplaintDraft("排队太久", "phone", "排队结账", ComplaintSeverity.LOW), "a")
    care.log(
        ComplaintDraft(
            "缺货", "counter", "缺货", ComplaintSeverity.HIGH, due_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        ),
        "b",
    )
    page = complaints_page(window)
    assert page.model.rowCount() == 2
    page.search.setText("排队")
    page.reload()
    assert [r.subject for r in page.model.rows()] == ["排队太久"]
    page.search.clear()
    qtbot.wait(1100)
    page.overdue.setChecked(True)
    assert [r.subject for r in page.model.rows()] == ["缺货"]
    assert page.model.rows()[0].overdue


def test_survey_entry_by_keyboard_refuses_twice_and_results_move(
    qtbot: QtBot, window: MainWindow, services: Services
) -> None:
    services.care.surveys.print_forms("SAT", 3, None, lambda batch: None)
    page = surveys_page(window)
    entry = page.entry
    qtbot.keyClicks(entry.form_no, "8800000000017")  # a member card, not a form
    qtbot.keyClick(entry.form_no, Qt.Key.Key_Return)
    assert "SV" in entry.message.text() and not entry.fields
    for number, nps in ((1, "10"), (2, "3")):
        entry.form_no.clear()
        qtbot.keyClicks(entry.form_no, form_number(number))
        qtbot.keyClick(entry.form_no, Qt.Key.Key_Return)
        assert len(entry.fields) == 10
        first = entry.fields[0][1]
        qtbot.keyClicks(first, "7")  # out of range: the field takes nothing
        assert first.text() == ""
        for _question, field in entry.fields[:6]:
            qtbot.keyClicks(field, "5" if number == 1 else "2")
        qtbot.keyClicks(entry.fields[6][1], nps)
        qtbot.keyClicks(entry.fields[7][1], "b")
        assert entry.fields[7][1].text() == "B"
        qtbot.keyClicks(entry.fields[8][1], "ac")
        entry.fields[9][1].insert("很好")
        qtbot.keyClick(entry.fields[9][1], Qt.Key.Key_Return)
        assert entry.target is None and form_number(number) in entry.saved_note.text()
    qtbot.keyClicks(entry.form_no, form_number(1))
    qtbot.keyClick(entry.form_no, Qt.Key.Key_Return)
    assert "李收银" in entry.message.text() and not entry.fields  # entered once already: who and when
    page.tabs.setCurrentIndex(1)
    results = page.results.results
    assert results is not None and results.responses == 2 and results.nps == 0.0
    assert "NPS 0.0" in page.results.headline.text()


def test_template_editor_adds_a_survey(qtbot: QtBot, window: MainWindow, store: Store) -> None:
    window.attach(store.services(store.operator("manager")))
    page = surveys_page(window)
    editor = page.editor
    page.tabs.setCurrentIndex(2)
    editor.new_template()
    editor.code.setText("QUICK")
    editor.title.setText("快速调查")
    editor.table.item(0, 1).setText("总体满意度")
    editor.add_question()
    editor.table.item(1, 1).setText("建议")
    editor.move_question(-1)
    editor.save()
    assert editor.error.isHidden()
    assert page.survey.findData("QUICK") >= 0
    quick = next(t for t in page.templates if t.code == "QUICK")
    assert [q.text for q in quick.questions] == ["建议", "总体满意度"]


def test_a_template_without_questions_is_refused(qtbot: QtBot, window: MainWindow, store: Store) -> None:
    window.attach(store.services(store.operator("manager")))
    editor = surveys_page(window).editor
    editor.new_template()
    editor.remove_question()
    editor.code.setText("EMPTY")
    editor.title.setText("空")
    editor.save()
    assert not editor.error.isHidden()


def test_care_settings_edit_the_lists(qtbot: QtBot, window: MainWindow, store: Store) -> None:
    window.attach(store.services(store.operator("manager")))
    page = complaints_page(window)
    page.edit_settings()
    dialog = shown(CareSettingsDialog)
    dialog.categories.setPlainText("生鲜\n其他")
    dialog.reward.setValue(20)
    dialog.ok.click()
    assert not dialog.isVisible()
    assert store.services(store.operator()).care.settings.current().categories == ("生鲜", "其他")
    assert page.category.findText("生鲜") >= 0


def test_print_forms_opens_a_preview(qtbot: QtBot, window: MainWindow, services: Services, tmp_path: Path) -> None:
    from ui.care.survey_print import PrintFormsDialog
    from ui.printing.preview import PrintPreviewDialog

    page = surveys_page(window)
    page.print_forms()
    dialog = shown(PrintFormsDialog)
    dialog.count.setValue(4)
    dialog.ok.click()
    preview = shown(PrintPreviewDialog)
    assert preview.document.pageCount() == 2
    preview.reject()
    assert [t.forms for t in services.care.surveys.templates()] == [4]


def audited_exports(store: Store) -> list[tuple[str, str, int]]:
    with store.db.session() as session:
        rows = session.execute(
            select(AuditLog.entity, AuditLog.details).where(AuditLog.action == "export").order_by(AuditLog.id)
        ).all()
    return [(entity, details["file"], details["count"]) for entity, details in rows]


def test_every_analysis_and_results_export_is_audited(
    qtbot: QtBot,
    window: MainWindow,
    services: Services,
    store: Store,
    member_id: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 9: each table the analysis and the survey results export writes an audited `export` entry (who, which
    file, how many rows); a file that cannot be written is refused with a message and audits nothing."""
    care = services.care.complaints
    for subject in ("价签错误", "找零少了"):
        care.log(ComplaintDraft(subject, "counter", "价格标签", ComplaintSeverity.LOW, member_id), subject)
    chosen: list[Path] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(chosen[-1]), ""))
    page = complaints_page(window)
    page.tabs.setCurrentIndex(1)
    view = page.analysis
    assert view.patterns is not None and [r.count for r in view.patterns.repeat] == [2]
    for which, name in (("groups", "by-category.xlsx"), ("repeat", "repeat.csv"), ("top", "top.csv")):
        chosen.append(tmp_path / name)
        next(a for a in view.export_menu.actions() if a.objectName() == f"export-{which}").trigger()
        shown(QMessageBox).close()
    assert audited_exports(store) == [
        ("complaint_analysis", "by-category.xlsx", 1),
        ("complaint_analysis", "repeat.csv", 1),
        ("complaint_analysis", "top.csv", 1),
    ]
    repeat = (tmp_path / "repeat.csv").read_text(encoding="utf-8-sig").splitlines()
    assert repeat[1].split(",")[1:3] == ["张伟", "2"]
    chosen.append(tmp_path / "gone" / "top.csv")  # the folder was removed (a USB stick pulled out)
    view.export("top")
    refused = shown(QMessageBox)
    assert "top.csv" in refused.text()
    refused.close()
    assert len(audited_exports(store)) == 3 and not (tmp_path / "gone").exists()
    services.care.surveys.print_forms("SAT", 1, None, lambda batch: None)
    services.care.surveys.enter(form_number(1), {"nps": "9"}, "k-form", "SAT")
    results = surveys_page(window)
    results.tabs.setCurrentIndex(1)
    chosen.append(tmp_path / "survey.csv")
    results.results.export()
    shown(QMessageBox).close()
    assert audited_exports(store)[-1][:2] == ("survey_results", "survey.csv")
    assert check_database(store.db) == []
