"""What every loyalty service shares: its dependencies and the write that another counter may be racing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import Clock
from app.security.operator import Operator
from db.engine import Database

R = TypeVar("R")


class LoyaltyJob:
    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    def _write_once(self, work: Callable[[Session], R]) -> R:
        """Run a write whose idempotency key or receipt number another counter may be committing right now: if the
        unique index refuses ours, the second try finds theirs and returns it as a replay."""
        try:
            return self.db.write(work)
        except IntegrityError:
            return self.db.write(work)
