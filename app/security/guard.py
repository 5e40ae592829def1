"""Wrong PINs slow down whoever types them, per account and per approval, and everything is audited.

One rule for every PIN the program checks: the first `FREE_TRIES` wrong PINs in a row cost nothing; each further
one makes the next try wait twice as long as the last (30 s, 1 min, 2 min … at most 15 min); after
`LOCK_AFTER` wrong PINs in a row the account (or the operator's approvals) is locked for a day, or until an owner
resets that PIN. A right PIN clears the count. While a wait runs no PIN is even checked, so guessing through the
F7 approval (a cashier trying managers' PINs) is as slow as guessing at the sign-in."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.clock import Clock
from app.errors import PermissionDenied
from app.i18n import QT_TRANSLATE_NOOP as S
from app.security.operator import Operator
from db.plain import Reads, utc_from_store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from db.engine import Database

FREE_TRIES = 5
FIRST_WAIT = dt.timedelta(seconds=30)
LONGEST_WAIT = dt.timedelta(minutes=15)
LOCK_AFTER = 30
LOCKED_FOR = dt.timedelta(days=1)
GUARD_SQL = "SELECT failures, locked_until FROM pin_guards WHERE key = :key"


def sign_in_key(staff_id: int) -> str:
    return f"sign_in:{staff_id}"


def approval_key(staff_id: int | None) -> str:
    return f"approval:{staff_id}"


def wait_after(failures: int) -> dt.timedelta | None:
    """How long the next try must wait after `failures` wrong PINs in a row."""
    if failures >= LOCK_AFTER:
        return LOCKED_FOR
    if failures < FREE_TRIES:
        return None
    return min(FIRST_WAIT * 2 ** (failures - FREE_TRIES), LONGEST_WAIT)


@dataclass(frozen=True)
class Attempt:
    """Who is trying, for the audit log: `actor` (the operator, or the counter before anyone signed in) and the
    account or approval the PIN is for."""

    key: str
    actor: Operator
    entity_id: int | None
    details: dict[str, str | int]


class PinLocked(PermissionDenied):
    """No PIN is checked until the wait is over."""


class PinThrottle:
    """`reads`: where the guard is read (a plain connection while the counter starts, else the database);
    `database`: gives the database for writing a wrong PIN (made then, if the counter started without it)."""

    def __init__(self, reads: Reads, database: Callable[[], Database], clock: Clock) -> None:
        self.reads = reads
        self.database = database
        self.clock = clock

    def check(self, key: str) -> None:
        """Refuse at once while `key` is waiting."""
        for failures, locked_until in self.reads.rows(GUARD_SQL, {"key": key}):
            self._refuse_if_waiting(failures, utc_from_store(locked_until))

    def _refuse_if_waiting(self, failures: int, locked_until: dt.datetime | None) -> None:
        now = self.clock.now()
        if locked_until is None or locked_until <= now:
            return
        if failures >= LOCK_AFTER:
            raise PinLocked(
                S("Errors", "Locked after {count} wrong PINs in a row. An owner can reset the PIN; else wait a day."),
                count=failures,
            )
        seconds = math.ceil((locked_until - now).total_seconds())
        raise PinLocked(S("Errors", "Too many wrong PINs. Try again in {seconds} seconds."), seconds=seconds)

    def failed(self, attempt: Attempt, action: str) -> PermissionDenied:
        """Count a wrong PIN (in its own transaction, so the refusal that follows cannot roll it back), audit it,
        and return the refusal to raise."""
        from app.trust.audit import record_audit
        from db.models import PinGuard

        def work(session: Session) -> tuple[int, dt.datetime | None]:
            now = self.clock.now()
            guard = session.get(PinGuard, attempt.key, with_for_update=True)
            if guard is None:
                guard = PinGuard(key=attempt.key, failures=0)
                session.add(guard)
            guard.failures += 1
            guard.last_failed_at = now
            wait = wait_after(guard.failures)
            guard.locked_until = now + wait if wait is not None else None
            details = {**attempt.details, "failures": guard.failures}
            record_audit(session, attempt.actor, action, "staff", attempt.entity_id, details)
            if guard.failures == LOCK_AFTER:
                record_audit(session, attempt.actor, "pin_locked", "staff", attempt.entity_id, details)
            return guard.failures, guard.locked_until

        failures, locked_until = self.database().write(work)
        if locked_until is not None:
            try:
                self._refuse_if_waiting(failures, locked_until)
            except PinLocked as exc:
                return exc
        return PermissionDenied(S("Errors", "Wrong PIN."))

    @staticmethod
    def cleared(session: Session, key: str) -> None:
        """A right PIN (or an owner's reset): the count starts again. Runs in the caller's transaction."""
        from sqlalchemy import delete

        from db.models import PinGuard

        session.execute(delete(PinGuard).where(PinGuard.key == key))
