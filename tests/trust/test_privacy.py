"""Members' privacy rights (PIPL): full phone and ID number only for managers and owners in every path, consent
withdrawn in one step, a member's data exported, deletion that keeps the books, the inactive review, the notice."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app.clock import FixedClock
from app.context import Services, Store
from app.errors import NotFoundError, PermissionDenied
from app.integrity import check_database
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from app.trust.notice import TITLE, write_privacy_notice
from db.enums import MemberStatus
from db.models import AuditLog, Member, PointsLedger, Sale
from tests.printing.readback import fonts, squeeze, text

PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def member(boss: Services) -> int:
    mid = boss.members.register(
        MemberForm(
            phone=PHONE,
            name="张三",
            id_number=ID_NUMBER,
            notes="喜欢有机蔬菜",
            tags=["常客"],
            membership_consent=True,
            marketing_consent=True,
        )
    )
    boss.loyalty.record_purchase(PurchaseRequest(member_id=mid, total_fen=25_000, idempotency_key=str(uuid.uuid4())))
    return mid


def test_the_edit_form_gives_a_cashier_no_full_phone_or_id(svc: Services, boss: Services, member: int) -> None:
    form = svc.members.form_for(member)
    assert form.phone == "138****5678" and form.id_number is None
    assert boss.members.form_for(member).phone == PHONE
    assert boss.members.form_for(member).id_number == ID_NUMBER
    form.notes = "改了备注"
    svc.members.update(member, form)  # the masked phone sent back means "unchanged"
    again = boss.members.form_for(member)
    assert (again.phone, again.id_number, again.notes) == (PHONE, ID_NUMBER, "改了备注")


def test_the_audit_trail_holds_no_personal_values(store: Store, boss: Services, member: int) -> None:
    form = boss.members.form_for(member)
    form.name, form.phone = "张叁", "13900001111"
    boss.members.update(member, form)
    details = " ".join(
        store.db.read(lambda s: [json.dumps(d, ensure_ascii=False) for d in s.scalars(select(AuditLog.details))])
    )
    for secret in (PHONE, "13900001111", ID_NUMBER, "张叁", "喜欢有机蔬菜"):
        assert secret not in details


def test_marketing_consent_is_withdrawn_in_one_step(store: Store, svc: Services, member: int) -> None:
    svc.privacy.withdraw_marketing_consent(member)
    svc.privacy.withdraw_marketing_consent(member)
    with store.db.session() as session:
        assert session.scalar(select(Member.marketing_consent).where(Member.id == member)) is False
        actions = list(session.scalars(select(AuditLog.action).where(AuditLog.action == "withdraw_consent")))
    assert actions == ["withdraw_consent"]


def test_a_members_data_export_is_readable_and_complete(
    svc: Services, store: Store, member: int, tmp_path: Path
) -> None:
    with pytest.raises(PermissionDenied):
        svc.privacy.export_member_data(member, tmp_path)
    manager = store.services(store.operator("manager"))
    done = manager.privacy.export_member_data(member, tmp_path)
    data = json.loads(done.path.read_text(encoding="utf-8"))
    assert data["profile"]["phone"] == PHONE and data["profile"]["id_number"] == ID_NUMBER
    assert data["profile"]["tags"] == ["常客"] and data["consents"]["marketing_consent"] is True
    assert [p["total_fen"] for p in data["purchases"]] == [25_000]
    assert [p["change"] for p in data["points"]] == [250]
    assert "张三" in done.path.read_text(encoding="utf-8")  # readable: not \\u-escaped


def test_deletion_anonymises_and_keeps_the_books(store: Store, boss: Services, svc: Services, member: int) -> None:
    with pytest.raises(PermissionDenied):
        svc.privacy.anonymise(member, "本人申请")
    with store.db.session() as session:
        before = (
            session.scalars(select(Sale.total_fen)).all(),
            session.scalars(select(PointsLedger.delta)).all(),
        )
    boss.privacy.anonymise(member, "本人申请")
    with store.db.session() as session:
        gone = session.get(Member, member)
        assert gone is not None and gone.status == MemberStatus.ANONYMISED
        assert (gone.name, gone.phone, gone.id_number_enc, gone.notes, gone.birthday) == (None,) * 5
        assert gone.points_balance == 250
        after = (session.scalars(select(Sale.total_fen)).all(), session.scalars(select(PointsLedger.delta)).all())
    assert after == before
    assert svc.members.lookup(PHONE).hits == [] and svc.members.lookup("5678").hits == []
    with pytest.raises(NotFoundError):
        svc.members.form_for(member)
    with pytest.raises(NotFoundError):
        svc.loyalty.record_purchase(PurchaseRequest(member_id=member, total_fen=100, idempotency_key="k"))
    assert [str(p) for p in check_database(store.db)] == []


def test_members_inactive_beyond_the_setting_are_listed(
    store: Store, boss: Services, svc: Services, member: int, clock: FixedClock
) -> None:
    with pytest.raises(PermissionDenied):
        svc.privacy.inactive_members()
    assert boss.privacy.inactive_members().total == 0
    clock.advance(dt.timedelta(days=800))
    review = boss.privacy.inactive_members()
    assert review.months == 24 and [m.id for m in review.members] == [member]
    assert review.members[0].masked_phone == "138****5678"
    boss.settings.update({"privacy.inactive_months": 36})
    assert boss.privacy.inactive_members().total == 0


def test_the_privacy_notice_prints_in_chinese_with_its_font_embedded(tmp_path: Path) -> None:
    pdf = write_privacy_notice(tmp_path / "notice.pdf", "会员台示例超市", 24)
    body = squeeze(text(pdf))
    assert TITLE in body and "会员台示例超市" in body and "连续24个月" in body and "撤回营销同意" in body
    found = fonts(pdf)
    assert found and all(f.embedded for f in found)
