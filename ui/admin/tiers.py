"""Member tiers (会员等级): what a member must spend or earn in 12 months to reach each tier, and how many more points
each tier earns. Owner only. The service checks that every member falls into exactly one tier; its refusals are
shown over the column they are about, since they concern the tiers together rather than one cell."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget

from app.changes import Changes
from app.errors import ValidationError
from app.loyalty.catalogue import MAX_POINTS, TierInput
from app.money import format_yuan, parse_yuan
from ui.forms import InputError, error_label
from ui.pages.editing import EditPage
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.loyalty.catalogue import TierView

MULTIPLIER_RANGE = (100, 1000)
"""What CatalogueService accepts: a tier never earns less than the base rate."""
FIELD_WIDTH = 130


def yuan_text(fen: int) -> str:
    """An amount as typed into a field (2000.00): no currency sign or separators to edit around."""
    return format_yuan(fen).removeprefix("¥").replace(",", "")


@dataclass
class TierRow:
    """One tier's editors."""

    tier_id: int
    name: QLineEdit
    name_en: QLineEdit
    spend: QLineEdit
    points: QSpinBox
    multiplier: QSpinBox

    def widgets(self) -> tuple[QWidget, ...]:
        """In the order of the columns."""
        return (self.name, self.name_en, self.spend, self.points, self.multiplier)

    def value(self) -> TierInput:
        try:
            spend = parse_yuan(self.spend.text())
        except ValidationError as exc:
            raise InputError(str(exc), "threshold") from exc
        return TierInput(self.name.text(), self.name_en.text(), spend, self.points.value(), self.multiplier.value())


class TiersPage(EditPage):
    changes = Changes.CATALOGUE

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, self.tr("Save tiers"), parent)
        self.setObjectName("tiersPage")
        self.save_button.setObjectName("saveTiers")
        self._stored: dict[int, TierInput] = {}
        self.rows: list[TierRow] = []
        note = QLabel(
            self.tr(
                "A member reaches a tier by spending or earning this much within 12 months (the store's setting "
                '"Tiers by" says which counts). Members move up at their next purchase and down only at their review.'
            )
        )
        note.setObjectName("emptyHint")
        note.setWordWrap(True)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(12)
        for column, caption in enumerate(
            (
                self.tr("Tier"),
                self.tr("English name"),
                self.tr("12-month spend from (¥)"),
                self.tr("12-month points from"),
                self.tr("Points earned (%)"),
            )
        ):
            header = QLabel(caption)
            header.setObjectName("detailCaption")
            header.setWordWrap(True)
            self.grid.addWidget(header, 0, column, Qt.AlignmentFlag.AlignBottom)
        self._column_errors: dict[str, QLabel] = {}
        for field, column, span in (("name", 0, 2), ("threshold", 2, 2), ("earn_multiplier_pct", 4, 1)):
            self._column_errors[field] = error_label()
            self.grid.addWidget(self._column_errors[field], 1, column, 1, span)

        grid_host = QWidget()
        grid_host.setLayout(self.grid)
        grid_host.setMaximumWidth(5 * (FIELD_WIDTH + 40))
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(grid_host)
        layout.addWidget(self.general_error)
        layout.addStretch(1)
        layout.addLayout(self.buttons)

    def attach(self, services: Services) -> None:
        super().attach(services)
        self.reload()

    def on_changed(self, changes: Changes) -> None:
        if changes & Changes.CATALOGUE:
            self.reload()

    def reload(self) -> None:
        if self.services is not None:
            self.tasks.run(self.services.catalogue.tiers, self._loaded)

    def _loaded(self, tiers: list[TierView]) -> None:
        self._stored = {
            t.id: TierInput(t.name, t.name_en, t.min_spend_12m_fen, t.min_points_12m, t.earn_multiplier_pct)
            for t in tiers
        }
        if [row.tier_id for row in self.rows] != list(self._stored):
            self._build_rows(list(self._stored))
        self.stored_loaded()

    def _build_rows(self, tier_ids: list[int]) -> None:
        for row in self.rows:
            for widget in row.widgets():
                widget.deleteLater()
        self.rows = []
        for index, tier_id in enumerate(tier_ids):
            row = TierRow(tier_id, QLineEdit(), QLineEdit(), QLineEdit(), QSpinBox(), QSpinBox())
            row.points.setRange(0, MAX_POINTS)
            row.points.setGroupSeparatorShown(True)
            row.multiplier.setRange(*MULTIPLIER_RANGE)
            row.multiplier.setSuffix(" %")
            row.spend.setAlignment(Qt.AlignmentFlag.AlignRight)
            if index == 0:  # the lowest tier is where every member starts: it needs nothing
                row.spend.setEnabled(False)
                row.points.setEnabled(False)
            for column, widget in enumerate(row.widgets()):
                widget.setMinimumWidth(FIELD_WIDTH)
                self.grid.addWidget(widget, index + 2, column)
            self.rows.append(row)
        if self.rows:
            first, second = self.rows[0], self.rows[min(1, len(self.rows) - 1)]  # the lowest has no thresholds to edit
            focus: dict[str, QWidget] = {
                "name": first.name,
                "threshold": second.spend,
                "earn_multiplier_pct": first.multiplier,
            }
            for field, label in self._column_errors.items():
                self.errors.add(field, focus[field], label)

    def show_stored(self) -> None:
        for row in self.rows:
            stored = self._stored[row.tier_id]
            row.name.setText(stored.name)
            row.name_en.setText(stored.name_en)
            row.spend.setText(yuan_text(stored.min_spend_12m_fen))
            row.points.setValue(stored.min_points_12m)
            row.multiplier.setValue(stored.earn_multiplier_pct)

    def changed_values(self) -> dict[int, TierInput]:
        return {row.tier_id: value for row in self.rows if (value := row.value()) != self._stored[row.tier_id]}

    def save_call(self, services: Services, changes: dict[int, TierInput]) -> Callable[[], object]:
        return lambda: services.catalogue.update_tiers(changes)

    def saved_text(self) -> str:
        return self.tr("Tiers saved.")
