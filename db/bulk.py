"""Bulk inserts straight through the driver's executemany, for imports of a million rows.

SQLAlchemy's executemany processes every parameter of every row through its type objects (~20 µs a row here);
for bulk loads the values are converted once, the way those types would store them, and repeated values
(the same import time on every row) are converted once in all.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from db.base import Base
from db.models import Setting

log = logging.getLogger("memberdesk.db")

_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": "?", "named": "?"}


class DriverValues:
    """Python values as the driver should receive them, matching what the models' column types would send."""

    def __init__(self, *, sqlite: bool) -> None:
        self.sqlite = sqlite
        self._times: dict[dt.datetime, Any] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, dt.datetime):
            stored = self._times.get(value)
            if stored is None:
                if value.tzinfo is None:
                    raise ValueError("naive datetime given to a UTC column")
                utc = value.astimezone(dt.UTC)
                # SQLite keeps naive UTC text in SQLAlchemy's own format (see db.base.UTCDateTime).
                stored = self._times[value] = (
                    utc.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else utc
                )
            return stored
        if isinstance(value, dt.date) and self.sqlite:
            return value.isoformat()
        return value


def marker(conn: Connection) -> str:
    """The driver's parameter marker, for SQL sent straight to it."""
    return _MARKERS[conn.dialect.paramstyle]


def bulk_insert(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    same: Mapping[str, Any] | None = None,
) -> None:
    """INSERT every row (values in `columns` order, already converted with DriverValues) in one executemany.
    `same`: columns whose value is the same for every row, written into the statement once instead of bound a row
    (eight such columns cost a 1M-member import 3 s of binding)."""
    same = same or {}
    known = Base.metadata.tables[table].c
    missing = [c for c in (*columns, *same) if c not in known]
    if missing:
        raise ValueError(f"{table} has no column {missing}")
    marker = _MARKERS[conn.dialect.paramstyle]
    literals = [_literal(v) for v in same.values()]
    if marker == "%s":  # a per cent sign in the statement would be taken for a marker
        literals = [text.replace("%", "%%") for text in literals]
    values = ", ".join([marker] * len(columns) + literals)
    sql = f"INSERT INTO {table} ({', '.join([*columns, *same])}) VALUES ({values})"
    if rows:
        conn.exec_driver_sql(sql, rows)


def _literal(value: Any) -> str:
    """A driver value (see DriverValues) as SQL text, for both SQLite and PostgreSQL."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def ordered_uuids(now: dt.datetime) -> Iterator[str]:
    """UUIDv7 strings (RFC 9562: the time in milliseconds, then a counter from a random start), each greater than
    the one before. As unique as uuid4, but a million of them are appended to a unique index side by side instead
    of landing on random pages of it (a 1M-member import: about 10 s less)."""
    millis = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    counter = secrets.randbits(73)  # 74 bits of room: the counter never wraps
    while True:  # the first 64 bits change only when the low 62 bits of the counter wrap: written once for them
        high, low = divmod(counter, 1 << 62)
        head = f"{(millis << 16) | (0x7 << 12) | high:016x}"
        head = f"{head[:8]}-{head[8:12]}-{head[12:]}-"
        for tail in range((0b10 << 62) | low, 0b11 << 62):
            digits = f"{tail:016x}"
            yield f"{head}{digits[:4]}-{digits[4:]}"
        counter += (1 << 62) - low


IN_CHUNK = 10_000
"""Values per statement in select_in: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters."""


def select_in(conn: Connection, query: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of `query` (where `{values}` stands for the list of parameters) for all `values`, asked in chunks
    straight through the driver: SQLAlchemy's expanding IN compiles every value (~6 µs apiece at 20,000)."""
    marker = _MARKERS[conn.dialect.paramstyle]
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(values), IN_CHUNK):
        chunk = tuple(values[start : start + IN_CHUNK])
        sql = query.format(values=", ".join([marker] * len(chunk)))
        found.extend(tuple(row) for row in conn.exec_driver_sql(sql, chunk))
    return found


PENDING_INDEXES_KEY = "bulk.pending_indexes"
"""Settings key: [name, CREATE statement] of the indexes a bulk load dropped and has not built again yet."""


def drop_indexes(conn: Connection, tables: Sequence[str], *, unique_too: bool) -> int:
    """Drop the tables' indexes that back no constraint (with `unique_too`, unique ones as well), recording them as
    pending in the same transaction, so a load killed half-way can be mended (restore_indexes). Returns how many.

    Loading a million rows into a table without its secondary indexes and sorting each index once at the end is
    several times faster than inserting every key at a random page of every index."""
    names = ", ".join(f"'{t}'" for t in tables)
    if conn.dialect.name == "sqlite":
        sql = f"""SELECT name, sql FROM sqlite_master
                  WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({names})"""
    else:
        sql = f"""SELECT i.indexname, i.indexdef FROM pg_indexes i
                  WHERE i.schemaname = current_schema() AND i.tablename IN ({names})
                    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""
    found = [[str(name), str(create)] for name, create in conn.exec_driver_sql(sql + " ORDER BY 1")]
    if not unique_too:
        found = [item for item in found if not item[1].upper().startswith("CREATE UNIQUE")]
    _set_pending(conn, pending_indexes(conn) + found)
    for name, _create in found:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    return len(found)


def pending_indexes(conn: Connection) -> list[list[str]]:
    value = conn.scalar(select(Setting.value).where(Setting.key == PENDING_INDEXES_KEY))
    return [list(item) for item in value] if value else []


def restore_indexes(conn: Connection) -> int:
    """Build every pending index again (a unique one fails loudly if the load broke it). Returns how many."""
    pending = pending_indexes(conn)
    for name, create in pending:
        started = time.perf_counter()
        conn.exec_driver_sql(create)
        log.info("index %s built in %.1f s", name, time.perf_counter() - started)
    _set_pending(conn, [])
    return len(pending)


def _set_pending(conn: Connection, pending: list[list[str]]) -> None:
    conn.execute(delete(Setting).where(Setting.key == PENDING_INDEXES_KEY))
    if pending:
        conn.execute(insert(Setting).values(key=PENDING_INDEXES_KEY, value=pending))
