"""Big PDFs and exports run in a process of their own (app/jobs.py), never in the counter's interpreter: each job's
writer is made to hold its interpreter's lock, and the counter still answers a lookup meanwhile; the
files are the same as the services write here, and the exports are still audited."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.actions.member_sets import MemberSet
from app.actions.service import ActionCancelled
from app.clock import FixedClock
from app.context import Services, Store
from app.coupons.codes import grouped
from app.integrity import check_database
from app.jobs import BackgroundJobs
from app.members.service import MemberForm
from app.printing.coupon import PrintingStopped
from db.engine import counter_connection
from db.models import AuditLog, SurveyForm
from tests.jobs_support import hold_the_interpreter
from tests.printing import readback
from tests.services.test_coupons import active_campaign
from tests.windows.support import NEEDS_FORK

WAIT_S = 120
HOLD_LETTERS = 22
"""A quarter of a second or more: far longer than a lookup, short enough for seven jobs on two databases."""


@pytest.fixture(autouse=True)
def ledger_stays_sound(store: Store) -> Iterator[None]:
    yield
    assert [str(p) for p in check_database(store.db)] == []


@pytest.fixture
def manager(store: Store) -> Services:
    return store.services(store.operator("manager"))


@pytest.fixture
def jobs(store: Store, manager: Services, clock: FixedClock) -> BackgroundJobs:
    return BackgroundJobs(store.db, manager.operator, clock, store.paths)


@pytest.fixture
def member(svc: Services) -> int:
    return svc.members.register(
        MemberForm(phone="13812345678", name="张伟", membership_consent=True, marketing_consent=True)
    )


def exports(store: Store) -> int:
    with store.db.session() as session:
        return session.scalar(select(func.count()).where(AuditLog.action == "export")) or 0


Work = Callable[[BackgroundJobs, Services, Path, int], Any]
"""A job started as the GUI starts it; what it wrote is checked by `Check`."""
Check = Callable[[Store, Any, Path], None]


def coupon_pdf(jobs: BackgroundJobs, manager: Services, _folder: Path, _member: int) -> Any:
    campaign, _codes = active_campaign(manager, count=25)
    return jobs.coupon_pdf(campaign, "a4")


def coupon_pdf_written(store: Store, result: Any, _folder: Path) -> None:
    path, job = result
    assert path.parent == store.paths.root / "printouts"
    assert len(job.coupons) == 25 and readback.page_count(path) == 3
    text = readback.squeeze(readback.text(path))
    assert [readback.squeeze(grouped(coupon.code)) in text for coupon in job.coupons] == [True] * 25


def survey_forms(jobs: BackgroundJobs, _manager: Services, _folder: Path, _member: int) -> Any:
    return jobs.survey_forms("SAT", 3, None)


def survey_forms_written(store: Store, result: Any, _folder: Path) -> None:
    path, batch = result
    text = readback.squeeze(readback.text(path))
    assert [form.form_no in text for form in batch.forms] == [True] * 3
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(SurveyForm)) == 3, "the form rows with the PDF"


def contacts(jobs: BackgroundJobs, _manager: Services, folder: Path, member: int) -> Any:
    return jobs.export_contacts(MemberSet.of_members([member], "张伟"), folder / "contacts.csv")


def coupons_export(jobs: BackgroundJobs, manager: Services, folder: Path, _member: int) -> Any:
    campaign, _codes = active_campaign(manager, count=4)
    return jobs.export_coupons(campaign, folder / "coupons.csv")


def figures_export(jobs: BackgroundJobs, manager: Services, folder: Path, _member: int) -> Any:
    active_campaign(manager, count=2)
    return jobs.export_campaign_figures(folder / "figures.xlsx")


def expiring_export(jobs: BackgroundJobs, _manager: Services, folder: Path, _member: int) -> Any:
    return jobs.export_expiring_points(folder / "expiring.csv")


def table_export(jobs: BackgroundJobs, _manager: Services, folder: Path, _member: int) -> Any:
    return jobs.export_table(folder / "table.csv", "chart", ["月份", "会员"], [["2026-11", 3], ["2026-12", 5]])


def file_exported(name: str, heading: str) -> Check:
    def check(store: Store, _result: Any, folder: Path) -> None:
        path = folder / name
        if path.suffix == ".csv":
            assert path.read_text(encoding="utf-8-sig").startswith(heading)
        else:
            assert path.stat().st_size > 0
        assert exports(store) == 1, "audited as an export"

    return check


WORKS: dict[str, tuple[str, Work, Check]] = {
    "coupon PDF": ("app.printing.coupon.write_print_job", coupon_pdf, coupon_pdf_written),
    "survey forms": ("app.printing.survey_form.write_survey_forms", survey_forms, survey_forms_written),
    "contact list": (
        "app.actions.service.write_table",
        contacts,
        file_exported("contacts.csv", "member_no,name,phone,tier,points,last_visit\n"),
    ),
    "campaign coupons": (
        "app.coupons.service.write_table",
        coupons_export,
        file_exported("coupons.csv", "code,member_no,status"),
    ),
    "campaign figures": ("app.coupons.service.write_table", figures_export, file_exported("figures.xlsx", "")),
    "expiring points": (
        "app.dashboard.actions.write_table",
        expiring_export,
        file_exported("expiring.csv", "Member no."),
    ),
    "screen table": (
        "app.care.exports.write_table",
        table_export,
        file_exported("table.csv", "月份,会员\n2026-11,3\n"),
    ),
}


@NEEDS_FORK  # the patch that holds the lock reaches a forked child only
@pytest.mark.parametrize("what", list(WORKS))
def test_the_counter_answers_while_a_pdf_or_an_export_holds_its_interpreter(
    what: str,
    store: Store,
    svc: Services,
    manager: Services,
    jobs: BackgroundJobs,
    member: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Were the job run in this interpreter, its writer would hold the lock the lookup needs, and the job would end
    before the lookup's answer."""
    target, work, check = WORKS[what]
    module, name = target.rsplit(".", 1)
    real = getattr(__import__(module, fromlist=[name]), name)
    here, started = os.getpid(), tmp_path / "started"

    def holding(*args: Any, **kw: Any) -> Any:
        started.write_text(str(os.getpid()))
        hold_the_interpreter(HOLD_LETTERS)
        return real(*args, **kw)

    monkeypatch.setattr(target, holding)
    order: list[str] = []
    outcome: list[Any] = []

    def background() -> None:
        try:
            outcome.append(work(jobs, manager, tmp_path, member))
        except BaseException as exc:
            outcome.append(exc)
        order.append("job")

    job = threading.Thread(target=background)
    job.start()
    waited = 0.0
    while not started.exists() and job.is_alive() and waited < WAIT_S:
        threading.Event().wait(0.02)
        waited += 0.02
    with counter_connection():
        hits = svc.members.lookup("5678").hits
    order.append("lookup")
    job.join(WAIT_S)
    assert not isinstance(outcome[0], BaseException), outcome[0]
    assert started.read_text() != str(here), "the writer ran in a process of its own"
    assert order == ["lookup", "job"], "the counter answered while the job held its own interpreter"
    assert [hit.id for hit in hits] == [member]
    check(store, outcome[0], tmp_path)


def test_stopping_a_coupon_pdf_leaves_no_pdf(store: Store, manager: Services, jobs: BackgroundJobs) -> None:
    """Progress comes back page by page from the job's process; the answer False stops it at the next page."""
    campaign, _codes = active_campaign(manager, count=25)
    heard: list[tuple[int, int, str]] = []

    def told(done: int, total: int, what: str) -> bool:
        heard.append((done, total, what))
        return done == 0

    with pytest.raises(PrintingStopped):
        jobs.coupon_pdf(campaign, "a4", progress=told)
    assert heard == [(0, 25, "Writing the PDF"), (10, 25, "Writing the PDF")]
    assert list((store.paths.root / "printouts").glob("*.pdf")) == []


def test_cancelling_a_contact_list_writes_and_audits_nothing(
    store: Store, jobs: BackgroundJobs, member: int, tmp_path: Path
) -> None:
    """The dialog's Cancel crosses to the job's process and its refusal comes back as itself."""
    target = tmp_path / "contacts.csv"
    with pytest.raises(ActionCancelled):
        jobs.export_contacts(MemberSet.of_members([member], "张伟"), target, lambda _done, _total, _what: False)
    assert list(tmp_path.glob("*contacts*")) == [] and exports(store) == 0


def test_a_coupon_pdf_and_a_contact_list_cross_to_a_spawned_process(
    store: Store, manager: Services, clock: FixedClock, member: int, tmp_path: Path
) -> None:
    """Windows' start method: the jobs, their arguments and their results pickle."""
    jobs = BackgroundJobs(store.db, manager.operator, clock, store.paths, method="spawn")
    campaign, codes = active_campaign(manager, count=3)
    path, job = jobs.coupon_pdf(campaign, "80mm")
    assert sorted(coupon.code for coupon in job.coupons) == sorted(codes) and readback.page_count(path) == 3
    listed = jobs.export_contacts(MemberSet.of_members([member], "张伟"), tmp_path / "contacts.xlsx")
    assert listed.rows == 1 and exports(store) == 1
