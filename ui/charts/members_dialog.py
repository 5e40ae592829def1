"""The members behind a bar or a cell of a chart: how many, the first of them by member number, and the actions on
all of them (a coupon campaign for exactly them, follow-up tasks, a contact list: ui/insights/member_actions.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.actions.member_sets import MemberSet
from app.charts.model import MemberList
from app.charts.service import LISTED
from ui.insights.member_actions import actions_menu

if TYPE_CHECKING:
    from app.context import Services
    from ui.tasks import TaskRunner


class ChartMembersDialog(QDialog):
    def __init__(
        self, tasks: TaskRunner, services: Services, members: MemberList, parent: QWidget | None = None
    ) -> None:
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
        self.summary.setWordWrap(True)
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
        self.actions_button = QPushButton(self.tr("Act on all {count}…").format(count=f"{members.count:,}"))
        self.actions_button.setObjectName("chartMembersActions")
        self.actions_button.setToolTip(
            self.tr("A coupon campaign for exactly these members, follow-up tasks, or a contact list.")
        )
        self.actions_menu = actions_menu(tasks, services, MemberSet.of_members(members.member_ids, members.title), self)
        self.actions_button.setMenu(self.actions_menu)
        self.actions_button.setEnabled(members.count > 0)
        buttons.addButton(self.actions_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
