"""PINs at the counter (issue 9): a growing wait after wrong PINs per account and per approval, a lock after 30,
everything audited, Argon2id hashes and old PBKDF2 hashes upgraded at the next sign-in."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest
from sqlalchemy import select, update

from app.clock import FixedClock
from app.context import Services, Store
from app.errors import PermissionDenied
from app.security.guard import LOCK_AFTER, PinLocked, wait_after
from app.security.sign_in import SignInService
from db.models import AuditLog, Staff
from tests.staff_support import CASHIER_PIN, MANAGER_PIN
from tests.ui.ui_support import register


def audit_actions(store: Store, *actions: str) -> list[str]:
    with store.db.session() as session:
        return list(session.scalars(select(AuditLog.action).where(AuditLog.action.in_(actions)).order_by(AuditLog.id)))


def wrong_pins(sign_ins: SignInService, clock: FixedClock, count: int) -> None:
    """`count` wrong PINs, each typed as soon as the wait before it is over."""
    for _ in range(count):
        with pytest.raises(PermissionDenied) as refused:
            sign_ins.sign_in("cashier", "9999")
        assert not isinstance(refused.value, PinLocked) or "9999" not in str(refused.value)
        clock.advance(dt.timedelta(days=1, seconds=1))


def test_the_wait_grows_after_five_wrong_pins(store: Store, clock: FixedClock) -> None:
    sign_ins = store.sign_ins()
    for _ in range(4):
        with pytest.raises(PermissionDenied):
            sign_ins.sign_in("cashier", "9999")
    with pytest.raises(PinLocked, match="30"):  # the fifth starts a 30 s wait
        sign_ins.sign_in("cashier", "9999")
    with pytest.raises(PinLocked):  # even the right PIN waits: nothing is checked meanwhile
        sign_ins.sign_in("cashier", CASHIER_PIN)
    clock.advance(dt.timedelta(seconds=31))
    assert sign_ins.sign_in("cashier", CASHIER_PIN).operator.display_name == "李收银"
    with pytest.raises(PermissionDenied) as refused:  # the count started again
        sign_ins.sign_in("cashier", "9999")
    assert not isinstance(refused.value, PinLocked)
    assert [wait_after(n) for n in (4, 5, 6, 7)] == [
        None,
        dt.timedelta(seconds=30),
        dt.timedelta(seconds=60),
        dt.timedelta(seconds=120),
    ]
    assert audit_actions(store, "sign_in", "sign_in_failed").count("sign_in_failed") == 6


def test_thirty_wrong_pins_lock_the_account_until_an_owner_resets_it(
    store: Store, clock: FixedClock, boss: Services
) -> None:
    sign_ins = store.sign_ins()
    wrong_pins(sign_ins, clock, LOCK_AFTER - 1)
    with pytest.raises(PinLocked, match="30"):
        sign_ins.sign_in("cashier", "9999")
    clock.advance(dt.timedelta(hours=23))
    with pytest.raises(PinLocked):
        sign_ins.sign_in("cashier", CASHIER_PIN)
    assert audit_actions(store, "pin_locked") == ["pin_locked"]
    cashier_id = store.operator("cashier").staff_id
    assert cashier_id is not None
    boss.staff.reset_pin(cashier_id, "2468")
    assert sign_ins.sign_in("cashier", "2468").operator.staff_id == cashier_id


def test_guessing_a_managers_pin_through_approvals_is_throttled(store: Store, svc: Services, clock: FixedClock) -> None:
    member_id = register(svc, "13812345678", "张伟")
    for guess in ("1111", "2222", "3333", "4444", "5555"):
        with pytest.raises(PermissionDenied):
            svc.loyalty.adjust_points(member_id, 10, "漏积分", str(uuid.uuid4()), approver_pin=guess)
    with pytest.raises(PinLocked):  # the right PIN waits too
        svc.loyalty.adjust_points(member_id, 10, "漏积分", str(uuid.uuid4()), approver_pin=MANAGER_PIN)
    assert audit_actions(store, "approval_pin_failed") == ["approval_pin_failed"] * 5
    clock.advance(dt.timedelta(seconds=31))
    svc.loyalty.adjust_points(member_id, 10, "漏积分", str(uuid.uuid4()), approver_pin=MANAGER_PIN)
    assert svc.members.profile(member_id).points_balance == 10


def test_sign_in_switch_and_lock_are_audited(store: Store) -> None:
    sign_ins = store.sign_ins()
    cashier = sign_ins.sign_in("cashier", CASHIER_PIN).operator
    sign_ins.sign_out(cashier, "lock")
    sign_ins.sign_in("cashier", CASHIER_PIN, previous=cashier)
    manager = sign_ins.sign_in("manager", MANAGER_PIN, previous=cashier).operator
    sign_ins.sign_out(manager)
    assert audit_actions(store, "sign_in", "lock", "unlock", "switch_operator", "sign_out") == [
        "sign_in",
        "lock",
        "unlock",
        "switch_operator",
        "sign_out",
    ]


def test_new_pins_are_argon2id_and_old_hashes_are_upgraded_at_sign_in(store: Store) -> None:
    salt = bytes(16)
    legacy = "pbkdf2_sha256$1000${}${}".format(
        salt.hex(), hashlib.pbkdf2_hmac("sha256", CASHIER_PIN.encode(), salt, 1000).hex()
    )
    with store.db.session() as session, session.begin():
        session.execute(update(Staff).where(Staff.username == "cashier").values(pin_hash=legacy))
        assert session.scalar(select(Staff.pin_hash).where(Staff.username == "manager")).startswith("$argon2id$")
    store.sign_ins().sign_in("cashier", CASHIER_PIN)
    with store.db.session() as session:
        assert session.scalar(select(Staff.pin_hash).where(Staff.username == "cashier")).startswith("$argon2id$")
    assert store.sign_ins().sign_in("cashier", CASHIER_PIN).starting_pin is False


def test_the_sign_in_screen_lists_active_accounts(store: Store) -> None:
    accounts = store.sign_ins().accounts()
    assert [a.username for a in accounts] == ["cashier", "manager", "owner"]
