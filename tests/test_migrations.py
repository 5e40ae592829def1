"""Migrations: an empty database reaches head, the models agree with the migrations, old files upgrade safely.

`test_models_match_migrations` is CI's drift check: a column, index, constraint or server default added to
db/models.py without a migration makes it fail (proved by hand once: adding `Branch.drift_probe` broke it on both
backends, and reverting mended it).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import inspect, select

import db.migrate
from db.engine import Database, sqlite_url
from db.migrate import at_head, current_revision, drift, head_in_files, head_revision, upgrade
from db.models import Member

DATA = Path(__file__).resolve().parent / "data"
COMMITTED_FILES = sorted(DATA.glob("db_v*.sqlite3"))


def _fixture_maker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_db_fixture", DATA / "make_db_fixture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# What tests/data/make_db_fixture.py put in every committed file: member_no -> (name, phone, points).
FIXTURE_MEMBERS: dict[str, tuple[str, str, int]] = _fixture_maker().FIXTURE_MEMBERS

EXTRA_REVISION = '''"""test only: a revision on top of the real head"""
import sqlalchemy as sa
from alembic import op

revision = "zz_test_only"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("test_only_marker", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("test_only_marker")
'''


def test_upgrade_from_empty_reaches_head(db_url: str, tmp_path: Path) -> None:
    """A brand-new store gets the whole schema; there is nothing to back up yet, so no backup is made."""
    db = Database(db_url)
    try:
        assert current_revision(db) is None
        assert upgrade(db, backup_dir=tmp_path / "backups") is None
        assert current_revision(db) == head_revision(db)
        assert "members" in inspect(db.engine).get_table_names()
        assert not (tmp_path / "backups").exists()
    finally:
        db.dispose()


def test_the_start_up_knows_the_head_without_alembic(db_url: str) -> None:
    """A store at head is recognised from the migration files' own lines and one read (no Alembic at start-up);
    a new store, or one behind, is not, and goes through Alembic."""
    db = Database(db_url)
    try:
        assert head_in_files() == head_revision(db)
        assert not at_head(db)
        upgrade(db)
        assert at_head(db)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
        assert not at_head(db)
    finally:
        db.dispose()


def test_models_match_migrations(database: Database) -> None:
    differences = drift(database)
    assert differences == [], "models and migrations disagree; add a migration:\n" + "\n".join(map(repr, differences))


def test_upgrade_at_head_is_a_no_op(database: Database, tmp_path: Path) -> None:
    """Starting the app again on a current database neither migrates nor writes a backup."""
    backups = tmp_path / "backups"
    assert upgrade(database, backup_dir=backups) is None
    assert upgrade(database, backup_dir=backups) is None
    assert current_revision(database) == head_revision(database)
    assert not backups.exists()
    assert drift(database) == []


def test_sqlite_pragmas_are_in_force(sqlite_only_database: Database) -> None:
    """DESIGN §3: every connection the app makes runs with WAL, synchronous=FULL, foreign keys and a busy timeout."""
    with sqlite_only_database.engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragma["journal_mode"] == "wal"
    assert pragma["synchronous"] == 2  # FULL
    assert pragma["foreign_keys"] == 1
    assert isinstance(pragma["busy_timeout"], int)
    assert pragma["busy_timeout"] > 0


def _copy_of(source: Path, tmp_path: Path) -> Database:
    """Tests work on a copy: the committed file must stay at its revision."""
    path = tmp_path / source.name
    shutil.copyfile(source, path)
    return Database(sqlite_url(path))


def _members(db: Database) -> dict[str, tuple[str | None, str | None, int]]:
    rows = db.read(lambda s: s.execute(select(Member.member_no, Member.name, Member.phone, Member.points_balance)))
    return {no: (name, phone, points) for no, name, phone, points in rows}


@pytest.mark.parametrize("source", COMMITTED_FILES, ids=lambda p: p.stem)
def test_committed_old_file_upgrades_to_head_with_its_data(source: Path, tmp_path: Path) -> None:
    """A store made by an earlier release reaches the current schema, keeps its members, and shows no drift."""
    db = _copy_of(source, tmp_path)
    try:
        upgrade(db, backup_dir=tmp_path / "backups")
        assert current_revision(db) == head_revision(db)
        assert drift(db) == []
        assert _members(db) == FIXTURE_MEMBERS
    finally:
        db.dispose()


def test_upgrade_of_older_file_backs_it_up_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An older file is copied to the backup folder before migrating, and the copy is the file as it was.

    With only one real revision no committed file is older than head, so this puts a throwaway revision on top of
    a copy of db/migrations: the oldest committed file is then behind head, as a store's file is after an update.
    The backup must hold the old revision and the members, and must not have the new table; the live file must.
    """
    migrations = tmp_path / "migrations"
    shutil.copytree(db.migrate.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    live = _copy_of(COMMITTED_FILES[0], tmp_path)
    real_head = head_revision(live)
    old_revision = current_revision(live)
    (migrations / "versions" / "zz_test_only.py").write_text(EXTRA_REVISION.format(head=real_head))
    monkeypatch.setattr(db.migrate, "MIGRATIONS_DIR", migrations)
    try:
        backup = upgrade(live, backup_dir=tmp_path / "backups")
        assert current_revision(live) == "zz_test_only"
        assert "test_only_marker" in inspect(live.engine).get_table_names()
        assert _members(live) == FIXTURE_MEMBERS
    finally:
        live.dispose()

    assert backup is not None
    assert backup.parent == tmp_path / "backups"
    assert old_revision is not None and old_revision in backup.name
    saved = Database(sqlite_url(backup))
    try:
        assert current_revision(saved) == old_revision
        assert "test_only_marker" not in inspect(saved.engine).get_table_names()
        assert _members(saved) == FIXTURE_MEMBERS
    finally:
        saved.dispose()
