"""Writes nobody waits on, sent in the round trip of the statement after them (a chain's server).

A purchase writes rows whose answer it never reads: the member's history row and branch month, a new points lot or
the points taken from lots, the member row. On PostgreSQL each was a round trip of its own, and a round trip is a
wait: the counter's process sleeps until the server answers and is woken, which on a busy machine is what a
purchase's tail is made of (bench/README.md, "purchase round trips"). `later` queues such a write on the
transaction's connection; `read` sends what is queued and its own statement in one pipeline — one round trip — and
returns its rows. Anything else sent to the server first (a statement through SQLAlchemy, a savepoint) sends the
queue before it (the events below), so no statement ever runs before a write queued ahead of it; the commit sends
what is still queued; a rollback, or a new transaction, forgets it. On SQLite there is no round trip to save: `later`
runs the write at once and `read` its statement, in the same order.

SQL is written with `{p}` for the driver's parameter marker and values as the driver takes them
(`db.bulk.DriverValues`). An error of the server is raised as SQLAlchemy would raise it (`DBAPIError`), so a lost
server reads as an outage (`db.engine.is_server_unreachable`) wherever it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError

from db.bulk import marker

_QUEUE = "memberdesk.later"
Write = tuple[str, Any, bool]
"""(SQL with the driver's markers, parameters, executemany)."""


def _queue(conn: Connection) -> list[Write] | None:
    """What is queued on the connection (nothing on one the server dropped: its queue went with it)."""
    return None if conn.invalidated else conn.info.get(_QUEUE)


def later(conn: Connection, sql: str, params: Sequence[Any], *, many: bool = False) -> None:
    """Write `sql` (`{p}`: the driver's marker) with `params` (a sequence of them with `many`) before whatever
    this transaction sends next to the server."""
    statement = sql.format(p=marker(conn))
    if conn.dialect.name == "sqlite":
        _run(conn, [(statement, params, many)], None)
        return
    conn.info.setdefault(_QUEUE, []).append((statement, params, many))


def read(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of `sql` (`{p}`: the driver's marker), sent with the writes queued before it in one round trip."""
    return _run(conn, conn.info.pop(_QUEUE, None) or [], (sql.format(p=marker(conn)), params))


def _run(conn: Connection, writes: list[Write], query: tuple[str, Sequence[Any]] | None) -> list[tuple[Any, ...]]:
    driver = conn.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    statement, params = query if query is not None else writes[-1][:2]
    try:
        if writes and conn.dialect.name == "postgresql":
            with driver.pipeline():
                _send(cursor, writes, query)
            # the pipeline's end waited for every answer: one round trip; the query's rows are in
        else:
            _send(cursor, writes, query)
        rows = list(cursor.fetchall()) if query is not None else []
    except conn.dialect.loaded_dbapi.Error as exc:
        invalidated = conn.dialect.is_disconnect(exc, driver, cursor)
        if invalidated:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            statement,
            params,
            exc,
            conn.dialect.loaded_dbapi.Error,
            connection_invalidated=invalidated,
            dialect=conn.dialect,
        ) from exc
    finally:
        cursor.close()
    return rows


def _send(cursor: Any, writes: list[Write], query: tuple[str, Sequence[Any]] | None) -> None:
    for statement, params, many in writes:
        if many:
            cursor.executemany(statement, params)
        else:
            cursor.execute(statement, params)
    if query is not None:
        cursor.execute(*query)


def send(conn: Connection) -> None:
    """Send the queued writes now (one round trip for all of them)."""
    writes = conn.info.pop(_QUEUE, None)
    if writes:
        _run(conn, writes, None)


@event.listens_for(Engine, "before_cursor_execute")
def _before_statement(conn: Connection, *_: Any) -> None:
    if _queue(conn):
        send(conn)


@event.listens_for(Engine, "savepoint")
def _before_savepoint(conn: Connection, *_: Any) -> None:
    if _queue(conn):
        send(conn)


@event.listens_for(Engine, "commit")
def _before_commit(conn: Connection) -> None:
    if _queue(conn):
        send(conn)


@event.listens_for(Engine, "begin")
@event.listens_for(Engine, "rollback")
def _forget(conn: Connection) -> None:
    if not conn.invalidated:
        conn.info.pop(_QUEUE, None)


@event.listens_for(Engine, "rollback_savepoint")
def _forget_since_savepoint(conn: Connection, *_: Any) -> None:
    _forget(conn)  # what was queued before the savepoint was sent when it was made
