"""Shared test set-up: offscreen Qt, and fresh databases on SQLite and on PostgreSQL.

Database fixtures (a new database for every test, so tests never see each other's rows):

- `backend`: "sqlite" or "pg"; a test that takes `db_url` or `database` runs once on each. The pg run is skipped
  unless MEMBERDESK_TEST_PG_URL names a server (`python3 dev.py test` starts one and sets it).
- `db_url`: the URL of a fresh, EMPTY database (no tables): for migration tests and for the app as a subprocess,
  which migrates on start.
- `database`: a `Database` on a fresh database already at the head revision, disposed after the test.
- `sqlite_only_database`: the same on a SQLite file, for tests that only make sense on one file (pragmas, backups).

Migrating costs ~50 ms a database, too much for hundreds of tests, so each backend is migrated once per session
into a template that every test copies: a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from itertools import count
from pathlib import Path

# Before anything imports Qt: without a display pytest-qt would abort the interpreter.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from db.engine import Database, sqlite_url  # noqa: E402
from db.migrate import upgrade  # noqa: E402

PG_URL_ENV = "MEMBERDESK_TEST_PG_URL"
NO_FORK_ENV = "MEMBERDESK_TEST_NO_FORK"


def _multiprocessing_as_on_windows() -> None:
    """MEMBERDESK_TEST_NO_FORK=1: multiprocessing as Windows has it, spawn only, so a run on Linux shows which code
    and which tests still assume fork (issue 15 finding 12). Tests that need fork itself are marked `NEEDS_FORK`."""
    import multiprocessing
    import multiprocessing.context

    real_get_context = multiprocessing.get_context

    def get_context(method: str | None = None) -> multiprocessing.context.BaseContext:
        if method in ("fork", "forkserver"):
            raise ValueError(f"cannot find context for {method!r}")
        return real_get_context("spawn" if method is None else method)

    multiprocessing.set_start_method("spawn", force=True)
    multiprocessing.get_all_start_methods = lambda: ["spawn"]
    multiprocessing.get_context = get_context


if os.environ.get(NO_FORK_ENV):
    _multiprocessing_as_on_windows()
BACKENDS = ["sqlite", pytest.param("pg", marks=pytest.mark.pg)]


class PostgresDatabases:
    """Creates and drops per-test databases on the test server; names carry a per-session token so that two
    sessions sharing one server never collide."""

    def __init__(self, server_url: str) -> None:
        self._server_url = make_url(server_url)
        self._admin: Engine = create_engine(self._server_url, isolation_level="AUTOCOMMIT", pool_size=1)
        self._prefix = f"md_{uuid.uuid4().hex[:8]}"
        self._numbers = count(1)
        self._template: str | None = None

    def url(self, name: str) -> str:
        return self._server_url.set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str) -> str:
        # UTF-8 whatever the server's default: a Windows server's may be its ANSI code page (WIN1252), which has no
        # Chinese. Copies of the template inherit it.
        encoding = " ENCODING 'UTF8'" if template == "template0" else ""
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{encoding}')
        return self.url(name)

    def _template_name(self) -> str:
        if self._template is None:
            name = f"{self._prefix}_template"
            db = Database(self._create(name, "template0"))
            try:
                upgrade(db)
            finally:
                db.dispose()
            # CREATE DATABASE waits while anyone is connected to the template, autovacuum included (~0.4 s a test).
            with self._admin.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            self._template = name
        return self._template

    def empty(self) -> str:
        return self._create(f"{self._prefix}_test_{next(self._numbers)}", "template0")

    def migrated(self) -> str:
        return self._create(f"{self._prefix}_test_{next(self._numbers)}", self._template_name())

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self._template is not None:
            self.drop(self.url(self._template))
        self._admin.dispose()


class SqliteTemplate:
    """A SQLite file migrated to head once per session; tests get copies of it."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / "template.sqlite3"
        self._ready = False

    def copy_to(self, dest: Path) -> str:
        if not self._ready:
            db = Database(sqlite_url(self._path))
            try:
                upgrade(db)
            finally:
                db.dispose()  # the last connection closing folds the WAL back into the file
            self._ready = True
        shutil.copyfile(self._path, dest)
        return sqlite_url(dest)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def _postgres() -> Iterator[PostgresDatabases | None]:
    server_url = os.environ.get(PG_URL_ENV)
    if not server_url:
        yield None
        return
    databases = PostgresDatabases(server_url)
    yield databases
    databases.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "pg" and not os.environ.get(PG_URL_ENV):
        pytest.skip(f"no PostgreSQL: {PG_URL_ENV} is unset (`python3 dev.py test` starts a server and sets it)")
    return name


def _postgres_or_fail(postgres: PostgresDatabases | None) -> PostgresDatabases:
    assert postgres is not None, f"{PG_URL_ENV} is set but the session has no server"
    return postgres


@pytest.fixture
def db_url(backend: str, tmp_path: Path, _postgres: PostgresDatabases | None) -> Iterator[str]:
    if backend == "sqlite":
        yield sqlite_url(tmp_path / "memberdesk.sqlite3")
        return
    postgres = _postgres_or_fail(_postgres)
    url = postgres.empty()
    yield url
    postgres.drop(url)


@pytest.fixture
def database(
    backend: str, tmp_path: Path, _sqlite_template: SqliteTemplate, _postgres: PostgresDatabases | None
) -> Iterator[Database]:
    if backend == "sqlite":
        db = Database(_sqlite_template.copy_to(tmp_path / "memberdesk.sqlite3"))
        yield db
        db.dispose()
        return
    postgres = _postgres_or_fail(_postgres)
    url = postgres.migrated()
    db = Database(url)
    yield db
    db.dispose()
    postgres.drop(url)


@pytest.fixture
def sqlite_only_database(tmp_path: Path, _sqlite_template: SqliteTemplate) -> Iterator[Database]:
    db = Database(_sqlite_template.copy_to(tmp_path / "memberdesk.sqlite3"))
    yield db
    db.dispose()
