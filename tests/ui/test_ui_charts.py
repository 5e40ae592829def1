"""The charts page: reached from the main window, an empty store says so for every chart, a click on a bar lists
those members, the figures are shown to the owner only, PNG export."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.charts.model import ChartId, MemberList
from app.context import Services
from app.loyalty.service import PurchaseRequest
from tests.ui.ui_support import register
from ui.application import build_main_window
from ui.charts.members_dialog import ChartMembersDialog
from ui.charts.page import ChartsPage
from ui.i18n import Translators
from ui.selftest import grab_window_png
from ui.tasks import SyncTaskRunner

CHARTS_ROW = 6


def _page(qtbot: QtBot, services: Services) -> ChartsPage:
    window = build_main_window(services, SyncTaskRunner())
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.show_page(CHARTS_ROW)
    page = window.stack.currentWidget()
    assert isinstance(page, ChartsPage)
    return page


def test_an_empty_store_shows_a_message_for_every_chart(
    qtbot: QtBot, owner_services: Services, translators: Translators
) -> None:
    page = _page(qtbot, owner_services)
    for row, chart in enumerate(ChartId):
        page.list.setCurrentRow(row)
        assert page.data is not None and page.data.chart == chart
        if chart != ChartId.TIERS:
            assert page.view.stack.currentWidget() is page.view.empty, chart
            assert page.view.empty.text() and not page.csv_button.isEnabled()


def test_a_cashier_is_told_the_charts_need_a_manager(
    qtbot: QtBot, services: Services, translators: Translators
) -> None:
    page = _page(qtbot, services)
    assert page.view.stack.currentWidget() is page.view.empty
    assert "店长" in page.view.empty.text()


def test_a_click_on_a_bar_lists_those_members(
    qtbot: QtBot, owner_services: Services, translators: Translators, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    zhang = register(owner_services, "13812345678", "张伟")
    li = register(owner_services, "13912340001", "李娜")
    for member, days_ago in ((zhang, 3), (zhang, 40), (li, 3)):
        owner_services.loyalty.record_purchase(
            PurchaseRequest(member, 12_000, str(uuid.uuid4()), sold_at=now - dt.timedelta(days=days_ago))
        )
    page = _page(qtbot, owner_services)
    page.list.setCurrentRow(list(ChartId).index(ChartId.SALES))
    data = page.data
    assert data is not None and data.empty is None and page.view.stack.currentWidget() is page.view.plot
    last = len(data.categories) - 1
    chosen: list[MemberList] = []
    page.selection_made.connect(chosen.append)
    page.view.click_at(page.view.scene_point(last, 0))
    assert chosen and chosen[0].count >= 1 and li in chosen[0].member_ids
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, ChartMembersDialog) and w.isVisible()]
    assert dialogs and dialogs[0].table.rowCount() == chosen[0].count
    assert "李娜" in {dialogs[0].table.item(r, 1).text() for r in range(dialogs[0].table.rowCount())}
    assert page.view.hover_text(last, 0).startswith(data.x_title)

    shots = Path(os.environ.get("MEMBERDESK_UI_SHOTS") or tmp_path)
    assert grab_window_png(page.window(), shots / "charts_page.png") == []
    png = tmp_path / "chart.png"
    page.save_png(png)
    assert png.stat().st_size > 1000


def test_void_calls_never_use_up_none(qtbot: QtBot) -> None:
    """PySide6 6.12.0 loses a reference to None on every void call; a chart makes hundreds per repaint. Without the
    spare references of ui/signals.py these calls abort the interpreter ("none_dealloc")."""
    import sys

    from PySide6.QtWidgets import QLabel

    from ui.signals import VOID_CALL_LOSES_NONE

    label = QLabel()
    qtbot.addWidget(label)
    for _ in range(20_000):
        label.setText("图表")
    assert not VOID_CALL_LOSES_NONE or sys.getrefcount(None) > 1 << 59
