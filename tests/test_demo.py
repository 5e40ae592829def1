"""The demo store (`main.py demo`): sound by `db check`, reproducible, refuses a real store, findable by pinyin,
usable by the real services afterwards, and the command line end to end."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

import app.demo.generate as demo_generate
from app.bootstrap import ensure_store
from app.clock import FixedClock
from app.context import Store
from app.demo import DemoCancelled, DemoOptions, StoreNotEmpty, generate_demo
from app.demo.catalog import HETERONYM_SURNAMES
from app.demo.history import uuid4_text
from app.demo.writer import BulkWriter
from app.integrity import check_database
from app.loyalty.service import PurchaseRequest
from app.members.pinyin import pinyin_keys
from app.members.service import MemberForm
from app.members.validation import make_card_no
from app.paths import DataPaths
from app.security.crypto import FieldCipher
from db.bulk import PENDING_INDEXES_KEY
from db.engine import Database
from db.enums import SaleKind
from db.migrate import current_revision, downgrade, head_revision, upgrade
from db.models import (
    Branch,
    Complaint,
    ComplaintEvent,
    Coupon,
    CouponCampaign,
    FollowUpTask,
    Gift,
    Member,
    PointsLedger,
    Product,
    Sale,
    SaleLine,
    Setting,
    Staff,
    TierChange,
)
from tests.db_support import index_names

ROOT = Path(__file__).resolve().parent.parent
# Monday 23 November 2026, 16:00 in Shanghai.
NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
SMALL = DemoOptions(members=200, days=120, seed=7)


def quiet(_done: int, _total: int, _what: str) -> bool:
    return True


def open_store(database: Database, folder: Path, now: dt.datetime = NOW) -> Store:
    ensure_store(database)
    paths = DataPaths(folder).ensure()
    return Store(paths, database, FieldCipher.from_key_file(paths.key_file), FixedClock(now))


@pytest.fixture
def store(database: Database, tmp_path: Path) -> Store:
    return open_store(database, tmp_path / "data")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    """A second store, always a SQLite file, to compare a demo with."""
    return Store.open(tmp_path / "other", clock=FixedClock(NOW))


def fingerprint(store: Store) -> dict[str, object]:
    """What "the same demo" means: the same people, the same purchases, the same points."""

    def read(session: Session) -> dict[str, object]:
        return {
            "members": session.execute(
                select(Member.name, Member.phone, Member.birthday, Member.points_balance, Member.visit_count).order_by(
                    Member.id
                )
            ).all(),
            "sales": session.execute(
                select(Sale.member_id, Sale.kind, Sale.sold_at, Sale.total_fen, Sale.points_earned).order_by(Sale.id)
            ).all(),
            "ledger": session.execute(
                select(PointsLedger.member_id, func.sum(PointsLedger.delta))
                .group_by(PointsLedger.member_id)
                .order_by(PointsLedger.member_id)
            ).all(),
        }

    return store.db.read(read)


def count(store: Store, model: type) -> int:
    return store.db.read(lambda s: s.scalar(select(func.count()).select_from(model)) or 0)


# ---- the demo itself --------------------------------------------------------------------------------------------


def test_small_demo_is_sound_and_looks_like_a_store(store: Store) -> None:
    reported: list[tuple[int, int]] = []

    def progress(done: int, total: int, _what: str) -> bool:
        reported.append((done, total))
        return True

    summary = generate_demo(store, SMALL, progress)

    assert check_database(store.db) == []
    assert "200 members" in summary
    assert reported[-1] == (200, 200)
    assert count(store, Member) == 200
    assert count(store, Branch) == 3
    assert {"owner", "manager", "cashier1", "cashier2"} <= set(
        store.db.read(lambda s: s.scalars(select(Staff.username)).all())
    )
    store.sign_in("manager", "6666")
    store.sign_in("cashier1", "1234")
    assert count(store, Product) >= 40
    assert count(store, Gift) == 6
    assert count(store, SaleLine) > 0
    assert count(store, Complaint) >= 1 and count(store, ComplaintEvent) >= count(store, Complaint)
    assert count(store, FollowUpTask) >= 2

    def facts(session: Session) -> dict[str, object]:
        members = session.scalars(select(Member)).all()
        first, last = session.execute(select(func.min(Sale.sold_at), func.max(Sale.sold_at))).one()
        return {
            "phones_valid": all(
                m.phone and len(m.phone) == 11 and m.phone[0] == "1" and m.phone[1] in "3456789" for m in members
            ),
            "last4": all(m.phone_last4 == m.phone[-4:] for m in members if m.phone),
            "member_no": all(m.member_no == f"MD{m.id:08d}" for m in members),
            "mmdd": all(m.birthday_mmdd == m.birthday.strftime("%m-%d") for m in members if m.birthday),
            "missing_birthdays": sum(m.birthday is None for m in members),
            "marketing": sum(m.marketing_consent for m in members),
            "consented": all(m.membership_consent_at is not None for m in members),
            "first": first,
            "last": last,
            "kinds": set(session.scalars(select(Sale.kind).distinct())),
            "points_used": session.scalar(select(func.sum(Sale.points_used)).where(Sale.kind == SaleKind.SALE)),
        }

    got = store.db.read(facts)
    assert got["phones_valid"] and got["last4"] and got["member_no"] and got["mmdd"] and got["consented"]
    assert 0 < got["missing_birthdays"] < 60  # type: ignore[operator]
    assert 90 < got["marketing"] < 150  # type: ignore[operator]  # ~60 %
    assert NOW - dt.timedelta(days=120) < got["first"] <= got["last"] <= NOW  # type: ignore[operator]
    assert got["points_used"]  # some purchases were paid partly with points


def test_same_seed_gives_the_same_store_on_any_backend(store: Store, sqlite_store: Store) -> None:
    generate_demo(store, SMALL, quiet)
    generate_demo(sqlite_store, SMALL, quiet)
    assert fingerprint(store) == fingerprint(sqlite_store)


def test_a_worker_process_makes_the_same_store(
    store: Store, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_generate, "BATCH_MEMBERS", 30)  # part of what a seed means: the same for both
    generate_demo(sqlite_store, SMALL, quiet)
    monkeypatch.setattr(demo_generate, "WORKER_MEMBERS", 1)
    summary = generate_demo(store, SMALL, quiet)
    assert "200 members" in summary
    assert fingerprint(store) == fingerprint(sqlite_store)
    assert check_database(store.db) == []


def test_another_seed_gives_other_people(store: Store, sqlite_store: Store) -> None:
    generate_demo(store, SMALL, quiet)
    generate_demo(sqlite_store, DemoOptions(members=200, days=120, seed=8), quiet)
    ours, theirs = fingerprint(store), fingerprint(sqlite_store)
    assert ours["members"] != theirs["members"]


def test_another_day_moves_dates_but_keeps_the_people(sqlite_store: Store, tmp_path: Path) -> None:
    generate_demo(sqlite_store, SMALL, quiet)
    later = Store.open(tmp_path / "later", clock=FixedClock(NOW + dt.timedelta(days=3)))
    generate_demo(later, SMALL, quiet)
    people = select(Member.name, Member.phone, Member.gender, Member.visit_count).order_by(Member.id)
    assert sqlite_store.db.read(lambda s: s.execute(people).all()) == later.db.read(lambda s: s.execute(people).all())
    last = select(func.max(Sale.sold_at))
    assert later.db.read(lambda s: s.scalar(last)).date() > sqlite_store.db.read(lambda s: s.scalar(last)).date()


def test_refuses_a_store_with_members_unless_forced(store: Store) -> None:
    generate_demo(store, SMALL, quiet)
    with pytest.raises(StoreNotEmpty, match="200 members"):
        generate_demo(store, SMALL, quiet)
    assert count(store, Member) == 200

    # A real member holding the card number the next demo member would get, and a phone the same seed draws.
    members = store.services(store.operator("manager")).members
    taken_phone = store.db.read(lambda s: s.scalar(select(Member.phone).where(Member.id == 1)))
    members.update(1, replace(members.form_for(1), phone="19900000001"))
    members.register(
        MemberForm(phone=taken_phone, name="老顾客", card_no=make_card_no("88", 205), membership_consent=True)
    )

    generate_demo(store, DemoOptions(members=150, days=120, seed=7, force=True), quiet)
    assert count(store, Member) == 351
    assert count(store, Branch) == 3  # reused, not duplicated
    assert store.db.read(lambda s: s.scalar(select(Member.card_no).where(Member.id == 205))) is None
    assert check_database(store.db) == []


def test_heteronym_surnames_are_there_and_found_by_their_surname_reading(store: Store) -> None:
    generate_demo(store, DemoOptions(members=400, days=120, seed=7), quiet)
    members = store.db.read(lambda s: s.execute(select(Member.id, Member.name)).all())
    heteronyms = [(mid, name) for mid, name in members if name[0] in HETERONYM_SURNAMES]
    assert len({name[0] for _, name in heteronyms}) >= 4
    lookup = store.services(store.operator("cashier1")).members.lookup
    readings = {"单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou", "查": "zha", "盖": "ge"}
    for member_id, name in heteronyms:
        _, full = pinyin_keys(name)
        assert full.startswith(readings[name[0]])
        assert member_id in [h.id for h in lookup(full, limit=50).hits], name
        assert member_id in [h.id for h in lookup(name, limit=50).hits], name


def test_the_real_services_carry_on_from_the_demo(store: Store) -> None:
    """Ids, sequences, idempotency keys and lots are what the services expect: a new member, a purchase, a
    return of a demo sale, a gift, the expiry and tier jobs all work, and the store stays sound."""
    generate_demo(store, SMALL, quiet)
    services = store.services(store.operator("cashier1"))
    loyalty = services.loyalty
    member_id, balance = store.db.read(
        lambda s: s.execute(
            select(Member.id, Member.points_balance).order_by(Member.points_balance.desc()).limit(1)
        ).one()
    )
    sale = loyalty.record_purchase(
        PurchaseRequest(member_id=member_id, total_fen=12_345, idempotency_key="test:purchase", points_to_use=100)
    )
    assert sale.points_used == 100 and sale.balance_after == balance - 100 + sale.points_earned
    earned_sale = store.db.read(
        lambda s: s.scalar(
            select(Sale.id)
            .where(Sale.kind == SaleKind.SALE, Sale.points_earned > 0, Sale.points_used > 0)
            .where(~Sale.id.in_(select(Sale.original_sale_id).where(Sale.original_sale_id.is_not(None))))
            .limit(1)
        )
    )
    assert earned_sale is not None
    loyalty.return_sale(earned_sale, "test:return")
    gift = min(loyalty.gifts(), key=lambda g: g.points_price)
    rich = store.db.read(
        lambda s: s.scalar(select(Member.id).where(Member.points_balance >= gift.points_price).limit(1))
    )
    loyalty.redeem_gift(rich, gift.id, 1, "test:gift")
    loyalty.expire_points()
    loyalty.review_tiers()
    new_id = services.members.register(MemberForm(phone="19912345678", name="测试", membership_consent=True))
    assert new_id == 201
    assert check_database(store.db) == []


@pytest.mark.parametrize("worker", [False, True], ids=["here", "worker"])
def test_cancelling_keeps_whole_batches(store: Store, monkeypatch: pytest.MonkeyPatch, worker: bool) -> None:
    monkeypatch.setattr(demo_generate, "BATCH_MEMBERS", 40)
    monkeypatch.setattr(demo_generate, "WORKER_MEMBERS", 1 if worker else 10**9)

    def stop_after_two_batches(done: int, _total: int, _what: str) -> bool:
        return done < 80

    with pytest.raises(DemoCancelled, match="80 of 200"):
        generate_demo(store, SMALL, stop_after_two_batches)
    assert count(store, Member) == 80
    assert check_database(store.db) == []


def test_bulk_load_drops_and_rebuilds_indexes(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before = index_names(store.db)
    monkeypatch.setattr(demo_generate, "BULK_LOAD_MEMBERS", 1)
    generate_demo(store, SMALL, quiet)
    assert index_names(store.db) == before
    assert store.db.read(lambda s: s.get(Setting, PENDING_INDEXES_KEY)) is None
    assert check_database(store.db) == []


def test_a_demo_killed_with_its_indexes_down_is_mended_by_the_next(store: Store) -> None:
    before = index_names(store.db)
    writer = BulkWriter(store.db, store.operator("owner"))
    with writer.connection() as conn:
        assert writer.drop_indexes(conn) > 10  # ... and then the process died
    assert "ix_members_last4_visit" not in index_names(store.db)
    generate_demo(store, SMALL, quiet)
    assert index_names(store.db) == before
    assert store.db.read(lambda s: s.get(Setting, PENDING_INDEXES_KEY)) is None


def test_tiers_and_their_history_agree(store: Store) -> None:
    generate_demo(store, DemoOptions(members=400, days=400, seed=3), quiet)

    def read(session: Session) -> tuple[list[tuple[int, int]], dict[int, int]]:
        last_change = dict(
            session.execute(
                select(TierChange.member_id, TierChange.to_tier_id).order_by(TierChange.member_id, TierChange.id)
            ).all()
        )
        tiers = session.execute(select(Member.id, Member.tier_id)).all()
        return [(m, t) for m, t in tiers], last_change

    tiers, last_change = store.db.read(read)
    lowest = min(t for _, t in tiers)
    assert any(t != lowest for _, t in tiers), "someone climbed a tier"
    for member_id, tier_id in tiers:
        assert last_change.get(member_id, lowest) == tier_id


@given(st.integers(min_value=0, max_value=(1 << 128) - 1))
def test_fast_uuid_text_is_uuid4(bits: int) -> None:
    assert uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))


# ---- the command line -------------------------------------------------------------------------------------------


def run_main(*args: str, data_dir: Path, db_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args, "--data-dir", str(data_dir), "--database", db_url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.e2e
def test_command_line_demo_then_check_then_corruption_is_caught(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = run_main("demo", "--members", "300", "--days", "90", data_dir=data, db_url=db_url)
    assert made.returncode == 0, made.stderr
    assert "300 members" in made.stdout
    again = run_main("demo", "--members", "300", "--days", "90", data_dir=data, db_url=db_url)
    assert again.returncode != 0 and "300 members" in again.stderr
    assert run_main("demo", "--if-empty", data_dir=data, db_url=db_url).returncode == 0

    checked = run_main("db", "check", data_dir=data, db_url=db_url)
    assert checked.returncode == 0, checked.stderr
    assert "OK" in checked.stdout

    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE members SET points_balance = points_balance + 1 WHERE id = 1"))
    engine.dispose()
    broken = run_main("db", "check", data_dir=data, db_url=db_url)
    assert broken.returncode != 0
    assert "points balance differs from the sum of their ledger" in broken.stderr
    assert "MD00000001" in broken.stderr


def test_a_store_with_data_migrates_down_and_up_keeping_every_row(store: Store) -> None:
    """Batch migrations rebuild tables (0009 rebuilds coupon_campaigns): on SQLite with foreign keys enforced, the
    rebuild of a table that other rows reference failed on every real store (a demo's campaigns have coupons), while
    the empty test stores passed. Down to before 0009 and back up, a demo store keeps every row and passes db check."""
    generate_demo(store, DemoOptions(members=60, days=60, seed=11), quiet)
    counted = (Member, CouponCampaign, Coupon, Sale, PointsLedger)
    before = {model.__name__: count(store, model) for model in counted}
    assert before["Coupon"] > 0 and before["CouponCampaign"] > 0
    downgrade(store.db, "0008")
    assert current_revision(store.db) == "0008"
    upgrade(store.db)
    assert current_revision(store.db) == head_revision(store.db)
    assert {model.__name__: count(store, model) for model in counted} == before
    assert check_database(store.db) == []
