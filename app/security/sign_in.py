"""Who may work at the counter: sign-in with an account and its PIN (nobody is ever signed in by the program),
switching operator, the idle lock and the manager approval a cashier asks for — each throttled by
`app/security/guard.py` and written to the audit log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.clock import Clock
from app.errors import NotFoundError, PermissionDenied
from app.i18n import QT_TRANSLATE_NOOP as S
from app.security.guard import Attempt, PinLocked, PinThrottle, approval_key, sign_in_key
from app.security.operator import Operator
from app.security.pins import DEFAULT_PINS, hash_pin, needs_rehash, verify_pin
from db.enums import StaffRole
from db.plain import Reads

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from db.engine import Database

SessionWork = Callable[["Session"], None]
"""A write done in the caller's transaction."""
ACCOUNTS_SQL = "SELECT username, display_name, role FROM staff WHERE active"
STAFF_SQL = "SELECT id, branch_id, role, display_name, pin_hash FROM staff WHERE username = :username AND active"
APPROVERS_SQL = (
    "SELECT id, pin_hash FROM staff WHERE active AND role IN ('manager', 'owner') AND pin_hash IS NOT NULL ORDER BY id"
)

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
    """`db`: the database, or what gives it when it is first needed (a counter that started on a plain connection
    makes it then); `reads`: where accounts, PINs and guards are read (the database if not given); `record`: how
    the right PIN's record (guard cleared, a new hash, the audit entry) is written — at once unless the store
    keeps it until the database is loaded (`app.context.Store`)."""

    def __init__(
        self,
        db: Database | Callable[[], Database],
        clock: Clock,
        reads: Reads | None = None,
        record: Callable[[SessionWork], None] | None = None,
    ) -> None:
        self._db = db
        self.clock = clock
        self.reads: Reads = reads if reads is not None else self.db
        self._record = record
        self.throttle = PinThrottle(self.reads, lambda: self.db, clock)

    @property
    def db(self) -> Database:
        return self._db() if callable(self._db) else self._db

    def accounts(self) -> list[SignInAccount]:
        rows = self.reads.rows(ACCOUNTS_SQL)
        accounts = [SignInAccount(username, name, StaffRole(role)) for username, name, role in rows]
        return sorted(accounts, key=lambda a: (_ROLE_ORDER[a.role], a.display_name))

    def sign_in(self, username: str, pin: str, previous: Operator | None = None) -> SignedIn:
        """`previous`: who worked at this counter until now (a switch, or the same person unlocking it)."""
        found = self.reads.rows(STAFF_SQL, {"username": username})
        if not found:
            raise NotFoundError(S("Errors", "No such staff account: {name}"), name=username)
        staff_id, branch_id, role, display_name, stored = found[0]
        operator = Operator(staff_id, branch_id, StaffRole(role), display_name)
        key = sign_in_key(staff_id)
        self.throttle.check(key)
        if not verify_pin(pin, stored):
            actor = previous or Operator(None, branch_id, StaffRole.CASHIER, "")
            raise self.throttle.failed(Attempt(key, actor, staff_id, {"username": username}), "sign_in_failed")
        details: dict[str, int | str | None] = {}
        if self._record is not None:  # written when the store's full services load, about a second later
            details["signed_in_at"] = self.clock.now().isoformat(timespec="seconds")
        if previous is None:
            action = "sign_in"
        elif previous.staff_id == staff_id:
            action = "unlock"
        else:
            action = "switch_operator"
            details["from_staff_id"] = previous.staff_id
        new_hash = hash_pin(pin) if stored is not None and needs_rehash(stored) else None

        def work(session: Session) -> None:
            from app.trust.audit import record_audit
            from db.models import Staff

            PinThrottle.cleared(session, key)
            if new_hash is not None:
                staff = session.get(Staff, staff_id, with_for_update=True)
                assert staff is not None
                staff.pin_hash = new_hash
            record_audit(session, operator, action, "staff", staff_id, details)

        if self._record is not None:
            self._record(work)
        else:
            self.db.write(work)
        return SignedIn(operator, username, pin in DEFAULT_PINS)

    def sign_out(self, operator: Operator, action: str = "sign_out") -> None:
        """`action`: "sign_out" when the program closes, "lock" when the idle lock (or F12) hides the counter."""
        from app.trust.audit import record_audit

        self.db.write(lambda session: record_audit(session, operator, action, "staff", operator.staff_id))

    def approve(self, operator: Operator, pin: str | None) -> int:
        """The manager (or owner) whose PIN approves what `operator` asks for; wrong PINs are throttled per asking
        operator, so guessing through approvals is as slow as guessing at the sign-in."""
        if not pin:
            raise PermissionDenied(S("Errors", "A manager must approve this with their PIN."))
        key = approval_key(operator.staff_id)
        self.throttle.check(key)
        for staff_id, stored in self.reads.rows(APPROVERS_SQL):
            if verify_pin(pin, stored):
                self.db.write(lambda session: PinThrottle.cleared(session, key))
                return int(staff_id)
        refusal = self.throttle.failed(Attempt(key, operator, operator.staff_id, {}), "approval_pin_failed")
        if isinstance(refusal, PinLocked):
            raise refusal
        raise PermissionDenied(S("Errors", "That PIN is not a manager's PIN."))
