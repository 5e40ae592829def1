"""Return a purchase (F6): pick it from the member's history, confirm, then see exactly what happened to the points.
A return takes back what the sale earned even if it was already spent, so the balance may go negative (in red)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QLineEdit, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from app.changes import Changes
from app.context import Services
from app.loyalty.service import ReturnResult
from app.members.profile import MemberProfile, SaleRow
from ui import formatting as fmt
from ui.counter.panel import sale_columns, set_negative
from ui.forms import ActionDialog, InputError
from ui.models import PagedModel, row_table
from ui.printing.slips import return_slip
from ui.signals import emit
from ui.tasks import TaskRunner

SALE = "sale"
"""SaleKind.SALE's stored value (a StrEnum equals its value)."""


class ReturnDialog(ActionDialog):
    print_slip = Signal()
    """The cashier asked for the return's slip (`slip`) from the result page."""

    changes = Changes.POINTS | Changes.SALES | Changes.MEMBERS

    def __init__(self, tasks: TaskRunner, services: Services, member: MemberProfile, parent: QWidget | None) -> None:
        super().__init__(tasks, services, self.tr("Return a purchase"), self.tr("Next"), parent)
        self.setObjectName("returnDialog")
        self.member = member
        self.sale: SaleRow | None = None

        self.steps = QStackedWidget()
        self.sales: PagedModel[SaleRow] = PagedModel(sale_columns(), tasks, parent=self)
        self.view = row_table(self.sales, takes_focus=True)
        self.view.doubleClicked.connect(lambda _index: self.submit())
        self.receipt_search = QLineEdit()  # its Enter (a scanner's too) is the dialog's Next
        self.receipt_search.setObjectName("receiptSearch")
        self.receipt_search.setPlaceholderText(self.tr("Receipt no.: scan or type it to find the purchase"))
        self.receipt_search.textEdited.connect(lambda _text: self._find_receipt())
        pick = QWidget()
        pick_layout = QVBoxLayout(pick)
        pick_layout.addWidget(QLabel(self.tr("Choose the purchase being returned:")))
        pick_layout.addWidget(self.receipt_search)
        pick_layout.addWidget(self.view)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(self.tr("Reason (optional)"))
        confirm = QWidget()
        confirm_layout = QVBoxLayout(confirm)
        confirm_layout.addWidget(self.summary)
        confirm_layout.addWidget(self.errors.wrap("reason", self.reason))
        confirm_layout.addStretch(1)

        self.result_text = QLabel()
        self.result_text.setWordWrap(True)
        self.balance = QLabel()
        self.balance.setObjectName("resultBalance")
        done = QWidget()
        done_layout = QVBoxLayout(done)
        done_layout.addWidget(self.result_text)
        done_layout.addWidget(self.balance)
        done_layout.addStretch(1)

        for step in (pick, confirm, done):
            self.steps.addWidget(step)
        self.add_row("", "sale", self.steps)
        self.print_button = QPushButton(self.tr("Print slip"))
        self.print_button.setObjectName("printSlipButton")
        self.print_button.setAutoDefault(False)
        self.print_button.clicked.connect(lambda: emit(self.print_slip))
        self.buttons.addButton(self.print_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.print_button.hide()
        self.resize(680, 420)
        self.sales.loaded.connect(self._select_first)
        member_id, members = member.id, services.members
        self.sales.set_loader(lambda offset, limit: members.sales_page(member_id, offset, limit))

    def _select_first(self) -> None:
        if self.receipt_search.text().strip():
            self._find_receipt()
            return
        if not self.view.currentIndex().isValid() and self.sales.rowCount():
            self.view.selectRow(0)
        self.view.setFocus()

    def _find_receipt(self) -> None:
        """Select the purchase whose receipt number starts with what was typed, loading older pages until it is
        found or there are none left."""
        wanted = self.receipt_search.text().strip().upper()
        if not wanted:
            return
        for row, sale in enumerate(self.sales.rows()):
            if sale.kind == SALE and (sale.receipt_no or "").upper().startswith(wanted):
                self.view.selectRow(row)
                self.errors.clear_field("sale")
                return
        if self.sales.canFetchMore(QModelIndex()):
            self.sales.fetchMore(QModelIndex())
            return
        self.view.clearSelection()
        self.view.setCurrentIndex(QModelIndex())
        self.errors.show_text(self.tr("No purchase of this member has that receipt number."), "sale", focus=False)

    def submit(self) -> None:
        """The first press of the button only moves on to the confirmation."""
        if self.steps.currentIndex() == 0:
            self.errors.clear()
            sale = self.sales.row_at(self.view.currentIndex().row())
            if sale is None or sale.kind != SALE or sale.returned:
                self.errors.show_text(self.tr("Choose a purchase that has not been returned."), "sale")
                return
            self.sale = sale
            self.summary.setText(
                self.tr(
                    "Return the purchase of {amount} on {date}?\n\n"
                    "{earned} points it earned will be taken back and {used} points paid with will be refunded."
                ).format(
                    amount=fmt.yuan(sale.total_fen),
                    date=fmt.local_datetime(sale.sold_at),
                    earned=fmt.points(sale.points_earned),
                    used=fmt.points(sale.points_used),
                )
            )
            self.steps.setCurrentIndex(1)
            self.ok.setText(self.tr("Confirm return"))
            self.ok.setDefault(True)  # Enter in the reason confirms (a button that had the focus took the default)
            self.reason.setFocus()
            return
        super().submit()

    def prepare(self) -> Callable[[], Any]:
        if self.sale is None:
            raise InputError(self.tr("Choose a purchase that has not been returned."), "sale")
        sale_id, key, reason, loyalty = self.sale.id, self.idempotency_key, self.reason.text(), self.services.loyalty
        return lambda: loyalty.return_sale(sale_id, key, reason)

    def succeeded(self, result: ReturnResult) -> None:
        """Stay open on the result, so the cashier can tell the customer what happened to their points."""
        text = self.tr("Return recorded: {reversed} points taken back, {refunded} points refunded.").format(
            reversed=fmt.points(result.points_reversed), refunded=fmt.points(result.points_refunded)
        )
        if result.coupon_restored:
            text += "\n" + self.tr("The coupon used on this purchase is valid again.")
        self.result_text.setText(text)
        self.balance.setText(self.tr("New balance: {points} points").format(points=fmt.points(result.balance_after)))
        set_negative(self.balance, result.balance_after < 0)
        if result.balance_after < 0:
            self.result_text.setText(
                text + "\n" + self.tr("The member had already spent these points; future purchases pay it back first.")
            )
        assert self.sale is not None
        self.slip = return_slip(self.member, self.sale, result, self.reason.text().strip())
        self.steps.setCurrentIndex(2)
        self.ok.hide()
        self.print_button.show()
        self.buttons.button(self.buttons.StandardButton.Cancel).setText(self.tr("Close"))
        emit(self.completed, f"{text} {self.balance.text()}")
