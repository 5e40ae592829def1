"""app/child_process.py: work in a child process (forked, or spawned as on Windows), progress answered here,
results and errors brought back, a child that dies reported."""

from __future__ import annotations

import os
from functools import partial

import pytest

from app.child_process import ChildDied, Progress, run_in_child
from tests.windows.support import NEEDS_FORK


def count_to(last: int, progress: Progress) -> tuple[int, int]:
    """Module-level, so it crosses to a spawned process (the way every job goes on Windows)."""
    told = sum(progress(n, last, "counting") for n in range(last + 1))
    return os.getpid(), told


class Unpicklable(Exception):
    def __init__(self, code: int, where: str) -> None:
        super().__init__(f"{code} at {where}")


@NEEDS_FORK  # the work is a closure: only a fork carries it
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


@NEEDS_FORK  # the work is a closure: only a fork carries it
def test_errors_come_back_even_when_they_do_not_pickle() -> None:
    def fails(_progress: Progress) -> None:
        raise ValueError("bad month")

    with pytest.raises(ValueError, match="bad month"):
        run_in_child(fails, lambda *_: True, "test")

    def fails_oddly(_progress: Progress) -> None:
        raise Unpicklable(7, "the child")

    with pytest.raises(RuntimeError, match="Unpicklable: 7 at the child"):
        run_in_child(fails_oddly, lambda *_: True, "test")


@NEEDS_FORK  # the work is a closure: only a fork carries it
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


def test_the_spawn_path_pickles_the_work_and_answers_its_progress() -> None:
    heard: list[int] = []
    child_pid, told = run_in_child(
        partial(count_to, 3), lambda done, *_: heard.append(done) is None, "spawned", method="spawn"
    )
    assert child_pid != os.getpid() and told == 4 and heard == [0, 1, 2, 3]


@NEEDS_FORK  # the work is a closure: only a fork carries it
def test_a_child_that_dies_is_reported() -> None:
    def dies(progress: Progress) -> None:
        progress(0, 1, "start")
        os._exit(3)

    with pytest.raises(ChildDied) as died:
        run_in_child(dies, lambda *_: True, "test")
    assert died.value.params == {"code": "3"}
