"""The gift catalogue (礼品目录): what members can redeem their points for at the counter (F5), at what price and how
many are left. Managers and owners add and edit gifts; a gift no longer offered is switched off, never deleted, so
past redemptions keep their name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.loyalty.catalogue import MAX_POINTS, GiftInput
from db.enums import StaffRole
from ui import formatting as fmt
from ui.forms import ActionDialog
from ui.models import Column, RowsModel, number_column, row_table, show_rows
from ui.pages.base import Page
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.loyalty.catalogue import CatalogueGift

MAX_STOCK = 1_000_000


class GiftEditDialog(ActionDialog):
    """Add a gift (`gift` None) or change one."""

    changes = Changes.CATALOGUE

    def __init__(
        self, tasks: TaskRunner, services: Services, gift: CatalogueGift | None, parent: QWidget | None
    ) -> None:
        title = self.tr("Add a gift") if gift is None else self.tr("Edit a gift")
        super().__init__(tasks, services, title, self.tr("Add") if gift is None else self.tr("Save"), parent)
        self.setObjectName("giftEditDialog")
        self.gift_id = gift.id if gift is not None else None
        self.name = QLineEdit(gift.name if gift else "")
        self.name.setPlaceholderText(self.tr("e.g. 保温杯 500ml"))
        self.name_en = QLineEdit(gift.name_en or "" if gift else "")
        self.name_en.setPlaceholderText(self.tr("Optional, shown when the counter works in English"))
        self.points_price = QSpinBox()
        self.points_price.setRange(1, MAX_POINTS)
        self.points_price.setGroupSeparatorShown(True)
        self.points_price.setValue(gift.points_price if gift else 100)
        self.stock = QSpinBox()
        self.stock.setRange(0, MAX_STOCK)
        self.stock.setGroupSeparatorShown(True)
        self.stock.setValue(gift.stock if gift else 0)
        self.active = QCheckBox(self.tr("Offered at the counter"))
        self.active.setChecked(gift.active if gift else True)
        self.branch_only = QCheckBox(self.tr("Only at this branch"))
        self.branch_only.setChecked(gift is not None and gift.branch_id is not None)
        self.add_row(self.tr("Name"), "name", self.name)
        self.add_row(self.tr("English name"), "name_en", self.name_en)
        self.add_row(self.tr("Points price"), "points_price", self.points_price)
        self.add_row(self.tr("In stock"), "stock", self.stock)
        self.add_row("", "active", self.active)
        self.add_row("", "branch_only", self.branch_only)
        self.resize(460, self.sizeHint().height())
        self.name.setFocus()

    def prepare(self) -> Callable[[], Any]:
        data = GiftInput(
            name=self.name.text(),
            points_price=self.points_price.value(),
            stock=self.stock.value(),
            name_en=self.name_en.text(),
            active=self.active.isChecked(),
            branch_only=self.branch_only.isChecked(),
        )
        catalogue, gift_id = self.services.catalogue, self.gift_id
        if gift_id is None:
            return lambda: catalogue.add_gift(data)
        return lambda: catalogue.update_gift(gift_id, data)

    def succeeded(self, _result: Any) -> str:
        name = self.name.text().strip()
        if self.gift_id is None:
            return self.tr("Added {gift} to the catalogue.").format(gift=name)
        return self.tr("Saved {gift}.").format(gift=name)


class GiftsPage(Page):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("giftsPage")
        self.model: RowsModel[CatalogueGift] = RowsModel(
            [
                Column(lambda: self.tr("Gift"), lambda g: g.name),
                Column(lambda: self.tr("English name"), lambda g: g.name_en or ""),
                number_column(lambda: self.tr("Points"), lambda g: g.points_price, fmt.points),
                number_column(lambda: self.tr("In stock"), lambda g: g.stock, fmt.points),
                Column(lambda: self.tr("Offered"), lambda g: self.tr("Yes") if g.active else self.tr("No")),
                Column(
                    lambda: self.tr("Where"),
                    lambda g: self.tr("All branches") if g.branch_id is None else self.tr("This branch only"),
                ),
            ],
            self,
        )
        self.view = row_table(self.model, takes_focus=True)
        self.view.setObjectName("giftList")
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.doubleClicked.connect(lambda _index: self.edit_gift())
        self.view.activated.connect(lambda _index: self.edit_gift())
        self.empty = QLabel(self.tr("The catalogue is empty. Add the first gift members can redeem points for."))
        self.empty.setObjectName("emptyHint")
        self.empty.setWordWrap(True)
        self.add_button = QPushButton(self.tr("Add gift…"))
        self.add_button.clicked.connect(self.add_gift)
        self.edit_button = QPushButton(self.tr("Edit…"))
        self.edit_button.clicked.connect(self.edit_gift)
        self.note = QLabel()
        self.note.setObjectName("savedNote")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)

    def attach(self, services: Services) -> None:
        super().attach(services)
        self.note.clear()
        self.reload()

    def on_changed(self, changes: Changes) -> None:
        if changes & Changes.CATALOGUE:  # an edit here, or a redemption at the counter taking from the stock
            self.reload_when_seen()

    def reload(self) -> None:
        if self.services is not None:
            self.tasks.run(self.services.catalogue.all_gifts, self._loaded)

    def _loaded(self, gifts: list[CatalogueGift]) -> None:
        show_rows(self.view, self.model, gifts, lambda gift: gift.id)
        self.empty.setVisible(not gifts)
        editable = self.services is not None and self.services.operator.at_least(StaffRole.MANAGER)
        self.add_button.setEnabled(editable)
        self.edit_button.setEnabled(editable and bool(gifts))

    def selected(self) -> CatalogueGift | None:
        return self.model.row_at(self.view.currentIndex().row())

    def _open(self, gift: CatalogueGift | None) -> None:
        if self.services is None or not self.add_button.isEnabled():
            return
        self.note.clear()
        dialog = GiftEditDialog(self.tasks, self.services, gift, self)
        dialog.completed.connect(self.note.setText)
        dialog.open()

    def add_gift(self) -> None:
        self._open(None)

    def edit_gift(self) -> None:
        if (gift := self.selected()) is not None:
            self._open(gift)
