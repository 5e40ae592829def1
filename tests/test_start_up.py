"""The counter's start path loads only what it uses (issue 14: launch → first lookup ≤ 0.8 s): on this PC's SQLite
file, opening a store already at head, signing in and the first lookup load neither SQLAlchemy nor Alembic nor the
models, nor any chart, segment, coupon, backup or care module — in the GUI too, until the first answer is painted;
they answer what the services answer, check what they check and write what they write (the sign-in's record once
the database is loaded); `Services.prepare` makes every service (the GUI asks a worker once the counter is quiet
after its first answer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cached_property
from pathlib import Path

import pytest

from app.context import Services, Store
from app.errors import PermissionDenied
from app.members.first_lookup import first_lookup
from app.members.first_sql import STAGES
from app.members.service import MemberForm, sqlite_statements
from app.security.operator import Operator
from db.enums import StaffRole
from db.plain import PlainReads
from tests.staff_support import CASHIER_PIN, add_counter_staff

ROOT = Path(__file__).resolve().parent.parent
NOT_AT_START = (
    "sqlalchemy",
    "alembic",
    "db.models",
    "db.engine",
    "app.members.service",
    "app.charts",
    "app.insights.service",
    "app.coupons.service",
    "app.trust.backup",
    "app.care",
)
"""Module prefixes the path from opening the store to the first lookup answered must not load."""

START_PATH = """
import sys
from pathlib import Path
from app.context import Store
from db.plain import counter_connection

with counter_connection():
    store = Store.open(Path(sys.argv[1]))
    signed = store.sign_ins().sign_in("owner", "0000")
    hits = store.services(signed.operator).lookup("zs").hits
    loaded = sorted(sys.modules)
    store.close()  # writes the sign-in's record: SQLAlchemy is loaded now
print(len(hits))
print("\\n".join(loaded))
"""


def test_opening_signing_in_and_the_first_lookup_load_only_what_they_use(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    services = store.services(store.operator())
    services.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))
    store.close()

    result = subprocess.run(
        [sys.executable, "-c", START_PATH, str(tmp_path / "data")], cwd=ROOT, capture_output=True, text=True, check=True
    )
    found, *modules = result.stdout.split()
    assert found == "1", "the lookup found the member"
    loaded = [name for name in modules if name.startswith(NOT_AT_START)]
    assert loaded == [], "loaded before the first lookup was answered"


def test_prepare_makes_every_service(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    try:
        services = store.services(store.operator())
        names = [name for name, member in vars(Services).items() if isinstance(member, cached_property)]
        assert len(names) == 17 and not any(name in vars(services) for name in names), "nothing made before use"
        services.prepare()
        assert all(name in vars(services) for name in names)
    finally:
        store.close()


def test_the_gui_paints_its_first_answer_before_loading_sqlalchemy(tmp_path: Path) -> None:
    """The real start (`ui.application.launch`, as the start-up benchmark drives it): a key typed at once, the
    sign-in, the first answer painted — and SQLAlchemy not imported by then; the sign-in is in the audit log after."""
    data = tmp_path / "data"
    store = Store.open(data)
    store.services(store.operator()).members.register(
        MemberForm(phone="13812345678", name="张三", membership_consent=True)
    )
    store.close()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_startup.py"), "--child", "app", "--data-dir", str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    events = {event.pop("event"): event for event in map(json.loads, result.stdout.split("\n")[:-1])}
    assert events["first_lookup"]["sqlalchemy"] is False, "SQLAlchemy was loaded before the first answer was painted"
    plain = PlainReads(data / "memberdesk.sqlite3")
    try:
        assert plain.rows("SELECT count(*) FROM audit_log WHERE action = 'sign_in'") == [(1,)]
    finally:
        plain.close()


def test_the_first_lookup_runs_the_lookups_own_statements() -> None:
    """app/members/first_sql.py is what the lookup's statements compile to on SQLite (`python -m
    app.members.first_sql` writes it again after they change)."""
    assert sqlite_statements() == STAGES


@pytest.fixture
def started(tmp_path: Path) -> Store:
    """A store with members, then opened again as the GUI opens it: on the plain connection."""
    store = Store.open(tmp_path / "data")
    add_counter_staff(store)
    services = store.services(store.operator("owner"))
    for n, name in enumerate(["张三", "张珊", "李四", "单田芳", "王五"]):
        services.members.register(
            MemberForm(phone=f"1381234{n:04d}", name=name, card_no=f"8800{n:04d}", membership_consent=True)
        )
    store.close()
    opened = Store.open(tmp_path / "data")
    assert opened.plain is not None and not opened.loaded, "a store at head opens without SQLAlchemy's database"
    return opened


QUERIES = [
    "张",
    "张三",
    "zs",
    "zhang",
    "shan",
    "0001",
    "13812340002",
    "138123",
    "88000003",
    "8800",
    "MD",
    "nobody",
    " ",
]


def test_the_first_lookup_answers_what_the_member_service_answers(started: Store) -> None:
    try:
        for role in (StaffRole.CASHIER, StaffRole.MANAGER):
            operator = Operator(None, 1, role, "")
            assert started.plain is not None
            first = [first_lookup(started.plain, query, operator.sees_full_phone) for query in QUERIES]
            services = started.services(operator)
            assert first == [services.members.lookup(query) for query in QUERIES]
            assert any(result.hits for result in first) and any(result.exact for result in first)
    finally:
        started.close()


def test_a_sign_in_on_the_plain_connection_is_recorded_once_the_database_is_made(started: Store) -> None:
    try:
        plain = started.plain
        assert plain is not None
        audited = "SELECT count(*) FROM audit_log WHERE action = ?"
        signed = started.sign_ins().sign_in("cashier", CASHIER_PIN)
        assert signed.operator.role is StaffRole.CASHIER and not started.loaded
        assert plain.connection.execute(audited, ("sign_in",)).fetchone() == (0,)
        with pytest.raises(PermissionDenied):
            started.sign_ins().sign_in("cashier", "9999")  # a wrong PIN is counted at once (the database is made)
        assert started.loaded
        assert plain.connection.execute(audited, ("sign_in",)).fetchone() == (1,), "written before the failure"
        assert plain.connection.execute("SELECT failures FROM pin_guards").fetchall() == [(1,)]
        started.sign_ins().sign_in("cashier", CASHIER_PIN)
        assert plain.connection.execute(audited, ("sign_in",)).fetchone() == (2,)
        details = "SELECT details FROM audit_log WHERE action = 'sign_in' ORDER BY id"
        first, second = (row[0] or "" for row in plain.connection.execute(details))
        assert "signed_in_at" in first and "signed_in_at" not in second, "the deferred entry keeps the PIN's time"
        assert plain.connection.execute("SELECT count(*) FROM pin_guards").fetchone() == (0,)
    finally:
        started.close()


def test_a_store_to_migrate_or_to_fill_opens_through_sqlalchemy(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "new")
    try:
        assert store.plain is None and store.loaded, "a new store is made and filled by SQLAlchemy and Alembic"
    finally:
        store.close()
