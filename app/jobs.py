"""The heavy lane's jobs, each in a process of its own (app/child_process.py), so the counter's interpreter is never
shared with them: the day's maintenance (points expiry and tier reviews, coupon maintenance, the daily backup, the
segment refresh) and member imports started from the GUI.

Each job runs the very service method this process would run, on a `Database` of its own on the same store, in the
same transactions (no second path that writes points); its result comes back as the same plain value, with the
`changes` the task runner announces. Progress crosses back to the caller, whose answer False cancels at the job's
own stopping points. The jobs are module-level functions of plain arguments, so they also cross to a spawned
process (Windows). Nothing heavy is imported here: each job imports its service when it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from app.child_process import Progress, run_job
from app.clock import Clock
from app.paths import DataPaths
from app.security.operator import Operator
from db.engine import Database

if TYPE_CHECKING:
    from app.context import Services
    from app.coupons.automatic import CouponMaintenance
    from app.importing.report import ImportReport
    from app.insights.refresh import SegmentReport
    from app.loyalty.results import MaintenanceResult
    from app.trust.backup import BackupFile

R = TypeVar("R")

GREETINGS_FOLDER = "greetings"
"""Where the automatic holiday campaigns leave their greeting lists, in the data folder."""


def _unheard(_done: int, _total: int, _what: str) -> bool:
    return True


class BackgroundJobs:
    def __init__(
        self,
        db: Database,
        operator: Operator,
        clock: Clock,
        paths: DataPaths,
        *,
        prepare: Callable[[], None] | None = None,
        method: str | None = None,
    ) -> None:
        """`prepare`: what a job's process calls first (a module-level function: the GUI passes the one that sets
        the language, so rows refused by an import are explained in it even in a spawned process); `method`: the
        multiprocessing start method (default: fork on Linux, spawn elsewhere)."""
        self.db = db
        self.operator = operator
        self.clock = clock
        self.paths = paths
        self.prepare = prepare
        self.method = method

    @classmethod
    def of(cls, services: Services, prepare: Callable[[], None] | None = None) -> BackgroundJobs:
        store = services.store
        return cls(store.db, services.operator, store.clock, store.paths, prepare=prepare)

    def maintenance(self, progress: Progress = _unheard) -> MaintenanceResult:
        """Points expiry and tier reviews (`LoyaltyService.daily_maintenance`)."""
        return self._run(partial(_maintenance, self.operator, self.clock), progress, "maintenance")

    def coupon_maintenance(self, progress: Progress = _unheard) -> CouponMaintenance:
        """Coupon expiry and the automatic campaigns (`app.coupons.automatic.run_daily`)."""
        greetings = self.paths.root / GREETINGS_FOLDER
        return self._run(partial(_coupon_maintenance, self.operator, self.clock, greetings), progress, "coupons")

    def auto_backup(self, progress: Progress = _unheard) -> BackupFile | None:
        """Today's automatic backup and the rotation (`BackupService.auto_backup`)."""
        return self._run(partial(_auto_backup, self.operator, self.clock, self.paths), progress, "backup")

    def segments_if_due(self, progress: Progress = _unheard) -> SegmentReport | None:
        """The daily segment refresh (`SegmentService.refresh_if_due`)."""
        return self._run(partial(_segments_if_due, self.operator, self.clock), progress, "segments")

    def import_members(
        self, path: Path, *, all_or_nothing: bool = False, progress: Progress = _unheard
    ) -> ImportReport:
        """A member file (`MemberImporter.run`): read, judged and written by the job's process."""
        job = partial(_import_members, self.operator, self.clock, self.paths, path, all_or_nothing)
        return self._run(job, progress, "member-import")

    def _run(self, job: Callable[[Database, Progress], R], progress: Progress, name: str) -> R:
        if self.prepare is not None:
            job = partial(_prepared, self.prepare, job)
        return run_job(self.db, job, progress, name, method=self.method)


def _prepared(
    prepare: Callable[[], None], job: Callable[[Database, Progress], R], db: Database, progress: Progress
) -> R:
    prepare()
    return job(db, progress)


def _maintenance(operator: Operator, clock: Clock, db: Database, progress: Progress) -> MaintenanceResult:
    from app.loyalty.service import LoyaltyService

    return LoyaltyService(db, operator, clock).daily_maintenance(progress)


def _coupon_maintenance(
    operator: Operator, clock: Clock, greetings: Path, db: Database, _progress: Progress
) -> CouponMaintenance:
    from app.coupons.automatic import run_daily
    from app.coupons.service import CouponService

    return run_daily(CouponService(db, operator, clock), greetings)


def _auto_backup(
    operator: Operator, clock: Clock, paths: DataPaths, db: Database, _progress: Progress
) -> BackupFile | None:
    from app.trust.backup import BackupService

    return BackupService(db, operator, clock, paths).auto_backup()


def _segments_if_due(operator: Operator, clock: Clock, db: Database, _progress: Progress) -> SegmentReport | None:
    from app.insights.service import SegmentService

    return SegmentService(db, operator, clock).refresh_if_due()


def _import_members(
    operator: Operator,
    clock: Clock,
    paths: DataPaths,
    path: Path,
    all_or_nothing: bool,
    db: Database,
    progress: Progress,
) -> ImportReport:
    from app.importing.members import MemberImporter
    from app.keyfile import load_or_create_key, seal_for
    from app.security.crypto import FieldCipher

    cipher = FieldCipher(load_or_create_key(paths.key_file, seal_for(paths.root)))
    return MemberImporter(db, operator, clock, cipher).run(path, all_or_nothing=all_or_nothing, progress=progress)
