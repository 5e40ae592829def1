"""The task runner: work off the GUI thread, results and errors back on it, refusals shown, bugs never fatal."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.changes import Changes
from app.errors import MemberDeskError, NotFoundError
from ui.crash import CrashDialog
from ui.tasks import SyncTaskRunner, TaskRunner


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.shutdown()


def close_top_levels(kind: type[QWidget]) -> list[QWidget]:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
    for widget in found:
        widget.close()
    return found


def test_work_runs_on_one_worker_and_answers_on_the_gui_thread(qtbot: QtBot, runner: TaskRunner) -> None:
    gui = threading.get_ident()
    seen: list[tuple[int, int, bool]] = []

    def on_done(result: tuple[int, int]) -> None:
        seen.append((result[0], result[1], threading.get_ident() == gui))

    def work(n: int) -> tuple[int, int]:
        return n, threading.get_ident()

    with qtbot.waitSignal(runner.changed, timeout=3000) as changed:
        for n in range(5):
            runner.run(partial(work, n), on_done, changes=Changes.POINTS if n == 4 else Changes.NONE)
    assert [n for n, _, _ in seen] == [0, 1, 2, 3, 4], "one serial worker keeps the order"
    assert len({worker for _, worker, _ in seen}) == 1 and seen[0][1] != gui
    assert all(on_gui for _, _, on_gui in seen)
    assert changed.args == [Changes.POINTS]


def test_busy_is_reported_while_work_runs(qtbot: QtBot, runner: TaskRunner) -> None:
    states: list[bool] = []
    runner.busy_changed.connect(states.append)
    with qtbot.waitSignal(runner.busy_changed, timeout=3000, check_params_cb=lambda busy: not busy):
        runner.run(lambda: None)
    assert states == [True, False] and not runner.busy


def test_a_refusal_goes_to_on_error_and_changes_nothing(qtbot: QtBot, runner: TaskRunner) -> None:
    errors: list[MemberDeskError] = []
    changed: list[object] = []
    runner.changed.connect(changed.append)

    def refuse() -> None:
        raise NotFoundError("Member not found.")

    runner.run(refuse, on_error=errors.append, changes=Changes.MEMBERS)
    qtbot.waitUntil(lambda: bool(errors), timeout=3000)
    assert str(errors[0]) == "未找到该会员。" or str(errors[0]) == "Member not found."
    assert changed == []


def test_a_refusal_without_on_error_is_shown(qtbot: QtBot) -> None:
    runner = SyncTaskRunner()

    def refuse() -> None:
        raise NotFoundError("Member not found.")

    runner.run(refuse)
    boxes = close_top_levels(QMessageBox)
    assert boxes and "Member not found." in boxes[0].text()  # type: ignore[attr-defined]


def test_a_bug_opens_the_crash_dialog_and_the_runner_keeps_working(qtbot: QtBot, runner: TaskRunner) -> None:
    def bug() -> None:
        raise ZeroDivisionError("a bug")

    done: list[int] = []
    runner.run(bug)
    runner.run(lambda: 42, done.append)
    qtbot.waitUntil(lambda: done == [42], timeout=3000)
    dialogs = close_top_levels(CrashDialog)
    assert dialogs and "ZeroDivisionError: a bug" in dialogs[0].details.toPlainText()  # type: ignore[attr-defined]


def test_a_failing_callback_is_reported_not_raised(qtbot: QtBot) -> None:
    runner = SyncTaskRunner()
    runner.run(lambda: 1, lambda _result: [][0])
    dialogs = close_top_levels(CrashDialog)
    assert dialogs and "IndexError" in dialogs[0].details.toPlainText()  # type: ignore[attr-defined]


def test_the_changes_a_service_result_reports_are_announced_with_the_declared_ones(qtbot: QtBot) -> None:
    @dataclass(frozen=True)
    class Result:
        changes: Changes

    runner = SyncTaskRunner()
    seen: list[Changes] = []
    runner.changed.connect(seen.append)
    runner.run(lambda: Result(Changes.POINTS | Changes.CATALOGUE), changes=Changes.SALES)
    runner.run(lambda: Result(Changes.NONE))
    runner.run(lambda: 42)
    assert seen == [Changes.POINTS | Changes.CATALOGUE | Changes.SALES]
