"""The screens start big PDFs and exports as background jobs (app/jobs.py), each in a process of its own: were a call
site to write the file on its worker thread again, in the counter's interpreter, the job it names would not be
started (tests/services/test_offload.py shows that a job's writer never runs in this interpreter)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from app import jobs as jobs_module
from app.actions.member_sets import MemberSet
from app.context import Services, Store
from app.coupons.campaigns import CampaignDraft
from app.members.service import MemberForm
from db.engine import Database
from db.enums import CampaignTarget, CouponKind
from tests.ui.ui_support import shown
from ui.care.export import export_table
from ui.care.survey_print import PrintFormsDialog
from ui.coupons.printing import print_coupons
from ui.insights.member_actions import ContactListDialog
from ui.main_window import MainWindow
from ui.printing.preview import PrintPreviewDialog
from ui.tasks import SyncTaskRunner


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the background jobs started, each in its own process."""
    names: list[str] = []
    run_job = jobs_module.run_job

    def recorded(db: Database, job: Callable[..., Any], progress: Any, name: str, **kw: Any) -> Any:
        names.append(name)
        return run_job(db, job, progress, name, **kw)

    monkeypatch.setattr(jobs_module, "run_job", recorded)
    return names


def test_coupons_are_printed_by_a_job(
    qtbot: QtBot, owner_services: Services, tasks: SyncTaskRunner, started: list[str]
) -> None:
    coupons = owner_services.coupons
    now = owner_services.store.clock.now()
    draft = CampaignDraft("BULK", "满100减20", CouponKind.AMOUNT_OFF, now, now.replace(year=now.year + 1))
    campaign = coupons.create_campaign(
        CampaignDraft(**{**draft.__dict__, "value_fen": 2000, "target": CampaignTarget.BEARER})
    ).campaign_id
    coupons.activate(campaign)
    coupons.issue(campaign, str(uuid.uuid4()), count=12)
    parent = QWidget()
    qtbot.addWidget(parent)
    print_coupons(tasks, owner_services, None, campaign, "a4", False, parent)
    preview = shown(PrintPreviewDialog)
    assert preview.document.pageCount() == 2
    preview.reject()
    assert started == ["coupon-pdf"]


def test_survey_forms_are_printed_by_a_job(window: MainWindow, services: Services, started: list[str]) -> None:
    PrintFormsDialog(window.tasks, services, services.care.surveys.templates()[0], window).open()
    dialog = shown(PrintFormsDialog)
    dialog.count.setValue(4)
    dialog.ok.click()
    preview = shown(PrintPreviewDialog)
    assert preview.document.pageCount() == 2
    preview.reject()
    assert started == ["survey-forms"]


def test_a_contact_list_and_a_screen_s_table_are_exported_by_jobs(
    qtbot: QtBot,
    owner_services: Services,
    store: Store,
    tasks: SyncTaskRunner,
    started: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    form = MemberForm(phone="13812345678", name="张伟", membership_consent=True, marketing_consent=True)
    member = owner_services.members.register(form)
    dialog = ContactListDialog(tasks, owner_services, MemberSet.of_members([member], "张伟"), None)
    qtbot.addWidget(dialog)
    target = tmp_path / "名单.csv"
    dialog.path.setText(str(target))
    dialog.ok.click()
    assert target.read_text(encoding="utf-8-sig").count("\n") == 2

    table = tmp_path / "chart.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_args: (str(table), ""))
    export_table(tasks, dialog, owner_services, "chart", "chart.csv", lambda: (["月份", "会员"], [["2026-11", 3]]))
    assert table.read_text(encoding="utf-8-sig") == "月份,会员\n2026-11,3\n"
    assert started == ["contact-export", "table-export"]
