"""Building the services for one operator. The GUI and the command line share this; nothing here is global."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import ensure_store
from app.care.services import CareServices
from app.clock import Clock, SystemClock
from app.errors import NotFoundError, PermissionDenied
from app.i18n import QT_TRANSLATE_NOOP as S
from app.insights.saved import SavedSegmentService
from app.insights.service import SegmentService
from app.loyalty.catalogue import CatalogueService
from app.loyalty.service import LoyaltyService
from app.members.service import MemberService
from app.paths import DataPaths
from app.security.crypto import FieldCipher
from app.security.operator import Operator
from app.security.pins import verify_pin
from app.security.staff import StaffService
from app.settings import SettingsService
from app.trust.audit import record_audit
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

    @classmethod
    def open(
        cls, data_dir: Path, database: str | None = None, clock: Clock | None = None, migrate: bool = True
    ) -> Store:
        paths = DataPaths(data_dir).ensure()
        db = Database(resolve_url(paths.root, database))
        db.ping()  # a chain's server restarting or out of connections: wait and retry rather than fail at once
        if migrate:
            upgrade(db, paths.backups)
            ensure_store(db)
        return cls(paths, db, FieldCipher.from_key_file(paths.key_file), clock or SystemClock())

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

    def sign_in(self, username: str, pin: str) -> Operator:
        operator = self.operator(username)
        stored = self.db.read(lambda s: s.scalar(select(Staff.pin_hash).where(Staff.id == operator.staff_id)))
        if not verify_pin(pin, stored):
            raise PermissionDenied(S("Errors", "Wrong PIN."))
        self.db.write(lambda session: record_audit(session, operator, "sign_in", "staff", operator.staff_id))
        return operator

    def services(self, operator: Operator) -> Services:
        return Services(
            store=self,
            operator=operator,
            settings=SettingsService(self.db, operator),
            members=MemberService(self.db, operator, self.clock, self.cipher),
            loyalty=LoyaltyService(self.db, operator, self.clock),
            catalogue=CatalogueService(self.db, operator),
            staff=StaffService(self.db, operator),
            audit=AuditService(self.db, operator),
            backups=BackupService(self.db, operator, self.clock, self.paths),
            privacy=PrivacyService(self.db, operator, self.clock, self.cipher),
            care=CareServices.build(self.db, operator, self.clock),
            segments=SegmentService(self.db, operator, self.clock),
            saved_segments=SavedSegmentService(self.db, operator),
        )

    def close(self) -> None:
        self.db.dispose()


@dataclass
class Services:
    store: Store
    operator: Operator
    settings: SettingsService
    members: MemberService
    loyalty: LoyaltyService
    catalogue: CatalogueService
    staff: StaffService
    audit: AuditService
    backups: BackupService
    privacy: PrivacyService
    care: CareServices
    segments: SegmentService
    saved_segments: SavedSegmentService
