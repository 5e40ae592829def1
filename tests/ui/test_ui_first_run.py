"""The first start on a new PC: a new store, joining a chain's server, a demo store for training."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QWizard
from pytestqt.qtbot import QtBot

from app.context import Store
from app.keyfile import export_key, load_or_create_key, read_key
from app.paths import needs_first_run
from db.engine import SQLITE_FILENAME, saved_database_url
from ui.first_run import FirstRunWizard
from ui.i18n import Translators
from ui.local_settings import LAST_USERNAME, LocalSettings
from ui.tasks import SyncTaskRunner, _Task

PG_URL_ENV = "MEMBERDESK_TEST_PG_URL"


@pytest.fixture
def wizard(qtbot: QtBot, tmp_path: Path, translators: Translators) -> FirstRunWizard:
    wizard = FirstRunWizard(SyncTaskRunner(), tmp_path / "data")
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    return wizard


def fill_new_store(wizard: FirstRunWizard, pin: str = "2580", again: str = "2580") -> None:
    wizard.choice.new_store.setChecked(True)
    wizard.next()
    page = wizard.new_store
    page.store_name.setText("幸福里便利店")
    page.owner_name.setText("王老板")
    page.owner_username.setText("wang")
    page.pin.setText(pin)
    page.pin_again.setText(again)
    page.yuan_per_point.setValue(2)
    page.points_per_yuan.setValue(50)
    page.expiry_months.setValue(12)


def test_a_pc_without_a_store_needs_the_first_run(tmp_path: Path) -> None:
    assert needs_first_run(tmp_path, None)
    assert not needs_first_run(tmp_path, "postgresql+psycopg://u@server/db")
    Store.open(tmp_path).close()
    assert not needs_first_run(tmp_path, None)


def test_a_new_store_gets_its_name_owner_pin_and_points_rules(
    qtbot: QtBot, wizard: FirstRunWizard, tmp_path: Path
) -> None:
    fill_new_store(wizard)
    wizard.grab().save(str(tmp_path / "first-run-new-store.png"))
    with qtbot.waitSignal(wizard.accepted, timeout=10_000):
        wizard.button(QWizard.WizardButton.FinishButton).click()
    assert LocalSettings(tmp_path / "data").get(LAST_USERNAME) == "wang"
    store = Store.open(tmp_path / "data")
    try:
        owner = store.sign_in("wang", "2580")
        assert owner.display_name == "王老板"
        settings = store.services(owner).settings.all()
        assert settings["store.name"] == "幸福里便利店"
        assert settings["points.fen_per_point"] == 200
        assert settings["points.redeem_points_per_yuan"] == 50
        assert settings["points.expiry_months"] == 12 and settings["points.expiry_mode"] == "rolling"
    finally:
        store.close()


@pytest.mark.parametrize(("pin", "again", "message"), [("2580", "2581", "不一致"), ("0000", "0000", "初始")])
def test_a_refused_form_says_why_and_makes_no_store(
    wizard: FirstRunWizard, tmp_path: Path, pin: str, again: str, message: str
) -> None:
    fill_new_store(wizard, pin, again)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.isVisible() and wizard.result() != QWizard.DialogCode.Accepted
    error = wizard.new_store.error
    assert error.isVisible() and message in error.text()
    assert not (tmp_path / "data" / SQLITE_FILENAME).exists()


def test_a_demo_store_for_training(qtbot: QtBot, wizard: FirstRunWizard, tmp_path: Path) -> None:
    wizard.choice.demo_store.setChecked(True)
    wizard.next()
    assert wizard.button(QWizard.WizardButton.FinishButton).isVisible()
    wizard.grab().save(str(tmp_path / "first-run-demo.png"))
    with qtbot.waitSignal(wizard.accepted, timeout=120_000):
        wizard.button(QWizard.WizardButton.FinishButton).click()
    assert "3,000" in wizard.summary
    assert (tmp_path / "data" / SQLITE_FILENAME).exists()
    assert LocalSettings(tmp_path / "data").get(LAST_USERNAME) == "owner", "the sign-in offers the account named"


class HeldTaskRunner(SyncTaskRunner):
    """Runs the work only when released, as a worker still busy making the store would."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[Callable[[], None]] = []

    def _submit(self, task: _Task) -> None:
        self.held.append(lambda: SyncTaskRunner._submit(self, task))

    def release(self) -> None:
        while self.held:
            self.held.pop(0)()


def test_the_wizard_cannot_be_cancelled_while_the_store_is_made(qtbot: QtBot, tmp_path: Path) -> None:
    """Cancel, Esc or closing the window half-way would leave a half-made store that the next start takes for a
    finished one."""
    tasks = HeldTaskRunner()
    wizard = FirstRunWizard(tasks, tmp_path / "data")
    qtbot.addWidget(wizard)
    wizard.show()
    fill_new_store(wizard)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert tasks.held and wizard.findChild(QProgressBar, "firstRunBusy").isVisible()
    assert not wizard.button(QWizard.WizardButton.CancelButton).isEnabled()
    with qtbot.assertNotEmitted(wizard.rejected):
        qtbot.keyClick(wizard, Qt.Key.Key_Escape)
        wizard.close()
    assert wizard.isVisible()
    with qtbot.waitSignal(wizard.accepted, timeout=10_000):
        tasks.release()
    assert (tmp_path / "data" / SQLITE_FILENAME).exists()


def test_an_unreachable_server_is_said_and_nothing_saved(wizard: FirstRunWizard, tmp_path: Path) -> None:
    wizard.choice.join_chain.setChecked(True)
    wizard.next()
    page = wizard.join_chain
    page.address.setText("postgresql+psycopg://memberdesk@127.0.0.1:9/memberdesk")
    page.test_button.click()
    assert page.error.isVisible() and "没有响应" in page.error.text()  # did not answer
    page.address.setText("D:\\MemberDesk")
    page.test_button.click()
    assert "不是 PostgreSQL 地址" in page.error.text()
    assert saved_database_url(tmp_path / "data") is None


@pytest.mark.pg
@pytest.mark.skipif(not os.environ.get(PG_URL_ENV), reason=f"{PG_URL_ENV} names no PostgreSQL server")
@pytest.mark.parametrize("backend", ["pg"])
def test_joining_a_chain_tests_the_server_takes_the_key_and_saves_the_address(
    qtbot: QtBot, wizard: FirstRunWizard, tmp_path: Path, db_url: str
) -> None:
    first_counter = tmp_path / "first" / "memberdesk.key"
    key = load_or_create_key(first_counter, None)
    export_key(first_counter, tmp_path / "chain.mdkey", "our chain 2026", None)
    wizard.choice.join_chain.setChecked(True)
    wizard.next()
    page = wizard.join_chain
    page.address.setText(db_url)
    page.test_button.click()
    assert "PostgreSQL" in page.test_result.text()
    page.key_file.setText(str(tmp_path / "chain.mdkey"))
    page.passphrase.setText("our chain 2026")
    with qtbot.waitSignal(wizard.accepted, timeout=30_000):
        wizard.button(QWizard.WizardButton.FinishButton).click()
    data = tmp_path / "data"
    assert saved_database_url(data) == db_url
    assert read_key(data / "memberdesk.key", None) == key
    store = Store.open(data)  # the saved address is used without --database
    try:
        assert not store.db.is_sqlite
    finally:
        store.close()
    assert isinstance(page.error, QLabel) and not page.error.isVisible()
