"""The counter is never queued behind other work: its own lane (worker thread) and its own SQLite connection, with
the real task runner's threads and a real store."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from app.changes import Changes
from app.context import Services, Store
from app.lanes import Lane
from app.members.service import LookupResult
from db.models import Member
from tests.ui.ui_support import register
from ui.application import build_main_window
from ui.main_window import MainWindow
from ui.tasks import TaskRunner

LONG_S = 30.0
"""How long the background work would hold its lane if nothing released it: far beyond the waits below."""


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.shutdown()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test, so the blocked background work finishes and the runner can shut down."""
    event = threading.Event()
    yield event
    event.set()


def test_counter_work_is_answered_while_the_other_lanes_are_busy(
    qtbot: QtBot, runner: TaskRunner, release: threading.Event
) -> None:
    runner.run(lambda: release.wait(LONG_S))  # browsing: the default lane
    runner.run(lambda: release.wait(LONG_S), lane=Lane.HEAVY)
    answers: list[str] = []
    runner.for_lane(Lane.COUNTER).run(lambda: "answered", answers.append)
    qtbot.waitUntil(lambda: answers == ["answered"], timeout=3000)
    assert not release.is_set() and runner.busy, "the background work is still running"


def test_a_lane_keeps_its_order_and_announces_through_the_runner(qtbot: QtBot, runner: TaskRunner) -> None:
    counter = runner.for_lane(Lane.COUNTER)
    seen: list[int] = []
    with qtbot.waitSignal(runner.changed, timeout=3000):
        for n in range(5):
            counter.run(lambda n=n: n, seen.append)
        counter.run(lambda: None, changes=Changes.POINTS)
    assert seen == [0, 1, 2, 3, 4]


def test_the_counter_keeps_one_connection_of_its_own(store: Store, runner: TaskRunner, qtbot: QtBot) -> None:
    def connection_id() -> int:
        with store.db.session() as session:
            return id(session.connection().connection.dbapi_connection)

    seen: dict[Lane, list[int]] = {lane: [] for lane in Lane}
    for _round in range(3):
        for lane in Lane:
            runner.run(connection_id, seen[lane].append, lane=lane)
    qtbot.waitUntil(lambda: all(len(ids) == 3 for ids in seen.values()), timeout=5000)
    assert len(set(seen[Lane.COUNTER])) == 1, "every counter task on the same connection"
    assert not set(seen[Lane.COUNTER]) & (set(seen[Lane.BROWSE]) | set(seen[Lane.HEAVY]))


def test_the_counter_finds_members_while_background_work_holds_the_store(
    qtbot: QtBot, services: Services, store: Store, runner: TaskRunner, release: threading.Event
) -> None:
    """A list reading in a long transaction and a maintenance job holding SQLite's only writer: the counter's
    lookup box still answers (WAL lets it read beside the writer; its lane and connection are its own)."""
    register(services, "13812345678", "张伟")
    holding = threading.Barrier(3)

    def long_read() -> None:
        with store.db.session() as session:
            session.execute(text("SELECT count(*) FROM members")).scalar()
            holding.wait()
            release.wait(LONG_S)

    def long_write() -> None:
        def hold(session: Session) -> None:
            session.execute(update(Member).values(notes="maintenance"))
            holding.wait()
            release.wait(LONG_S)

        store.db.write(hold)

    window = build_main_window(services, runner)
    qtbot.addWidget(window)
    runner.run(long_read)
    runner.run(long_write, lane=Lane.HEAVY)
    holding.wait(5)
    qtbot.keyClicks(window.counter.lookup, "5678")
    qtbot.waitUntil(lambda: [hit.name for hit in window.counter.hits.rows()] == ["张伟"], timeout=3000)
    assert not release.is_set()


def test_start_up_maintenance_waits_for_the_first_lookup(
    qtbot: QtBot, window: MainWindow, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work that can wait (expiry, tier reviews, coupons, segments) starts once the first keystroke is served."""
    register(services, "13812345678", "张伟")
    runs: list[str] = []
    monkeypatch.setattr(window, "_run_maintenance", lambda: runs.append("maintenance"))
    window.start_daily_maintenance()
    qtbot.wait(50)
    assert runs == []
    qtbot.keyClicks(window.counter.lookup, "5678")
    qtbot.waitUntil(lambda: runs == ["maintenance"], timeout=3000)
    window.counter.lookup.clear()
    qtbot.keyClicks(window.counter.lookup, "zw")
    qtbot.waitUntil(lambda: window.counter.hits.rowCount() == 1, timeout=3000)
    assert runs == ["maintenance"], "once at start-up, then daily"


def test_keys_typed_while_a_lookup_is_on_its_way_are_looked_up_together(
    qtbot: QtBot, services: Services, runner: TaskRunner, release: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No timer holds the last key back, and a burst never queues a lookup per key: what was typed while one was
    on its way is looked up once it is back, and its stale answer is never shown."""
    register(services, "13812345678", "张伟")
    asked: list[str] = []
    lookup = services.members.lookup

    def asking(query: str) -> LookupResult:
        asked.append(query)
        return lookup(query)

    monkeypatch.setattr(services.members, "lookup", asking)
    window = build_main_window(services, runner)
    qtbot.addWidget(window)
    runner.for_lane(Lane.COUNTER).run(lambda: release.wait(LONG_S))  # the first key's lookup waits behind it
    qtbot.keyClicks(window.counter.lookup, "138")
    qtbot.wait(50)
    assert asked == []
    release.set()
    qtbot.waitUntil(lambda: [hit.name for hit in window.counter.hits.rows()] == ["张伟"], timeout=3000)
    assert asked == ["1", "138"]
