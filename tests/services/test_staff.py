"""Staff accounts and PINs: owner-only administration enforced in the service, audited, PINs hashed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.context import Store
from app.errors import ConflictError, PermissionDenied, ValidationError
from app.i18n import set_translator
from app.loyalty.catalogue import GiftInput
from db.enums import StaffRole
from db.models import AuditLog, Staff


def test_owner_starts_with_the_default_pin_and_must_change_it(store: Store) -> None:
    owner = store.services(store.operator("owner"))
    assert owner.staff.needs_new_pin()
    with pytest.raises(PermissionDenied):
        owner.staff.change_own_pin("9999", "24680")
    with pytest.raises(ValidationError):
        owner.staff.change_own_pin("0000", "0000")
    with pytest.raises(ValidationError):
        owner.staff.change_own_pin("0000", "12a4")
    owner.staff.change_own_pin("0000", "24680")
    assert not owner.staff.needs_new_pin()
    assert store.sign_in("owner", "24680").role == StaffRole.OWNER
    with pytest.raises(PermissionDenied):
        store.sign_in("owner", "0000")
    with store.db.session() as session:
        stored = session.scalar(select(Staff.pin_hash).where(Staff.username == "owner"))
        assert stored is not None and "24680" not in stored
        actions = session.scalars(select(AuditLog.action).where(AuditLog.entity == "staff").order_by(AuditLog.id))
        assert list(actions) == ["add", "add", "change_pin", "sign_in"]  # sign-ins are audited too


def test_only_the_owner_manages_accounts(store: Store) -> None:
    manager = store.services(store.operator("manager"))
    owner = store.services(store.operator("owner"))
    with pytest.raises(PermissionDenied):
        manager.staff.add("cashier9", "小王", StaffRole.CASHIER, "1357")
    new_id = owner.staff.add("Cashier9", "小王", StaffRole.CASHIER, "1357")
    assert store.sign_in("cashier9", "1357").staff_id == new_id
    with pytest.raises(ConflictError):
        owner.staff.add("cashier9", "小王", StaffRole.CASHIER, "1357")
    owner.staff.set_active(new_id, False)
    assert [s.active for s in owner.staff.list() if s.id == new_id] == [False]
    with pytest.raises(ConflictError):
        owner.staff.set_active(store.operator("owner").staff_id or 0, False)
    owner.staff.reset_pin(store.operator("manager").staff_id or 0, "97531")
    assert store.sign_in("manager", "97531").role == StaffRole.MANAGER


def test_permission_message_names_the_role_in_the_interface_language(store: Store) -> None:
    cashier = store.services(store.operator("cashier"))
    chinese = {"manager": "店长", "This needs a {role} or above.": "需要{role}或以上权限。"}
    set_translator(lambda _ctx, text: chinese.get(text, text))
    try:
        with pytest.raises(PermissionDenied) as err:
            cashier.catalogue.add_gift(GiftInput("保温杯", 800, 1))
        assert str(err.value) == "需要店长或以上权限。"
    finally:
        set_translator(lambda _ctx, text: text)
