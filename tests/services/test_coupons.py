"""Campaigns and coupons on both backends: the role rules, issuing, every redemption rule (each refusal names its rule
and changes nothing), redemption inside the sale, restore on return, void, expiry, figures, and `db check`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from app.context import Services, Store
from app.coupons.campaigns import CampaignDraft
from app.coupons.codes import new_codes
from app.coupons.redemption import CouponRefused
from app.errors import ConflictError, PermissionDenied, ValidationError
from app.integrity import check_database
from app.loyalty.service import PurchaseRequest, SaleLineInput
from app.members.service import MemberForm
from db.enums import CampaignStatus, CampaignTarget, CouponKind, CouponStatus
from db.models import AuditLog, Coupon, CouponLedger, Member, Sale
from tests.services.conftest import START


def key() -> str:
    return str(uuid.uuid4())


def draft(code: str = "C1", **kw: object) -> CampaignDraft:
    values: dict[str, object] = {
        "code": code,
        "name": "满100减20",
        "kind": CouponKind.AMOUNT_OFF,
        "valid_from": START - dt.timedelta(days=1),
        "valid_until": START + dt.timedelta(days=30),
        "value_fen": 2_000,
        "min_spend_fen": 10_000,
        "target": CampaignTarget.BEARER,
    }
    values.update(kw)
    return CampaignDraft(**values)  # type: ignore[arg-type]


@pytest.fixture
def manager(store: Store) -> Services:
    return store.services(store.operator("manager"))


@pytest.fixture
def member(svc: Services) -> int:
    return svc.members.register(MemberForm(phone="13812345678", name="张三", membership_consent=True))


@pytest.fixture(autouse=True)
def ledger_stays_sound(store: Store) -> Iterator[None]:
    yield
    assert [str(p) for p in check_database(store.db)] == []


def active_campaign(manager: Services, count: int = 3, **kw: object) -> tuple[int, list[str]]:
    campaign = manager.coupons.create_campaign(draft(**kw)).campaign_id
    manager.coupons.activate(campaign)
    manager.coupons.issue(campaign, key(), count=count)
    return campaign, [c.code for c in manager.coupons.print_job(campaign).coupons]


def buy(svc: Services, member: int, fen: int, code: str | None, **kw: object) -> object:
    return svc.loyalty.record_purchase(
        PurchaseRequest(member_id=member, total_fen=fen, idempotency_key=key(), coupon_code=code, **kw)  # type: ignore[arg-type]
    )


def coupon_state(store: Store, code: str) -> CouponStatus:
    with store.db.session() as session:
        status = session.scalar(select(Coupon.status).where(Coupon.code == code))
    assert status is not None
    return status


def test_roles_and_the_campaign_life(svc: Services, manager: Services, boss: Services) -> None:
    with pytest.raises(PermissionDenied):
        svc.coupons.create_campaign(draft())
    campaign = manager.coupons.create_campaign(draft()).campaign_id
    with pytest.raises(PermissionDenied):
        svc.coupons.activate(campaign)
    manager.coupons.update_campaign(campaign, draft(name="满100减25", value_fen=2_500))
    manager.coupons.activate(campaign)
    with pytest.raises(ConflictError):
        manager.coupons.update_campaign(campaign, draft())
    with pytest.raises(PermissionDenied):
        svc.coupons.end(campaign)
    boss.coupons.end(campaign)
    with pytest.raises(ConflictError):
        manager.coupons.activate(campaign)
    with pytest.raises(ConflictError):
        manager.coupons.create_campaign(draft())
    [row] = svc.coupons.campaigns()
    assert row.status == CampaignStatus.ENDED and row.name == "满100减25"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"valid_until": START - dt.timedelta(days=2)}, "valid_until"),
        ({"kind": CouponKind.PERCENT_OFF, "percent_off": 101}, "percent"),
        ({"kind": CouponKind.PERCENT_OFF, "percent_off": 0}, "percent"),
        ({"value_fen": -1}, "value"),
        ({"value_fen": 1_000_000_000}, "value"),
        ({"value_fen": 20_000}, "value"),
        ({"total_quantity": -5}, "quantity"),
        ({"code": "满减"}, "code"),
        ({"name": " "}, "name"),
        ({"kind": CouponKind.GIFT, "gift_name": ""}, "gift"),
        ({"kind": CouponKind.POINTS_MULTIPLIER, "points_multiplier_pct": 100}, "multiplier"),
        ({"target": CampaignTarget.TIER}, "tier"),
    ],
)
def test_bad_campaigns_are_refused_and_nothing_written(
    manager: Services, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        manager.coupons.create_campaign(draft(**changes))
    assert refused.value.field == field
    assert manager.coupons.campaigns() == []


def test_issue_to_a_tier_respects_the_limit_and_the_key(svc: Services, manager: Services, store: Store) -> None:
    ids = [
        svc.members.register(MemberForm(phone=f"1381234567{i}", name=f"顾客{i}", membership_consent=True))
        for i in range(4)
    ]
    with store.db.session() as session, session.begin():
        tier = session.scalar(select(Member.tier_id).where(Member.id == ids[0]))
        session.execute(update(Member).where(Member.id == ids[3]).values(tier_id=tier + 1 if tier else 2))
    campaign = manager.coupons.create_campaign(draft(target=CampaignTarget.TIER, tier_id=tier)).campaign_id
    issue_key = key()
    assert manager.coupons.issue(campaign, issue_key).issued == 3
    assert manager.coupons.issue(campaign, issue_key).replayed
    with pytest.raises(ValidationError):  # each already holds the one allowed
        manager.coupons.issue(campaign, key())
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Coupon)) == 3
        assert session.scalar(select(func.count()).select_from(CouponLedger)) == 3


def test_quantity_is_a_ceiling(manager: Services) -> None:
    campaign = manager.coupons.create_campaign(draft(total_quantity=5)).campaign_id
    manager.coupons.issue(campaign, key(), count=4)
    with pytest.raises(ValidationError) as refused:
        manager.coupons.issue(campaign, key(), count=2)
    assert "1" in str(refused.value)


def test_redeem_with_a_purchase_scan_again_return_restores(
    svc: Services, manager: Services, store: Store, member: int
) -> None:
    campaign, [code, *_] = active_campaign(manager)
    result = buy(svc, member, 15_000, code.lower())
    assert result.coupon_discount_fen == 2_000  # type: ignore[attr-defined]
    assert result.paid_fen == 13_000  # type: ignore[attr-defined]
    assert result.points_earned == 130  # type: ignore[attr-defined]  # no points on the part the coupon paid
    assert coupon_state(store, code) == CouponStatus.REDEEMED
    with pytest.raises(CouponRefused, match="already used"):
        buy(svc, member, 15_000, code)
    returned = svc.loyalty.return_sale(result.sale_id, key())  # type: ignore[attr-defined]
    assert returned.coupon_restored
    assert coupon_state(store, code) == CouponStatus.ISSUED
    figures = svc.coupons.figures(campaign)
    assert (figures.issued, figures.redeemed, figures.sales, figures.discount_fen) == (3, 0, 0, 0)
    buy(svc, member, 15_000, code)
    assert svc.coupons.figures(campaign).redeemed == 1


def test_every_refusal_names_its_rule_and_changes_nothing(
    svc: Services, manager: Services, boss: Services, store: Store, member: int
) -> None:
    other = svc.members.register(MemberForm(phone="13900001111", name="李四", membership_consent=True))
    _, codes = active_campaign(manager, count=2)
    mine = manager.coupons.create_campaign(
        draft("MINE", target=CampaignTarget.CHOSEN_MEMBERS, excluded_categories=("TOBACCO",), min_spend_fen=10_000)
    ).campaign_id
    manager.coupons.activate(mine)
    manager.coupons.issue(mine, key(), member_ids=[member])
    [mine_code] = [c.code for c in manager.coupons.print_job(mine).coupons]
    _, [far_code, *_] = active_campaign(manager, code="FAR", branch_ids=(999_999,))
    _, [later_code, *_] = active_campaign(manager, code="LATER", valid_from=START + dt.timedelta(days=2))
    ended, [ended_code, *_] = active_campaign(manager, code="ENDED")
    boss.coupons.end(ended)
    foreign = new_codes(1)[0]  # well formed, but not this store's
    cases = [
        ("ABC123", "not a coupon code"),
        (codes[0][:-1] + ("3" if codes[0][-1] != "3" else "4"), "not a coupon code"),
        (foreign, "No coupon"),
        (ended_code, "not running"),
        (later_code, "valid from"),
        (far_code, "branch"),
        (codes[1], "needs a spend"),
    ]
    with store.db.session() as session:
        before = session.scalar(select(func.count()).select_from(CouponLedger))
    for code, rule in cases:
        with pytest.raises(CouponRefused, match=rule):
            buy(svc, member, 5_000, code)
    with pytest.raises(CouponRefused, match="another member"):
        buy(svc, other, 20_000, mine_code)
    lines = [SaleLineInput(8_000, None), SaleLineInput(5_000, "TOBACCO")]
    with store.db.session() as session, session.begin():
        from db.models import Category

        session.add(Category(code="TOBACCO", name="烟草", name_en="Tobacco", earns_points=False))
    with pytest.raises(CouponRefused, match="needs a spend"):  # 烟草 does not count towards the minimum
        buy(svc, member, 13_000, mine_code, lines=lines)
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(CouponLedger)) == before
        assert session.scalar(select(func.count()).select_from(Sale)) == 0
    svc.coupons.check(mine_code, member, [(12_000, None), (5_000, "TOBACCO")])
    store.clock.advance(dt.timedelta(days=40))  # type: ignore[attr-defined]
    with pytest.raises(CouponRefused, match="expired"):
        buy(svc, member, 20_000, codes[0])


def test_percent_cap_gift_and_points_multiplier(svc: Services, manager: Services, member: int) -> None:
    _, [percent] = active_campaign(
        manager, count=1, code="P", kind=CouponKind.PERCENT_OFF, percent_off=20, max_discount_fen=3_000, value_fen=0
    )
    assert buy(svc, member, 50_000, percent).coupon_discount_fen == 3_000  # type: ignore[attr-defined]
    _, [gift] = active_campaign(manager, count=1, code="G", kind=CouponKind.GIFT, gift_name="保温杯", value_fen=0)
    quote = svc.coupons.check(gift, member, [(20_000, None)])
    assert (quote.discount_fen, quote.gift_name) == (0, "保温杯")
    _, [double] = active_campaign(
        manager, count=1, code="X2", kind=CouponKind.POINTS_MULTIPLIER, points_multiplier_pct=200, value_fen=0
    )
    assert buy(svc, member, 20_000, double).points_earned == 400  # type: ignore[attr-defined]


def test_void_needs_a_manager_and_a_reason_and_is_audited(
    svc: Services, manager: Services, store: Store, member: int
) -> None:
    campaign = manager.coupons.create_campaign(draft(target=CampaignTarget.CHOSEN_MEMBERS)).campaign_id
    manager.coupons.activate(campaign)
    manager.coupons.issue(campaign, key(), member_ids=[member])
    [held] = svc.coupons.member_coupons(member)
    assert held.usable
    with pytest.raises(PermissionDenied):
        svc.coupons.void(held.id, "丢失", key())
    with pytest.raises(ValidationError):
        manager.coupons.void(held.id, " ", key())
    manager.coupons.void(held.id, "顾客遗失", key())
    assert coupon_state(store, held.code) == CouponStatus.VOID
    with pytest.raises(CouponRefused, match="voided"):
        buy(svc, member, 20_000, held.code)
    with store.db.session() as session:
        audit = session.scalar(select(AuditLog).where(AuditLog.action == "void"))
        assert audit is not None and audit.details["reason"] == "顾客遗失"
        assert audit.details["rows"]["coupon_ledger"][0] == 1  # the entry vouches for the void's ledger row


def test_printing_counts_reprints_and_expiry_ends(svc: Services, manager: Services, store: Store) -> None:
    campaign, codes = active_campaign(manager, count=3)
    ids = [c.id for c in svc.coupons.print_job(campaign).coupons]
    print_key = key()
    assert svc.coupons.mark_printed(ids, print_key) == 3
    assert svc.coupons.mark_printed(ids, print_key) == 0
    svc.coupons.mark_printed(ids[:1], key())
    with pytest.raises(ValidationError, match="printed already"):
        svc.coupons.print_job(campaign, only_unprinted=True)
    figures = svc.coupons.figures(campaign)
    assert (figures.printed, figures.reprints) == (3, 1)
    store.clock.advance(dt.timedelta(days=31))  # type: ignore[attr-defined]
    assert svc.coupons.expire_due() == 3
    assert svc.coupons.expire_due() == 0
    assert coupon_state(store, codes[0]) == CouponStatus.EXPIRED
    assert svc.coupons.campaigns()[0].status == CampaignStatus.ENDED


def test_export_and_lookup_by_code(svc: Services, manager: Services, store: Store, tmp_path: Path, member: int) -> None:
    campaign = manager.coupons.create_campaign(draft(target=CampaignTarget.ALL_MEMBERS)).campaign_id
    manager.coupons.issue(campaign, key())
    [held] = svc.coupons.member_coupons(member)
    with store.db.session() as session:
        member_no = session.scalar(select(Member.member_no).where(Member.id == member))
    assert svc.coupons.holder_member_no(held.code.lower()) == member_no
    assert svc.coupons.holder_member_no("13812345678") is None
    assert manager.coupons.export(campaign, tmp_path / "c.csv") == 1
    text = (tmp_path / "c.csv").read_text(encoding="utf-8-sig")
    assert held.code in text and "code,member_no,status" in text.splitlines()[0]
    assert manager.coupons.export(campaign, tmp_path / "c.xlsx") == 1
    with pytest.raises(ValidationError):
        manager.coupons.export(campaign, tmp_path / "c.txt")
    assert manager.coupons.find_campaign("c1") == campaign
    assert manager.coupons.find_campaign("满100减20") == campaign


def test_db_check_sees_a_coupon_state_that_left_its_ledger(manager: Services, store: Store) -> None:
    _, [code] = active_campaign(manager, count=1)
    with store.db.session() as session, session.begin():
        session.execute(update(Coupon).values(status=CouponStatus.REDEEMED))
    problems = [str(p) for p in check_database(store.db)]
    assert any("ledger" in p and code in p for p in problems), problems
    with store.db.session() as session, session.begin():
        session.execute(update(Coupon).values(status=CouponStatus.ISSUED))


def test_db_check_sees_a_second_redemption_and_a_discount_without_its_redemption(
    svc: Services, manager: Services, store: Store, member: int
) -> None:
    _, [code, *_] = active_campaign(manager)
    buy(svc, member, 15_000, code)
    plain = buy(svc, member, 15_000, None).sale_id  # type: ignore[attr-defined]
    with store.db.session() as session:
        coupon_id = session.scalar(select(Coupon.id).where(Coupon.code == code))
        redeemed = session.scalars(select(CouponLedger).where(CouponLedger.action == "redeem")).one()
        forged = CouponLedger(
            idempotency_key=key(),
            coupon_id=redeemed.coupon_id,
            action=redeemed.action,
            sale_id=redeemed.sale_id,
            staff_id=redeemed.staff_id,
            branch_id=redeemed.branch_id,
            created_at=redeemed.created_at,
            audit_id=redeemed.audit_id,
        )
    with store.db.session() as session, session.begin():
        session.add(forged)
        session.flush()
        forged_id = forged.id
        session.execute(update(Sale).where(Sale.id == plain).values(coupon_id=coupon_id))
    problems = [str(p) for p in check_database(store.db)]
    assert any("redeemed more than once" in p and code in p for p in problems), problems
    assert any("belong to no coupon redemption" in p and str(plain) in p for p in problems), problems
    with store.db.session() as session, session.begin():  # put back, for the fixture's final check
        session.execute(update(Sale).where(Sale.id == plain).values(coupon_id=None))
        session.execute(delete(CouponLedger).where(CouponLedger.id == forged_id))


def test_automatic_birthday_and_holiday_campaigns_once_switched_on(
    svc: Services, boss: Services, store: Store, tmp_path: Path
) -> None:
    from app.coupons.automatic import run_daily

    def person(phone: str, birthday: dt.date, consent: bool) -> int:
        form = MemberForm(
            phone=phone, name="王芳", birthday=birthday, membership_consent=True, marketing_consent=consent
        )
        return svc.members.register(form)

    soon = person("13800000001", dt.date(1990, 11, 21), True)  # START is 2026-11-18
    person("13800000002", dt.date(1991, 11, 21), False)  # no marketing consent: no coupon
    person("13800000003", dt.date(1992, 12, 30), True)  # too far ahead
    greetings = tmp_path / "greetings"
    assert run_daily(svc.coupons, greetings).birthday_coupons == 0  # off until the owner switches it on
    boss.settings.update(
        {
            "coupons.birthday_enabled": True,
            "coupons.holidays_enabled": True,
            "coupons.holidays": ["国庆=2026-11-20", "春节=bad"],
        }
    )
    first = run_daily(svc.coupons, greetings)
    assert (first.birthday_coupons, first.holiday_coupons) == (1, 2)
    assert sorted(c.campaign_name for c in svc.coupons.member_coupons(soon)) == ["国庆券 2026", "生日券 2026"]
    [greeting] = first.greeting_lists
    lines = greeting.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "member_no,name,phone,coupon_code" and len(lines) == 3
    store.clock.advance(dt.timedelta(days=1))  # type: ignore[attr-defined]
    again = run_daily(svc.coupons, greetings)
    assert (again.birthday_coupons, again.holiday_coupons) == (0, 0)  # no second birthday coupon this year
