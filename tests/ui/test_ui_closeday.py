"""Issue 13's close of day as the owner lives it, on real screens (pytest-qt, a real SQLite store, in Chinese): a
chart's bar leads to the actions on its members; the CSAT / NPS chart follows the survey chosen; a lifecycle move
lists who moved; a work list leads to the actions on its members; and the walk-through of "Done means" on a demo
store — open the dashboard, read every chart, pick the VIPs at risk, create follow-up tasks and a win-back campaign
for exactly them, print the day's summary. The screens are grabbed to PNG (MEMBERDESK_UI_SHOTS keeps them)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app.charts.model import ChartId
from app.context import Services, Store
from app.demo import DemoOptions, generate_demo
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from db.models import Coupon, CouponCampaign, FollowUpTask, MemberSegment
from tests.ui.ui_support import shown
from ui.application import build_main_window
from ui.charts.members_dialog import ChartMembersDialog
from ui.charts.page import ChartsPage
from ui.dashboard.page import DashboardPage
from ui.i18n import Translators
from ui.insights.member_actions import SetCampaignDialog, SetFollowUpsDialog
from ui.main_window import MainWindow
from ui.printing.preview import PrintPreviewDialog
from ui.selftest import grab_window_png
from ui.tasks import SyncTaskRunner

CHARTS_ROW = 6


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("MEMBERDESK_UI_SHOTS") or tmp_path)


def owner_window(qtbot: QtBot, services: Services) -> MainWindow:
    window = build_main_window(services, SyncTaskRunner())
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


def grab(window: MainWindow, path: Path) -> None:
    """The window at 1280×800 (offscreen, a page shown later may have grown it to its own hint) to PNG."""
    window.resize(1280, 800)
    QApplication.processEvents()
    assert grab_window_png(window, path) == []


def charts_page(window: MainWindow) -> ChartsPage:
    window.show_page(CHARTS_ROW)
    page = window.stack.currentWidget()
    assert isinstance(page, ChartsPage)
    return page


def count(store: Store, table: type, *where: object) -> int:
    return store.db.read(lambda s: int(s.scalar(select(func.count()).select_from(table).where(*where)) or 0))


def test_a_bar_leads_to_a_campaign_and_follow_ups_for_exactly_its_members(
    qtbot: QtBot, store: Store, owner_services: Services, translators: Translators, shots: Path
) -> None:
    buyers = [
        owner_services.members.register(
            MemberForm(phone=f"1380000000{n}", name=name, membership_consent=True, marketing_consent=consent)
        )
        for n, (name, consent) in enumerate((("张伟", True), ("李娜", False), ("王芳", True)))
    ]
    for member in buyers[:2]:  # 王芳 buys nothing: not behind the bar
        owner_services.loyalty.record_purchase(PurchaseRequest(member, 8_800, str(uuid.uuid4())))
    page = charts_page(owner_window(qtbot, owner_services))
    page.list.setCurrentRow(list(ChartId).index(ChartId.SALES))
    assert page.data is not None and page.data.empty is None
    page.view.click_at(page.view.scene_point(len(page.data.categories) - 1, 0))
    dialog = shown(ChartMembersDialog)
    assert dialog.members.member_ids == tuple(buyers[:2]) and dialog.actions_button.isEnabled()
    assert dialog.actions_button.text() == "对这 2 位会员…"
    assert grab_window_png(dialog, shots / "chart_members_actions.png") == []
    campaign_action, follow_up_action, contacts_action = dialog.actions_menu.actions()
    assert "优惠券" in campaign_action.text() and "联系" in contacts_action.text()

    follow_up_action.trigger()
    follow_ups = shown(SetFollowUpsDialog)
    assert "2" in follow_ups.size_label.text() and "1" in follow_ups.size_label.text()  # 2 members, 1 with consent
    follow_ups.ok.click()
    assert count(store, FollowUpTask) == 1 and count(store, FollowUpTask, FollowUpTask.member_id == buyers[0]) == 1
    follow_ups.close()

    campaign_action.trigger()
    campaign = shown(SetCampaignDialog)
    campaign.ok.click()
    assert count(store, Coupon) == 2 and count(store, Coupon, Coupon.member_id == buyers[2]) == 0


def test_the_satisfaction_chart_offers_the_surveys_answered(
    qtbot: QtBot, owner_services: Services, translators: Translators
) -> None:
    surveys = owner_services.care.surveys
    form = surveys.print_forms("SAT", 1, None, lambda batch: None).forms[0].form_no
    typed = {"quality": "5", "range": "4", "price": "3", "service": "5", "checkout": "2", "clean": "4", "nps": "9"}
    surveys.enter(form, typed, str(uuid.uuid4()), "SAT")
    page = charts_page(owner_window(qtbot, owner_services))
    assert not page.survey.isVisible()
    page.list.setCurrentRow(list(ChartId).index(ChartId.SATISFACTION))
    assert page.survey.isVisible() and page.survey.count() == 2 and page.survey.currentData() is None
    assert page.data is not None and "SAT" in page.data.notes[0]
    page.survey.setCurrentIndex(1)
    assert page.chart_filter().survey == "SAT" and page.data is not None and page.data.empty is None


def test_a_work_list_leads_to_the_actions_on_its_members(
    qtbot: QtBot, store: Store, owner_services: Services, translators: Translators
) -> None:
    today = owner_services.close_of_day.today()
    born = owner_services.members.register(
        MemberForm(
            phone="13800000011",
            name="寿星",
            membership_consent=True,
            marketing_consent=True,
            birthday=today.replace(year=1990) if (today.month, today.day) != (2, 29) else dt.date(1990, 3, 1),
        )
    )
    window = owner_window(qtbot, owner_services)
    window.show_page(window.dashboard_row)
    page = window.stack.currentWidget()
    assert isinstance(page, DashboardPage)
    qtbot.waitUntil(lambda: page.work_counts["birthdays_week"].text() != "…", timeout=5000)
    assert page.set_buttons["birthdays_week"].isEnabled() and not page.set_buttons["churn_risks"].isEnabled()
    page.act_on("birthdays_week")
    assert page.set_menu is not None
    page.set_menu.actions()[1].trigger()
    follow_ups = shown(SetFollowUpsDialog)
    assert follow_ups.members.member_ids == (born,)
    follow_ups.ok.click()
    assert count(store, FollowUpTask, FollowUpTask.member_id == born) == 1


def test_close_of_day_as_a_new_owner_on_the_demo_store(
    qtbot: QtBot, store: Store, owner_services: Services, translators: Translators, shots: Path
) -> None:
    """Issue 13, "Done means": as the owner at close of day, on a demo store."""
    generate_demo(store, DemoOptions(members=600, days=500, seed=11), lambda _d, _t, _w: True)
    owner_services.segments.refresh(per_member=False)
    window = owner_window(qtbot, owner_services)

    # 1. The owner lands on the dashboard: today's figures against last week, the work lists, the staff.
    window.show_page(window.dashboard_row)
    dashboard = window.stack.currentWidget()
    assert isinstance(dashboard, DashboardPage)
    qtbot.waitUntil(
        lambda: dashboard.summary is not None and dashboard.work_counts["churn_risks"].text() != "…", timeout=10000
    )
    assert dashboard.cards[0].title.text() == "销售额" and dashboard.cards[0].value.text().startswith("¥")
    assert dashboard.staff_table.rowCount() >= 1
    grab(window, shots / "walk_1_dashboard.png")

    # 2. Every chart read: figures (or the sentence saying why there are none), each grabbed.
    page = charts_page(window)
    for row, chart in enumerate(ChartId):
        page.list.setCurrentRow(row)
        assert page.data is not None and page.data.chart == chart
        drawn = page.view.stack.currentWidget() is page.view.plot
        assert drawn == (page.data.empty is None), chart
        grab(window, shots / f"walk_2_chart_{chart.value}.png")
    moves = list(ChartId).index(ChartId.MOVES)
    page.list.setCurrentRow(moves)
    data = page.data
    assert data is not None and data.drill and data.series
    month = max(range(len(data.categories)), key=lambda i: data.series[0].values[i] or 0)
    page.view.click_at(page.view.scene_point(month, 0))
    moved = shown(ChartMembersDialog)
    assert moved.members.count == data.series[0].values[month]
    moved.close()

    # 3. The VIPs and major customers at risk, from the dashboard's work list.
    window.show_page(window.dashboard_row)
    at_risk = int(dashboard.work_counts["churn_risks"].text().replace(",", ""))
    expected = store.db.read(
        lambda s: set(
            s.scalars(
                select(MemberSegment.member_id).where(
                    MemberSegment.churn_warning.is_(True), MemberSegment.pyramid_level.in_(("vip", "major"))
                )
            )
        )
    )
    assert at_risk == len(expected) > 0
    dashboard.act_on("churn_risks")
    assert dashboard.set_menu is not None
    grab(window, shots / "walk_3_vips_at_risk.png")

    # 4. Follow-up tasks for them (those who agreed to marketing), then a win-back campaign for exactly them.
    def tasks() -> set[tuple[int, int | None]]:
        return store.db.read(lambda s: {(i, m) for i, m in s.execute(select(FollowUpTask.id, FollowUpTask.member_id))})

    before = tasks()  # the demo's own
    dashboard.set_menu.actions()[1].trigger()
    follow_ups = shown(SetFollowUpsDialog)
    assert grab_window_png(follow_ups, shots / "walk_4_follow_ups.png") == []
    follow_ups.ok.click()
    tasked = {member for _id, member in tasks() - before}
    assert tasked and tasked <= expected  # those of them who agreed to marketing
    follow_ups.close()
    dashboard.act_on("churn_risks")
    dashboard.set_menu.actions()[0].trigger()  # type: ignore[union-attr]
    campaign = shown(SetCampaignDialog)
    assert campaign.code.text().startswith("WB-")
    assert grab_window_png(campaign, shots / "walk_5_win_back.png") == []
    campaign.ok.click()
    code = campaign.code.text()
    holders = store.db.read(
        lambda s: set(
            s.scalars(
                select(Coupon.member_id)
                .join(CouponCampaign, CouponCampaign.id == Coupon.campaign_id)
                .where(CouponCampaign.code == code)
            )
        )
    )
    assert holders == expected
    campaign.close()

    # 5. The day's summary printed: the A4 PDF in Chinese, previewed.
    dashboard.print_day()
    preview = shown(PrintPreviewDialog)
    assert preview.document.pageCount() >= 1
    text = subprocess.run(
        ["pdftotext", str(preview.printout.path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "销售" in text and "¥" in text
    assert grab_window_png(preview, shots / "walk_6_day_summary.png") == []
    page_one = ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(preview.printout.path)]
    subprocess.run([*page_one, str(shots / "walk_7_day_summary_page")], check=True)
    preview.close()
    assert [w for w in QApplication.topLevelWidgets() if isinstance(w, PrintPreviewDialog) and w.isVisible()] == []
