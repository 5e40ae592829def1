"""Bulk inserts straight through the driver's executemany, for imports of a million rows.

SQLAlchemy's executemany processes every parameter of every row through its type objects (~20 µs a row here);
for bulk loads the values are converted once, the way those types would store them, and repeated values
(the same import time on every row) are converted once in all.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from db.base import Base

_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": "?", "named": "?"}


class DriverValues:
    """Python values as the driver should receive them, matching what the models' column types would send."""

    def __init__(self, conn: Connection) -> None:
        self.sqlite = conn.dialect.name == "sqlite"
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


def bulk_insert(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """INSERT every row (values in `columns` order, already converted with DriverValues) in one executemany."""
    known = Base.metadata.tables[table].c
    missing = [c for c in columns if c not in known]
    if missing:
        raise ValueError(f"{table} has no column {missing}")
    marker = _MARKERS[conn.dialect.paramstyle]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
    if rows:
        conn.exec_driver_sql(sql, rows)
