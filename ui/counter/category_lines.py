"""The purchase's optional lines by category (F4, 按品类录入). Most purchases are one amount; when a receipt mixes
goods that earn no points (烟草) with goods that do, the cashier enters the amount of each category instead, and the
purchase then earns on the right part. Collapsed until asked for, so the amount-only fast path stays untouched.

Keyboard: Insert adds a line (and opens the section) from anywhere in the dialog; Enter in a line moves on like Tab
(after the last amount to the add button, where Enter adds another); Delete on a line's category, or in
its empty amount, removes the line."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.catalog_queries import CategoryRow
from app.errors import ValidationError
from app.loyalty.service import SaleLineInput
from app.money import parse_yuan
from ui.forms import InputError, error_label
from ui.i18n import local_name
from ui.signals import emit

ADD_LINE_KEY = QKeySequence(Qt.Key.Key_Insert)
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class CategoryLine(QWidget):
    """One category and its amount in yuan; the × button is for the mouse (Delete does it from the keyboard)."""

    def __init__(self) -> None:
        super().__init__()
        self.category = QComboBox()
        self.category.setObjectName("lineCategory")
        self.amount = QLineEdit()
        self.amount.setObjectName("lineAmount")
        self.amount.setPlaceholderText("0.00")
        self.remove = QToolButton()
        self.remove.setText("×")
        self.remove.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes category → amount → next line
        self.remove.setToolTip(self.tr("Remove this line (Delete)"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.category, 3)
        layout.addWidget(self.amount, 2)
        layout.addWidget(self.remove)


class CategoryLines(QWidget):
    """A toggle, the lines, an add button and the section's own error line. `changed` is emitted whenever a line is
    added, removed or edited, so the dialog can sum the total and ask for a fresh preview."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("categoryLines")
        self._categories: list[CategoryRow] = []
        self.rows: list[CategoryLine] = []

        self.toggle = QToolButton()
        self.toggle.setObjectName("linesToggle")
        self.toggle.setText(self.tr("Lines by category"))
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.toggled.connect(self._expand)

        self.add_button = QPushButton(
            self.tr("Add a line ({key})").format(key=ADD_LINE_KEY.toString(QKeySequence.SequenceFormat.NativeText))
        )
        self.add_button.setObjectName("addLine")
        self.add_button.setAutoDefault(False)  # the dialog's Enter records; Enter on this button adds (eventFilter)
        self.add_button.setEnabled(False)  # until the categories have loaded
        self.add_button.installEventFilter(self)
        self.add_button.clicked.connect(self.add_line)
        hint = QLabel(self.tr("The amount is the sum of the lines."))
        hint.setObjectName("detailCaption")
        footer = QHBoxLayout()
        footer.addWidget(self.add_button)
        footer.addWidget(hint, 1)
        self.error = error_label()

        self.body = QWidget()
        self._row_layout = QVBoxLayout()
        self._row_layout.setSpacing(4)
        body_layout = QVBoxLayout(self.body)
        body_layout.setContentsMargins(16, 0, 0, 0)
        body_layout.addLayout(self._row_layout)
        body_layout.addLayout(footer)
        body_layout.addWidget(self.error)
        self.body.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.body)

        shortcut = QShortcut(ADD_LINE_KEY, self)
        shortcut.activated.connect(self.add_line)

    # -- what the dialog reads ----------------------------------------------------------------------------------
    def has_lines(self) -> bool:
        return bool(self.rows)

    def sale_lines(self) -> list[SaleLineInput]:
        """The lines with an amount (a line still blank is not part of the purchase yet). A mistyped amount is
        refused here, by the section, rather than sent."""
        result = []
        for line in self.rows:
            text = line.amount.text().strip()
            if not text:
                continue
            try:
                fen = parse_yuan(text)
            except ValidationError as exc:
                self.setFocusProxy(line.amount)  # the error line's focus goes to the line refused
                raise InputError(str(exc), "lines") from None
            result.append(SaleLineInput(amount_fen=fen, category_code=line.category.currentData()))
        return result

    def total_fen(self) -> int | None:
        """The sum of the lines, or None while one is mistyped (the total then shows nothing rather than a guess)."""
        try:
            return sum(line.amount_fen for line in self.sale_lines())
        except InputError:
            return None

    # -- building -----------------------------------------------------------------------------------------------
    def set_categories(self, categories: list[CategoryRow]) -> None:
        self._categories = categories
        self.add_button.setEnabled(bool(categories))

    def add_line(self) -> None:
        """A new line at the end with the focus on its category; opens the section if it was closed."""
        if not self._categories:
            return
        self.toggle.setChecked(True)
        line = CategoryLine()
        for category in self._categories:
            name = local_name(category.name, category.name_en)
            if not category.earns_points:
                name = self.tr("{category} (no points)").format(category=name)
            line.category.addItem(name, category.code)
        line.category.currentIndexChanged.connect(self._edited)
        line.amount.textEdited.connect(self._edited)
        line.remove.clicked.connect(lambda: self._remove(line))
        for widget in (line.category, line.amount):
            widget.installEventFilter(self)
        self.rows.append(line)
        self._row_layout.addWidget(line)
        line.show()  # the layout would show it only on the next event loop pass: too late for the focus below
        self._order_tabs()
        self.setFocusProxy(line.amount)
        line.category.setFocus()
        self._edited()

    def _remove(self, line: CategoryLine) -> None:
        """Drop `line`; the focus goes to the line before it, or to the add button when it was the first."""
        index = self.rows.index(line)
        self.rows.remove(line)
        line.hide()
        line.deleteLater()
        self.error.hide()
        self.setFocusProxy(self.rows[-1].amount if self.rows else self.add_button)
        (self.rows[index - 1].amount if index else self.add_button).setFocus()
        self._edited()

    def _order_tabs(self) -> None:
        """New lines join the end of the window's focus chain; put them between the toggle and the add button."""
        chain: list[QWidget] = [self.toggle]
        for line in self.rows:
            chain += [line.category, line.amount]
        chain.append(self.add_button)
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _expand(self, open_: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if open_ else Qt.ArrowType.RightArrow)
        self.body.setVisible(open_)

    def _edited(self, *_args: object) -> None:
        emit(self.changed)

    # -- keys ---------------------------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        enter = event.key() in _ENTER_KEYS
        if enter and watched is self.add_button:
            self.add_line()
            return True
        line = next((ln for ln in self.rows if watched in (ln.category, ln.amount)), None)
        if line is None:
            return False
        if event.key() == Qt.Key.Key_Delete and (watched is line.category or not line.amount.text()):
            self._remove(line)
            return True
        if enter and isinstance(watched, QWidget):
            watched.focusNextChild()  # never records from a line: on to the amount, the next line or the add button
            return True
        return False
