"""Background jobs in processes of their own (app/jobs.py, app/child_process.py): the same services and transactions
as in this process, progress and cancel answered here, and a child that is stopped or killed half-way leaves only
whole transactions behind, and says so."""

from __future__ import annotations

import datetime as dt
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.child_process import ChildDied, start_method
from app.clock import FixedClock
from app.context import Services, Store
from app.errors import PermissionDenied
from app.integrity import check_database
from app.jobs import BackgroundJobs
from app.loyalty import job
from app.loyalty.expiry import Expiry
from app.loyalty.job import BATCH_MEMBERS, MaintenanceCancelled
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from db.models import Member
from tests.windows.support import NEEDS_FORK

MEMBERS = BATCH_MEMBERS + 10
POINTS = 100
"""What each member earns with the purchase below, and loses when it expires."""


@pytest.fixture(autouse=True)
def ledger_stays_sound(store: Store) -> Iterator[None]:
    yield
    assert [str(p) for p in check_database(store.db)] == []


@pytest.fixture
def due(svc: Services, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> int:
    """MEMBERS members whose points are due; batches cut by members only, whatever the machine's load (a forked
    child inherits the setting)."""
    monkeypatch.setattr(job, "BATCH_SECONDS", 60.0)
    for n in range(MEMBERS):
        member = svc.members.register(MemberForm(phone=f"139{n:08d}", name=f"会员{n}", membership_consent=True))
        svc.loyalty.record_purchase(PurchaseRequest(member, 10_000, str(uuid.uuid4())))
    clock.advance(dt.timedelta(days=800))
    return MEMBERS


def jobs_of(store: Store, services: Services, clock: FixedClock, method: str | None = None) -> BackgroundJobs:
    return BackgroundJobs(store.db, services.operator, clock, store.paths, method=method)


def members_expired(store: Store) -> int:
    with store.db.session() as session:
        return session.scalar(select(func.count()).where(Member.points_balance == 0)) or 0


@pytest.mark.parametrize("method", ["fork", "spawn"] if start_method() == "fork" else ["spawn"])
def test_maintenance_in_its_own_process_expires_and_reports_progress(
    store: Store, svc: Services, clock: FixedClock, due: int, method: str
) -> None:
    """The spawn path is Windows'; here it runs too, pickling the job, its arguments and the counter's signal."""
    heard: list[tuple[int, int, str]] = []
    result = jobs_of(store, svc, clock, method).maintenance(lambda *step: heard.append(step) is None)
    assert result.points_expired == POINTS * due
    assert heard[0] == (0, due, "Expiring points") and len(heard) >= 2, "a report before each batch"
    assert members_expired(store) == due


@NEEDS_FORK  # the batch size set here reaches a forked child only
def test_stopping_maintenance_keeps_the_whole_batches_done(
    store: Store, svc: Services, clock: FixedClock, due: int
) -> None:
    with pytest.raises(MaintenanceCancelled):
        jobs_of(store, svc, clock).maintenance(lambda done, _total, _what: done < BATCH_MEMBERS)
    assert members_expired(store) == BATCH_MEMBERS
    assert svc.loyalty.expire_points() == POINTS * (due - BATCH_MEMBERS), "the rest is done at the next run"


@NEEDS_FORK  # the patch that kills the child reaches a forked child only
def test_a_child_killed_mid_batch_leaves_that_batch_undone_and_is_reported(
    store: Store, svc: Services, clock: FixedClock, due: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after writing 5 members of its second batch (uncommitted): the first batch stays, the second is gone
    as a whole, the parent hears of it, and the next run finishes the day."""
    expire_member = Expiry._expire_member
    written: list[int] = []

    def then_die(self: Expiry, session: Session, member_id: int, last_lot: int, now: dt.datetime) -> int:
        written.append(member_id)  # in the child's memory (forked): this process's list stays empty
        if len(written) == BATCH_MEMBERS + 5:
            os.kill(os.getpid(), signal.SIGKILL)
        return expire_member(self, session, member_id, last_lot, now)

    monkeypatch.setattr(Expiry, "_expire_member", then_die)
    with pytest.raises(ChildDied) as died:
        jobs_of(store, svc, clock, "fork").maintenance()
    assert died.value.params["code"] == str(-signal.SIGKILL)
    assert written == [], "the work ran in the child"
    assert members_expired(store) == BATCH_MEMBERS
    monkeypatch.undo()
    assert svc.loyalty.expire_points() == POINTS * (due - BATCH_MEMBERS)


def test_a_refusal_in_the_child_comes_back_as_itself(store: Store, svc: Services, clock: FixedClock) -> None:
    with pytest.raises(PermissionDenied):
        jobs_of(store, svc, clock).import_members(Path("members.csv"))  # a cashier may not import


def test_an_import_runs_in_its_own_process(store: Store, boss: Services, clock: FixedClock, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text(
        "member_no,phone,name,points\nA1,13800000001,张伟,300\nA2,13800000002,李娜,\nA3,12,王芳,\n", encoding="utf-8"
    )
    heard: list[int] = []
    report = jobs_of(store, boss, clock).import_members(path, progress=lambda done, *_: heard.append(done) is None)
    assert (report.imported, [row.line for row in report.refused]) == (2, [4])
    assert heard and heard[-1] == 3
    assert [hit.name for hit in boss.members.lookup("13800000001").hits] == ["张伟"]
