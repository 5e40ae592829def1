"""Engine and transaction setup for the embedded SQLite file and for a shared PostgreSQL server.

SQLite: WAL, synchronous=FULL, foreign keys on, a busy timeout; write transactions start with BEGIN IMMEDIATE so two
counters never deadlock upgrading a read lock. PostgreSQL: Read Committed; services lock the rows they change
(`SELECT … FOR UPDATE`) or use guarded updates, and a serialization failure or deadlock retries the whole unit.

PostgreSQL connections (a chain: many counters on one server): a counter keeps at most one idle connection; every
connection has a connect timeout, a statement timeout and TCP keepalives. psycopg prepares a statement the connection
has run a few times (the server then skips parsing and planning it, most of the server's work for an index lookup),
and a rollback keeps them (psycopg would forget them all). The counter's lookups and member panel run in autocommit
(no BEGIN, no ROLLBACK: one round trip a statement). When the server cannot be reached or refuses a connection
(restarting, "too many clients"), reads and the start of a write wait and retry with back-off; listeners hear the
server's state.
"""

from __future__ import annotations

import enum
import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, QueuePool
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from db.location import SQLITE_FILENAME as SQLITE_FILENAME
from db.location import save_database_url as save_database_url
from db.location import saved_database_url as saved_database_url
from db.plain import BUSY_TIMEOUT_MS, PlainReads, apply_sqlite_pragmas, on_counter_thread
from db.plain import counter_connection as counter_connection

if TYPE_CHECKING:
    from db.driver import DriverReads

log = logging.getLogger("memberdesk.db")

T = TypeVar("T")

_RETRY_SQLSTATES = {"40001", "40P01"}
_OUTAGE_SQLSTATES = {"53300", "57014", "57P01", "57P02", "57P03"}
"""Too many clients / slots reserved, statement timeout, admin shutdown, crash shutdown, cannot connect now."""
PG_CONNECT_DEFAULTS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "options": "-c statement_timeout=30000",
}
"""libpq connection settings a PostgreSQL URL gets unless its query sets them (`?connect_timeout=10&options=…`):
a dead server is noticed within ~5 s on connect and ~60 s on an open connection, and no statement runs past 30 s."""
PG_PREPARE_THRESHOLD = 2
"""psycopg prepares a statement at its third run on a connection (a URL's `prepare_threshold=none` turns preparing off,
for a PgBouncer older than 1.21 in transaction pooling)."""
PLANNED_AFTER = 6
"""Runs of a prepared statement before PostgreSQL keeps one plan for it: it plans the first five runs afresh with
their values (3.5 ms of the profile's ~4 ms), then keeps the generic plan when that costs no more."""
PING_AFTER_IDLE_S = 1.0
"""A pooled connection idle this long is pinged before a session or a write uses it (one round trip); reads that are
retried whole on a lost connection (`read`, `quick_read`) never ping."""
PG_POOL_SIZE = 1
"""Idle connections a counter keeps; a second thread (maintenance) borrows an overflow one, closed on return."""
PG_MAX_OVERFLOW = 4
OUTAGE_WAIT_S = 30.0
"""How long a read, the start of a write, or opening the store keeps retrying an unreachable server."""
BULK_CACHE_KIB = 256 * 1024
"""SQLite page cache of a bulk loader's connections (the counter keeps SQLite's default 2 MB)."""
COUNTER_SPARE_CONNECTIONS = 2
"""Connections the counter's own SQLite pool may open beyond its one kept connection (a read nested in a write)."""


@cache
def compiled_sql(statement: ClauseElement, dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """`statement` as `dialect` sends it (`%(name)s` parameters, the IN lists and literal binds written out) and the
    values it binds itself, as the driver takes them (an enum as its value)."""
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    runtime = {name: None for name, value in compiled.params.items() if value is None}
    expanded = compiled.construct_expanded_state(runtime)
    fixed = {
        name: value.value if isinstance(value, enum.Enum) else value
        for name, value in expanded.parameters.items()
        if name not in runtime
    }
    return expanded.statement, fixed


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


def _install_sqlite_pragmas(engine: Engine, cache_kib: int | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (pysqlite's own handling is wrong for us).
        dbapi_conn.isolation_level = None
        apply_sqlite_pragmas(dbapi_conn, cache_kib)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        begin = conn.get_execution_options().get("sqlite_begin", "BEGIN")
        if begin:  # None: `Database.quick_reads`, where each statement is its own read transaction
            conn.exec_driver_sql(begin)


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


def is_server_unreachable(exc: BaseException) -> bool:
    """The PostgreSQL server is down, restarting, out of connection slots or too slow: an outage, not a bug."""
    if not isinstance(exc, DBAPIError) or not hasattr(exc.orig, "sqlstate"):  # psycopg's errors; never SQLite's
        return False
    if exc.connection_invalidated:
        return True
    sqlstate: str | None = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None:
        return isinstance(exc, OperationalError)
    return bool(sqlstate.startswith("08") or sqlstate in _OUTAGE_SQLSTATES)


def _pg_connect_args(url: URL) -> dict[str, Any]:
    args = {key: value for key, value in PG_CONNECT_DEFAULTS.items() if key not in url.query}
    if url.get_driver_name() == "psycopg":
        asked = url.query.get("prepare_threshold")
        if isinstance(asked, str):
            args["prepare_threshold"] = None if asked.lower() in ("none", "off", "") else int(asked)
        else:
            args["prepare_threshold"] = PG_PREPARE_THRESHOLD
    return args


def _keeps_prepared_statements() -> type[Any]:
    """psycopg's connection, except that a rollback keeps the statements prepared on it. psycopg forgets them all
    at a rollback (and sends DEALLOCATE ALL), against a DDL rolled back under them; nothing here runs DDL in a
    transaction that rolls back, and a prepared statement outlives its transaction on the server. Every read session
    ends in a rollback: without this the counter's statements were prepared and planned again at every customer."""
    import psycopg
    from psycopg import pq

    class KeepsPrepared(psycopg.Connection):
        def rollback(self) -> None:
            if self._pipeline is not None:
                super().rollback()
                return
            with self.lock:
                if self.pgconn.transaction_status != pq.TransactionStatus.IDLE:
                    self.wait(self._exec_command(b"ROLLBACK"))

    return KeepsPrepared


def _give_back(connection: PoolProxiedConnection) -> None:
    """A connection a driver read used, out of autocommit (as the pool hands them out) and back to the pool."""
    driver = connection.driver_connection
    try:
        if driver is not None and not driver.closed:
            driver.autocommit = False
    except Exception:  # a broken connection: the pool drops it
        connection.invalidate()
    connection.close()


class ParkingPool(QueuePool):
    """A server's pool, in which `Database.driver_read` leaves the connection it used until the next one (parked)
    instead of handing it back and checking it out again: the pool's two steps cost ~0.35 ms of Python a read on a
    counter whose CPU caches went cold between two customers, half a lookup's. The parked connection is still the
    pool's one idle connection: any other checkout takes it first, and a connection handed back sends it back first,
    so a counter idles on one connection as before."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parked: PoolProxiedConnection | None = None
        self._parking = threading.Lock()

    def take_parked(self) -> PoolProxiedConnection | None:
        with self._parking:
            parked, self._parked = self._parked, None
        return parked

    def park(self, connection: PoolProxiedConnection) -> None:
        """Leave `connection` (checked out, in autocommit) for the next driver read; handed back instead when the pool
        has an idle connection or another one is parked."""
        with self._parking:
            if self._parked is None and self.checkedin() == 0:
                connection.info["parked_since"] = time.monotonic()
                self._parked = connection
                return
        _give_back(connection)

    def unpark(self) -> None:
        parked = self.take_parked()
        if parked is not None:
            _give_back(parked)

    def _do_get(self) -> ConnectionPoolEntry:
        self.unpark()
        return super()._do_get()

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        self.unpark()
        super()._do_return_conn(record)


def _install_pg_connections(engine: Engine) -> None:
    """psycopg connections that keep their prepared statements, pinged before use only after being idle a while."""
    import psycopg

    connection_class = _keeps_prepared_statements()

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return connection_class.connect(*cargs, **cparams)

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = record.info.pop("parked_since", None) or time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if getattr(_pinging, "off", False):
            return
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE_S:
            return
        try:  # in autocommit: one round trip, no transaction left open
            dbapi_conn.autocommit = True
            dbapi_conn.execute("SELECT 1", prepare=False)
            dbapi_conn.autocommit = False
        except psycopg.Error as exc:
            raise DisconnectionError(str(exc)) from exc


_pinging = threading.local()


@contextmanager
def _unpinged() -> Iterator[None]:
    """Connections checked out on this thread inside the block are not pinged: the work is retried whole when the
    connection turns out to be lost (`Database._patiently`)."""
    before = getattr(_pinging, "off", False)
    _pinging.off = True
    try:
        yield
    finally:
        _pinging.off = before


SNAPSHOT_OPTIONS: dict[str, Any] = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
"""A PostgreSQL transaction that reads one moment of the store: a read-only snapshot never fails to serialise and
takes no row locks."""


def _begun(maker: sessionmaker[Session], options: dict[str, Any] | None = None) -> Session:
    """A new session with its connection checked out and its transaction begun, so an unreachable server shows now."""
    session = maker()
    try:
        session.connection(execution_options=options)
    except BaseException:
        session.close()
        raise
    return session


def _reachable_through(session: Session) -> None:
    """Check a connection out for `session` (pinging it), then hand it back: the session is left as it was."""
    try:
        session.connection()
    finally:
        session.rollback()


ServerListener = Callable[[bool], None]
"""Hears True when the server answers again after an outage, False when it stops answering."""


class CounterSignal(Protocol):
    """Set while the counter is not writing: a `threading.Event`, or a `multiprocessing` one that a job in another
    process waits on (app/child_process.py)."""

    def is_set(self) -> bool: ...
    def set(self) -> None: ...
    def clear(self) -> None: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class Database:
    """The one handle services get: read sessions, and write units that commit or roll back as a whole."""

    def __init__(
        self,
        url: str | URL,
        *,
        echo: bool = False,
        cache_kib: int | None = None,
        outage_wait_s: float = OUTAGE_WAIT_S,
        counter_idle: CounterSignal | None = None,
    ) -> None:
        """`counter_idle`: in a job's own process, the signal the counter's process sets and clears around its
        writes (`share_counter_signal`), so the job's batches still end as soon as the counter wants the writer."""
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.outage_wait_s = outage_wait_s
        self._listeners: list[ServerListener] = []
        self._counter_idle: CounterSignal = counter_idle if counter_idle is not None else threading.Event()
        if counter_idle is None:
            self._counter_idle.set()
        self._shared_idle: tuple[CounterSignal, ...] = ()
        self._reachable = True
        self._state_lock = threading.Lock()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        else:
            kwargs["pool_pre_ping"] = self.url.get_driver_name() != "psycopg"  # psycopg: `_install_pg_connections`
            kwargs["isolation_level"] = "READ COMMITTED"
            if self.url.get_driver_name() == "psycopg":
                kwargs["poolclass"] = ParkingPool
            kwargs["pool_size"] = PG_POOL_SIZE
            kwargs["max_overflow"] = PG_MAX_OVERFLOW
            kwargs["connect_args"] = _pg_connect_args(self.url)
        self.engine = create_engine(self.url, **kwargs)
        self.counter_engine = self.engine
        if not self.is_sqlite and self.url.get_driver_name() == "psycopg":
            _install_pg_connections(self.engine)
        if self.is_sqlite:
            _install_sqlite_pragmas(self.engine, cache_kib)
            self.counter_engine = create_engine(self.url, pool_size=1, max_overflow=COUNTER_SPARE_CONNECTIONS, **kwargs)
            _install_sqlite_pragmas(self.counter_engine, cache_kib)
        self.memo: dict[str, Any] = {}
        """What app/ keeps of this store between sessions (the settings last read, app/settings.py); every session
        of this Database has it as `session.info["memo"]`."""
        self._plain = threading.local()
        self._plain_opened: list[PlainReads] = []
        self._plain_pid = os.getpid()
        self._plain_path = self.sqlite_path
        info = {"memo": self.memo}
        self._makers = {
            on_counter: (
                sessionmaker(engine, expire_on_commit=False, info=info),
                sessionmaker(
                    engine.execution_options(sqlite_begin="BEGIN IMMEDIATE"), expire_on_commit=False, info=info
                ),
            )
            for on_counter, engine in ((False, self.engine), (True, self.counter_engine))
        }

    @property
    def _reader(self) -> sessionmaker[Session]:
        return self._makers[on_counter_thread()][0]

    @property
    def _writer(self) -> sessionmaker[Session]:
        return self._makers[on_counter_thread()][1]

    @property
    def reads_on_driver(self) -> bool:
        """A server reached through psycopg: the counter's lookup and member panel read on the driver's connection
        (`driver_read`)."""
        return not self.is_sqlite and self.url.get_driver_name() == "psycopg"

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite or not self.url.database or self.url.database == ":memory:":
            return None
        return Path(self.url.database)

    def session(self) -> Session:
        """A session for reading, connected (waiting while the server is unreachable); the caller closes it (use it
        as a context manager)."""
        session = self._reader()
        if not self.is_sqlite:
            self._patiently(lambda: _reachable_through(session))
        return session

    @contextmanager
    def quick_reads(self) -> Iterator[Connection]:
        """A connection for a few short reads that need no ORM (the counter's lookups and member panel), from this
        thread's engine, with no transaction: each statement reads the last commit by itself and nothing is left to
        roll back (SQLite: no BEGIN; PostgreSQL: autocommit, so a statement is one round trip). On a server it is
        reached as patiently as `session()`, but not pinged: use `quick_read`, which tries the reads again whole on
        a lost connection."""
        engine = self.counter_engine if on_counter_thread() else self.engine
        if self.is_sqlite:
            with engine.connect().execution_options(sqlite_begin=None) as connection:
                yield connection
            return
        with _unpinged():
            connection = self._patiently(engine.connect)
        with connection.execution_options(isolation_level="AUTOCOMMIT"):
            yield connection

    def quick_read(self, work: Callable[[Connection], T]) -> T:
        """`work` on `quick_reads`' connection, tried again whole while the server is unreachable."""

        def attempt() -> T:
            with self.quick_reads() as connection:
                return work(connection)

        return self._patiently(attempt)

    def driver_read(self, work: Callable[[DriverReads], T]) -> T:
        """On a server (psycopg): `work` on the DB-API connection of `quick_reads`' pooled connection, through
        `db.driver.DriverReads` (SQLAlchemy's statements, psycopg's cursor and rows), in autocommit, not pinged, and
        tried again whole while the server is unreachable (an error of the driver is raised as SQLAlchemy's, the
        connection dropped from the pool when it was lost). The counter's lookup and member panel: no SQLAlchemy
        connection, execution context or result objects around the driver."""
        from db.driver import DriverReads  # psycopg: imported on a server only

        dialect = self.engine.dialect
        driver_error: Any = dialect.loaded_dbapi.Error
        engine = self.counter_engine if on_counter_thread() else self.engine

        def failed(exc: Any, lost: bool) -> DBAPIError:
            error = DBAPIError.instance(None, None, exc, driver_error, connection_invalidated=lost, dialect=dialect)
            assert isinstance(error, DBAPIError)
            return error

        pool = engine.pool

        def attempt() -> T:
            pooled = pool.take_parked() if isinstance(pool, ParkingPool) else None
            if pooled is None:
                with _unpinged():
                    try:
                        pooled = engine.raw_connection()
                    except driver_error as exc:
                        raise failed(exc, False) from exc
            connection = pooled.driver_connection
            assert connection is not None
            try:
                connection.autocommit = True
                result = work(DriverReads(connection, dialect))
            except driver_error as exc:
                lost = dialect.is_disconnect(exc, pooled.dbapi_connection, None)
                if lost:
                    pooled.invalidate(exc)
                _give_back(pooled)
                raise failed(exc, lost) from exc
            except BaseException:
                _give_back(pooled)
                raise
            if isinstance(pool, ParkingPool):
                pool.park(pooled)  # in autocommit still: the next driver read uses it as it is
            else:
                _give_back(pooled)
            return result

        return self._patiently(attempt)

    @property
    def reachable(self) -> bool:
        """False from a failed attempt to reach the server until the next one that succeeds."""
        return self._reachable

    def add_server_listener(self, listener: ServerListener) -> None:
        """`listener(reachable)` is called, on the thread that noticed, each time the server's state changes."""
        self._listeners.append(listener)

    def _set_reachable(self, reachable: bool) -> None:
        with self._state_lock:
            if reachable == self._reachable:
                return
            self._reachable = reachable
        log.warning("database server %s", "reachable again" if reachable else "unreachable; retrying")
        for listener in list(self._listeners):
            listener(reachable)

    def _patiently(self, work: Callable[[], T]) -> T:
        """`work()`, retried with back-off (0.25 s doubling to 4 s) while the server is unreachable, for up to
        `outage_wait_s`; then the last error is raised. Only for work that is safe to repeat."""
        deadline = time.monotonic() + self.outage_wait_s
        pause = 0.25
        lost = False
        while True:
            try:
                result = work()
            except DBAPIError as exc:
                if not is_server_unreachable(exc):
                    raise
                if exc.connection_invalidated and not lost:
                    lost = True  # a pooled connection the server dropped (say, restarted): at once on a new one
                    continue
                self._set_reachable(False)
                if time.monotonic() + pause > deadline:
                    raise
                log.info("server unreachable (%s); retrying in %.2f s", exc.orig, pause)
                time.sleep(pause)
                pause = min(pause * 2, 4.0)
            else:
                self._set_reachable(True)
                return result

    def _probe(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def ping(self) -> None:
        """Wait (see `_patiently`) until the server answers a trivial query."""
        self._patiently(self._probe)

    def probe(self) -> bool:
        """One quick attempt to reach the server (no waiting); the listeners hear the outcome. True if it answered."""
        try:
            self._probe()
        except DBAPIError as exc:
            if not is_server_unreachable(exc):
                raise
            self._set_reachable(False)
            return False
        self._set_reachable(True)
        return True

    def read(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a read session; retried whole while the server is unreachable (reading is repeatable)."""

        def attempt() -> T:
            with _unpinged(), _begun(self._reader) as session:
                return work(session)

        return self._patiently(attempt)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """One SQL text (`:name` parameters) read as tuples: the checks written once for this and for the plain
        connection the counter starts on (`db.plain.Reads`)."""
        return self.read(lambda session: [tuple(row) for row in session.execute(text(sql), dict(params or {}))])

    def read_snapshot(self, work: Callable[[Session], T]) -> T:
        """`read`, with every statement of `work` seeing the same moment of the store, whatever counters commit
        meanwhile (`db check`: a purchase committed between reading the audit chain and reading the sales must not
        look like an untied row). PostgreSQL: one REPEATABLE READ, READ ONLY transaction. SQLite: one read
        transaction (its first read takes a WAL snapshot that it keeps while others commit)."""

        def attempt() -> T:
            with _begun(self._reader, None if self.is_sqlite else SNAPSHOT_OPTIONS) as session:
                return work(session)

        return self._patiently(attempt)

    @property
    def counter_writing(self) -> bool:
        """The counter's worker wants or holds the writer now (a background job ends its batch and lets it in)."""
        return not self._counter_idle.is_set()

    def wait_for_counter(self, timeout_s: float = 1.0) -> None:
        """Until the counter's write (if any) is done, so a background job does not take the writer back first."""
        self._counter_idle.wait(timeout_s)

    def share_counter_signal(self, signal: CounterSignal) -> Callable[[], None]:
        """From now on `signal` follows the counter's writes too (for a job in another process); returns the
        function that stops that."""
        signal.set()
        self._shared_idle = (*self._shared_idle, signal)

        def stop() -> None:
            self._shared_idle = tuple(s for s in self._shared_idle if s is not signal)

        return stop

    def write(self, work: Callable[[Session], T], *, attempts: int = 5) -> T:
        """Run `work` in one transaction: all of it commits, or none of it. Retried on lock conflicts."""
        if not on_counter_thread():
            return self._write(work, attempts)
        signals = (self._counter_idle, *self._shared_idle)
        for signal in signals:
            signal.clear()
        try:
            return self._write(work, attempts)
        finally:
            for signal in signals:
                signal.set()

    def _write(self, work: Callable[[Session], T], attempts: int) -> T:
        for attempt in range(1, attempts + 1):
            try:
                # Reaching the server and the work up to the commit are retried whole while the server is
                # unreachable: a transaction that never sent its COMMIT left nothing behind. An outage during the
                # commit is raised (the outcome is unknown; the caller's idempotency key makes trying again safe).
                session, result = self._patiently(lambda: self._run_uncommitted(work))
                try:
                    session.commit()
                finally:
                    session.close()  # rolls back whatever did not commit
                return result
            except DBAPIError as exc:
                if is_server_unreachable(exc):
                    self._set_reachable(False)
                if _is_storage_full(exc):
                    where = str(self.sqlite_path or self.url.render_as_string(hide_password=True))
                    raise StorageFull(
                        errno.ENOSPC, "the disk holding the store is full; nothing was written", where
                    ) from exc
                if attempt == attempts or not _is_retryable(exc):
                    raise
                log.warning("write conflict (attempt %d): %s; retrying", attempt, exc.orig)
                time.sleep(0.02 * attempt)
        raise AssertionError("unreachable")

    def _run_uncommitted(self, work: Callable[[Session], T]) -> tuple[Session, T]:
        """A write session begun and `work` run in it, not committed; on failure the session is closed."""
        session = _begun(self._writer)
        try:
            return session, work(session)
        except BaseException:
            session.close()
            raise

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

    def plain_reads(self) -> PlainReads | None:
        """This thread's plain connection to an SQLite file (`db.plain.PlainReads`), for short reads: the counter's
        lookups after the first. Kept open for the thread, read-only, in autocommit (each statement reads the last
        commit by itself): no pool to check a connection out of and back in, no SQLAlchemy connection around it (on
        a machine whose CPU caches went cold between two keys those took ~0.25 ms of a ~0.5 ms phone lookup). None
        on a server, for an in-memory store, and in a process forked from the one that made this Database (a
        connection must not cross a fork); `dispose` closes them all."""
        if self._plain_path is None or self._plain_pid != os.getpid():
            return None
        reads: PlainReads | None = getattr(self._plain, "reads", None)
        if reads is not None:
            return reads
        reads = PlainReads(self._plain_path)
        reads.connection.execute("PRAGMA query_only = ON")
        with self._state_lock:
            self._plain_opened.append(reads)
        self._plain.reads = reads
        return reads

    def dispose(self) -> None:
        with self._state_lock:
            opened, self._plain_opened, self._plain = self._plain_opened, [], threading.local()
        if self._plain_pid == os.getpid():
            for reads in opened:
                reads.close()
        if isinstance(self.engine.pool, ParkingPool):
            self.engine.pool.unpark()
        self.engine.dispose()
        self.counter_engine.dispose()
