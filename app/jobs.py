"""The heavy lane's jobs, each in a process of its own (app/child_process.py), so the counter's interpreter is never
shared with them: the day's maintenance (points expiry and tier reviews, coupon maintenance, the daily backup, the
segment refresh), member imports, big PDFs (a campaign's coupons, numbered survey forms) and exports (contact lists,
a campaign's coupons and figures, the expiring-points list, a screen's table) started from the GUI.

Each job runs the very service method this process would run, on a `Database` of its own on the same store, in the
same transactions (no second path that writes points); its result comes back as the same plain value, with the
`changes` the task runner announces. Progress crosses back to the caller, whose answer False cancels at the job's
own stopping points. The jobs are module-level functions of plain arguments, so they also cross to a spawned
process (Windows). Nothing heavy is imported here: each job imports its service when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from app.child_process import Progress, run_job
from app.clock import Clock
from app.paths import DataPaths
from app.security.operator import Operator
from db.engine import Database

if TYPE_CHECKING:
    from app.actions.member_sets import MemberSet
    from app.actions.service import ContactList
    from app.care.surveys import FormBatch
    from app.context import Services
    from app.coupons.automatic import CouponMaintenance
    from app.coupons.service import PrintJob
    from app.dashboard.actions import WorkDone
    from app.importing.report import ImportReport
    from app.insights.refresh import SegmentReport
    from app.loyalty.results import MaintenanceResult
    from app.trust.backup import BackupFile

R = TypeVar("R")
ServicesJob = Callable[["Services", Progress], R]
"""A job that needs the operator's services: a module-level function (or a `partial` of one), so it crosses to a
spawned process."""

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
        return self._as(partial(_import_members, path, all_or_nothing), progress, "member-import")

    def coupon_pdf(
        self,
        campaign_id: int,
        layout: str,
        *,
        only_unprinted: bool = False,
        coupon_ids: Sequence[int] = (),
        progress: Progress = _unheard,
    ) -> tuple[Path, PrintJob]:
        """A campaign's coupons to a scratch PDF (`CouponService.print_job`, `write_print_job`)."""
        job = partial(_coupon_pdf, campaign_id, layout, only_unprinted, tuple(coupon_ids))
        return self._as(job, progress, "coupon-pdf")

    def survey_forms(
        self, code: str, count: int, member_no: str | None, progress: Progress = _unheard
    ) -> tuple[Path, FormBatch]:
        """Numbered survey forms and their scratch PDF, in one transaction (`SurveyService.print_forms`)."""
        return self._as(partial(_survey_forms, code, count, member_no), progress, "survey-forms")

    def export_contacts(self, members: MemberSet, path: Path, progress: Progress = _unheard) -> ContactList:
        """A set's contact list (`ActionService.export_contacts`), audited."""
        return self._as(partial(_export_contacts, members, path), progress, "contact-export")

    def export_coupons(self, campaign_id: int, path: Path, progress: Progress = _unheard) -> int:
        """A campaign's coupons (`CouponService.export`), audited."""
        return self._as(partial(_export_coupons, campaign_id, path), progress, "coupon-export")

    def export_campaign_figures(self, path: Path, progress: Progress = _unheard) -> int:
        """Every campaign's figures (`CouponService.export_figures`), audited."""
        return self._as(partial(_export_campaign_figures, path), progress, "figures-export")

    def export_expiring_points(self, path: Path, progress: Progress = _unheard) -> WorkDone:
        """The expiring-points work list (`WorkListActions.export_expiring_points`), audited."""
        return self._as(partial(_export_expiring_points, path), progress, "expiring-export")

    def export_table(
        self,
        path: Path,
        entity: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[object]],
        progress: Progress = _unheard,
    ) -> int:
        """A table a screen shows (`TableExportService.save`), audited as `entity`."""
        job = partial(_export_table, path, entity, tuple(columns), [tuple(row) for row in rows])
        return self._as(job, progress, "table-export")

    def _as(self, job: ServicesJob[R], progress: Progress, name: str) -> R:
        """`job(services, progress)` with this operator's services on the job's own `Database`."""
        return self._run(partial(_with_services, self.operator, self.clock, self.paths, job), progress, name)

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


def _with_services(
    operator: Operator, clock: Clock, paths: DataPaths, job: ServicesJob[R], db: Database, progress: Progress
) -> R:
    from app.context import Services, Store
    from app.keyfile import load_or_create_key, seal_for
    from app.security.crypto import FieldCipher

    cipher = FieldCipher(load_or_create_key(paths.key_file, seal_for(paths.root)))
    return job(Services(Store(paths, db, cipher, clock), operator), progress)


def _import_members(path: Path, all_or_nothing: bool, services: Services, progress: Progress) -> ImportReport:
    from app.importing.members import MemberImporter

    store = services.store
    importer = MemberImporter(store.db, services.operator, store.clock, store.cipher)
    return importer.run(path, all_or_nothing=all_or_nothing, progress=progress)


def _coupon_pdf(
    campaign_id: int,
    layout: str,
    only_unprinted: bool,
    coupon_ids: tuple[int, ...],
    services: Services,
    progress: Progress,
) -> tuple[Path, PrintJob]:
    from app.printing.coupon import write_print_job
    from app.printing.scratch import scratch_pdf

    job = services.coupons.print_job(campaign_id, only_unprinted=only_unprinted, coupon_ids=coupon_ids)
    path = scratch_pdf(
        services.store.paths.root, "coupons", partial(write_print_job, job, layout=layout, progress=progress)
    )
    return path, job


def _survey_forms(
    code: str, count: int, member_no: str | None, services: Services, _progress: Progress
) -> tuple[Path, FormBatch]:
    from app.printing.scratch import scratch_pdf
    from app.printing.survey_form import write_survey_forms

    made: list[FormBatch] = []

    def write(path: Path) -> None:
        made.append(services.care.surveys.print_forms(code, count, member_no, partial(write_survey_forms, path=path)))

    return scratch_pdf(services.store.paths.root, "survey", write), made[0]


def _export_contacts(members: MemberSet, path: Path, services: Services, progress: Progress) -> ContactList:
    return services.actions.export_contacts(members, path, progress)


def _export_coupons(campaign_id: int, path: Path, services: Services, _progress: Progress) -> int:
    return services.coupons.export(campaign_id, path)


def _export_campaign_figures(path: Path, services: Services, _progress: Progress) -> int:
    return services.coupons.export_figures(path)


def _export_expiring_points(path: Path, services: Services, _progress: Progress) -> WorkDone:
    return services.work_lists.export_expiring_points(path)


def _export_table(
    path: Path,
    entity: str,
    columns: tuple[str, ...],
    rows: list[tuple[object, ...]],
    services: Services,
    _progress: Progress,
) -> int:
    return services.care.exports.save(path, entity, (columns, rows))
