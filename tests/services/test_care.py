"""Complaints, follow-ups and surveys on both backends: the workflow rules, goodwill and rewards through the ledger,
bad input refused with nothing written, and `db check` agreeing after every scenario."""

from __future__ import annotations

import datetime as dt
import statistics
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.care import complaints as complaints_module
from app.care.analysis import Dimension
from app.care.complaints import ComplaintDraft, ComplaintFilter, Resolution
from app.care.questions import ChoiceText, Question, QuestionKind
from app.care.surveys import FormBatch, TemplateDraft, form_number
from app.changes import Changes
from app.clock import FixedClock
from app.context import Services, Store
from app.coupons.campaigns import CampaignDraft
from app.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from app.integrity import check_database
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from db.enums import (
    CampaignTarget,
    ComplaintSeverity,
    ComplaintStatus,
    CouponAction,
    CouponKind,
    LedgerSource,
    StaffRole,
)
from db.models import (
    AuditLog,
    Complaint,
    ComplaintEvent,
    Coupon,
    CouponLedger,
    FollowUpTask,
    Member,
    PointsLedger,
    SurveyForm,
    SurveyResponse,
)
from tests.services.conftest import START
from tests.staff_support import MANAGER_PIN


def key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def member(svc: Services) -> int:
    return svc.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))


@pytest.fixture(autouse=True)
def database_stays_sound(store: Store) -> Iterator[None]:
    yield
    assert [str(p) for p in check_database(store.db)] == []


def count(store: Store, model: type) -> int:
    with store.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def balance(store: Store, member: int) -> int:
    with store.db.session() as session:
        return session.scalar(select(Member.points_balance).where(Member.id == member)) or 0


def draft(**kw: object) -> ComplaintDraft:
    values: dict[str, object] = {
        "subject": "酸奶胀袋",
        "channel": "counter",
        "category": "商品质量",
        "severity": ComplaintSeverity.HIGH,
    }
    values.update(kw)
    return ComplaintDraft(**values)  # type: ignore[arg-type]


# ---- complaints -------------------------------------------------------------------------------------------------
def test_log_with_member_and_sale_sets_due_from_severity(svc: Services, member: int, clock: FixedClock) -> None:
    sale = svc.loyalty.record_purchase(PurchaseRequest(member_id=member, total_fen=5_000, idempotency_key=key()))
    choices = svc.care.complaints.recent_sales(member)
    assert [c.sale_id for c in choices] == [sale.sale_id]
    uid = key()
    saved = svc.care.complaints.log(draft(member_id=member, sale_id=sale.sale_id, product="光明酸奶"), uid)
    again = svc.care.complaints.log(draft(member_id=member), uid)
    assert again.complaint_id == saved.complaint_id  # a double Enter records it once
    detail = svc.care.complaints.detail(saved.complaint_id)
    assert detail.row.status == ComplaintStatus.OPEN
    assert detail.row.due_at == clock.now() + dt.timedelta(hours=24)
    assert detail.sale is not None and detail.sale.sale_id == sale.sale_id
    assert detail.moves == (ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED)
    assert svc.care.complaints.member_summary(member).open == 1


def test_a_complaint_without_a_member(svc: Services) -> None:
    saved = svc.care.complaints.log(draft(severity=ComplaintSeverity.LOW, channel="phone"), key())
    assert svc.care.complaints.detail(saved.complaint_id).member_id is None


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"subject": "  "}, ValidationError),
        ({"due_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)}, ValidationError),
        ({"member_id": 999_999}, NotFoundError),
        ({"sale_id": 999_999}, NotFoundError),
        ({"channel": "fax"}, ValidationError),
        ({"category": "天气"}, ValidationError),
    ],
)
def test_bad_complaints_are_refused_and_nothing_is_written(
    svc: Services, store: Store, changes: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        svc.care.complaints.log(draft(**changes), key())
    assert count(store, Complaint) == 0 and count(store, ComplaintEvent) == 0


def test_another_members_sale_is_refused(svc: Services, store: Store, member: int) -> None:
    other = svc.members.register(MemberForm(phone="13900001111", name="李四", membership_consent=True))
    sale = svc.loyalty.record_purchase(PurchaseRequest(member_id=other, total_fen=5_000, idempotency_key=key()))
    with pytest.raises(ValidationError):
        svc.care.complaints.log(draft(member_id=member, sale_id=sale.sale_id), key())
    assert count(store, Complaint) == 0


def test_workflow_with_goodwill_points_and_follow_up(
    svc: Services, boss: Services, store: Store, member: int, clock: FixedClock
) -> None:
    complaints = svc.care.complaints
    cid = complaints.log(draft(member_id=member), key()).complaint_id
    manager = store.operator("manager")
    complaints.assign(cid, manager.staff_id or 0, "请店长处理")
    complaints.start(cid, "已联系顾客")
    with pytest.raises(PermissionDenied):  # a cashier needs a manager's PIN for goodwill, as for any adjustment
        complaints.resolve(cid, Resolution("退货并致歉", goodwill_points=200))
    assert balance(store, member) == 0
    assert complaints.detail(cid).row.status == ComplaintStatus.IN_PROGRESS
    clock.advance(dt.timedelta(hours=5))
    saved = complaints.resolve(
        cid, Resolution("退货并致歉", goodwill_points=200, refund_fen=1_250, approver_pin=MANAGER_PIN)
    )
    assert saved.status == ComplaintStatus.RESOLVED
    assert balance(store, member) == 200
    with store.db.session() as session:
        entry = session.scalars(select(PointsLedger).where(PointsLedger.member_id == member)).one()
        assert entry.source == LedgerSource.ADJUSTMENT and f"#{cid}" in entry.reason
        assert entry.approved_by_id == manager.staff_id
    detail = complaints.detail(cid)
    assert (detail.goodwill_points, detail.refund_fen, detail.resolution) == (200, 1_250, "退货并致歉")
    assert [e.to_status for e in detail.events] == [
        ComplaintStatus.OPEN,
        ComplaintStatus.OPEN,
        ComplaintStatus.IN_PROGRESS,
        ComplaintStatus.RESOLVED,
    ]
    assert detail.events[-1].goodwill
    assert detail.row.assignee == "王店长"
    [task] = detail.follow_ups
    done = svc.care.follow_ups.complete(task.id, "顾客表示满意", 5)
    assert done.task_id == task.id
    with pytest.raises(ConflictError):
        svc.care.follow_ups.complete(task.id, "again", 4)
    assert complaints.detail(cid).follow_ups[0].satisfaction == 5
    complaints.close(cid, "结案")
    with pytest.raises(ConflictError):  # closed → resolved makes no sense
        complaints.resolve(cid, Resolution("again"))
    with pytest.raises(ValidationError):
        complaints.reopen(cid, "")
    complaints.reopen(cid, "顾客再次来电")
    assert complaints.detail(cid).row.status == ComplaintStatus.OPEN
    # a second resolution with goodwill posts under a new key; the manager needs no PIN
    boss.care.complaints.resolve(cid, Resolution("换货", goodwill_points=50))
    assert balance(store, member) == 250


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ((), ComplaintStatus.CLOSED),
        (("start",), ComplaintStatus.OPEN),
        (("start",), ComplaintStatus.CLOSED),
        (("resolve", "close"), ComplaintStatus.RESOLVED),
    ],
)
def test_moves_that_make_no_sense_are_refused(
    svc: Services, store: Store, path: tuple[str, ...], refused: ComplaintStatus
) -> None:
    complaints = svc.care.complaints
    cid = complaints.log(draft(), key()).complaint_id
    for step in path:
        if step == "resolve":
            complaints.resolve(cid, Resolution("ok", follow_up=False))
        else:
            getattr(complaints, step)(cid, "")
    events = count(store, ComplaintEvent)
    with pytest.raises((ConflictError, ValidationError)):
        if refused == ComplaintStatus.CLOSED:
            complaints.close(cid)
        elif refused == ComplaintStatus.OPEN:
            complaints.reopen(cid, "why")
        else:
            complaints.resolve(cid, Resolution("again"))
    assert count(store, ComplaintEvent) == events


def test_goodwill_and_the_resolution_commit_together(
    svc: Services, store: Store, member: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    complaints = svc.care.complaints
    cid = complaints.log(draft(member_id=member), key()).complaint_id
    real_audit = complaints_module.record_audit

    def audit_fails_on_resolve(session: object, operator: object, action: str, *rest: object) -> None:
        if action == ComplaintStatus.RESOLVED.value:
            raise RuntimeError("the disk filled up while the resolution was written")
        real_audit(session, operator, action, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(complaints_module, "record_audit", audit_fails_on_resolve)
    with pytest.raises(RuntimeError):
        complaints.resolve(cid, Resolution("致歉", goodwill_points=80, approver_pin=MANAGER_PIN))
    assert balance(store, member) == 0 and count(store, PointsLedger) == 0  # the points went with the resolution
    assert complaints.detail(cid).row.status == ComplaintStatus.OPEN
    monkeypatch.setattr(complaints_module, "record_audit", real_audit)
    complaints.resolve(cid, Resolution("致歉", goodwill_points=80, approver_pin=MANAGER_PIN))
    assert balance(store, member) == 80 and count(store, PointsLedger) == 1


def member_campaign(boss: Services, **kw: object) -> int:
    values: dict[str, object] = {
        "code": "SORRY",
        "name": "投诉补偿券",
        "kind": CouponKind.AMOUNT_OFF,
        "valid_from": START - dt.timedelta(days=1),
        "valid_until": START + dt.timedelta(days=30),
        "value_fen": 1_000,
        "target": CampaignTarget.CHOSEN_MEMBERS,
    }
    values.update(kw)
    campaign = boss.coupons.create_campaign(CampaignDraft(**values)).campaign_id  # type: ignore[arg-type]
    boss.coupons.activate(campaign)
    return campaign


def test_a_resolution_gives_a_coupon_in_its_own_transaction(
    svc: Services, boss: Services, store: Store, member: int
) -> None:
    campaign = member_campaign(boss)
    bearer = member_campaign(boss, code="BEARER", name="路人券", target=CampaignTarget.BEARER)
    assert [o.campaign_id for o in svc.coupons.compensation_offers()] == [campaign]  # bearer coupons belong to nobody
    complaints = svc.care.complaints
    cid = complaints.log(draft(member_id=member), key()).complaint_id
    with pytest.raises(PermissionDenied):  # a cashier gives no coupon without a manager's PIN
        complaints.resolve(cid, Resolution("致歉", coupon_campaign_id=campaign))
    with pytest.raises(ValidationError):
        complaints.resolve(cid, Resolution("致歉", coupon_campaign_id=bearer, approver_pin=MANAGER_PIN))
    assert count(store, Coupon) == 0 and complaints.detail(cid).row.status == ComplaintStatus.OPEN
    saved = complaints.resolve(
        cid, Resolution("致歉", goodwill_points=30, coupon_campaign_id=campaign, approver_pin=MANAGER_PIN)
    )
    assert Changes.COUPONS in saved.changes and Changes.POINTS in saved.changes
    [held] = svc.coupons.member_coupons(member)
    assert complaints.detail(cid).events[-1].coupon_code == held.code
    with store.db.session() as session:
        [entry] = session.scalars(select(CouponLedger).where(CouponLedger.coupon_id == held.id)).all()
        assert (entry.action, entry.idempotency_key) == (CouponAction.ISSUE, f"complaint:{cid}:coupon:0:{held.id}")
    complaints.reopen(cid, "顾客仍不满意")  # the per-member limit (1) holds for a second resolution
    with pytest.raises(ValidationError):
        complaints.resolve(cid, Resolution("再次致歉", coupon_campaign_id=campaign, approver_pin=MANAGER_PIN))
    assert count(store, Coupon) == 1 and balance(store, member) == 30
    walk_in = boss.care.complaints.log(draft(), key()).complaint_id
    with pytest.raises(ValidationError):
        boss.care.complaints.resolve(walk_in, Resolution("致歉", coupon_campaign_id=campaign))


def test_goodwill_needs_a_member(boss: Services, store: Store) -> None:
    cid = boss.care.complaints.log(draft(), key()).complaint_id
    with pytest.raises(ValidationError):
        boss.care.complaints.resolve(cid, Resolution("致歉", goodwill_points=10))
    assert count(store, PointsLedger) == 0


def test_list_filters_search_sort_and_overdue(svc: Services, member: int, clock: FixedClock) -> None:
    complaints = svc.care.complaints
    first = complaints.log(draft(subject="价签错误", category="价格标签", severity=ComplaintSeverity.LOW), key())
    second = complaints.log(draft(subject="排队太久", category="排队结账", member_id=member), key())
    clock.advance(dt.timedelta(hours=30))  # the high one (24 h) is overdue, the low one (168 h) is not
    page = complaints.page(ComplaintFilter())
    assert [r.id for r in page.rows] == [second.complaint_id, first.complaint_id] and page.total == 2
    assert [r.id for r in complaints.page(ComplaintFilter(overdue_only=True)).rows] == [second.complaint_id]
    assert complaints.page(ComplaintFilter()).rows[0].overdue
    assert [r.id for r in complaints.page(ComplaintFilter(search="价签")).rows] == [first.complaint_id]
    assert [r.id for r in complaints.page(ComplaintFilter(search="13812345678")).rows] == [second.complaint_id]
    assert [r.id for r in complaints.page(ComplaintFilter(category="价格标签")).rows] == [first.complaint_id]
    assert complaints.page(ComplaintFilter(sort="subject", descending=False)).rows[0].subject == "价签错误"
    assert complaints.page(ComplaintFilter(statuses=(ComplaintStatus.CLOSED,))).total == 0
    assert complaints.member_summary(member).overdue == 1


def test_analysis_counts_medians_repeat_and_months(svc: Services, member: int, clock: FixedClock) -> None:
    complaints = svc.care.complaints
    for hours in (2, 4, 12):
        cid = complaints.log(draft(member_id=member, product="光明"), key()).complaint_id
        clock.advance(dt.timedelta(hours=hours))
        complaints.resolve(cid, Resolution("ok", follow_up=False))
    complaints.log(draft(category="缺货"), key())
    analysis = svc.care.analysis
    table = analysis.groups(Dimension.CATEGORY)
    assert table.total == 4
    quality = next(g for g in table.groups if g.label == "商品质量")
    assert (quality.count, quality.resolved, quality.still_open) == (3, 3, 0)
    assert quality.median_hours == pytest.approx(4, abs=0.01)
    patterns = analysis.patterns()
    assert [(r.member_no, r.count) for r in patterns.repeat] == [(patterns.repeat[0].member_no, 3)]
    assert {(t.category, t.this_month) for t in patterns.top} == {("商品质量", 3), ("缺货", 1)}
    by_product = analysis.groups(Dimension.PRODUCT)
    assert {g.label: g.count for g in by_product.groups} == {"光明": 3, "(none)": 1}
    by_staff = analysis.groups(Dimension.STAFF)
    assert by_staff.total == 4 and sum(g.count for g in by_staff.groups) == 4
    assert {g.label for g in analysis.groups(Dimension.BRANCH).groups} == {"总店"}
    assert analysis.groups(Dimension.BRANCH, since=clock.now() + dt.timedelta(seconds=1)).total == 0
    assert analysis.patterns(since=clock.now() + dt.timedelta(seconds=1)).repeat == []


def test_analysis_medians_equal_pythons_for_odd_even_and_unresolved_groups(
    svc: Services, store: Store, clock: FixedClock
) -> None:
    """Resolve times made by hand, many per group (odd and even counts, open ones among them, a group with none
    resolved): each group's figures equal those Python computes from the same complaints."""
    complaints = svc.care.complaints
    plan: dict[str, list[int | None]] = {
        "商品质量": [5, 1, 9, None, 3],
        "价格标签": [2, 8, 4, 6, None, None],
        "缺货": [None],
        "其他": [7],
    }
    for category, hours in plan.items():
        for value in hours:
            cid = complaints.log(draft(category=category), key()).complaint_id
            if value is None:
                continue
            with store.db.session() as session, session.begin():
                # resolved now, logged `value` hours ago
                logged = clock.now() - dt.timedelta(hours=value)
                session.execute(update(Complaint).where(Complaint.id == cid).values(created_at=logged))
            complaints.resolve(cid, Resolution("ok", follow_up=False))
    table = svc.care.analysis.groups(Dimension.CATEGORY)
    found = {g.label: (g.count, g.resolved, g.still_open, g.median_hours) for g in table.groups}
    expected = {}
    for category, values in plan.items():
        done = [v for v in values if v is not None]
        median = statistics.median(done) if done else None
        expected[category] = (len(values), len(done), len(values) - len(done), median)
    assert found.keys() == expected.keys()
    for category, (count, resolved, still_open, median) in expected.items():
        assert found[category][:3] == (count, resolved, still_open)
        assert found[category][3] == (None if median is None else pytest.approx(median, abs=1e-3))
    assert [g.label for g in table.groups][:2] == ["价格标签", "商品质量"]  # most complaints first


def test_analysis_reads_covering_indexes(svc: Services, store: Store, member: int) -> None:
    """The analysis statements read the indexes made for them and never the complaints table (SQLite's plan)."""
    if store.db.sqlite_path is None:
        pytest.skip("SQLite's EXPLAIN QUERY PLAN")
    svc.care.complaints.log(draft(member_id=member), key())
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "complaints" in statement:
            statements.append(statement)

    from sqlalchemy import event

    engine = store.db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for dimension in Dimension:
            svc.care.analysis.groups(dimension, since=START - dt.timedelta(days=365))
        svc.care.analysis.patterns(since=START - dt.timedelta(days=365))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 6
    with store.db.session() as session:
        for statement in statements:
            plan = [
                str(row[-1])
                for row in session.connection().exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, tuple([None] * statement.count("?"))
                )
            ]
            reads = [step for step in plan if step.startswith(("SCAN complaints", "SEARCH complaints"))]
            assert reads and all("COVERING INDEX ix_complaints_" in step for step in reads), plan


def test_care_settings_are_validated_and_need_a_manager(svc: Services, boss: Services) -> None:
    current = boss.care.settings.current()
    with pytest.raises(PermissionDenied):
        svc.care.settings.update(current)
    with pytest.raises(ValidationError):
        boss.care.settings.update(type(current)(categories=("", " ")))
    boss.care.settings.update(type(current)(categories=("生鲜", "其他"), due_hours_high=4))
    assert svc.care.settings.current().categories == ("生鲜", "其他")
    svc.care.complaints.log(draft(category="生鲜"), key())


# ---- surveys ----------------------------------------------------------------------------------------------------
def printed(svc: Services, count_: int, member_no: str | None = None, code: str = "SAT") -> FormBatch:
    return svc.care.surveys.print_forms(code, count_, member_no, lambda batch: None)


def answers(**kw: str) -> dict[str, str]:
    base = {"quality": "5", "range": "4", "price": "3", "service": "5", "checkout": "2", "clean": "4", "nps": "9"}
    base.update(kw)
    return base


def test_default_survey_is_shipped_in_chinese_and_english(svc: Services) -> None:
    template = svc.care.surveys.template("sat")
    assert template.title == "顾客满意度调查" and template.title_en
    assert len(template.questions) == 10
    assert all(q.text and q.text_en for q in template.questions)


def test_print_enter_reward_and_refuse_twice(svc: Services, store: Store, member: int) -> None:
    member_no = svc.members.profile(member).member_no
    batch = printed(svc, 3, member_no)
    assert [f.form_no for f in batch.forms] == [form_number(1), form_number(2), form_number(3)]
    form_no = batch.forms[0].form_no
    target = svc.care.surveys.form_to_enter(form_no.lower(), "SAT")
    assert target.member_name == "张三" and target.reward_points == 50
    saved = svc.care.surveys.enter(form_no, answers(visits="b", buys="ca", comment="很好"), key(), "SAT")
    assert saved.reward_points == 50 and balance(store, member) == 50
    with pytest.raises(ConflictError, match="李收银"):
        svc.care.surveys.enter(form_no, answers(), key(), "SAT")
    assert balance(store, member) == 50 and count(store, SurveyResponse) == 1
    with store.db.session() as session:
        response = session.scalars(select(SurveyResponse)).one()
        assert response.answers["buys"] == ["A", "C"] and response.answers["visits"] == "B"
        assert response.score == 9


def test_a_second_batch_continues_the_numbers(svc: Services) -> None:
    printed(svc, 2)
    assert printed(svc, 1).forms[0].form_no == form_number(3)


def test_a_failed_pdf_keeps_no_form_rows(svc: Services, store: Store) -> None:
    def broken(batch: FormBatch) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        svc.care.surveys.print_forms("SAT", 5, None, broken)
    assert count(store, SurveyForm) == 0


@pytest.mark.parametrize(
    ("form", "typed", "error"),
    [
        ("8800000000017", {}, ValidationError),  # a member card scanned by mistake
        ("SV000000015", {}, ValidationError),  # a wrong check digit
        (form_number(99), {}, NotFoundError),  # never printed
        (form_number(1), {"quality": "6"}, ValidationError),  # rating out of range
        (form_number(1), {"nps": "11"}, ValidationError),
        (form_number(1), {"visits": "AB"}, ValidationError),  # one letter for a single choice
        (form_number(1), {"buys": "Z"}, ValidationError),
        ({"quality": ""}, None, ValidationError),  # marker: an empty form
    ],
)
def test_bad_entries_are_refused_and_nothing_is_written(
    svc: Services, store: Store, member: int, form: object, typed: object, error: type[Exception]
) -> None:
    printed(svc, 1, svc.members.profile(member).member_no)
    if isinstance(form, dict):
        typed_answers = {k: "" for k in answers()}
        form = form_number(1)
    else:
        assert isinstance(typed, dict)
        typed_answers = answers(**typed)
    with pytest.raises(error):
        svc.care.surveys.enter(str(form), typed_answers, key(), "SAT")
    assert count(store, SurveyResponse) == 0 and balance(store, member) == 0


def test_a_form_of_another_survey_is_refused(svc: Services, boss: Services, store: Store) -> None:
    boss.care.surveys.save_template(
        TemplateDraft("QUICK", "快速调查", [Question("", QuestionKind.RATING, "总体满意度")])
    )
    batch = printed(svc, 1, code="QUICK")
    with pytest.raises(ValidationError, match="快速调查"):
        svc.care.surveys.form_to_enter(batch.forms[0].form_no, "SAT")
    with pytest.raises(ValidationError):
        svc.care.surveys.enter(batch.forms[0].form_no, answers(), key(), "SAT")
    svc.care.surveys.enter(batch.forms[0].form_no, {"q1": "4"}, key(), "QUICK")
    assert count(store, SurveyResponse) == 1


def test_editing_a_used_template_adds_a_version(svc: Services, boss: Services) -> None:
    questions = [
        Question("", QuestionKind.RATING, "总体满意度"),
        Question("", QuestionKind.SINGLE, "来店方式", choices=(ChoiceText("步行"), ChoiceText("开车"))),
    ]
    first = boss.care.surveys.save_template(TemplateDraft("Q2", "调查", questions))
    assert first.template.version == 1 and [q.key for q in first.template.questions] == ["q1", "q2"]
    again = boss.care.surveys.save_template(TemplateDraft("Q2", "调查（改）", first.template.questions))
    assert again.template.version == 1 and not again.new_version  # nothing printed yet: edited in place
    batch = printed(svc, 1, code="Q2")
    svc.care.surveys.enter(batch.forms[0].form_no, {"q1": "5", "q2": "B"}, key(), "Q2")
    reworded = (Question("q1", QuestionKind.RATING, "您对本店满意吗"), first.template.questions[1])
    third = boss.care.surveys.save_template(TemplateDraft("Q2", "调查 v2", reworded))
    assert third.template.version == 2 and third.new_version
    results = svc.care.surveys.results("Q2")
    assert results.responses == 1 and results.questions[0].question.text == "您对本店满意吗"
    with pytest.raises(PermissionDenied):
        svc.care.surveys.save_template(TemplateDraft("Q3", "x", questions))
    with pytest.raises(ValidationError):
        boss.care.surveys.save_template(
            TemplateDraft("Q3", "x", [Question("", QuestionKind.SINGLE, "只有一个选项", choices=(ChoiceText("a"),))])
        )


def test_results_move_with_entries(svc: Services, member: int) -> None:
    batch = printed(svc, 3)
    svc.care.surveys.enter(batch.forms[0].form_no, answers(quality="5", nps="10"), key())
    first = svc.care.surveys.results("SAT")
    assert first.responses == 1 and first.nps == 100.0
    svc.care.surveys.enter(batch.forms[1].form_no, answers(quality="2", nps="3"), key())
    second = svc.care.surveys.results("SAT")
    assert second.nps == 0.0
    quality = second.questions[0]
    assert quality.distribution == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1} and quality.csat == 50.0
    assert second.trend[0].responses == 2 and second.branches[0].responses == 2


def test_survey_results_written_to_a_file_are_audited(svc: Services, store: Store, tmp_path: Path) -> None:
    """`surveys results --out` is an export like any other: an audited entry naming the file and its rows."""
    from app.care.cli import survey_results

    lines = survey_results(svc, "SAT", tmp_path / "results.xlsx", english=False)
    with store.db.session() as session:
        entries = session.execute(select(AuditLog.entity, AuditLog.details).where(AuditLog.action == "export")).all()
    assert [(entity, details["file"], details["count"]) for entity, details in entries] == [
        ("survey_results", "results.xlsx", len(lines) - 1)
    ]


def test_no_reward_for_anonymous_forms_or_when_switched_off(
    svc: Services, boss: Services, store: Store, member: int
) -> None:
    svc.care.surveys.enter(printed(svc, 1).forms[0].form_no, answers(), key())
    current = boss.care.settings.current()
    boss.care.settings.update(type(current)(survey_reward_points=0))
    member_no = svc.members.profile(member).member_no
    svc.care.surveys.enter(printed(svc, 1, member_no).forms[0].form_no, answers(), key())
    assert balance(store, member) == 0 and count(store, PointsLedger) == 0


def test_db_check_finds_broken_care_rows(svc: Services, store: Store, member: int) -> None:
    cid = svc.care.complaints.log(draft(), key()).complaint_id
    member_no = svc.members.profile(member).member_no
    form_no = printed(svc, 1, member_no).forms[0].form_no
    svc.care.surveys.enter(form_no, answers(), key())
    with store.db.engine.begin() as conn:
        conn.execute(update(Complaint).where(Complaint.id == cid).values(status=ComplaintStatus.CLOSED))
        conn.execute(update(SurveyResponse).values(reward_points=70))
    problems = " | ".join(str(p) for p in check_database(store.db))
    assert "status is not their last event" in problems and form_no in problems
    with store.db.engine.begin() as conn:  # put it back for the autouse check
        conn.execute(update(Complaint).where(Complaint.id == cid).values(status=ComplaintStatus.OPEN))
        conn.execute(update(SurveyResponse).values(reward_points=50))


def test_follow_up_bad_input(svc: Services, store: Store) -> None:
    with pytest.raises(NotFoundError):
        svc.care.follow_ups.complete(12345, "x", 3)
    with pytest.raises(ValidationError):
        svc.care.follow_ups.complete(12345, " ", 3)
    with pytest.raises(ValidationError):
        svc.care.follow_ups.complete(12345, "x", 6)
    assert count(store, FollowUpTask) == 0
    assert StaffRole.MANAGER  # the follow-up rules need no role
