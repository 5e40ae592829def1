"""Services on a real database (SQLite file and PostgreSQL via the top-level `database` fixture)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.bootstrap import ensure_store
from app.clock import FixedClock
from app.context import Services, Store
from app.paths import DataPaths
from app.security.crypto import FieldCipher
from app.security.operator import Operator
from db.engine import Database
from tests.staff_support import add_counter_staff

# A Wednesday morning in the store's time zone (Asia/Shanghai).
START = dt.datetime(2026, 11, 18, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def store(database: Database, tmp_path: Path, clock: FixedClock) -> Store:
    ensure_store(database)

    paths = DataPaths(tmp_path / "data").ensure()
    store = Store(paths, database, FieldCipher.from_key_file(paths.key_file), clock)
    add_counter_staff(store)
    return store


@pytest.fixture
def cashier(store: Store) -> Operator:
    return store.operator("cashier")


@pytest.fixture
def owner(store: Store) -> Operator:
    return store.operator("owner")


@pytest.fixture
def svc(store: Store, cashier: Operator) -> Services:
    return store.services(cashier)


@pytest.fixture
def boss(store: Store, owner: Operator) -> Services:
    return store.services(owner)
