"""Reads on the DB-API connection of a chain's server (psycopg), for the counter's lookup and member panel
(`Database.driver_read`): the statements are SQLAlchemy's, compiled once per process, and run with psycopg's own
cursor, so a read costs no SQLAlchemy execution context, result or row objects (on the counter those were most of the
client's ~2.2 ms per lookup + profile). A statement is prepared on the server at its first run (unless the URL says
`prepare_threshold=none`, for an old PgBouncer), so the server neither parses nor plans it again once its plan is
kept (`db.engine.PLANNED_AFTER`).

What it answers mimics the part of SQLAlchemy's `Connection` those reads use (`execute(…).all()`, `scalar`), so one
function reads through either; the rows are named tuples of the statement's column labels, with the driver's own
values: an enum column comes back as its text and a `timestamptz` in the session's time zone, so the reader converts
(`Gender(…)`, `db.plain.utc_from_store`), which is right for SQLAlchemy's rows too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import Connection as DriverConnection
from psycopg.rows import namedtuple_row
from psycopg.types.numeric import Int8
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from db.engine import compiled_sql


class DriverRows(list[Any]):
    """A statement's rows, as `Result.all()` gives them."""

    def all(self) -> list[Any]:
        return self


class DriverReads:
    """Runs SQLAlchemy statements and SQL texts on a psycopg connection in autocommit (`Database.driver_read`)."""

    def __init__(self, connection: DriverConnection[Any], dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect
        self.prepare = connection.prepare_threshold is not None

    def _run(self, sql: str, params: Mapping[str, Any], named: bool) -> list[Any]:
        # Whole numbers are sent as int8 whatever their size (psycopg picks int2, int4 or int8 by value, and a
        # statement is prepared per parameter types: member 7 and member 70,000 would be planned apart).
        values = {key: Int8(value) if type(value) is int else value for key, value in params.items()}
        cursor = self.connection.cursor(row_factory=namedtuple_row) if named else self.connection.cursor()
        with cursor:
            cursor.execute(sql, values, prepare=self.prepare)
            return cursor.fetchall()

    def execute(self, statement: ClauseElement, params: Mapping[str, Any] | None = None) -> DriverRows:
        """`statement`'s rows as named tuples (by the statement's column labels)."""
        sql, fixed = compiled_sql(statement, self.dialect)
        return DriverRows(self._run(sql, {**fixed, **(params or {})}, named=True))

    def scalar(self, statement: ClauseElement, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row (None when there is none)."""
        rows = self.execute(statement, params)
        return rows[0][0] if rows else None

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """An SQL text with `%(name)s` parameters (`db.plain.Reads`), rows as tuples."""
        return self._run(sql, params or {}, named=False)
