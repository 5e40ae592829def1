"""Redeem a gift (F5) from the catalogue: points price and stock shown; the service checks both again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QSpinBox, QWidget

from app.changes import Changes
from app.context import Services
from app.loyalty.service import GiftResult
from app.members.profile import MemberProfile
from ui import formatting as fmt
from ui.forms import ActionDialog, InputError
from ui.i18n import local_name
from ui.models import Column, RowsModel, number_column, row_table
from ui.printing.slips import gift_slip
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.loyalty.service import GiftOffer


class GiftDialog(ActionDialog):
    changes = Changes.NONE
    """The redemption reports what it changed: the points and the gift's stock."""

    def __init__(self, tasks: TaskRunner, services: Services, member: MemberProfile, parent: QWidget | None) -> None:
        super().__init__(tasks, services, self.tr("Redeem a gift"), self.tr("Redeem"), parent)
        self.setObjectName("giftDialog")
        self.member = member
        self._chosen: GiftOffer | None = None
        heading = QLabel(
            self.tr("{name} · balance {points} points").format(
                name=member.name, points=fmt.points(member.points_balance)
            )
        )
        heading.setObjectName("dialogHeading")
        self.form.addRow(heading)
        self.gifts: RowsModel[GiftOffer] = RowsModel(
            [
                Column(lambda: self.tr("Gift"), lambda g: local_name(g.name, g.name_en)),
                number_column(lambda: self.tr("Points"), lambda g: g.points_price, fmt.points),
                number_column(lambda: self.tr("In stock"), lambda g: g.stock, str),
            ],
            self,
        )
        self.view = row_table(self.gifts, takes_focus=True)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.doubleClicked.connect(lambda _index: self.submit())
        self.quantity = QSpinBox()
        self.quantity.setRange(1, 99)
        self.add_row(self.tr("Gift"), "gift", self.view)
        self.add_row(self.tr("Quantity"), "quantity", self.quantity)
        self.resize(520, 420)
        self.ok.setEnabled(False)
        tasks.run(services.loyalty.gifts, self._loaded)

    def _loaded(self, gifts: list[GiftOffer]) -> None:
        self.gifts.set_rows(gifts)
        if not gifts:
            self.errors.show_text(self.tr("There are no gifts in the catalogue yet."))
            return
        self.ok.setEnabled(True)
        self.view.selectRow(0)
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def prepare(self) -> Callable[[], Any]:
        gift = self.gifts.row_at(self.view.currentIndex().row())
        if gift is None:
            raise InputError(self.tr("Choose a gift."), "gift")
        loyalty, member_id, quantity, key = (
            self.services.loyalty,
            self.member.id,
            self.quantity.value(),
            self.idempotency_key,
        )
        self._chosen = gift
        return lambda: loyalty.redeem_gift(member_id, gift.id, quantity, key)

    def succeeded(self, result: GiftResult) -> str:
        assert self._chosen is not None
        gift, quantity = local_name(self._chosen.name, self._chosen.name_en), self.quantity.value()
        self.slip = gift_slip(self.member, gift, quantity, result)
        return self.tr("Redeemed {quantity} × {gift} for {points} points; balance {balance}.").format(
            quantity=quantity, gift=gift, points=fmt.points(result.points), balance=fmt.points(result.balance_after)
        )
