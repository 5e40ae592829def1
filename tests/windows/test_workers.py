"""Finding 12: Windows has no fork. The child-process helper works with spawn too, and nothing forces fork."""

from __future__ import annotations

import multiprocessing
from collections.abc import Generator
from functools import partial

import pytest

from app import workers


def squares(count: int) -> Generator[int, None, str]:
    for number in range(count):
        yield number * number
    return f"{count} made"


def broken(count: int) -> Generator[int, None, str]:
    yield count
    raise ValueError("bad row")


def test_a_spawned_child_makes_the_items_and_returns_the_result() -> None:
    made = workers.in_child(partial(squares, 5), "squares", method="spawn")
    items = []
    while True:
        try:
            items.append(next(made))
        except StopIteration as stop:
            assert stop.value == "5 made"
            break
    assert items == [0, 1, 4, 9, 16]


def test_an_error_in_a_spawned_child_is_raised_here() -> None:
    with pytest.raises(ValueError, match="bad row"):
        list(workers.in_child(partial(broken, 1), "broken", method="spawn"))


def test_without_fork_the_rows_are_made_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert not workers.fork_helps()
