"""What every loyalty service shares: its dependencies and the write that another counter may be racing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import Clock
from app.errors import MemberDeskError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.security.operator import Operator
from db.engine import Database

R = TypeVar("R")
Progress = Callable[[int, int, str], bool]
"""(members done, members due, what) after each batch; answering False stops the job there."""

BATCH_MEMBERS = 50
"""Members a maintenance transaction (expiry, tier review) takes at most: one commit (one fsync) for fifty instead
of fifty, and the writer held for milliseconds, not for the whole day's thousands of members."""
BATCH_SECONDS = 0.1
"""A batch also ends once it has held the writer this long (a slow disk, a member with hundreds of lots). The
counter in this program never waits for it (a batch ends as soon as the counter wants to write); this bounds the
wait of another program writing the same store (the command line)."""


class MaintenanceCancelled(MemberDeskError):
    """The progress callback asked to stop: the members already done keep their changes, the rest wait."""

    def __init__(self) -> None:
        super().__init__(
            S(
                "Errors",
                "Daily maintenance was stopped. The members already done keep their changes; the others are "
                "done at the next run.",
            )
        )

    def __reduce__(self) -> tuple[type[MaintenanceCancelled], tuple[()]]:
        return (MaintenanceCancelled, ())


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

    def in_batches(
        self,
        member_ids: Sequence[int],
        work: Callable[[Session, int], R],
        progress: Progress | None = None,
        what: str = "",
    ) -> Iterator[R]:
        """`work(session, member_id)` for each member, a batch of members per transaction. A batch ends early when
        the counter wants to write, and the next one waits until the counter's write is done: the counter never
        queues behind daily maintenance. Each member's work is idempotent, so a batch cut short loses nothing.
        `progress` hears of each batch committed; answering False raises MaintenanceCancelled there."""
        start = 0
        while start < len(member_ids):
            if progress is not None and not progress(start, len(member_ids), what):
                raise MaintenanceCancelled()

            def batch(session: Session, start: int = start) -> list[R]:
                began = time.monotonic()
                done: list[R] = []
                for member_id in member_ids[start : start + BATCH_MEMBERS]:
                    done.append(work(session, member_id))
                    if self.db.counter_writing or time.monotonic() - began > BATCH_SECONDS:
                        break
                return done

            results = self.db.write(batch)
            yield from results
            start += len(results)
            self.db.wait_for_counter()
