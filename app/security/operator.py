"""Who is at the counter, and the permission checks every service makes (not only the GUI hiding buttons)."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import PermissionDenied
from app.i18n import QT_TRANSLATE_NOOP, translate
from db.enums import StaffRole

_RANK = {StaffRole.CASHIER: 1, StaffRole.MANAGER: 2, StaffRole.OWNER: 3}


@dataclass(frozen=True)
class Operator:
    staff_id: int | None
    branch_id: int
    role: StaffRole
    display_name: str

    def at_least(self, role: StaffRole) -> bool:
        return _RANK[self.role] >= _RANK[role]

    @property
    def sees_full_phone(self) -> bool:
        return self.at_least(StaffRole.MANAGER)


ROLE_LABELS = {
    StaffRole.CASHIER: QT_TRANSLATE_NOOP("Roles", "cashier"),
    StaffRole.MANAGER: QT_TRANSLATE_NOOP("Roles", "manager"),
    StaffRole.OWNER: QT_TRANSLATE_NOOP("Roles", "owner"),
}


def require_role(operator: Operator, role: StaffRole) -> None:
    if not operator.at_least(role):
        raise PermissionDenied(
            QT_TRANSLATE_NOOP("Errors", "This needs a {role} or above."), role=translate("Roles", ROLE_LABELS[role])
        )
