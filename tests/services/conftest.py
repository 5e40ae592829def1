"""Services on a real database (SQLite file and PostgreSQL via the top-level `database` fixture)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.bootstrap import ensure_store
from app.clock import FixedClock
from app.context import Services, Store
from app.paths import DataPaths
from app.security.crypto import FieldCipher
from app.security.operator import Operator
from app.security.pins import hash_pin
from db.engine import Database
from db.enums import StaffRole
from db.models import Staff

# A Wednesday morning in the store's time zone (Asia/Shanghai).
START = dt.datetime(2026, 11, 18, 2, 0, tzinfo=dt.UTC)
MANAGER_PIN = "6666"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def store(database: Database, tmp_path: Path, clock: FixedClock) -> Store:
    ensure_store(database)

    def add_staff(session: Session) -> None:
        session.add_all(
            [
                Staff(
                    username="manager",
                    display_name="王店长",
                    role=StaffRole.MANAGER,
                    branch_id=1,
                    pin_hash=hash_pin(MANAGER_PIN),
                ),
                Staff(
                    username="cashier",
                    display_name="李收银",
                    role=StaffRole.CASHIER,
                    branch_id=1,
                    pin_hash=hash_pin("1234"),
                ),
            ]
        )

    database.write(add_staff)
    paths = DataPaths(tmp_path / "data").ensure()
    return Store(paths, database, FieldCipher.from_key_file(paths.key_file), clock)


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
