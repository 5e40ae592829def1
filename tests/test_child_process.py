"""app/child_process.py: work in a forked child, progress answered here, results and errors brought back."""

from __future__ import annotations

import os

import pytest

from app.child_process import Progress, run_in_child
from tests.windows.support import NEEDS_FORK

# Only used where a fork helps (`app.workers.fork_helps`): never on Windows, whose callers do the work themselves.
pytestmark = NEEDS_FORK


class Unpicklable(Exception):
    def __init__(self, code: int, where: str) -> None:
        super().__init__(f"{code} at {where}")


def test_progress_is_answered_here_and_the_result_comes_back() -> None:
    asked: list[tuple[int, int, str]] = []

    def stop_at_two(done: int, total: int, what: str) -> bool:
        asked.append((done, total, what))
        return done < 2

    def work(progress: Progress) -> tuple[int, list[bool]]:
        return os.getpid(), [progress(i, 3, f"step {i}") for i in range(3)]

    child_pid, answers = run_in_child(work, stop_at_two, "test")
    assert child_pid != os.getpid()
    assert answers == [True, True, False]
    assert asked == [(0, 3, "step 0"), (1, 3, "step 1"), (2, 3, "step 2")]


def test_errors_come_back_even_when_they_do_not_pickle() -> None:
    def fails(_progress: Progress) -> None:
        raise ValueError("bad month")

    with pytest.raises(ValueError, match="bad month"):
        run_in_child(fails, lambda *_: True, "test")

    def fails_oddly(_progress: Progress) -> None:
        raise Unpicklable(7, "the child")

    with pytest.raises(RuntimeError, match="Unpicklable: 7 at the child"):
        run_in_child(fails_oddly, lambda *_: True, "test")


def test_an_error_here_ends_the_child() -> None:
    def waits(progress: Progress) -> None:
        progress(0, 1, "start")
        while True:
            progress(0, 1, "still here")

    def refuses(_done: int, _total: int, what: str) -> bool:
        if what == "still here":
            raise KeyError(what)
        return True

    with pytest.raises(KeyError):
        run_in_child(waits, refuses, "test")
