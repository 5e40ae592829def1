"""Printing a campaign's coupons: the PDF is written in a process of its own (app/jobs.py; progress and Stop in the
status bar), shown in the print preview, and the coupons are
counted printed once it went to a printer or was saved (a reprint counts again). Each layout remembers the printer it
last went to on this PC: A4 sheets to the laser, single coupons to the receipt printer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo
from PySide6.QtWidgets import QWidget

from app.changes import Changes
from ui.jobs import Progress, jobs_for
from ui.local_settings import LocalSetting, LocalSettings
from ui.printing.preview import Printout, PrintPreviewDialog
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.coupons.service import PrintJob

ROLL_LAYOUTS = ("80mm", "58mm")


def printer_setting(layout: str) -> LocalSetting[str]:
    return LocalSetting(f"printing/coupon_printer_{layout}", "")


class CouponPreviewDialog(PrintPreviewDialog):
    def __init__(
        self,
        tasks: TaskRunner,
        services: Services,
        local: LocalSettings | None,
        printout: Printout,
        layout: str,
        coupon_ids: Sequence[int],
        parent: QWidget | None,
    ) -> None:
        super().__init__(tasks, printout, parent)
        self.setObjectName("couponPreview")
        self.services = services
        self.local = local
        self.layout_name = layout
        self.coupon_ids = tuple(coupon_ids)

    def new_printer(self) -> QPrinter:
        printer = super().new_printer()
        remembered = self.local.get(printer_setting(self.layout_name)) if self.local else ""
        if remembered and remembered in QPrinterInfo.availablePrinterNames():
            printer.setPrinterName(remembered)
            if self.printout.roll_paper:  # that printer's own default paper came with it
                printer.setPageLayout(super().new_printer().pageLayout())
        return printer

    def print_to(self, printer: QPrinter) -> None:
        if self.local is not None and printer.outputFormat() == QPrinter.OutputFormat.NativeFormat:
            self.local.set(printer_setting(self.layout_name), printer.printerName())
        super().print_to(printer)

    def _done(self, text: str) -> None:
        super()._done(text)
        if text:  # printed or saved: each time counts (a reprint too), under a key of its own
            coupons, ids, key = self.services.coupons, self.coupon_ids, str(uuid.uuid4())
            self.tasks.run(lambda: coupons.mark_printed(ids, key), changes=Changes.COUPONS)


def print_coupons(
    tasks: TaskRunner,
    services: Services,
    local: LocalSettings | None,
    campaign_id: int,
    layout: str,
    only_unprinted: bool,
    parent: QWidget | None,
    coupon_ids: Sequence[int] = (),
) -> None:
    """Write the PDF in a job's process, then open its preview; a refusal (nothing to print) comes back as a
    message."""
    jobs = jobs_for(services)

    def write(progress: Progress) -> tuple[Path, PrintJob]:
        return jobs().coupon_pdf(
            campaign_id, layout, only_unprinted=only_unprinted, coupon_ids=coupon_ids, progress=progress
        )

    def show(written: tuple[Path, PrintJob]) -> None:
        path, job = written
        title = QCoreApplication.translate("Coupons", "Coupons {campaign}").format(campaign=job.campaign_name)
        printout = Printout(path, title, roll_paper=layout in ROLL_LAYOUTS)
        ids = [coupon.id for coupon in job.coupons]
        CouponPreviewDialog(tasks, services, local, printout, layout, ids, parent).open()

    tasks.run_job(QCoreApplication.translate("Coupons", "Printing coupons"), write, show)
