"""Write `tests/data/db_v<head>.sqlite3`: a small store at the current head revision, for migration tests.

Run it once per released schema, before the next migration lands, and commit the file; never regenerate an old
one. tests/test_migrations.py upgrades every committed file to head and checks the rows in `FIXTURE_MEMBERS`
are still there, so a migration that loses or mangles real data fails CI.

    .venv/bin/python tests/data/make_db_fixture.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent
sys.path.insert(0, str(DATA.parent.parent))

from sqlalchemy.orm import Session  # noqa: E402

from db.engine import Database, sqlite_url  # noqa: E402
from db.enums import LedgerSource, StaffRole  # noqa: E402
from db.migrate import head_revision, upgrade  # noqa: E402
from db.models import Branch, Member, PointsLedger, PointsLot, Staff, Tier  # noqa: E402

# member_no -> (name, phone, points): what every committed fixture holds, and what the tests look for.
FIXTURE_MEMBERS = {
    "M000001": ("单田芳", "13800138000", 1200),
    "M000002": ("曾小贤", "13912345678", 0),
}


def write_fixture(path: Path) -> None:
    db = Database(sqlite_url(path))
    try:
        upgrade(db)
        joined = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)

        def fill(session: Session) -> None:
            branch = Branch(code="B01", name="总店", created_at=joined)
            tier = Tier(code="SILVER", name="银卡", name_en="Silver", rank=1)
            tier.min_spend_12m_fen = tier.min_points_12m = 0
            session.add_all([branch, tier])
            session.flush()
            staff = Staff(username="cashier", display_name="收银员", role=StaffRole.CASHIER)
            staff.branch_id = branch.id
            session.add(staff)
            session.flush()
            for member_no, (name, phone, points) in FIXTURE_MEMBERS.items():
                member = Member(
                    member_no=member_no,
                    name=name,
                    phone=phone,
                    phone_last4=phone[-4:],
                    tier_id=tier.id,
                    home_branch_id=branch.id,
                    points_balance=points,
                    joined_at=joined,
                    created_by_id=staff.id,
                )
                session.add(member)
                session.flush()
                if points:
                    ledger = PointsLedger(
                        idempotency_key=f"fixture-import-{member_no}",
                        member_id=member.id,
                        branch_id=branch.id,
                        staff_id=staff.id,
                        source=LedgerSource.IMPORT,
                        delta=points,
                        balance_after=points,
                        reason="imported from the old system",
                        created_at=joined,
                    )
                    session.add(ledger)
                    session.flush()
                    session.add(
                        PointsLot(
                            member_id=member.id,
                            ledger_id=ledger.id,
                            earned_at=joined,
                            expires_at=joined + dt.timedelta(days=730),
                            points=points,
                            remaining=points,
                        )
                    )

        db.write(fill)
    finally:
        db.dispose()


def main() -> None:
    probe = Database("sqlite://")
    head = head_revision(probe)
    probe.dispose()
    path = DATA / f"db_v{head}.sqlite3"
    if path.exists():
        raise SystemExit(f"{path} exists; fixtures of released schemas are never regenerated")
    write_fixture(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
