"""The settings a counter read are kept per store until their version row changes (issue 16: the member panel and
every purchase read them): one primary-key lookup while nothing changed, and a change made at any counter is seen
at every other counter's next read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from app.context import Services, Store
from app.errors import ValidationError
from app.settings import SettingsService, read_settings
from db.engine import Database


@pytest.fixture
def other_counter(store: Store) -> Iterator[Database]:
    db = Database(store.db.url)
    yield db
    db.dispose()


def statements(db: Database, work: Any) -> tuple[Any, list[str]]:
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        return work(), sent
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_unchanged_settings_cost_one_lookup(store: Store) -> None:
    first = store.db.read(read_settings)
    again, sent = statements(store.db, lambda: store.db.read(read_settings))
    assert again is first
    assert len([s for s in sent if "settings" in s]) == 1


def test_a_change_at_one_counter_is_read_at_another(store: Store, boss: Services, other_counter: Database) -> None:
    before = other_counter.read(read_settings)
    assert before.points_fen_per_point == 100
    boss.settings.update({"points.fen_per_point": 50})
    assert other_counter.read(read_settings).points_fen_per_point == 50
    assert store.db.read(read_settings).points_fen_per_point == 50
    other = SettingsService(other_counter, store.operator("owner"))
    other.update({"points.fen_per_point": 80})
    assert store.db.read(read_settings).points_fen_per_point == 80
    assert boss.settings.current().points_fen_per_point == 80


def test_a_failed_change_keeps_the_settings(store: Store, boss: Services) -> None:
    before = store.db.read(read_settings)
    with pytest.raises(ValidationError):
        boss.settings.update({"points.fen_per_point": "lots"})
    assert store.db.read(read_settings) == before
