"""The Data & privacy area driven as staff would: tabs by role, the audit log filtered, a backup to a folder with
its progress, a restore that asks first, and a member's privacy requests. Screens are grabbed to PNG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.context import Services
from db.models import Member
from tests.ui.ui_support import buy, register, show_active, shown
from ui.application import build_main_window
from ui.main_window import MainWindow
from ui.tasks import SyncTaskRunner
from ui.trust.area import TrustArea
from ui.trust.backup_page import RestoreDialog
from ui.trust.privacy_page import AnonymiseDialog

SHOTS = Path(__file__).resolve().parent.parent.parent / "build" / "screens"


def trust_area(window: MainWindow) -> TrustArea:
    window.navigation.setCurrentRow(window.navigation.count() - 1)
    area = window.stack.currentWidget()
    assert isinstance(area, TrustArea)
    return area


def visible_tabs(area: TrustArea) -> list[str]:
    return [area.tabs.tabText(i) for i in range(area.tabs.count()) if area.tabs.isTabVisible(i)]


def grab(widget: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()  # the layout catches up with the texts just set, as it would on screen
    widget.grab().save(str(SHOTS / name))  # type: ignore[attr-defined]


@pytest.fixture
def owner_window(qtbot: QtBot, owner_services: Services, translators: object) -> MainWindow:
    """The owner (the prompt for a new PIN comes only with a sign-in)."""
    window = build_main_window(owner_services, SyncTaskRunner())
    show_active(qtbot, window)
    return window


def test_a_cashier_sees_only_privacy(window: MainWindow, services: Services) -> None:
    area = trust_area(window)
    assert visible_tabs(area) == ["隐私"]
    assert area.audit.model.rowCount() == 0 and area.backups.model.rowCount() == 0
    assert not area.privacy.delete_button.isEnabled() and not area.privacy.export_button.isEnabled()


def test_the_owner_reads_the_audit_log_with_filters(
    qtmodeltester: ModelTester, owner_window: MainWindow, owner_services: Services
) -> None:
    mid = register(owner_services, "13812345678", "张三")
    buy(owner_services, mid, 12_000)
    area = trust_area(owner_window)
    area.tabs.setCurrentWidget(area.audit)
    page = area.audit
    page.reload()
    assert visible_tabs(area) == ["隐私", "备份与恢复", "审计日志"]
    actions = {row.action for row in page.model.rows()}
    assert {"register", "purchase"} <= actions
    page.action.setCurrentIndex(page.action.findData("purchase"))
    page.apply_button.click()
    assert [row.action for row in page.model.rows()] == ["purchase"]
    assert "条" in page.count.text() and "purchase" not in page.heads.text()
    assert (
        len(owner_services.audit.heads()[0].row_hash) == 64
        and owner_services.audit.heads()[0].row_hash in page.heads.text()
    )
    page.verify_button.click()
    assert "完好" in page.verdict.text()
    grab(owner_window, "trust-audit.png")
    qtmodeltester.check(page.model)


def test_the_owner_backs_up_to_a_folder_and_restores(
    owner_window: MainWindow, owner_services: Services, tmp_path: Path
) -> None:
    register(owner_services, "13812345678", "张三")
    stick = tmp_path / "usb"
    stick.mkdir()
    area = trust_area(owner_window)
    area.tabs.setCurrentWidget(area.backups)
    page = area.backups
    page.folder.setText(str(stick))
    page.backup_button.click()
    (made,) = stick.glob("*.sqlite3")
    assert made.name in page.note.text() and page.bar.value() == page.bar.maximum() > 0
    assert (stick / (made.stem + ".key")).exists()
    grab(owner_window, "trust-backups.png")
    register(owner_services, "13812345679", "李四")
    page.restore_file.setText(str(made))
    page.restore_button.click()
    dialog = shown(RestoreDialog)
    grab(dialog, "trust-restore.png")
    dialog.ok.click()
    store = owner_services.store
    assert store.db.read(lambda s: list(s.scalars(select(Member.name)))) == ["张三"]
    assert "before-restore" in page.note.text()
    for box in QApplication.topLevelWidgets():
        if box.isVisible() and box is not owner_window:
            box.close()


def test_a_members_privacy_requests(owner_window: MainWindow, owner_services: Services, tmp_path: Path) -> None:
    mid = register(owner_services, "13812345678", "张三")
    area = trust_area(owner_window)
    page = area.privacy
    page.query.setText("5678")
    page.look_up()
    assert [h.id for h in page.hits.rows()] == [mid]
    page.withdraw_button.click()
    assert "张三" in page.note.text()
    page.export(str(tmp_path))
    exported = json.loads((tmp_path / "member-MD00000001.json").read_text(encoding="utf-8"))
    assert exported["profile"]["phone"] == "13812345678"
    grab(owner_window, "trust-privacy.png")
    page.delete_button.click()
    dialog = shown(AnonymiseDialog)
    grab(dialog, "trust-delete.png")
    dialog.ok.click()
    page.look_up()
    assert page.hits.rows() == []
