"""Table models over rows the services return (frozen dataclasses), described by columns.

`RowsModel` holds a short list (lookup hits, gifts). `PagedModel` fetches a long list a page at a time through the
task runner as the view scrolls (Qt's canFetchMore/fetchMore), so a million members never load at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from ui.formatting import NEGATIVE
from ui.signals import emit

if TYPE_CHECKING:
    from app.members.profile import Page
    from ui.tasks import TaskRunner

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
ROW_HEIGHT = 26


@dataclass(frozen=True)
class Column(Generic[R]):
    title: Callable[[], str]
    """Called when the header is painted, so it is translated in the language in force."""
    text: Callable[[R], str]
    alignment: Qt.AlignmentFlag = LEFT
    negative: Callable[[R], bool] | None = None
    """Rows for which this cell is shown in red."""


def number_column(title: Callable[[], str], value: Callable[[R], int], text: Callable[[int], str]) -> Column[R]:
    """A right-aligned figure that turns red below zero (points, money)."""
    return Column(title, lambda row: text(value(row)), RIGHT, lambda row: value(row) < 0)


_ANSWERED_ROLES = frozenset(
    (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ForegroundRole,
    )
)


class RowsModel(QAbstractTableModel, Generic[R]):
    def __init__(self, columns: Sequence[Column[R]], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._rows: list[R] = []

    # -- rows ---------------------------------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def append_rows(self, rows: Sequence[R]) -> None:
        if not rows:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # -- Qt -----------------------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Qt asks a dozen roles of every cell it measures or paints; the ones not answered leave at once.
        if role not in _ANSWERED_ROLES or not index.isValid():
            return None
        if index.row() >= len(self._rows) or index.column() >= len(self.columns):
            return None
        row, column = self._rows[index.row()], self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return column.text(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(column.alignment)
        if role == Qt.ItemDataRole.ForegroundRole and column.negative is not None and column.negative(row):
            return QColor(NEGATIVE)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].title()
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(self.columns[section].alignment)
        return None


class PagedModel(RowsModel[R]):
    """Rows loaded a page at a time, by position (`set_loader`) or by key (`set_keyset_loader`: each page says where
    the next one starts, so a long list never skips or recounts what came before). `reload()` starts again from the
    first page; a page that arrives after a reload belongs to an older list and is dropped."""

    loaded = Signal()
    """Emitted after each page arrives (views use it to select a row or show an empty note)."""

    def __init__(
        self,
        columns: Sequence[Column[R]],
        tasks: TaskRunner,
        page_size: int = 50,
        parent: Any = None,
    ) -> None:
        super().__init__(columns, parent)
        self._tasks = tasks
        self._page_size = page_size
        self._loader: Callable[[int, int], Page[R]] | None = None
        self._keyset: Callable[[Any, int], Page[R]] | None = None
        self._next: Any = None
        self._total = 0
        self._more = False
        self._generation = 0
        self._fetching = False

    @property
    def total(self) -> int:
        return self._total

    @property
    def more(self) -> bool:
        """The list has more rows than `total` says (its count stopped there); paging by key goes on to the end."""
        return self._more

    def set_loader(self, loader: Callable[[int, int], Page[R]] | None) -> None:
        """What to list (`loader(offset, limit)` runs on the worker); None empties the list."""
        self._loader, self._keyset = loader, None
        self.reload()

    def set_keyset_loader(self, loader: Callable[[Any, int], Page[R]]) -> None:
        """What to list, by key: `loader(after, limit)` runs on the worker, `after` being the previous page's `next`
        (None for the first page)."""
        self._loader, self._keyset = (lambda _offset, limit: loader(None, limit)), loader
        self.reload()

    def reload(self) -> None:
        self._generation += 1
        self._next = None
        self._fetching = False
        self._total = 0
        self._more = False
        self.set_rows([])
        self._fetch(0)

    def canFetchMore(self, parent: Index) -> bool:
        if parent.isValid() or self._loader is None or self._fetching:
            return False
        return self._next is not None if self._keyset is not None else self.rowCount() < self._total

    def fetchMore(self, parent: Index) -> None:
        if self.canFetchMore(parent):
            self._fetch(self.rowCount())

    def _fetch(self, offset: int) -> None:
        loader = self._loader
        if loader is None:
            return
        generation = self._generation
        self._fetching = True
        limit, keyset, after = self._page_size, self._keyset, self._next
        work = (lambda: keyset(after, limit)) if keyset is not None else (lambda: loader(offset, limit))
        self._tasks.run(work, lambda page: self._arrived(generation, page))

    def _arrived(self, generation: int, page: Page[R]) -> None:
        if generation != self._generation:
            return
        self._fetching = False
        self._next = page.next
        self.append_rows(page.rows)
        # A list paged by key counts once, on its first page; at its end the rows shown are the true count.
        at_end = self._keyset is not None and page.next is None
        self._total = self.rowCount() if at_end else page.total
        self._more = page.more and not at_end
        emit(self.loaded)


def row_table(model: RowsModel[Any], *, takes_focus: bool) -> QTableView:
    """How every list of rows looks: whole rows selected, compact rows, columns fitted to their contents.
    A list beside the lookup box never takes the focus (the box keeps it and moves the selection)."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if not takes_focus:
        view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    model.rowsInserted.connect(lambda *_args: QTimer.singleShot(0, view, lambda: fit_columns(view)))
    model.modelReset.connect(lambda: QTimer.singleShot(0, view, lambda: fit_columns(view)))
    return view


def fit_columns(view: QTableView) -> None:
    """Columns sized to the rows now shown. Qt sizes them when the view is laid out, which rows arriving later (a
    page through the task runner) do not cause: a short purchase history kept its columns as wide as their headers,
    "2…", "¥…", "D00…", so the receipt numbers needed for a return could not be read."""
    header = view.horizontalHeader()
    for column in range(header.count()):
        if header.sectionResizeMode(column) == QHeaderView.ResizeMode.ResizeToContents:
            header.resizeSection(column, max(view.sizeHintForColumn(column), header.sectionSizeHint(column)))


def show_rows(view: QTableView, model: RowsModel[R], rows: Sequence[R], key: Callable[[R], object]) -> None:
    """New rows for a list someone works through (the admin lists): the row they had selected stays selected after
    a reload (matched by `key`), else the first one."""
    current = model.row_at(view.currentIndex().row())
    model.set_rows(rows)
    keys = [key(row) for row in rows]
    if rows:
        view.selectRow(keys.index(key(current)) if current is not None and key(current) in keys else 0)
