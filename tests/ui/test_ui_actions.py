"""The saved segments screen, the set actions (campaign, follow-ups, contact list), the follow-ups screen and the
member panel's follow-ups tab, driven with pytest-qt on a real SQLite store, in Chinese."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app.actions.member_sets import MemberSet
from app.care.follow_ups import FollowUpPlan, FollowUpReason, FollowUpView
from app.context import Services, Store
from app.insights.saved import SegmentFilter
from app.members.service import MemberForm
from db.models import Coupon, FollowUpTask, MemberSegment
from tests.ui.ui_support import open_member, shown
from ui.care.follow_ups_view import CallDialog, FollowUpsPage, NewFollowUpDialog
from ui.i18n import Translators
from ui.insights.member_actions import ContactListDialog, SetCampaignDialog, SetFollowUpsDialog
from ui.insights.saved_segments_page import SavedSegmentsPage, SegmentDialog
from ui.main_window import MainWindow
from ui.selftest import grab_window_png
from ui.tasks import SyncTaskRunner


@pytest.fixture
def manager_services(store: Store) -> Services:
    return store.services(store.operator("manager"))


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("MEMBERDESK_UI_SHOTS") or tmp_path)


@pytest.fixture
def churners(store: Store, manager_services: Services) -> list[int]:
    """Three members with a churn warning (two agreed to marketing) and one without."""
    ids = []
    for phone, name, consent in (
        ("13800000001", "赵一", True),
        ("13800000002", "钱二", True),
        ("13800000003", "孙三", False),
        ("13800000004", "周五", True),
    ):
        form = MemberForm(phone=phone, name=name, membership_consent=True, marketing_consent=consent)
        ids.append(manager_services.members.register(form))

    def mark(session: object) -> None:
        for member_id in ids[:3]:
            session.add(  # type: ignore[attr-defined]
                MemberSegment(
                    member_id=member_id,
                    as_of=store.clock.now().date(),
                    monetary_fen=12_000,
                    rfm_class="important_retain",
                    pyramid_level="major",
                    lifecycle_stage="dormant",
                    churn_warning=True,
                    model="rule",
                )
            )

    store.db.write(mark)
    return ids


def count(store: Store, table: type) -> int:
    return store.db.read(lambda s: s.scalar(select(func.count()).select_from(table)) or 0)


def segments_page(qtbot: QtBot, services: Services) -> SavedSegmentsPage:
    page = SavedSegmentsPage(SyncTaskRunner())
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    page.attach(services)
    return page


def test_saved_segments_screen_makes_a_segment_and_acts_on_it(
    qtbot: QtBot,
    store: Store,
    manager_services: Services,
    churners: list[int],
    translators: Translators,
    shots: Path,
    tmp_path: Path,
) -> None:
    page = segments_page(qtbot, manager_services)
    assert page.list.count() == 0 and not page.campaign_button.isEnabled()

    page.new_button.click()
    dialog = shown(SegmentDialog)
    dialog.name.setText("流失预警")
    dialog.churn.setCurrentIndex(dialog.churn.findData(True))
    assert dialog.count.text() == "现在有 3 位会员符合。"
    assert grab_window_png(dialog, shots / "saved_segment_dialog.png") == []
    dialog.ok.click()
    assert page.list.count() == 1 and page.list.item(0).text() == "流失预警（3）"
    assert page.members_model.rowCount() == 3 and page.shown.text() == "3 位会员"
    phones = {page.members_model.row_at(r).phone for r in range(3)}  # type: ignore[union-attr]
    assert phones == {"13800000001", "13800000002", "13800000003"}  # a manager sees full phones
    assert grab_window_png(page, shots / "saved_segments.png") == []

    page.campaign_button.click()
    campaign = shown(SetCampaignDialog)
    assert campaign.code.text().startswith("WB-") and campaign.offer.value.text() == "20.00"
    assert "3" in campaign.size_label.text()
    assert grab_window_png(campaign, shots / "set_campaign_dialog.png") == []
    campaign.ok.click()
    assert count(store, Coupon) == 3

    page.follow_up_button.click()
    follow_ups = shown(SetFollowUpsDialog)
    assert grab_window_png(follow_ups, shots / "set_follow_ups_dialog.png") == []
    follow_ups.ok.click()
    assert count(store, FollowUpTask) == 2  # the one without marketing consent is left out

    page.export_button.click()
    export = shown(ContactListDialog)
    target = tmp_path / "名单.csv"
    export.path.setText(str(target))
    assert grab_window_png(export, shots / "contact_list_dialog.png") == []
    export.ok.click()
    assert target.read_text(encoding="utf-8-sig").count("\n") == 3  # header and the two with consent

    manager_services.saved_segments.rename(page.segments[0].id, "流失预警-11月")
    page.reload()
    assert page.list.item(0).text() == "流失预警-11月（3）"


def test_win_back_from_the_screen_and_cashiers_see_masked_phones(
    qtbot: QtBot,
    store: Store,
    services: Services,
    manager_services: Services,
    churners: list[int],
    translators: Translators,
) -> None:
    manager_services.saved_segments.save("流失预警", SegmentFilter(churn_warning=True))
    page = segments_page(qtbot, services)  # a cashier
    assert page.members_model.row_at(0).phone.startswith("138****")  # type: ignore[union-attr]
    page.win_back.click()
    dialog = shown(SetCampaignDialog)
    dialog.ok.click()
    assert "店长" in dialog.general_error.text() and count(store, Coupon) == 0  # refused by the service
    dialog.close()

    manager_page = segments_page(qtbot, manager_services)
    manager_page.win_back.click()
    win_back = next(w for w in manager_page.findChildren(SetCampaignDialog) if w.isVisible())
    win_back.ok.click()
    assert count(store, Coupon) == 3


def test_follow_ups_screen_views_and_the_member_tab(
    qtbot: QtBot,
    store: Store,
    window: MainWindow,
    manager_services: Services,
    churners: list[int],
    shots: Path,
) -> None:
    titles = [window.navigation.item(row).text() for row in range(window.navigation.count())]
    window.show_page(titles.index("已存分群"))
    assert isinstance(window.stack.currentWidget(), SavedSegmentsPage)
    window.show_page(titles.index("定期跟进"))
    assert isinstance(window.stack.currentWidget(), FollowUpsPage)
    assert grab_window_png(window, shots / "follow_ups_in_window.png") == []
    open_member(qtbot, window.counter, churners[0])
    tab = window.counter.panel.follow_ups_tab
    window.counter.panel.history.setCurrentWidget(tab)
    tab.new_button.click()
    dialog = shown(NewFollowUpDialog)
    assert "赵一" in dialog.windowTitle()
    dialog.fields.note.setPlainText("问问新品尺码")
    assert grab_window_png(dialog, shots / "new_follow_up_dialog.png") == []
    dialog.ok.click()
    assert tab.model.rowCount() == 1
    tab.view.selectRow(0)
    tab.done_button.click()
    call = shown(CallDialog)
    call.outcome.setText("周末来店")
    call.satisfaction.setCurrentIndex(1)
    assert grab_window_png(call, shots / "follow_up_call_dialog.png") == []
    call.ok.click()
    assert tab.model.rowCount() == 1 and tab.model.row_at(0).outcome == "周末来店"  # type: ignore[union-attr]
    assert grab_window_png(window, shots / "member_follow_ups_tab.png") == []

    store_today = store.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()  # the demo store's zone
    plan = FollowUpPlan(FollowUpReason.CHURN_WARNING, store_today)
    manager_services.actions.create_follow_ups(MemberSet.win_back(), plan, "ui-set")
    page = FollowUpsPage(SyncTaskRunner())
    qtbot.addWidget(page)
    page.resize(1200, 600)
    page.show()
    page.attach(manager_services)
    assert page.list.model.rowCount() == 2
    page.list.show_view(FollowUpView.DONE)
    assert page.list.model.rowCount() == 1 and not page.list.done.isEnabled()
    page.list.show_view(FollowUpView.OVERDUE)
    assert page.list.model.rowCount() == 0
    page.list.show_view(FollowUpView.OPEN)
    assert "待办 2" in page.list.count.text()
    assert page.list.model.headerData(1, Qt.Orientation.Horizontal) == "原因"
    assert grab_window_png(page, shots / "follow_ups_page.png") == []
