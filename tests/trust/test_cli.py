"""The `privacy` and `audit` commands driven as an owner, a manager or a cashier would type them (`main.main(argv)` on
the store's own data folder and database, SQLite and PostgreSQL): the services' role rules hold, every export and
request is in the audit log, refusals are one clear line and change nothing, and `audit verify` prints the head to
keep and finds a deleted entry."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.context import Services, Store
from app.integrity import check_database
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from app.trust.notice import TITLE
from app.trust.verify import chain_heads
from db.enums import MemberStatus
from db.models import AuditLog, Branch, Member
from tests.cli_support import Run
from tests.printing.readback import fonts, squeeze
from tests.printing.readback import text as pdf_text
from tests.staff_support import CASHIER_PIN, MANAGER_PIN

PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def member(boss: Services) -> str:
    """张三 with a phone, an ID number, a tag and a purchase; returns the member number."""
    mid = boss.members.register(
        MemberForm(
            phone=PHONE,
            name="张三",
            id_number=ID_NUMBER,
            tags=["常客"],
            membership_consent=True,
            marketing_consent=True,
        )
    )
    boss.loyalty.record_purchase(PurchaseRequest(member_id=mid, total_fen=25_000, idempotency_key=str(uuid.uuid4())))
    return boss.members.profile(mid).member_no


def actions(store: Store, action: str) -> list[tuple[str, str | None]]:
    return store.db.read(
        lambda s: [(e.entity, e.entity_id) for e in s.scalars(select(AuditLog).where(AuditLog.action == action))]
    )


def status(store: Store, member_no: str) -> tuple[MemberStatus, bool]:
    row = store.db.read(
        lambda s: s.execute(select(Member.status, Member.marketing_consent).where(Member.member_no == member_no)).one()
    )
    return row[0], row[1]


def test_a_members_requests_from_the_command_line(store: Store, run: Run, member: str, tmp_path: Path) -> None:
    # The member's data: a manager's right (full phone and ID number), not a cashier's; found by phone or number.
    denied = tmp_path / "denied.json"
    code, _out, err = run("privacy", "export", PHONE, "--out", str(denied), as_user="cashier", pin=CASHIER_PIN)
    assert code == 1 and err.startswith("error:") and "Traceback" not in err and not denied.exists()
    code, out, _err = run("privacy", "export", PHONE, "--out", str(tmp_path), as_user="manager", pin=MANAGER_PIN)
    assert code == 0, out
    data = json.loads((tmp_path / f"member-{member}.json").read_text(encoding="utf-8"))
    assert (data["profile"]["phone"], data["profile"]["id_number"]) == (PHONE, ID_NUMBER)
    assert [p["total_fen"] for p in data["purchases"]] == [25_000] and "1 purchases" in out
    assert len(actions(store, "export_member_data")) == 1

    # Consent withdrawn in one step by any staff, audited once however often it is asked.
    for _ in range(2):
        code, out, _err = run("privacy", "withdraw-consent", member, as_user="cashier", pin=CASHIER_PIN)
        assert code == 0 and "withdrawn" in out
    assert status(store, member) == (MemberStatus.ACTIVE, False)
    assert len(actions(store, "withdraw_consent")) == 1

    # Deletion: the confirmation first, then the owner only; refusals change nothing.
    code, _out, err = run("privacy", "anonymise", PHONE)
    assert code == 1 and "--yes" in err and status(store, member)[0] == MemberStatus.ACTIVE
    code, _out, err = run("privacy", "anonymise", PHONE, "--yes", as_user="manager", pin=MANAGER_PIN)
    assert code == 1 and err.startswith("error:") and status(store, member)[0] == MemberStatus.ACTIVE
    code, out, _err = run("privacy", "anonymise", PHONE, "--yes", "--reason", "本人申请")
    assert code == 0 and "deleted" in out
    assert status(store, member)[0] == MemberStatus.ANONYMISED
    assert store.db.read(lambda s: s.scalar(select(Member.phone).where(Member.member_no == member))) is None
    assert [str(p) for p in check_database(store.db)] == []  # sales, points and the trail still add up
    code, _out, err = run("privacy", "export", PHONE, "--out", str(tmp_path / "gone.json"))
    assert code == 1 and f"No member with number {PHONE}" in err


def test_a_wrong_pin_is_refused_and_counted(store: Store, run: Run, member: str) -> None:
    code, _out, err = run("privacy", "withdraw-consent", member, as_user="cashier", pin="9999")
    assert code == 1 and err.startswith("error:") and "Traceback" not in err
    assert status(store, member) == (MemberStatus.ACTIVE, True)
    assert actions(store, "sign_in_failed")
    code, _out, err = run("privacy", "withdraw-consent", member, as_user="nobody", pin="1234")
    assert code == 1 and "nobody" in err


def test_the_inactive_review_and_the_notice(store: Store, run: Run, member: str, tmp_path: Path) -> None:
    # The fixture's purchase was made on the test clock's day (2026-11-18), before today.
    code, out, _err = run("privacy", "inactive", "--days", "5")
    assert code == 0 and out.startswith("1 active members with no visit in the last 5 days")
    assert member in out and "138****5678" in out and PHONE not in out
    code, out, _err = run("privacy", "inactive", "--days", "36500")
    assert code == 0 and out.startswith("0 active members")
    code, _out, err = run("privacy", "inactive", "--days", "0")
    assert code == 1 and "between 1 and 36,500" in err
    code, _out, err = run("privacy", "inactive", as_user="cashier", pin=CASHIER_PIN)
    assert code == 1 and err.startswith("error:")

    listed = tmp_path / "inactive.csv"
    code, out, _err = run("privacy", "inactive", "--days", "5", "--out", str(listed))
    assert code == 0 and "1 members written" in out
    with listed.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["member_no"], r["phone"]) for r in rows] == [(member, "138****5678")]
    assert ("inactive_members", None) in actions(store, "export")
    code, _out, err = run("privacy", "inactive", "--out", str(tmp_path / "inactive.pdf"))
    assert code == 1 and ".csv or .xlsx" in err and not (tmp_path / "inactive.pdf").exists()

    notice = tmp_path / "notice.pdf"
    code, _out, _err = run("privacy", "notice", "--out", str(notice), as_user="cashier", pin=CASHIER_PIN)
    assert code == 0
    body = squeeze(pdf_text(notice))
    assert TITLE in body and "撤回营销同意" in body
    assert fonts(notice) and all(f.embedded for f in fonts(notice))


def test_the_audit_log_listed_filtered_and_exported(
    store: Store, run: Run, member: str, svc: Services, tmp_path: Path
) -> None:
    svc.privacy.withdraw_marketing_consent(svc.privacy.find_member(member))  # by the cashier 李收银
    code, out, _err = run("audit", "list", "--action", "withdraw_consent")
    assert code == 0 and out.startswith("1 audit entries") and "李收银" in out and "marketing_consent" in out
    code, out, _err = run("audit", "list", "--actor", "cashier")
    assert code == 0 and "withdraw_consent" in out and "purchase" not in out
    branch = store.db.read(lambda s: s.scalar(select(Branch.name).order_by(Branch.id).limit(1)))
    code, out, _err = run("audit", "list", "--branch", str(branch), "--limit", "1")
    assert code == 0 and "(the 1 newest shown)" in out and len(out.splitlines()) == 2
    code, out, _err = run("audit", "list", "--from", "2000-01-01", "--to", "2000-01-31")
    assert code == 0 and out.startswith("0 audit entries")
    for bad, exit_code, says in (
        (["--from", "2026-11-20", "--to", "2026-11-10"], 1, "comes before"),
        (["--actor", "nobody"], 1, "nobody"),
        (["--branch", "没有这个门店"], 1, "没有这个门店"),
        (["--limit", "0"], 1, "--limit"),
        (["--from", "2026-13-01"], 2, "not a date"),
    ):
        code, _out, err = run("audit", "list", *bad)
        assert code == exit_code and says in err and "Traceback" not in err, (bad, err)

    total = store.db.read(lambda s: len(s.scalars(select(AuditLog.id)).all()))
    exported = tmp_path / "audit.xlsx"
    code, out, _err = run("audit", "list", "--out", str(exported))
    assert code == 0 and f"{total} audit entries written" in out and exported.stat().st_size > 1000
    assert ("audit", None) in actions(store, "export")
    code, _out, err = run("audit", "list", as_user="manager", pin=MANAGER_PIN)
    assert code == 1 and err.startswith("error:")


def test_audit_verify_prints_the_head_and_finds_a_deleted_entry(store: Store, run: Run, member: str) -> None:
    code, out, err = run("audit", "verify")
    heads = store.db.read(chain_heads)
    assert code == 0 and err == "" and out.strip().endswith("audit log: OK")
    assert all(f"{head}" in out for head in heads) and "keep it" in out
    with store.db.session() as session, session.begin():
        session.execute(text("DELETE FROM audit_log WHERE id = (SELECT MIN(id) FROM audit_log)"))
    code, out, err = run("audit", "verify")
    assert code == 1 and "problem:" in err and "audit chain head" in out
