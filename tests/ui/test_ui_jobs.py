"""Background jobs from the GUI: each in a process of its own, so the counter keeps answering even while a job holds
its interpreter's lock; progress and Stop in the status bar; results announced as before."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app.changes import Changes
from app.child_process import Progress, run_job
from app.clock import FixedClock
from app.context import Services, Store
from app.jobs import BackgroundJobs
from app.lanes import Lane
from app.trust.backup import AUTO_FOLDER
from db.engine import Database
from db.models import Member
from tests.jobs_support import hold_the_interpreter as hold_in_c
from tests.ui.ui_support import buy, register, shown
from ui.application import build_main_window
from ui.i18n import Translators
from ui.jobs import JobStatus
from ui.main_window import MainWindow
from ui.pages.members import MembersPage
from ui.tasks import SyncTaskRunner, TaskRunner

WAIT_MS = 120_000


def hold_the_interpreter(_db: Database, progress: Progress) -> bool:
    """Holds its interpreter's lock in C code, as SQLAlchemy's row processing or numpy can: while it runs, no other
    thread of the same interpreter (the counter's) gets a single step in."""
    progress(0, 1, "holding")
    return hold_in_c()


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.shutdown(WAIT_MS)


def test_the_counter_answers_while_a_job_holds_its_own_interpreter(
    qtbot: QtBot, store: Store, services: Services, runner: TaskRunner
) -> None:
    """Were the job run in this interpreter (a thread on the heavy lane), the lookup could not even start before
    the match ended, and its answer would come after the job's."""
    register(services, "13812345678", "张伟")
    status = JobStatus(runner)
    qtbot.addWidget(status)
    started = threading.Event()
    answers: list[object] = []

    def job(progress: Progress) -> bool:
        def told(done: int, total: int, what: str) -> bool:
            started.set()
            return progress(done, total, what)

        return run_job(store.db, hold_the_interpreter, told, "holding")

    status.run("holding", job, answers.append)
    assert started.wait(WAIT_MS / 1000)
    runner.for_lane(Lane.COUNTER).run(
        lambda: services.members.lookup("5678"), lambda found: answers.append([hit.name for hit in found.hits])
    )
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=WAIT_MS)
    assert answers == [["张伟"], True], "the counter answered while the job held its own interpreter"
    assert status.isHidden()


def test_stop_ends_the_maintenance_and_says_so(
    qtbot: QtBot, store: Store, services: Services, runner: TaskRunner
) -> None:
    member = register(services, "13812345678", "张伟")
    buy(services, member, 10_000)
    later = FixedClock(dt.datetime.now(dt.UTC) + dt.timedelta(days=800))
    jobs = BackgroundJobs(store.db, services.operator, later, store.paths)
    status = JobStatus(runner)
    qtbot.addWidget(status)
    status.run("每日维护", jobs.maintenance)
    status.cancel()
    qtbot.waitUntil(lambda: status.running == 0, timeout=WAIT_MS)
    assert status.label.text() == "每日维护: stopped" and not status.isHidden()
    with store.db.session() as session:
        assert session.scalar(select(func.count()).where(Member.points_balance == 0)) == 0, "nobody expired"


def test_the_window_runs_the_day_s_maintenance_in_jobs_and_announces_it(
    qtbot: QtBot, window: MainWindow, tasks: SyncTaskRunner, store: Store
) -> None:
    heard: list[Changes] = []
    tasks.changed.connect(heard.append)
    window._run_maintenance()
    assert Changes.POINTS | Changes.MEMBERS in heard
    assert list((store.paths.backups / AUTO_FOLDER).glob("auto-*")), "the daily backup was made"
    assert window.jobs.running == 0 and window.jobs.isHidden()


def test_a_manager_imports_a_member_file_from_the_member_list(
    qtbot: QtBot,
    store: Store,
    owner_services: Services,
    tasks: SyncTaskRunner,
    translators: Translators,
    tmp_path: Path,
) -> None:
    path = tmp_path / "会员.csv"
    path.write_text("member_no,phone,name\nA1,13800000001,张伟\nA2,12,李娜\n", encoding="utf-8")
    window = build_main_window(owner_services, tasks)
    qtbot.addWidget(window)
    window.show()
    window.navigation.setCurrentRow(1)
    page = window.stack.currentWidget()
    assert isinstance(page, MembersPage) and not page.import_button.isHidden()
    page.start_import(path)
    box = shown(QMessageBox)
    assert box.text().startswith("导入 1 条") and "第 3 行" in box.text(), box.text()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    assert page.import_button.isEnabled() and page.job.isHidden()


def test_a_cashier_has_no_import(window: MainWindow) -> None:
    window.navigation.setCurrentRow(1)
    page = window.stack.currentWidget()
    assert isinstance(page, MembersPage) and page.import_button.isHidden()
