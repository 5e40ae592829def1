"""Daily maintenance on a big day: due work found by index, written in short batches that let the counter in."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Select, event, select, text
from sqlalchemy.orm import Session

from app.clock import FixedClock
from app.context import Services, Store
from app.integrity import check_database
from app.loyalty import job
from app.loyalty.expiry import due_lots
from app.loyalty.job import BATCH_MEMBERS, LoyaltyJob
from app.loyalty.service import PurchaseRequest
from app.loyalty.tier_review import due_reviews
from app.members.service import MemberForm
from db.engine import counter_connection
from db.models import Member

MEMBERS = 2 * BATCH_MEMBERS + 10


@pytest.fixture(autouse=True)
def ledger_stays_sound(store: Store) -> Iterator[None]:
    yield
    assert [str(p) for p in check_database(store.db)] == []


def commits_during(store: Store) -> list[int]:
    """A list that grows by one at every commit on the store's connections."""
    seen: list[int] = []
    for engine in {store.db.engine, store.db.counter_engine}:
        event.listen(engine, "commit", lambda _conn: seen.append(1))
    return seen


def test_a_big_expiry_day_is_written_in_batches(
    svc: Services, store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job, "BATCH_SECONDS", 60.0)  # batches cut by members only, whatever the machine's load
    for n in range(MEMBERS):
        member = svc.members.register(MemberForm(phone=f"139{n:08d}", name=f"会员{n}", membership_consent=True))
        svc.loyalty.record_purchase(PurchaseRequest(member, 10_000, str(uuid.uuid4())))
    clock.advance(dt.timedelta(days=800))
    commits = commits_during(store)
    assert svc.loyalty.expire_points() == 100 * MEMBERS
    assert len(commits) == 3, "one transaction per batch of members, not one per member"
    with store.db.session() as session:
        assert session.scalar(select(Member.points_balance).where(Member.phone == "13900000000")) == 0
    assert svc.loyalty.expire_points() == 0


def test_a_batch_ends_when_the_counter_wants_to_write(svc: Services, store: Store, clock: FixedClock) -> None:
    """Member 3's work sees the counter start a sale: the batch commits after member 3, the sale goes in, and only
    then does maintenance take the writer again."""
    db = store.db
    order: list[object] = []

    def counter_sale() -> None:
        with counter_connection():
            db.write(lambda session: order.append("counter sale"))

    def work(session: Session, member_id: int) -> int:
        session.execute(text("SELECT 1"))
        order.append(member_id)
        if member_id == 3:
            threading.Thread(target=counter_sale).start()
            while not db.counter_writing:
                threading.Event().wait(0.001)
        return member_id

    job = LoyaltyJob(db, svc.operator, clock)
    assert list(job.in_batches(list(range(1, 8)), work)) == list(range(1, 8))
    assert order == [1, 2, 3, "counter sale", 4, 5, 6, 7]
    assert not db.counter_writing


def plan_of(session: Session, query: Select[Any]) -> str:
    compiled = query.compile(session.get_bind())
    rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values()))
    return " ".join(str(row[-1]) for row in rows)


def test_the_start_up_checks_read_only_what_is_due(store: Store) -> None:
    """The plans search the due-date indexes (open lots by expiry, members by review date) rather than walking
    every lot of every member, or every member."""
    if not store.db.is_sqlite:
        pytest.skip("the plan checked is SQLite's; PostgreSQL plans by its own statistics")
    now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    with store.db.session() as session:
        lots, reviews = plan_of(session, due_lots(now)), plan_of(session, due_reviews(now))
    assert re.fullmatch(r"SEARCH points_lots USING (COVERING )?INDEX ix_points_lots_due \(expires_at<\?\)", lots)
    assert re.fullmatch(
        r"SEARCH members USING (COVERING )?INDEX ix_members_tier_review_at \(tier_review_at<\?\)", reviews
    )
