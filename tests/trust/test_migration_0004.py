"""Migration 0004 on a store made by an earlier release: its audit entries are chained, its sales and ledger rows
tied to one "migrate" entry, and `db check` passes — then still catches a forged row."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select, text

from app.integrity import check_database
from app.trust.verify import UNTIED
from db.engine import Database, sqlite_url
from db.migrate import upgrade
from db.models import AuditLog, PointsLedger, Sale

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "db_v0001.sqlite3"


def test_an_old_store_is_chained_and_checks(tmp_path: Path) -> None:
    path = tmp_path / FIXTURE.name
    shutil.copyfile(FIXTURE, path)
    db = Database(sqlite_url(path))
    try:
        upgrade(db, backup_dir=tmp_path / "backups")
        assert [str(p) for p in check_database(db)] == []
        with db.session() as session:
            untied = session.scalar(select(func.count()).where(Sale.audit_id.is_(None))) or 0
            untied += session.scalar(select(func.count()).where(PointsLedger.audit_id.is_(None))) or 0
            seqs = list(session.scalars(select(AuditLog.seq).order_by(AuditLog.id)))
        assert untied == 0 and seqs == list(range(1, len(seqs) + 1))
        with db.session() as session, session.begin():
            session.execute(
                text("UPDATE points_ledger SET audit_id = NULL WHERE id = (SELECT MIN(id) FROM points_ledger)")
            )
        assert UNTIED in {p.message for p in check_database(db)}
    finally:
        db.dispose()
