"""Schema migrations: backup, upgrade to head, and the models-versus-migrations drift check.

Alembic is loaded only when there is something to migrate: a store already at head is recognised from the migration
files' own `revision` lines and one read of `alembic_version` (loading Alembic and every migration script to find
the head took a good part of the counter's start-up)."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

import db.models  # noqa: F401 - registers every table on Base.metadata
from db.base import Base
from db.engine import Database
from db.plain import MIGRATIONS_DIR, VERSIONS_SQL, versions_at_head
from db.plain import head_in_files as head_in_files

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("memberdesk.db")


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def head_revision(db: Database) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def current_revision(db: Database) -> str | None:
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def at_head(db: Database) -> bool:
    """The store is at the files' head revision (one read, no Alembic). False whenever that is not certain: Alembic
    then decides."""
    try:
        with db.engine.connect() as conn:
            versions = conn.exec_driver_sql(VERSIONS_SQL).scalars().all()
    except DBAPIError:  # a new store: no version table yet
        return False
    return versions_at_head(list(versions))


def backup_sqlite(source: Path, dest: Path) -> Path:
    """A consistent copy of a live SQLite file through SQLite's online backup (safe under WAL)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(str(source))
    try:
        out = sqlite3.connect(str(dest))
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()
    return dest


def upgrade(db: Database, backup_dir: Path | None = None) -> Path | None:
    """Bring the schema to head. An existing SQLite database is backed up first; returns the backup's path."""
    if at_head(db):
        return None
    from alembic import command

    current = current_revision(db)
    head = head_revision(db)
    if current == head:
        return None
    backup: Path | None = None
    path = db.sqlite_path
    if path is not None and path.exists() and current is not None and backup_dir is not None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        backup = backup_sqlite(path, backup_dir / f"before-upgrade-{current}-{stamp}.sqlite3")
        log.info("backed up %s to %s before migrating", path, backup)
    _run_alembic(db, lambda cfg: command.upgrade(cfg, "head"))
    log.info("database migrated from %s to %s", current, head)
    return backup


def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to `revision` (support work and migration tests; the app itself only upgrades)."""
    from alembic import command

    _run_alembic(db, lambda cfg: command.downgrade(cfg, revision))


def _run_alembic(db: Database, step: Callable[[Config], None]) -> None:
    """Run an Alembic command in one transaction on the store's own engine.

    On SQLite, batch migrations rebuild a table (copy, drop the old one, rename): with foreign keys enforced, SQLite
    refuses to drop a table that other rows reference (a campaign that has coupons), so the rebuild would fail on
    any store with data. SQLite's documented procedure is followed: foreign keys off (the pragma only takes effect
    outside a transaction, hence on the raw connection before BEGIN), the change, `PRAGMA foreign_key_check` before
    the commit (a broken reference rolls everything back), foreign keys on again.
    """
    cfg = alembic_config(db)
    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.connect() as conn:
        raw = conn.connection.cursor()  # the DBAPI cursor: no BEGIN is sent before it
        if sqlite:
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration would leave {len(broken)} broken references: {broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys = ON")


def drift(db: Database) -> list[Any]:
    """Differences between the models and the migrated database; empty when they agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "compare_server_default": True, "target_metadata": Base.metadata},
        )
        return list(compare_metadata(ctx, Base.metadata))
