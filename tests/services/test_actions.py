"""From a set of members to an action, on both databases: campaigns for exactly the set (idempotent), follow-up tasks
(consent, one open task per reason, idempotent), contact lists (consent, phones by role, audited), and follow-ups."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from app.actions.member_sets import MemberSet
from app.care.follow_ups import FollowUpChannel, FollowUpPlan, FollowUpReason, FollowUpView
from app.clock import FixedClock
from app.context import Services, Store
from app.coupons.campaigns import CampaignTarget
from app.errors import ConflictError, MemberDeskError, PermissionDenied, ValidationError
from app.insights.saved import SegmentFilter
from app.members.service import MemberForm
from db.enums import MemberStatus, TaskStatus
from db.models import AuditLog, Coupon, CouponCampaign, FollowUpTask, Member, MemberSegment

TODAY = dt.date(2026, 11, 18)  # the store's day of the services fixture's clock


@pytest.fixture
def manager(store: Store) -> Services:
    return store.services(store.operator("manager"))


def join(svc: Services, phone: str, name: str, marketing: bool) -> int:
    return svc.members.register(
        MemberForm(phone=phone, name=name, membership_consent=True, marketing_consent=marketing)
    )


def mark_churn(store: Store, member_ids: list[int]) -> None:
    """Hand-made segment figures: these members carry a churn warning, the rest of the given ones none."""

    def work(session: object) -> None:
        for member_id in member_ids:
            session.add(  # type: ignore[attr-defined]
                MemberSegment(
                    member_id=member_id,
                    as_of=TODAY,
                    monetary_fen=0,
                    pyramid_level="small",
                    lifecycle_stage="dormant",
                    churn_warning=True,
                    model="rule",
                )
            )

    store.db.write(work)


@pytest.fixture
def people(store: Store, svc: Services) -> dict[str, int]:
    """Six members: four with a churn warning (one without marketing consent, one frozen), two without."""
    ids = {
        "churn_a": join(svc, "13800000001", "赵一", True),
        "churn_b": join(svc, "13800000002", "钱二", True),
        "churn_no_consent": join(svc, "13800000003", "孙三", False),
        "churn_frozen": join(svc, "13800000004", "李四", True),
        "fine": join(svc, "13800000005", "周五", True),
        "fine_no_consent": join(svc, "13800000006", "吴六", False),
    }
    mark_churn(store, [ids["churn_a"], ids["churn_b"], ids["churn_no_consent"], ids["churn_frozen"]])
    store.db.write(
        lambda s: s.execute(update(Member).where(Member.id == ids["churn_frozen"]).values(status=MemberStatus.FROZEN))
    )
    return ids


def holders(store: Store, campaign_id: int) -> list[int]:
    return store.db.read(
        lambda s: sorted(s.scalars(select(Coupon.member_id).where(Coupon.campaign_id == campaign_id)))  # type: ignore[arg-type]
    )


def audits(store: Store, action: str, entity: str) -> list[AuditLog]:
    return store.db.read(
        lambda s: list(s.scalars(select(AuditLog).where(AuditLog.action == action, AuditLog.entity == entity)))
    )


def test_win_back_campaign_reaches_exactly_the_churn_warnings_once(
    store: Store, svc: Services, manager: Services, people: dict[str, int]
) -> None:
    draft = manager.actions.win_back_draft()
    assert draft.code == "WB-20261118" and draft.value_fen == 2000 and draft.min_spend_fen == 10000
    with pytest.raises(PermissionDenied):
        svc.actions.create_campaign(MemberSet.win_back(), draft, "k1")
    key = str(uuid.uuid4())
    made = manager.actions.create_campaign(MemberSet.win_back(), draft, key)
    wanted = sorted([people["churn_a"], people["churn_b"], people["churn_no_consent"]])  # the frozen one is not
    assert made.issued == 3 and not made.replayed
    assert holders(store, made.campaign_id) == wanted
    again = manager.actions.create_campaign(MemberSet.win_back(), draft, key)
    assert (again.campaign_id, again.issued, again.replayed) == (made.campaign_id, 3, True)
    assert holders(store, made.campaign_id) == wanted
    status, target = store.db.read(
        lambda s: s.execute(
            select(CouponCampaign.status, CouponCampaign.target).where(CouponCampaign.id == made.campaign_id)
        ).one()
    )
    assert (status.value, target) == ("active", CampaignTarget.CHOSEN_MEMBERS)
    [row] = audits(store, "create_targeted", "coupon_campaign")
    assert row.details["count"] == 3
    with pytest.raises(ConflictError):  # another request with the same code
        manager.actions.create_campaign(MemberSet.win_back(), draft, str(uuid.uuid4()))


def test_a_saved_segment_campaign_keeps_targeting_the_segment(
    store: Store, svc: Services, manager: Services, people: dict[str, int]
) -> None:
    segment = manager.saved_segments.save("流失预警", SegmentFilter(churn_warning=True))
    draft = manager.actions.win_back_draft()
    made = manager.actions.create_campaign(MemberSet.of_segment(segment, "流失预警"), draft, "seg-1")
    assert made.issued == 3
    target, segment_id = store.db.read(
        lambda s: s.execute(
            select(CouponCampaign.target, CouponCampaign.saved_segment_id).where(CouponCampaign.id == made.campaign_id)
        ).one()
    )
    assert (target, segment_id) == (CampaignTarget.SAVED_SEGMENT, segment)
    mark_churn(store, [people["fine"]])  # the segment grows: issuing again reaches only the newcomer
    issued = manager.coupons.issue(made.campaign_id, "seg-2")
    assert issued.issued == 1
    assert people["fine"] in holders(store, made.campaign_id) and len(holders(store, made.campaign_id)) == 4
    with pytest.raises(ConflictError):  # a running campaign targets it
        manager.saved_segments.remove(segment)
    manager.coupons.end(made.campaign_id)
    manager.saved_segments.remove(segment)
    assert manager.saved_segments.all() == []


def test_a_chart_selection_gets_coupons_for_exactly_its_active_members(
    store: Store, manager: Services, people: dict[str, int]
) -> None:
    picked = MemberSet.of_members([people["fine"], people["churn_frozen"], people["fine_no_consent"]], "图表")
    assert manager.actions.summary(picked).members == 2 and manager.actions.summary(picked).with_consent == 1
    made = manager.actions.create_campaign(picked, manager.actions.win_back_draft(), "chart-1")
    assert holders(store, made.campaign_id) == sorted([people["fine"], people["fine_no_consent"]])


def test_cancelling_a_campaign_keeps_nothing(store: Store, manager: Services, people: dict[str, int]) -> None:
    with pytest.raises(MemberDeskError):
        manager.actions.create_campaign(
            MemberSet.win_back(), manager.actions.win_back_draft(), "c", progress=lambda *_: False
        )
    assert store.db.read(lambda s: s.scalar(select(func.count()).select_from(CouponCampaign))) == 0
    assert store.db.read(lambda s: s.scalar(select(func.count()).select_from(Coupon))) == 0


def test_follow_ups_for_a_set_keep_to_consent_and_are_made_once(
    store: Store, svc: Services, manager: Services, people: dict[str, int]
) -> None:
    plan = FollowUpPlan(FollowUpReason.CHURN_WARNING, TODAY, FollowUpChannel.WECHAT, None, "", "送挽回券")
    with pytest.raises(PermissionDenied):
        svc.actions.create_follow_ups(MemberSet.win_back(), plan, "f1")
    made = manager.actions.create_follow_ups(MemberSet.win_back(), plan, "f1")
    assert (made.created, made.without_consent, made.already_open, made.replayed) == (2, 1, 0, False)
    assert manager.actions.create_follow_ups(MemberSet.win_back(), plan, "f1").replayed
    with pytest.raises(ValidationError):  # each already has an open churn follow-up
        manager.actions.create_follow_ups(MemberSet.win_back(), plan, "f2")
    due = svc.care.follow_ups.tasks(FollowUpView.DUE_TODAY)
    assert sorted(t.member_id for t in due) == sorted([people["churn_a"], people["churn_b"]])  # type: ignore[type-var]
    assert {(t.reason, t.channel, t.note) for t in due} == {
        (FollowUpReason.CHURN_WARNING, FollowUpChannel.WECHAT, "送挽回券")
    }
    [row] = audits(store, "create_for_set", "follow_up")
    assert row.details["count"] == 2 and row.details["reason"] == "churn_warning"


def read_contacts(path: Path) -> list[list[str]]:
    if path.suffix == ".xlsx":
        sheet = load_workbook(path, read_only=True).active
        assert sheet is not None
        return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_contact_lists_keep_to_consent_mask_by_role_and_are_audited(
    store: Store, svc: Services, manager: Services, people: dict[str, int], tmp_path: Path, suffix: str
) -> None:
    everyone = MemberSet.of_members(list(people.values()), "全部")
    masked = svc.actions.export_contacts(everyone, tmp_path / f"cashier{suffix}")
    full = manager.actions.export_contacts(everyone, tmp_path / f"manager{suffix}")
    assert (masked.rows, masked.full_phones, full.rows, full.full_phones) == (3, False, 3, True)
    cashier_rows, manager_rows = read_contacts(masked.path), read_contacts(full.path)
    assert cashier_rows[0] == manager_rows[0] == ["member_no", "name", "phone", "tier", "points", "last_visit"]
    assert sorted(r[1] for r in manager_rows[1:]) == sorted(["赵一", "钱二", "周五"])  # consent, active
    assert sorted(r[2] for r in manager_rows[1:]) == ["13800000001", "13800000002", "13800000005"]
    assert sorted(r[2] for r in cashier_rows[1:]) == ["138****0001", "138****0002", "138****0005"]
    rows = audits(store, "export", "contact_list")
    assert [(r.details["count"], r.details["full_phones"]) for r in rows] == [(3, False), (3, True)]
    assert rows[0].details["file"] == f"cashier{suffix}"
    assert not list(tmp_path.glob(".*.part*"))
    with pytest.raises(ValidationError):
        svc.actions.export_contacts(everyone, tmp_path / "list.txt")


def test_a_cancelled_export_leaves_no_file_and_no_audit(
    store: Store, manager: Services, people: dict[str, int], tmp_path: Path
) -> None:
    folder = tmp_path / "lists"
    folder.mkdir()
    with pytest.raises(MemberDeskError):
        manager.actions.export_contacts(MemberSet.win_back(), folder / "x.csv", progress=lambda *_: False)
    assert list(folder.iterdir()) == [] and audits(store, "export", "contact_list") == []


def test_follow_up_screen_views_and_member_history(
    store: Store, svc: Services, clock: FixedClock, people: dict[str, int]
) -> None:
    follow_ups = svc.care.follow_ups
    member = people["fine"]
    staff = dict((name, staff_id) for staff_id, name in follow_ups.assignees())
    today = follow_ups.create(
        member, FollowUpPlan(FollowUpReason.BIRTHDAY, TODAY, FollowUpChannel.IN_STORE, staff["王店长"], "", "")
    )
    late = follow_ups.create(member, FollowUpPlan(FollowUpReason.CUSTOM, TODAY - dt.timedelta(days=2), title="问尺码"))
    later = follow_ups.create(member, FollowUpPlan(FollowUpReason.CUSTOM, TODAY + dt.timedelta(days=5)))
    assert [t.id for t in follow_ups.tasks(FollowUpView.DUE_TODAY)] == [today.task_id]
    assert [t.id for t in follow_ups.tasks(FollowUpView.OVERDUE)] == [late.task_id]
    assert [t.id for t in follow_ups.tasks(FollowUpView.OPEN)] == [late.task_id, today.task_id, later.task_id]
    counts = follow_ups.counts()
    assert (counts.due_today, counts.overdue, counts.open) == (1, 1, 3)
    [item] = follow_ups.tasks(FollowUpView.DUE_TODAY)
    assert (item.assignee, item.reason, item.channel, item.title) == (
        "王店长",
        FollowUpReason.BIRTHDAY,
        FollowUpChannel.IN_STORE,
        "Birthday greeting",
    )
    with pytest.raises(ValidationError):
        follow_ups.complete(late.task_id, "  ", None)
    follow_ups.complete(late.task_id, "周末来买", 5, note="要 M 码", channel=FollowUpChannel.WECHAT)
    with pytest.raises(ConflictError):
        follow_ups.complete(late.task_id, "again", None)
    [done] = follow_ups.tasks(FollowUpView.DONE)
    assert (done.id, done.outcome, done.note, done.channel, done.status) == (
        late.task_id,
        "周末来买",
        "要 M 码",
        FollowUpChannel.WECHAT,
        TaskStatus.DONE,
    )
    history = follow_ups.member_tasks(member)
    assert [t.id for t in history] == [today.task_id, later.task_id, late.task_id]  # done ones stay, last
    clock.advance(dt.timedelta(days=1))  # tomorrow the birthday task is overdue
    assert [t.id for t in follow_ups.tasks(FollowUpView.OVERDUE)] == [today.task_id]
    with pytest.raises(ValidationError):
        follow_ups.create(member, FollowUpPlan(FollowUpReason.CUSTOM, TODAY, assignee_id=99999))
    assert store.db.read(lambda s: s.scalar(select(func.count()).select_from(FollowUpTask))) == 3
    assert len(audits(store, "create", "follow_up")) == 3 and len(audits(store, "done", "follow_up")) == 1


def test_saved_segments_rename_and_list_members_by_role(
    store: Store, svc: Services, manager: Services, people: dict[str, int]
) -> None:
    segment = manager.saved_segments.save("流失", SegmentFilter(churn_warning=True))
    manager.saved_segments.rename(segment, "流失预警")
    assert [v.name for v in manager.saved_segments.all()] == ["流失预警"]
    with pytest.raises(PermissionDenied):
        svc.saved_segments.rename(segment, "x")
    other = manager.saved_segments.save("其他", SegmentFilter())
    with pytest.raises(ConflictError):
        manager.saved_segments.rename(other, "流失预警")
    page = svc.saved_segments.members(segment)
    assert page.total == 4 and [r.phone for r in page.rows][:1] == ["138****0001"]
    assert manager.saved_segments.members(segment, 1, 2).rows[0].phone == "13800000002"
    assert {r.churn_warning for r in page.rows} == {True}


def test_the_automatic_win_back_campaign_once_switched_on(
    store: Store, svc: Services, boss: Services, clock: FixedClock, people: dict[str, int], tmp_path: Path
) -> None:
    from app.coupons.automatic import run_daily

    greetings = tmp_path / "greetings"
    assert run_daily(svc.coupons, greetings).win_back_coupons == 0  # off until the owner switches it on
    boss.settings.update({"coupons.win_back_enabled": True})
    first = run_daily(svc.coupons, greetings)
    assert first.win_back_coupons == 2  # churn warning, marketing consent, active
    [campaign] = [c for c in svc.coupons.campaigns() if c.automatic]
    assert (campaign.code, campaign.status.value, campaign.issued) == ("WINBACK-202611", "active", 2)
    assert holders(store, campaign.id) == sorted([people["churn_a"], people["churn_b"]])
    assert run_daily(svc.coupons, greetings).win_back_coupons == 0  # the same day again: nothing more
    mark_churn(store, [people["fine"]])
    clock.advance(dt.timedelta(days=1))
    assert run_daily(svc.coupons, greetings).win_back_coupons == 1  # the newcomer, the next day
    assert len(holders(store, campaign.id)) == 3


def test_big_sets_are_worked_in_chunks_with_progress(
    store: Store, manager: Services, people: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.actions.member_sets as member_sets
    import app.actions.service as actions
    import app.coupons.service as coupons

    monkeypatch.setattr(member_sets, "ID_CHUNK", 2)
    monkeypatch.setattr(actions, "ID_CHUNK", 2)
    monkeypatch.setattr(actions, "TASK_CHUNK", 1)
    monkeypatch.setattr(coupons, "ISSUE_CHUNK", 2)
    seen: list[tuple[int, int, str]] = []

    def progress(done: int, total: int, what: str) -> bool:
        seen.append((done, total, what))
        return True

    everyone = MemberSet.of_members(list(people.values()), "全部")
    made = manager.actions.create_campaign(everyone, manager.actions.win_back_draft(), "big", progress)
    assert made.issued == 5 and [s[0] for s in seen] == [0, 2, 4]
    seen.clear()
    plan = FollowUpPlan(FollowUpReason.CUSTOM, TODAY)
    assert manager.actions.create_follow_ups(everyone, plan, "big", progress).created == 3
    assert [s[0] for s in seen] == [0, 1, 2]
    seen.clear()
    listed = manager.actions.export_contacts(everyone, tmp_path / "big.csv", progress)
    assert listed.rows == 3 and [s[0] for s in seen] == [0, 0, 2]
