"""The counter staff every test store gets besides the owner it starts with, made through the staff service."""

from __future__ import annotations

from app.context import Store
from db.enums import StaffRole

CASHIER_PIN = "1234"
MANAGER_PIN = "6666"


def add_counter_staff(store: Store) -> None:
    staff = store.services(store.operator("owner")).staff
    staff.add("cashier", "李收银", StaffRole.CASHIER, CASHIER_PIN)
    staff.add("manager", "王店长", StaffRole.MANAGER, MANAGER_PIN)
