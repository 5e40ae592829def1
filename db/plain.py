"""The store read without SQLAlchemy: what the counter's first screen needs (docs/ARCHITECTURE.md §7, launch → first
lookup ≤ 0.8 s). Importing SQLAlchemy, the models and the services takes about half a second, and the GUI's Qt calls
keep a thread that imports from overlapping with them; so on this PC's own SQLite file the store is opened, the
operator signed in and the first lookup answered on a plain `sqlite3` connection, and the rest is loaded after that.

Every rule keeps one implementation: the SQL of a check is written once, as text with `:name` parameters, and run
either here (`PlainReads`) or through SQLAlchemy (`Database.rows`), which both answer `Reads`."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from db.location import SQLITE_FILENAME, saved_database_url

BUSY_TIMEOUT_MS = 15000
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REVISION_LINE = re.compile(r"^(down_)?revision\b[^=\n]*=(.*)$", re.MULTILINE)
_QUOTED = re.compile(r"""['"]([^'"]+)['"]""")
VERSIONS_SQL = "SELECT version_num FROM alembic_version"


_this_thread = threading.local()


@contextmanager
def counter_connection() -> Iterator[None]:
    """Sessions opened on this thread inside the block use the counter's own SQLite connection: the counter's
    lookups and sales never wait for a pooled connection another worker holds, and the pages of the lookup indexes
    stay in that connection's cache instead of rotating through the pool. On a server the counter shares the one
    pooled connection (a chain's server counts every idle connection of every counter)."""
    before = getattr(_this_thread, "counter", False)
    _this_thread.counter = True
    try:
        yield
    finally:
        _this_thread.counter = before


def on_counter_thread() -> bool:
    return bool(getattr(_this_thread, "counter", False))


class Reads(Protocol):
    """Runs one SQL text (`:name` parameters) and returns its rows as tuples."""

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]: ...


def apply_sqlite_pragmas(connection: Any, cache_kib: int | None = None) -> None:
    """What every connection to the store's SQLite file sets (SQLAlchemy's connections and the plain one)."""
    cur = connection.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = FULL")
    cur.execute("PRAGMA foreign_keys = ON")
    if cache_kib is not None:
        cur.execute(f"PRAGMA cache_size = -{cache_kib}")
    cur.close()


def local_store_file(data_dir: Path, database: str | None) -> Path | None:
    """The data folder's own SQLite file, when that is the store (no URL given, no chain server saved)."""
    if database or saved_database_url(data_dir):
        return None
    return data_dir / SQLITE_FILENAME


def head_in_files() -> str | None:
    """The head revision as the migration files write it (each file's `revision` and `down_revision`), without
    Alembic: the one revision that is no other's parent; None when that is not plain (no files, two heads)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for down, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).update(_QUOTED.findall(value))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def versions_at_head(versions: list[str]) -> bool:
    """`alembic_version`'s rows say the store is at the files' head (False whenever that is not certain)."""
    head = head_in_files()
    return head is not None and versions == [head]


def utc_from_store(value: Any) -> dt.datetime | None:
    """A UTC column read without SQLAlchemy's types (`db.base.UTCDateTime`): SQLite keeps naive UTC text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class PlainReads:
    """One plain connection to the store's SQLite file, for reads only (autocommit: each statement reads the last
    commit by itself). Used on one thread at a time (the counter's worker)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        apply_sqlite_pragmas(self.connection)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, dict(params or {})).fetchall()

    def at_head(self) -> bool:
        try:
            versions = [row[0] for row in self.rows(VERSIONS_SQL)]
        except sqlite3.OperationalError:  # a new store: no version table yet
            return False
        return versions_at_head(versions)

    def close(self) -> None:
        self.connection.close()
