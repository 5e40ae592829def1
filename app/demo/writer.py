"""Bulk insertion of generated rows: plain DBAPI executemany in one transaction per batch.

Going through the ORM (or even Core's per-value type processing) would cost more than generating the rows, so
values are made ready for the backend here: SQLite gets the exact text SQLAlchemy's DateTime and Date store
(checked against SQLAlchemy's own processor when the writer starts), PostgreSQL gets datetime and date objects.

A big demo is loaded the way databases like to be loaded: the secondary indexes of the tables it fills are dropped
first and built again at the end (one sort each instead of millions of scattered page writes: members are made one
after another, so their sales arrive in no order of time, phone or name). Which indexes are down is written in the
same transaction that drops them (db.bulk.drop_indexes), so a demo killed half-way is mended by the next
`main.py demo` run (or `main.py db upgrade`), and the unique indexes are checked again when they are rebuilt.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.type_api import TypeEngine

from app.demo.history import ID_TABLES, Rows
from app.errors import ConflictError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.security.operator import Operator
from app.trust.audit import TABLES, record_audit, tie_new_rows
from db.base import Base
from db.bulk import drop_indexes, restore_indexes
from db.engine import Database
from db.models import Gift, Member

log = logging.getLogger("memberdesk.demo")

SQLITE_CACHE_KIB = 200_000
"""Page cache for the bulk load (0.2 GB; more made no difference); put back to SQLite's default afterwards."""
SQLITE_DEFAULT_CACHE = -2000
BULK_TABLES = (*ID_TABLES, "member_tags")


class ValueCodec:
    """Moments (Unix seconds) and dates as the backend's driver takes them."""

    def __init__(self, db: Database) -> None:
        self.sqlite = db.is_sqlite
        self._days: dict[int, str] = {}
        if self.sqlite:
            moment = dt.datetime(2024, 2, 9, 23, 59, 58, tzinfo=dt.UTC)
            self._agrees_with(Member.__table__.c.joined_at.type, db, moment, self.stamp(int(moment.timestamp())))
            birthday = dt.date(1975, 3, 8)
            self._agrees_with(Member.__table__.c.birthday.type, db, birthday, self.day(birthday))

    @staticmethod
    def _agrees_with(column_type: TypeEngine[Any], db: Database, value: Any, mine: Any) -> None:
        processor = column_type._cached_bind_processor(db.engine.dialect)
        expected = processor(value) if processor else value
        if mine != expected:
            raise AssertionError(f"demo writer stores {mine!r} where SQLAlchemy stores {expected!r}")

    def stamp(self, seconds: int) -> Any:
        if not self.sqlite:
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        day, rest = divmod(seconds, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = f"{dt.date.fromordinal(719163 + day):%Y-%m-%d} "
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{prefix}{hours:02d}:{minutes:02d}:{secs:02d}.000000"

    def day(self, value: dt.date) -> Any:
        return value.isoformat() if self.sqlite else value


class BulkWriter:
    """Writes batches on one connection of its own, each batch one transaction."""

    def __init__(self, db: Database, operator: Operator) -> None:
        self.db = db
        self.operator = operator
        self.param_marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}[db.engine.dialect.paramstyle]
        self._sql: dict[str, str] = {}

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection for the whole load. On SQLite: a bigger page cache, two sorter threads for the index
        builds, and foreign keys unchecked (a quarter of the insert time; `db check` runs SQLite's
        foreign_key_check, and the tests run `db check` on demos). Everything is put back afterwards."""
        with self.db.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            if self.db.is_sqlite:
                self._sqlite_pragmas(conn, f"cache_size = -{SQLITE_CACHE_KIB}", "threads = 2", "foreign_keys = OFF")
            try:
                yield conn
            finally:
                if conn.in_transaction():
                    conn.rollback()
                if self.db.is_sqlite:
                    self._sqlite_pragmas(
                        conn,
                        f"cache_size = {SQLITE_DEFAULT_CACHE}",
                        "threads = 0",
                        "foreign_keys = ON",
                        "wal_checkpoint(TRUNCATE)",  # fold the big write-ahead log back into the file
                    )

    @staticmethod
    def _sqlite_pragmas(conn: Connection, *pragmas: str) -> None:
        """Outside any transaction (foreign_keys and wal_checkpoint are ignored or refused inside one): the raw
        driver connection, which autocommits."""
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for pragma in pragmas:
            raw.execute(f"PRAGMA {pragma}")

    # ---- ids and rows ------------------------------------------------------------------------------------------
    def next_ids(self, conn: Connection) -> dict[str, int]:
        with conn.begin():
            return {table: self._max_id(conn, table) + 1 for table in ID_TABLES}

    @staticmethod
    def _max_id(conn: Connection, table: str) -> int:
        return int(conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar_one())

    def _insert_sql(self, table: str, columns: tuple[str, ...]) -> str:
        sql = self._sql.get(table)
        if sql is None:
            known = set(Base.metadata.tables[table].c.keys())
            unknown = [c for c in columns if c not in known]
            if unknown:
                raise AssertionError(f"demo writer: {table} has no column {unknown}")
            values = ", ".join([self.param_marker] * len(columns))
            sql = self._sql[table] = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"
        return sql

    def write(self, conn: Connection, rows: Rows, expected: dict[str, int]) -> None:
        """One batch, all or nothing. Refuses if another program added rows since the ids were handed out."""
        with conn.begin():
            for table, first in expected.items():
                if self._max_id(conn, table) + 1 != first:
                    raise ConflictError(
                        S("Errors", "The store changed while the demo was being made; run it when no counter is open.")
                    )
            for table, columns, values in rows.tables():
                if values:
                    conn.exec_driver_sql(self._insert_sql(table, columns), values)
            for gift_id, taken in rows.gifts_taken.items():
                conn.execute(update(Gift).where(Gift.id == gift_id).values(stock=Gift.stock - taken))
            with Session(bind=conn) as session:  # the batch's audit entry vouches for its sales and ledger rows
                tie_new_rows(session, self.operator, {t: expected[t] - 1 for t in TABLES if t in expected})
                record_audit(session, self.operator, "demo_batch", "store", None)
            if not self.db.is_sqlite:
                # Ids were given explicitly: move each table's sequence past them, or the next ORM insert clashes.
                for table in ID_TABLES:
                    sequence = f"pg_get_serial_sequence('{table}', 'id')"
                    conn.exec_driver_sql(f"SELECT setval({sequence}, MAX(id)) FROM {table} HAVING MAX(id) > 0")

    # ---- indexes -----------------------------------------------------------------------------------------------
    @staticmethod
    def drop_indexes(conn: Connection) -> int:
        """Drop the filled tables' secondary indexes, unique ones too (they are checked when built again)."""
        with conn.begin():
            return drop_indexes(conn, BULK_TABLES, unique_too=True)

    @staticmethod
    def restore_indexes(conn: Connection) -> int:
        with conn.begin():
            return restore_indexes(conn)
