"""Building the services for one operator. The GUI and the command line share this; nothing here is global."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.actions.service import ActionService
from app.bootstrap import ensure_store
from app.care.services import CareServices
from app.charts.service import ChartService
from app.clock import Clock, SystemClock
from app.coupons.service import CouponService
from app.dashboard.actions import WorkListActions
from app.dashboard.figures import CloseOfDayService
from app.errors import NotFoundError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.insights.saved import SavedSegmentService
from app.insights.service import SegmentService
from app.keyfile import load_or_create_key, seal_for
from app.loyalty.catalogue import CatalogueService
from app.loyalty.service import LoyaltyService
from app.members.service import MemberService
from app.paths import DataPaths, check_store_folder
from app.security.crypto import FieldCipher
from app.security.operator import Operator
from app.security.sign_in import SignInService
from app.security.staff import StaffService
from app.settings import SettingsService
from app.store_info import StoreInfoService
from app.storelock import StoreLock, this_program
from app.trust.backup import BackupService
from app.trust.privacy import PrivacyService
from app.trust.viewer import AuditService
from db.engine import Database, resolve_url
from db.enums import StaffRole
from db.migrate import upgrade
from db.models import Staff

log = logging.getLogger("memberdesk")


@dataclass
class Store:
    """An opened store: data folder, database (migrated), key. Services are made from it per operator."""

    paths: DataPaths
    db: Database
    cipher: FieldCipher
    clock: Clock
    lock: StoreLock | None = None
    """Held while the store is open: no second program writes the same SQLite file."""

    @classmethod
    def open(
        cls, data_dir: Path, database: str | None = None, clock: Clock | None = None, migrate: bool = True
    ) -> Store:
        url = resolve_url(data_dir, database)
        db = Database(url)
        store_file = db.sqlite_path
        if store_file is not None:
            check_store_folder(str(store_file.parent))
        paths = DataPaths(data_dir).ensure()
        lock = StoreLock.acquire(store_file, this_program()) if store_file is not None else None
        try:
            db.ping()  # a chain's server restarting or out of connections: wait and retry rather than fail at once
            if migrate:
                upgrade(db, paths.backups)
                ensure_store(db)
            cipher = FieldCipher(load_or_create_key(paths.key_file, seal_for(paths.root)))
        except BaseException:
            db.dispose()
            if lock is not None:
                lock.release()
            raise
        return cls(paths, db, cipher, clock or SystemClock(), lock)

    @property
    def on_server(self) -> bool:
        """A chain's shared PostgreSQL server rather than this PC's own SQLite file."""
        return not self.db.is_sqlite

    def watch_server(self, listener: Callable[[bool], None]) -> None:
        """`listener(reachable)` hears each change of the server's state, on the thread that noticed it."""
        self.db.add_server_listener(listener)

    def probe_server(self) -> bool:
        """One quick attempt to reach the server; True if it answered (the watchers hear the outcome too)."""
        return self.db.probe()

    def operator(self, username: str | None = None) -> Operator:
        """The operator for `username`, or the store's first cashier (else its first manager, else owner)."""

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
        return SignInService(self.db, self.clock)

    def sign_in(self, username: str, pin: str) -> Operator:
        return self.sign_ins().sign_in(username, pin).operator

    def services(self, operator: Operator) -> Services:
        coupons = CouponService(self.db, operator, self.clock)
        return Services(
            store=self,
            operator=operator,
            settings=SettingsService(self.db, operator),
            members=MemberService(self.db, operator, self.clock, self.cipher),
            loyalty=LoyaltyService(self.db, operator, self.clock),
            catalogue=CatalogueService(self.db, operator),
            staff=StaffService(self.db, operator),
            info=StoreInfoService(self.db, operator),
            audit=AuditService(self.db, operator),
            backups=BackupService(self.db, operator, self.clock, self.paths),
            privacy=PrivacyService(self.db, operator, self.clock, self.cipher),
            care=CareServices.build(self.db, operator, self.clock),
            coupons=coupons,
            segments=SegmentService(self.db, operator, self.clock),
            saved_segments=SavedSegmentService(self.db, operator),
            close_of_day=CloseOfDayService(self.db, operator, self.clock),
            work_lists=WorkListActions(self.db, operator, self.clock),
            actions=ActionService(self.db, operator, self.clock, coupons),
            charts=ChartService(self.db, operator, self.clock),
        )

    def check(self) -> list[str]:
        """`db check`'s findings (empty when the store is sound), for the self-test."""
        from app.integrity import check_database

        return [str(problem) for problem in check_database(self.db)]

    def close(self) -> None:
        self.db.dispose()
        if self.lock is not None:
            self.lock.release()
            self.lock = None


@dataclass
class Services:
    store: Store
    operator: Operator
    settings: SettingsService
    members: MemberService
    loyalty: LoyaltyService
    catalogue: CatalogueService
    staff: StaffService
    info: StoreInfoService
    audit: AuditService
    backups: BackupService
    privacy: PrivacyService
    care: CareServices
    coupons: CouponService
    segments: SegmentService
    saved_segments: SavedSegmentService
    close_of_day: CloseOfDayService
    work_lists: WorkListActions
    actions: ActionService
    charts: ChartService
