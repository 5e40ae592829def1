"""Making a member card or a receipt slip: the figures gathered and the PDF written on the worker (ReportLab is
imported there, the first time something is printed), then the preview opened on the GUI thread.

The PDFs are scratch files in the data folder's `printouts/`: written where the program may always write, removed
when their preview closes; what a crash left behind is cleared the next time something is printed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from ui.i18n import local_name
from ui.printing.preview import Printout, PrintPreviewDialog
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.members.profile import MemberProfile
    from ui.printing.slips import SlipContent

FOLDER = "printouts"
LEFTOVER_SECONDS = 24 * 60 * 60


def _scratch_pdf(data_root: Path, kind: str, write: Callable[[Path], None]) -> Path:
    """A new PDF written by `write`; a half-written one is removed before the error goes on."""
    folder = data_root / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stale = time.time() - LEFTOVER_SECONDS
    for old in folder.glob("*.pdf"):
        if old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)
    path = folder / f"{kind}-{uuid.uuid4().hex}.pdf"
    try:
        write(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _preview(tasks: TaskRunner, parent: QWidget | None, title: str, roll_paper: bool) -> Callable[[Path], None]:
    def show(path: Path) -> None:
        PrintPreviewDialog(tasks, Printout(path, title, roll_paper), parent).open()

    return show


def print_member_card(tasks: TaskRunner, services: Services, member: MemberProfile, parent: QWidget | None) -> None:
    """Refusals (a name too long for the card, a card number that cannot be a barcode) come back as messages."""
    card_no = member.card_no
    if not card_no:
        return
    tier = local_name(member.tier_name, member.tier_name_en)
    title = QCoreApplication.translate("Printouts", "Member card {name}").format(name=member.name)

    def write() -> Path:
        from app.printing.card import MemberCardData, write_member_card

        data = MemberCardData(services.settings.current().store_name, member.name, card_no, tier)
        return _scratch_pdf(services.store.paths.root, "card", lambda path: write_member_card(data, path))

    tasks.run(write, _preview(tasks, parent, title, roll_paper=False))


def print_slip(tasks: TaskRunner, services: Services, slip: SlipContent, width_mm: int, parent: QWidget | None) -> None:
    def write() -> Path:
        from app.members.queries import branch_name
        from app.printing.slip import SlipData, write_slip

        data = SlipData(
            store_name=services.settings.current().store_name,
            branch_name=branch_name(services.store.db, services.operator.branch_id),
            title=slip.title,
            lines=list(slip.lines),
            member_name=slip.member_name,
            masked_phone=slip.masked_phone,
            points_balance=slip.points_balance,
            printed_at=services.store.clock.now(),
        )
        return _scratch_pdf(services.store.paths.root, "slip", lambda path: write_slip(data, path, width_mm))

    tasks.run(write, _preview(tasks, parent, slip.title, roll_paper=True))
