"""What tests ask of a database beyond the services: which indexes it has."""

from __future__ import annotations

from db.engine import Database


def index_names(db: Database) -> set[str]:
    sql = (
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if db.is_sqlite
        else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    )
    with db.engine.connect() as conn:
        return {row[0] for row in conn.exec_driver_sql(sql)}
