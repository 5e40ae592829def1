"""Staff accounts: the owner adds and deactivates them; anyone changes their own PIN (knowing the old one).
Every change is audited; PINs are stored only as salted hashes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.security.guard import PinThrottle, sign_in_key
from app.security.operator import Operator, require_role
from app.security.pins import DEFAULT_PINS as DEFAULT_PINS
from app.security.pins import hash_pin, verify_pin
from app.trust.audit import record_audit
from db.engine import Database
from db.enums import StaffRole
from db.models import Staff


@dataclass(frozen=True)
class StaffRow:
    id: int
    username: str
    display_name: str
    role: StaffRole
    active: bool


def check_pin(pin: str) -> str:
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValidationError(S("Errors", "A PIN has 4 to 8 digits."), field="pin")
    return pin


class StaffService:
    def __init__(self, db: Database, operator: Operator) -> None:
        self.db = db
        self.operator = operator

    def list(self) -> list[StaffRow]:
        with self.db.session() as session:
            return [
                StaffRow(s.id, s.username, s.display_name, s.role, s.active)
                for s in session.scalars(select(Staff).order_by(Staff.active.desc(), Staff.role, Staff.username))
            ]

    def needs_new_pin(self) -> bool:
        """True while the operator still signs in with a store's starting PIN."""
        with self.db.session() as session:
            stored = session.scalar(select(Staff.pin_hash).where(Staff.id == self.operator.staff_id))
        return any(verify_pin(pin, stored) for pin in DEFAULT_PINS)

    def change_own_pin(self, old_pin: str, new_pin: str) -> None:
        check_pin(new_pin)
        if new_pin in DEFAULT_PINS:
            raise ValidationError(S("Errors", "Choose a PIN other than the starting one."), field="pin")

        def work(session: Session) -> None:
            staff = session.get(Staff, self.operator.staff_id, with_for_update=True)
            if staff is None:
                raise NotFoundError(S("Errors", "No such staff account: {name}"), name=self.operator.display_name)
            if not verify_pin(old_pin, staff.pin_hash):
                raise PermissionDenied(S("Errors", "Wrong PIN."))
            staff.pin_hash = hash_pin(new_pin)
            record_audit(session, self.operator, "change_pin", "staff", staff.id)

        self.db.write(work)

    def add(self, username: str, display_name: str, role: StaffRole, pin: str) -> int:
        require_role(self.operator, StaffRole.OWNER)
        username = username.strip().lower()
        display_name = display_name.strip()
        if not (username.isascii() and username.replace("_", "").isalnum() and 2 <= len(username) <= 40):
            raise ValidationError(S("Errors", "A user name has 2 to 40 letters, digits or _."), field="username")
        if not display_name or len(display_name) > 100:
            raise ValidationError(S("Errors", "Enter the name shown on screen."), field="display_name")
        check_pin(pin)

        def work(session: Session) -> int:
            if session.scalar(select(Staff.id).where(Staff.username == username)) is not None:
                raise ConflictError(S("Errors", "The user name {name} is taken."), name=username)
            staff = Staff(
                username=username,
                display_name=display_name,
                role=role,
                branch_id=self.operator.branch_id,
                pin_hash=hash_pin(pin),
            )
            session.add(staff)
            session.flush()
            record_audit(session, self.operator, "add", "staff", staff.id, {"username": username, "role": role})
            return staff.id

        return self.db.write(work)

    def set_active(self, staff_id: int, active: bool) -> None:
        """Owner only; the last active owner cannot be deactivated (the store would lock itself out)."""
        require_role(self.operator, StaffRole.OWNER)

        def work(session: Session) -> None:
            staff = session.get(Staff, staff_id, with_for_update=True)
            if staff is None:
                raise NotFoundError(S("Errors", "No such staff account: {name}"), name=str(staff_id))
            if not active and staff.role == StaffRole.OWNER:
                owners = session.scalar(
                    select(func.count()).where(
                        Staff.role == StaffRole.OWNER, Staff.active.is_(True), Staff.id != staff_id
                    )
                )
                if not owners:
                    raise ConflictError(S("Errors", "The last owner account cannot be deactivated."))
            staff.active = active
            record_audit(session, self.operator, "activate" if active else "deactivate", "staff", staff_id)

        self.db.write(work)

    def reset_pin(self, staff_id: int, new_pin: str) -> None:
        """Owner only: for staff who forgot their PIN."""
        require_role(self.operator, StaffRole.OWNER)
        check_pin(new_pin)

        def work(session: Session) -> None:
            staff = session.get(Staff, staff_id, with_for_update=True)
            if staff is None:
                raise NotFoundError(S("Errors", "No such staff account: {name}"), name=str(staff_id))
            staff.pin_hash = hash_pin(new_pin)
            PinThrottle.cleared(session, sign_in_key(staff_id))  # a locked account works again with its new PIN
            record_audit(session, self.operator, "reset_pin", "staff", staff_id)

        self.db.write(work)
