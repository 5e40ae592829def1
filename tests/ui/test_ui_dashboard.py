"""The close-of-day page: the empty store's clear message, then figures, work lists and staff from real purchases,
the owner landing on it, and a one-key action."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.context import Services
from app.loyalty.service import PurchaseRequest
from tests.ui.ui_support import register
from ui.application import build_main_window
from ui.dashboard.page import DashboardPage
from ui.i18n import Translators
from ui.selftest import grab_window_png
from ui.tasks import SyncTaskRunner


def _dashboard(qtbot: QtBot, services: Services) -> tuple[object, DashboardPage]:
    window = build_main_window(services, SyncTaskRunner())
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.show_page(window.dashboard_row)
    page = window.stack.currentWidget()
    assert isinstance(page, DashboardPage)
    return window, page


def test_an_empty_store_says_so(qtbot: QtBot, owner_services: Services, translators: Translators) -> None:
    _window, page = _dashboard(qtbot, owner_services)
    qtbot.waitUntil(lambda: page.summary is not None, timeout=5000)
    assert "尚无记录" in page.status.text()
    assert page.work_counts["churn_risks"].text() == "0"
    assert not page.work_buttons["churn_risks"].isEnabled()
    assert "暂无" in page.stars.text()


def test_figures_work_lists_and_staff_after_purchases(
    qtbot: QtBot, owner_services: Services, translators: Translators, tmp_path: Path
) -> None:
    member = register(owner_services, "13812345678", "张伟")
    for fen in (12_345, 6_000):
        owner_services.loyalty.record_purchase(PurchaseRequest(member, fen, str(uuid.uuid4())))
    window, page = _dashboard(qtbot, owner_services)
    qtbot.waitUntil(lambda: page.summary is not None, timeout=5000)
    sales = page.cards[0]
    assert sales.title.text() == "销售额" and sales.value.text() == "¥183.45"
    assert "+¥183.45" in sales.week.text()
    assert page.staff_table.rowCount() >= 1 and page.staff_table.item(0, 3).text() == "¥183.45"
    assert "销售冠军" in page.stars.text()
    out = tmp_path / "expiring.csv"
    page.export_expiring_to(out)
    qtbot.waitUntil(out.exists, timeout=5000)
    shots = Path(os.environ.get("MEMBERDESK_UI_SHOTS") or tmp_path)
    assert grab_window_png(window, shots / "dashboard.png") == []  # type: ignore[arg-type]
