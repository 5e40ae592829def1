"""Backups and restores: verified copies, a restore that checks the file and keeps the state before, the daily
rotation, and the whole round trip through the command line into a fresh data folder."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.clock import FixedClock
from app.context import Services, Store
from app.errors import PermissionDenied
from app.integrity import check_database
from app.loyalty.service import PurchaseRequest
from app.members.service import MemberForm
from app.trust.backup import KEEP_DAILY, KEEP_MONTHLY, KEEP_WEEKLY, BackupError, inspect_backup, keep_set
from db.models import AuditLog, Member
from tests.test_e2e_cli import run


@pytest.fixture
def sqlite_store(store: Store) -> Store:
    if store.db.sqlite_path is None:
        pytest.skip("SQLite backups; the PostgreSQL server is backed up with pg_dump (test below)")
    return store


def members(store: Store) -> int:
    return store.db.read(lambda s: s.scalar(select(func.count()).select_from(Member)) or 0)


def register(svc: Services, phone: str) -> int:
    return svc.members.register(MemberForm(phone=phone, name="张三", membership_consent=True))


def test_backup_to_a_folder_is_verified_and_audited(sqlite_store: Store, boss: Services, tmp_path: Path) -> None:
    register(boss, "13812345678")
    stick = tmp_path / "usb"
    stick.mkdir()
    made = boss.backups.backup(stick)
    assert made.path.parent == stick and made.members == 1 and made.store_id
    assert inspect_backup(made.path) == made
    assert "backup" in sqlite_store.db.read(lambda s: list(s.scalars(select(AuditLog.action))))


def test_a_server_is_backed_up_with_pg_dump(store: Store, boss: Services, tmp_path: Path) -> None:
    if store.db.sqlite_path is not None:
        pytest.skip("PostgreSQL only")
    register(boss, "13812345678")
    made = boss.backups.backup(tmp_path)
    assert made.path.suffix == ".dump" and made.path.read_bytes().startswith(b"PGDMP") and made.members == 1
    with pytest.raises(BackupError, match="pg_restore"):
        boss.backups.restore(made.path)


def test_only_managers_back_up_and_only_the_owner_restores(sqlite_store: Store, svc: Services, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        svc.backups.backup(tmp_path)
    manager = sqlite_store.services(sqlite_store.operator("manager"))
    made = manager.backups.backup(tmp_path)
    with pytest.raises(PermissionDenied):
        manager.backups.restore(made.path)


def test_restore_brings_back_the_state_and_keeps_the_one_before(
    sqlite_store: Store, boss: Services, tmp_path: Path
) -> None:
    mid = register(boss, "13812345678")
    made = boss.backups.backup(tmp_path)
    register(boss, "13812345679")
    boss.loyalty.record_purchase(PurchaseRequest(member_id=mid, total_fen=10_000, idempotency_key=str(uuid.uuid4())))
    done = boss.backups.restore(made.path)
    assert members(sqlite_store) == 1
    assert inspect_backup(done.safety_copy).members == 2
    assert [str(p) for p in check_database(sqlite_store.db)] == []
    assert "restore" in sqlite_store.db.read(lambda s: list(s.scalars(select(AuditLog.action))))


def test_restore_refuses_damaged_newer_and_foreign_files(sqlite_store: Store, boss: Services, tmp_path: Path) -> None:
    register(boss, "13812345678")
    made = boss.backups.backup(tmp_path)
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(made.path.read_bytes()[: made.size // 2])
    newer = tmp_path / "newer.sqlite3"
    newer.write_bytes(made.path.read_bytes())
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    foreign = tmp_path / "foreign.sqlite3"
    foreign.write_bytes(made.path.read_bytes())
    with sqlite3.connect(foreign) as conn:
        conn.execute("UPDATE settings SET value = '\"another-store\"' WHERE key = 'store.id'")
    text = tmp_path / "notes.txt"
    text.write_text("not a backup" * 100)
    for bad, words in (
        (damaged, "damaged|not a MemberDesk"),
        (newer, "newer"),
        (foreign, "another store"),
        (text, "not a MemberDesk"),
    ):
        with pytest.raises(BackupError, match=words):
            boss.backups.restore(bad)
    assert members(sqlite_store) == 1
    assert not list((sqlite_store.paths.backups).glob("before-restore-*"))


def test_rotation_keeps_seven_days_four_weeks_twelve_months() -> None:
    start = dt.datetime(2025, 1, 1, 3, tzinfo=dt.UTC)
    stamps = [start + dt.timedelta(days=d) for d in range(500)]
    kept = sorted(keep_set(stamps))
    newest = stamps[-1]
    assert kept[-KEEP_DAILY:] == stamps[-KEEP_DAILY:]
    assert len({(t.year, t.month) for t in kept}) == KEEP_MONTHLY
    assert len(kept) <= KEEP_DAILY + KEEP_WEEKLY + KEEP_MONTHLY
    assert {t.isocalendar()[:2] for t in stamps[-28:]} >= {
        t.isocalendar()[:2] for t in kept if newest - t < dt.timedelta(days=22)
    }
    print(f"\nrotation over 500 daily backups keeps {len(kept)}: {[t.date().isoformat() for t in kept]}")


def test_daily_automatic_backups_rotate_and_are_verified(sqlite_store: Store, clock: FixedClock) -> None:
    services = sqlite_store.services(sqlite_store.operator("cashier"))
    made = 0
    for _day in range(40):
        made += services.backups.auto_backup() is not None
        assert services.backups.auto_backup() is None  # once a day
        clock.advance(dt.timedelta(days=1))
    files = sorted((sqlite_store.paths.backups / "auto").glob("auto-*.sqlite3"))
    assert made == 40
    assert KEEP_DAILY < len(files) <= KEEP_DAILY + KEEP_WEEKLY + KEEP_MONTHLY
    assert all(inspect_backup(f).revision for f in files)


@pytest.mark.e2e
def test_backup_restored_into_a_fresh_data_folder_is_the_same_store(tmp_path: Path) -> None:
    shop, fresh, stick = tmp_path / "shop", tmp_path / "new-pc", tmp_path / "usb"
    stick.mkdir()
    assert run("demo", "--members", "150", "--days", "90", data_dir=shop).returncode == 0
    backup = run("backup", "--out", str(stick), data_dir=shop)
    assert backup.returncode == 0, backup.stderr
    (file,) = stick.glob("*.sqlite3")
    restored = run("restore", str(file), data_dir=fresh)
    assert restored.returncode == 0, restored.stderr
    assert run("members", "export", str(tmp_path / "a.csv"), data_dir=shop).returncode == 0
    assert run("members", "export", str(tmp_path / "b.csv"), data_dir=fresh).returncode == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    check = run("db", "check", data_dir=fresh)
    assert check.returncode == 0 and "db check: OK" in check.stdout, check.stderr
    print(f"\n{backup.stdout.strip()}\n{restored.stdout.strip()}\n{check.stdout.strip()}")
