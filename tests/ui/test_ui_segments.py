"""The segments page refreshes on demand, and the counter's member panel then shows the member's segment line."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.context import Services
from app.loyalty.service import PurchaseRequest
from tests.ui.ui_support import open_member, register
from ui.application import build_main_window
from ui.i18n import Translators
from ui.insights.segments_page import SegmentsPage
from ui.selftest import grab_window_png
from ui.tasks import SyncTaskRunner

SEGMENTS_ROW = 5


def test_refresh_from_the_page_and_see_the_segment_at_the_counter(
    qtbot: QtBot, owner_services: Services, translators: Translators, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    regular = register(owner_services, "13812345678", "张伟")
    once = register(owner_services, "13912340001", "李娜")
    for days_ago in (300, 200, 120, 60, 20, 5):
        owner_services.loyalty.record_purchase(
            PurchaseRequest(regular, 25_000, str(uuid.uuid4()), sold_at=now - dt.timedelta(days=days_ago))
        )
    owner_services.loyalty.record_purchase(
        PurchaseRequest(once, 3_000, str(uuid.uuid4()), sold_at=now - dt.timedelta(days=250))
    )
    window = build_main_window(owner_services, SyncTaskRunner())
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.show_page(SEGMENTS_ROW)
    page = window.stack.currentWidget()
    assert isinstance(page, SegmentsPage)
    assert "尚未" in page.status.text()
    page.refresh_button.click()
    qtbot.waitUntil(lambda: page.refresh_button.isEnabled(), timeout=60_000)
    assert "2" in page.status.text() and page.groups["rfm"].count() == 16
    shots = Path(os.environ.get("MEMBERDESK_UI_SHOTS") or tmp_path)
    qtbot.wait(50)  # the count labels are shown by a queued event
    assert grab_window_png(window, shots / "segments_page.png") == []

    window.show_page(0)
    open_member(qtbot, window.counter, regular)
    profile = window.counter.panel.profile
    assert profile is not None and profile.segment is not None
    assert "VIP客户" in profile.segment and "建议：" in profile.segment
    assert grab_window_png(window, shots / "segment_at_counter.png") == []
