"""Building the services for one operator. The GUI and the command line share this; nothing here is global.

Each service is made, and its module imported, when it is first used (`Services`): the counter's first lookup loads
the member lookup and the sign-in, not charts, segments, coupons or backups (docs/ARCHITECTURE.md §7, launch → first
lookup ≤ 0.8 s)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from app.bootstrap import base_rows_missing, ensure_store
from app.clock import Clock, SystemClock
from app.errors import NotFoundError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.keyfile import load_or_create_key, seal_for
from app.paths import DataPaths, check_store_folder
from app.security.crypto import FieldCipher
from app.security.operator import Operator
from app.security.sign_in import SessionWork, SignInService
from app.storelock import StoreLock, this_program
from db.plain import PlainReads, local_store_file

if TYPE_CHECKING:
    from app.actions.service import ActionService
    from app.care.services import CareServices
    from app.charts.service import ChartService
    from app.coupons.service import CouponService
    from app.dashboard.actions import WorkListActions
    from app.dashboard.figures import CloseOfDayService
    from app.insights.saved import SavedSegmentService
    from app.insights.service import SegmentService
    from app.loyalty.catalogue import CatalogueService
    from app.loyalty.service import LoyaltyService
    from app.members.hits import LookupResult
    from app.members.service import MemberService
    from app.security.staff import StaffService
    from app.settings import SettingsService
    from app.store_info import StoreInfoService
    from app.trust.backup import BackupService
    from app.trust.privacy import PrivacyService
    from app.trust.viewer import AuditService
    from db.engine import Database

log = logging.getLogger("memberdesk")


class Store:
    """An opened store: data folder, database (migrated), key. Services are made from it per operator.

    On this PC's own SQLite file, already at the migrations' head and with its base rows, the store opens on a plain
    connection (`plain`) and SQLAlchemy's `Database` is made when something first needs it (`db`), usually once the
    counter's first lookup is on screen (docs/ARCHITECTURE.md §7). What a sign-in writes meanwhile waits for it."""

    def __init__(
        self,
        paths: DataPaths,
        db: Database | None,
        cipher: FieldCipher,
        clock: Clock,
        lock: StoreLock | None = None,
        *,
        plain: PlainReads | None = None,
        url: str | None = None,
    ) -> None:
        self.paths = paths
        self._db = db
        self.cipher = cipher
        self.clock = clock
        self.lock = lock
        """Held while the store is open: no second program writes the same SQLite file."""
        self.plain = plain
        """The plain connection the counter starts on, until the database is made (SQLite only)."""
        self._url = url
        self._later: list[SessionWork] = []
        self._making = threading.Lock()

    @classmethod
    def open(
        cls, data_dir: Path, database: str | None = None, clock: Clock | None = None, migrate: bool = True
    ) -> Store:
        plain_file = local_store_file(data_dir, database) if migrate else None
        db = None if plain_file is not None else _database(data_dir, database)
        store_file = plain_file if db is None else db.sqlite_path
        if store_file is not None:
            check_store_folder(str(store_file.parent))
        paths = DataPaths(data_dir).ensure()
        lock = StoreLock.acquire(store_file, this_program()) if store_file is not None else None
        plain: PlainReads | None = None
        try:
            if plain_file is not None:
                plain = PlainReads(plain_file)
                if not plain.at_head() or base_rows_missing(plain):  # to migrate or to fill: SQLAlchemy's work
                    plain.close()
                    plain = None
                    db = _database(data_dir, database)
            if db is not None:
                db.ping()  # a chain's server restarting or out of connections: wait and retry rather than fail at once
                if migrate:
                    from db.migrate import upgrade

                    upgrade(db, paths.backups)
                    ensure_store(db)
            cipher = FieldCipher(load_or_create_key(paths.key_file, seal_for(paths.root)))
        except BaseException:
            if plain is not None:
                plain.close()
            if db is not None:
                db.dispose()
            if lock is not None:
                lock.release()
            raise
        return cls(paths, db, cipher, clock or SystemClock(), lock, plain=plain, url=database)

    @property
    def db(self) -> Database:
        """The database, made (and SQLAlchemy loaded) the first time it is asked for; what the sign-in left to write
        is written then, before anything else."""
        with self._making:
            if self._db is None:
                self._db = _database(self.paths.root, self._url)
            later, self._later = self._later, []
            for work in later:
                self._db.write(work)
            return self._db

    @property
    def loaded(self) -> bool:
        """The database is made: the services' modules may be used without loading SQLAlchemy on this thread."""
        return self._db is not None

    def _record(self, work: SessionWork) -> None:
        """A sign-in's record: kept until the database is made when the store started on the plain connection."""
        with self._making:
            if self._db is None:
                self._later.append(work)
                return
        self.db.write(work)

    @property
    def on_server(self) -> bool:
        """A chain's shared PostgreSQL server rather than this PC's own SQLite file."""
        return self.plain is None and not self.db.is_sqlite

    def watch_server(self, listener: Callable[[bool], None]) -> None:
        """`listener(reachable)` hears each change of the server's state, on the thread that noticed it."""
        self.db.add_server_listener(listener)

    def probe_server(self) -> bool:
        """One quick attempt to reach the server; True if it answered (the watchers hear the outcome too)."""
        return self.db.probe()

    def operator(self, username: str | None = None) -> Operator:
        """The operator for `username`, or the store's first cashier (else its first manager, else owner)."""
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from db.enums import StaffRole
        from db.models import Staff

        def find(session: Session) -> Staff | None:
            query = select(Staff).where(Staff.active.is_(True))
            if username:
                return session.scalar(query.where(Staff.username == username))
            for role in (StaffRole.CASHIER, StaffRole.MANAGER, StaffRole.OWNER):
                staff = session.scalar(query.where(Staff.role == role).order_by(Staff.id).limit(1))
                if staff is not None:
                    return staff
            return None

        staff = self.db.read(find)
        if staff is None:
            raise NotFoundError(S("Errors", "No such staff account: {name}"), name=username or "")
        return Operator(staff.id, staff.branch_id, staff.role, staff.display_name)

    def sign_ins(self) -> SignInService:
        """Before the database is made the sign-in reads on the plain connection and keeps its record for later."""
        plain = self.plain
        if plain is not None and not self.loaded:
            return SignInService(lambda: self.db, self.clock, plain, self._record)
        return SignInService(self.db, self.clock)

    def sign_in(self, username: str, pin: str) -> Operator:
        return self.sign_ins().sign_in(username, pin).operator

    def services(self, operator: Operator) -> Services:
        return Services(self, operator)

    def plan_counter_reads(self) -> None:
        """On a chain's server, the counter's lookup and member panel made ready on its connection before the first
        customer (`app.members.service.plan_counter_reads`); nothing on SQLite."""
        if not self.on_server:
            return
        from app.members.service import plan_counter_reads

        plan_counter_reads(self.db, self.clock)

    def check(self) -> list[str]:
        """`db check`'s findings (empty when the store is sound), for the self-test."""
        from app.integrity import check_database

        return [str(problem) for problem in check_database(self.db)]

    def close(self) -> None:
        if self._db is not None or self._later:
            self.db.dispose()
        if self.plain is not None:
            self.plain.close()
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def _database(data_dir: Path, database: str | None) -> Database:
    from db.engine import Database, resolve_url

    return Database(resolve_url(data_dir, database))


class Services:
    """Every service, as `operator`. Each is made on first use, on whichever thread asks (a worker, usually), and
    its module imported then."""

    def __init__(self, store: Store, operator: Operator) -> None:
        self.store = store
        self.operator = operator

    def prepare(self) -> None:
        """Make every service now, on this thread: the GUI asks a worker once the counter's first answer is on
        screen, so no screen opened later imports a service's modules on the GUI thread."""
        for name, member in vars(Services).items():
            if isinstance(member, cached_property):
                getattr(self, name)

    def lookup(self, query: str) -> LookupResult:
        """The counter's lookup: on the plain connection the store started on until the member service is made
        (`prepare`, once the first answer is on screen), then through it; the same plan, statements and hits."""
        plain = self.store.plain
        if plain is not None and "members" not in self.__dict__:
            from app.members.first_lookup import first_lookup

            return first_lookup(plain, query, self.operator.sees_full_phone)
        return self.members.lookup(query)

    @cached_property
    def settings(self) -> SettingsService:
        from app.settings import SettingsService

        return SettingsService(self.store.db, self.operator)

    @cached_property
    def members(self) -> MemberService:
        from app.members.service import MemberService

        return MemberService(self.store.db, self.operator, self.store.clock, self.store.cipher)

    @cached_property
    def loyalty(self) -> LoyaltyService:
        from app.loyalty.service import LoyaltyService

        return LoyaltyService(self.store.db, self.operator, self.store.clock)

    @cached_property
    def catalogue(self) -> CatalogueService:
        from app.loyalty.catalogue import CatalogueService

        return CatalogueService(self.store.db, self.operator)

    @cached_property
    def staff(self) -> StaffService:
        from app.security.staff import StaffService

        return StaffService(self.store.db, self.operator)

    @cached_property
    def info(self) -> StoreInfoService:
        from app.store_info import StoreInfoService

        return StoreInfoService(self.store.db, self.operator)

    @cached_property
    def audit(self) -> AuditService:
        from app.trust.viewer import AuditService

        return AuditService(self.store.db, self.operator)

    @cached_property
    def backups(self) -> BackupService:
        from app.trust.backup import BackupService

        return BackupService(self.store.db, self.operator, self.store.clock, self.store.paths)

    @cached_property
    def privacy(self) -> PrivacyService:
        from app.trust.privacy import PrivacyService

        return PrivacyService(self.store.db, self.operator, self.store.clock, self.store.cipher)

    @cached_property
    def care(self) -> CareServices:
        from app.care.services import CareServices

        return CareServices.build(self.store.db, self.operator, self.store.clock)

    @cached_property
    def coupons(self) -> CouponService:
        from app.coupons.service import CouponService

        return CouponService(self.store.db, self.operator, self.store.clock)

    @cached_property
    def segments(self) -> SegmentService:
        from app.insights.service import SegmentService

        return SegmentService(self.store.db, self.operator, self.store.clock)

    @cached_property
    def saved_segments(self) -> SavedSegmentService:
        from app.insights.saved import SavedSegmentService

        return SavedSegmentService(self.store.db, self.operator)

    @cached_property
    def close_of_day(self) -> CloseOfDayService:
        from app.dashboard.figures import CloseOfDayService

        return CloseOfDayService(self.store.db, self.operator, self.store.clock)

    @cached_property
    def work_lists(self) -> WorkListActions:
        from app.dashboard.actions import WorkListActions

        return WorkListActions(self.store.db, self.operator, self.store.clock)

    @cached_property
    def actions(self) -> ActionService:
        from app.actions.service import ActionService

        return ActionService(self.store.db, self.operator, self.store.clock, self.coupons)

    @cached_property
    def charts(self) -> ChartService:
        from app.charts.service import ChartService

        return ChartService(self.store.db, self.operator, self.store.clock)
