"""db.bulk: what bulk loads (imports, the demo) build on."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from db import bulk
from db.engine import Database


def test_ordered_uuids_are_version_7_increasing_and_distinct() -> None:
    moment = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
    made = bulk.ordered_uuids(moment)
    values = [next(made) for _ in range(10_000)]
    assert values == sorted(values) and len(set(values)) == len(values)
    parsed = [uuid.UUID(v) for v in values[:3]]
    assert [(u.version, u.variant) for u in parsed] == [(7, uuid.RFC_4122)] * 3
    assert [str(u) for u in parsed] == values[:3]
    assert int(values[0].replace("-", "")[:12], 16) == int(moment.timestamp() * 1000)
    assert next(bulk.ordered_uuids(moment)) != values[0]  # another load starts elsewhere


def test_select_in_asks_in_chunks_and_finds_every_row(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "IN_CHUNK", 3)
    with database.engine.connect() as conn:
        codes = [code for (code,) in conn.exec_driver_sql("SELECT code FROM tiers ORDER BY code")]
        found = bulk.select_in(conn, "SELECT code, id FROM tiers WHERE code IN ({values})", [*codes, "no-such"])
        assert sorted(code for code, _id in found) == codes
        assert bulk.select_in(conn, "SELECT id FROM tiers WHERE code IN ({values})", []) == []
