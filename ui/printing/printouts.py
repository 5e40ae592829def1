"""Making a member card or a receipt slip: the figures gathered and the PDF written on the worker (ReportLab is
imported there, the first time something is printed), then the preview opened on the GUI thread.

The PDFs are scratch files in the data folder's `printouts/` (app/printing/scratch.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from app.clock import to_store_time
from app.printing.scratch import scratch_pdf
from ui import formatting as fmt
from ui.i18n import local_name
from ui.printing.preview import Printout, PrintPreviewDialog
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.members.profile import MemberProfile
    from ui.printing.slips import SlipContent


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
        return scratch_pdf(services.store.paths.root, "card", lambda path: write_member_card(data, path))

    tasks.run(write, _preview(tasks, parent, title, roll_paper=False))


def print_slip(tasks: TaskRunner, services: Services, slip: SlipContent, width_mm: int, parent: QWidget | None) -> None:
    def write() -> Path:
        from app.printing.slip import SlipData, write_slip

        data = SlipData(
            store_name=services.settings.current().store_name,
            branch_name=services.info.branch_name(),
            title=slip.title,
            lines=list(slip.lines),
            member_name=slip.member_name,
            masked_phone=slip.masked_phone,
            points_balance=slip.points_balance,
            printed_at=to_store_time(services.store.clock.now(), fmt.shown_zone()),
        )
        return scratch_pdf(services.store.paths.root, "slip", lambda path: write_slip(data, path, width_mm))

    tasks.run(write, _preview(tasks, parent, slip.title, roll_paper=True))
