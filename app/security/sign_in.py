"""Who may work at the counter: sign-in with an account and its PIN (nobody is ever signed in by the program),
switching operator, the idle lock and the manager approval a cashier asks for — each throttled by
`app/security/guard.py` and written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import Clock
from app.errors import NotFoundError, PermissionDenied
from app.i18n import QT_TRANSLATE_NOOP as S
from app.security.guard import Attempt, PinLocked, PinThrottle, approval_key, sign_in_key
from app.security.operator import Operator
from app.security.pins import hash_pin, needs_rehash, verify_pin
from app.security.staff import DEFAULT_PINS
from app.trust.audit import record_audit
from db.engine import Database
from db.enums import StaffRole
from db.models import Staff

_ROLE_ORDER = {StaffRole.CASHIER: 0, StaffRole.MANAGER: 1, StaffRole.OWNER: 2}


@dataclass(frozen=True)
class SignInAccount:
    """An account offered at the sign-in screen."""

    username: str
    display_name: str
    role: StaffRole


@dataclass(frozen=True)
class SignedIn:
    operator: Operator
    username: str
    starting_pin: bool
    """Signed in with the store's starting PIN: the GUI asks for a new one straight away."""


class SignInService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.throttle = PinThrottle(db, clock)

    def accounts(self) -> list[SignInAccount]:
        with self.db.session() as session:
            rows = session.execute(
                select(Staff.username, Staff.display_name, Staff.role).where(Staff.active.is_(True))
            ).all()
        accounts = [SignInAccount(username, name, role) for username, name, role in rows]
        return sorted(accounts, key=lambda a: (_ROLE_ORDER[a.role], a.display_name))

    def sign_in(self, username: str, pin: str, previous: Operator | None = None) -> SignedIn:
        """`previous`: who worked at this counter until now (a switch, or the same person unlocking it)."""
        found = self.db.read(
            lambda s: s.execute(
                select(Staff.id, Staff.branch_id, Staff.role, Staff.display_name, Staff.pin_hash).where(
                    Staff.username == username, Staff.active.is_(True)
                )
            ).first()
        )
        if found is None:
            raise NotFoundError(S("Errors", "No such staff account: {name}"), name=username)
        staff_id, branch_id, role, display_name, stored = found
        operator = Operator(staff_id, branch_id, role, display_name)
        key = sign_in_key(staff_id)
        self.throttle.check(key)
        if not verify_pin(pin, stored):
            actor = previous or Operator(None, branch_id, StaffRole.CASHIER, "")
            raise self.throttle.failed(Attempt(key, actor, staff_id, {"username": username}), "sign_in_failed")
        details: dict[str, int | None] = {}
        if previous is None:
            action = "sign_in"
        elif previous.staff_id == staff_id:
            action = "unlock"
        else:
            action, details = "switch_operator", {"from_staff_id": previous.staff_id}

        def work(session: Session) -> None:
            PinThrottle.cleared(session, key)
            if stored is not None and needs_rehash(stored):
                staff = session.get(Staff, staff_id, with_for_update=True)
                assert staff is not None
                staff.pin_hash = hash_pin(pin)
            record_audit(session, operator, action, "staff", staff_id, details)

        self.db.write(work)
        return SignedIn(operator, username, pin in DEFAULT_PINS)

    def sign_out(self, operator: Operator, action: str = "sign_out") -> None:
        """`action`: "sign_out" when the program closes, "lock" when the idle lock (or F12) hides the counter."""
        self.db.write(lambda session: record_audit(session, operator, action, "staff", operator.staff_id))

    def approve(self, operator: Operator, pin: str | None) -> int:
        """The manager (or owner) whose PIN approves what `operator` asks for; wrong PINs are throttled per asking
        operator, so guessing through approvals is as slow as guessing at the sign-in."""
        if not pin:
            raise PermissionDenied(S("Errors", "A manager must approve this with their PIN."))
        key = approval_key(operator.staff_id)
        self.throttle.check(key)
        with self.db.session() as session:
            managers = session.execute(
                select(Staff.id, Staff.pin_hash).where(
                    Staff.active.is_(True),
                    Staff.role.in_([StaffRole.MANAGER, StaffRole.OWNER]),
                    Staff.pin_hash.is_not(None),
                )
            ).all()
        for staff_id, stored in managers:
            if verify_pin(pin, stored):
                self.db.write(lambda session: PinThrottle.cleared(session, key))
                return int(staff_id)
        refusal = self.throttle.failed(Attempt(key, operator, operator.staff_id, {}), "approval_pin_failed")
        if isinstance(refusal, PinLocked):
            raise refusal
        raise PermissionDenied(S("Errors", "That PIN is not a manager's PIN."))
