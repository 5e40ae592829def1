"""The members behind a bar or a cell of a chart: how many, and the first of them by member number. The page's
`selection_made` carries every id on, for an action on all of them."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.charts.model import MemberList
from app.charts.service import LISTED


class ChartMembersDialog(QDialog):
    def __init__(self, members: MemberList, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartMembersDialog")
        self.members = members
        self.setWindowTitle(members.title)
        self.resize(640, 480)
        if members.count > LISTED:
            text = self.tr("{count} members; the first {shown} by member number are listed.").format(
                count=f"{members.count:,}", shown=f"{LISTED:,}"
            )
        elif members.count:
            text = self.tr("{count} members.").format(count=f"{members.count:,}")
        else:
            text = self.tr("No member is behind this figure.")
        self.summary = QLabel(text)
        self.table = QTableWidget(len(members.rows), 4)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Member no."), self.tr("Name"), self.tr("Phone"), self.tr("Tier")]
        )
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        for row, member in enumerate(members.rows):
            for column, value in enumerate((member.member_no, member.name, member.phone, member.tier)):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
