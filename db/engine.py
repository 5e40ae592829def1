"""Engine and transaction setup for the embedded SQLite file and for a shared PostgreSQL server.

SQLite: WAL, synchronous=FULL, foreign keys on, a busy timeout; write transactions start with BEGIN IMMEDIATE so two
counters never deadlock upgrading a read lock. PostgreSQL: Read Committed; services lock the rows they change
(`SELECT … FOR UPDATE`) or use guarded updates, and a serialization failure or deadlock retries the whole unit.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("memberdesk.db")

T = TypeVar("T")

SQLITE_FILENAME = "memberdesk.sqlite3"
SAVED_URL_FILENAME = "database.url"
BUSY_TIMEOUT_MS = 15000
_RETRY_SQLSTATES = {"40001", "40P01"}
BULK_CACHE_KIB = 256 * 1024
"""SQLite page cache of a bulk loader's connections (the counter keeps SQLite's default 2 MB)."""


def sqlite_url(path: Path) -> str:
    """The URL of an SQLite file, every character of the path kept as typed: written by hand (`sqlite:///D:\\a%20b`)
    a `%20` in a Windows folder name would be read back as a space, and the store opened somewhere else."""
    return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)


def resolve_url(data_dir: Path, database: str | None) -> str:
    """The database URL: the one given (command line), else the chain's server saved in the data folder at the first
    run, else the SQLite file in the data folder."""
    if database:
        return database
    return saved_database_url(data_dir) or sqlite_url(data_dir / SQLITE_FILENAME)


def saved_database_url(data_dir: Path) -> str | None:
    try:
        saved = (data_dir / SAVED_URL_FILENAME).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return saved or None


def save_database_url(data_dir: Path, url: str) -> None:
    """Kept readable by this account only where POSIX permissions apply (the address may hold a password)."""
    path = data_dir / SAVED_URL_FILENAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(url + "\n")


def _install_sqlite_pragmas(engine: Engine, cache_kib: int | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (pysqlite's own handling is wrong for us).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        if cache_kib is not None:
            cur.execute(f"PRAGMA cache_size = -{cache_kib}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


class StorageFull(OSError):
    """The disk (or the file system's quota) holding the store is full: nothing of the change was written. An OSError
    so the command line and the logs name it plainly instead of showing a database traceback."""


def _is_storage_full(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "database or disk is full" in text or "could not extend file" in text or "no space left" in text


def _is_retryable(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


class Database:
    """The one handle services get: read sessions, and write units that commit or roll back as a whole."""

    def __init__(self, url: str | URL, *, echo: bool = False, cache_kib: int | None = None) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["isolation_level"] = "READ COMMITTED"
        self.engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _install_sqlite_pragmas(self.engine, cache_kib)
        write_engine = self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(write_engine, expire_on_commit=False)

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite or not self.url.database or self.url.database == ":memory:":
            return None
        return Path(self.url.database)

    def session(self) -> Session:
        """A session for reading; the caller closes it (use it as a context manager)."""
        return self._reader()

    def read(self, work: Callable[[Session], T]) -> T:
        with self._reader() as session:
            return work(session)

    def write(self, work: Callable[[Session], T], *, attempts: int = 5) -> T:
        """Run `work` in one transaction: all of it commits, or none of it. Retried on lock conflicts."""
        for attempt in range(1, attempts + 1):
            session = self._writer()
            try:
                with session.begin():
                    result = work(session)
                return result
            except DBAPIError as exc:
                if _is_storage_full(exc):
                    where = str(self.sqlite_path or self.url.render_as_string(hide_password=True))
                    raise StorageFull(
                        errno.ENOSPC, "the disk holding the store is full; nothing was written", where
                    ) from exc
                if attempt == attempts or not _is_retryable(exc):
                    raise
                log.warning("write conflict (attempt %d): %s; retrying", attempt, exc.orig)
                time.sleep(0.02 * attempt)
            finally:
                session.close()
        raise AssertionError("unreachable")

    @contextmanager
    def bulk_loader(self) -> Iterator[Database]:
        """A handle for loading a big file. On SQLite it has connections of its own with a big page cache, so the
        indexes being filled stay in memory from one batch to the next (a 1M-member import: 28 s of inserts
        instead of 38 s); the memory goes with the handle at the end. On a server this same handle."""
        if not self.is_sqlite:
            yield self
            return
        loader = Database(self.url, cache_kib=BULK_CACHE_KIB)
        try:
            yield loader
        finally:
            loader.dispose()

    def dispose(self) -> None:
        self.engine.dispose()
