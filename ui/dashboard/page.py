"""The close-of-day dashboard (今日经营), the owner's and manager's landing page: the day's figures against the same
weekday last week and the 4-week average with a small trend line, the work lists with a count and a one-key action,
and the staff figures. Everything is read on the worker (app.dashboard reads the day totals, a few rows a day); the
page shows its last figures until the new ones arrive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QDate, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QDateEdit,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.dashboard.figures import FIGURES, WORK_LISTS
from app.dashboard.format import format_change, format_value
from app.money import format_yuan
from app.printing.scratch import scratch_pdf
from ui.coupons.printing import print_coupons
from ui.flow_layout import FlowLayout
from ui.jobs import jobs_for
from ui.messages import show_info
from ui.pages.base import Page
from ui.printing.preview import Printout, PrintPreviewDialog

if TYPE_CHECKING:
    from app.actions.member_sets import MemberSet
    from app.context import Services
    from app.dashboard.actions import BirthdayCoupons, WorkDone
    from app.dashboard.figures import CloseOfDay, Figure, WorkList
    from ui.tasks import TaskRunner

RELOAD_ON = Changes.SALES | Changes.MEMBERS | Changes.POINTS | Changes.COUPONS | Changes.COMPLAINTS
RELOAD_ON |= Changes.SURVEYS | Changes.FOLLOW_UPS | Changes.SEGMENTS
SET_LISTS = ("birthdays_today", "birthdays_week", "churn_risks", "points_expiring")
"""Work lists of members an action on a set (campaign, follow-ups, contact list) can take."""
UP, DOWN = QColor("#2e7d32"), QColor("#c62828")
CARD_WIDTH = 262
SIDE_BY_SIDE_WIDTH = 1000
"""Narrower than this (a 1366×768 screen at 150 %), the staff table goes below the work lists."""


def _t(text: str) -> str:
    return QCoreApplication.translate("Dashboard", text)


class Sparkline(QWidget):
    """The figure over the same weekday of the last five weeks; the last point (the day) is marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: tuple[int | None, ...] = ()
        self.setMinimumSize(110, 28)

    def show_values(self, values: tuple[int | None, ...]) -> None:
        self.values = values
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        known = [(i, v) for i, v in enumerate(self.values) if v is not None]
        if len(known) < 2:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        low, high = min(v for _i, v in known), max(v for _i, v in known)
        span = (high - low) or 1
        w, h, pad = self.width(), self.height(), 4
        step = (w - 2 * pad) / max(len(self.values) - 1, 1)
        points = [QPointF(pad + i * step, h - pad - (v - low) * (h - 2 * pad) / span) for i, v in known]
        painter.setPen(QPen(QColor("#1565c0"), 1.6))
        painter.drawPolyline(QPolygonF(points))
        painter.setBrush(QColor("#1565c0"))
        painter.drawEllipse(points[-1], 2.8, 2.8)
        painter.end()


class FigureCard(QFrame):
    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("figureCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(_t(label))
        self.title.setObjectName("figureTitle")
        self.value = QLabel("—")
        self.value.setObjectName("figureValue")
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.value.setFont(font)
        self.week = QLabel()
        self.average = QLabel()
        self.trend = Sparkline()
        layout = QGridLayout(self)
        layout.addWidget(self.title, 0, 0, 1, 2)
        layout.addWidget(self.value, 1, 0)
        layout.addWidget(self.trend, 1, 1)
        layout.addWidget(self.week, 2, 0, 1, 2)
        layout.addWidget(self.average, 3, 0, 1, 2)

    def show_figure(self, figure: Figure) -> None:
        self.title.setText(_t(figure.label))
        self.value.setText(format_value(figure, figure.today))
        self._change(
            self.week, QCoreApplication.translate("Dashboard", "vs last week {change}"), figure, figure.vs_last_week
        )
        self._change(
            self.average,
            QCoreApplication.translate("Dashboard", "vs 4-week average {change}"),
            figure,
            figure.vs_average,
        )
        self.trend.show_values(figure.values)
        self.trend.setToolTip(" → ".join(format_value(figure, v) for v in figure.values))

    @staticmethod
    def _change(label: QLabel, text: str, figure: Figure, change: int | None) -> None:
        label.setText(text.format(change=format_change(figure, change)))
        color = UP if change and change > 0 else DOWN if change and change < 0 else QColor("#555555")
        label.setStyleSheet(f"color: {color.name()}")


class DashboardPage(Page):
    open_area = Signal(str)
    """'complaints' (overdue complaints, follow-ups due): the main window shows that screen."""

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.summary: CloseOfDay | None = None
        heading = QLabel(self.tr("Close of day"))
        heading.setObjectName("pageHeading")
        self.date = QDateEdit()
        self.date.setCalendarPopup(True)
        self.date.setObjectName("dashboardDate")
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.dateChanged.connect(lambda _d: self.reload())
        self.print_button = QPushButton(self.tr("Print day summary…"))
        self.print_button.clicked.connect(self.print_day)
        self.status = QLabel()
        self.status.setObjectName("dashboardStatus")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(QLabel(self.tr("Day")))
        top.addWidget(self.date)
        top.addWidget(self.print_button)

        self.figure_flow = FlowLayout(spacing=8)
        self.cards: list[FigureCard] = []
        for _code, label, _unit in FIGURES:  # made before any figure arrives: showing them only sets texts
            card = FigureCard(label)
            card.setFixedWidth(CARD_WIDTH)
            self.figure_flow.addWidget(card)
            self.cards.append(card)
        self._showing: list[Callable[[], None]] = []
        self._next_turn = QTimer(self, singleShot=True, interval=0)  # owned by the page: dies with it
        self._next_turn.timeout.connect(lambda: self._show_next())
        self.work_grid = QGridLayout()
        self.work_grid.setColumnStretch(0, 1)
        self.stars = QLabel()
        self.stars.setObjectName("staffStars")
        self.staff_table = QTableWidget(0, 7)
        self.staff_table.setObjectName("staffTable")
        self.staff_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.staff_table.verticalHeader().hide()
        self.staff_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.staff_table.horizontalHeader().setStretchLastSection(True)
        self.staff_table.setMinimumHeight(160)
        self.staff_table.setHorizontalHeaderLabels(
            [
                self.tr("Staff"),
                self.tr("Registered"),
                self.tr("Purchases"),
                self.tr("Sales"),
                self.tr("Resolved"),
                self.tr("Calls"),
                self.tr("Satisfaction"),
            ]
        )
        self.staff_title = QLabel()
        self.staff_title.setObjectName("sectionHeading")

        body = QWidget()
        column = QVBoxLayout(body)
        column.addWidget(self.status)
        column.addLayout(self.figure_flow)
        self.lists_and_staff = lower = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        work_box = QVBoxLayout()
        work_title = QLabel(self.tr("Work lists"))
        work_title.setObjectName("sectionHeading")
        work_box.addWidget(work_title)
        work_box.addLayout(self.work_grid)
        work_box.addStretch(1)
        staff_box = QVBoxLayout()
        staff_box.addWidget(self.staff_title)
        staff_box.addWidget(self.stars)
        staff_box.addWidget(self.staff_table, 1)
        lower.addLayout(work_box, 1)
        lower.addLayout(staff_box, 1)
        column.addLayout(lower, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        self.work_counts: dict[str, QLabel] = {}
        self.work_buttons: dict[str, QPushButton] = {}
        self.set_buttons: dict[str, QPushButton] = {}
        self.set_menu: QMenu | None = None
        for row, (code, label) in enumerate(WORK_LISTS):
            self._add_work_row(row, code, label)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        wide = event.size().width() >= SIDE_BY_SIDE_WIDTH
        self.lists_and_staff.setDirection(
            QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        )

    # -- loading ------------------------------------------------------------------------------------------------
    def attach(self, services: Services) -> None:
        super().attach(services)
        self.tasks.run(services.close_of_day.today, self._set_today)

    def _set_today(self, today: dt.date) -> None:
        self.date.blockSignals(True)
        self.date.setDate(QDate(today.year, today.month, today.day))
        self.date.setMaximumDate(QDate(today.year, today.month, today.day))
        self.date.blockSignals(False)
        self.reload()

    def chosen_day(self) -> dt.date:
        chosen = self.date.date()
        return dt.date(chosen.year(), chosen.month(), chosen.day())

    def reload(self) -> None:
        if self.services is None:
            return
        service, day = self.services.close_of_day, self.chosen_day()
        self.tasks.run(lambda: service.close_of_day(day, work_lists=False), self.show_summary, self._refused)
        self.tasks.run(lambda: service.work_lists(day), self.show_work_lists, self._refused)

    def on_changed(self, changes: Changes) -> None:
        if changes & RELOAD_ON:
            self.reload_when_seen()

    def _refused(self, error: Exception) -> None:
        self.status.setText(str(error))

    # -- showing ------------------------------------------------------------------------------------------------
    def show_summary(self, summary: CloseOfDay) -> None:
        """The figures are shown a card at a time, each in its own turn of the event loop, the staff table last:
        each turn paints only what it changed, so the GUI thread is never busy long (bench/bench_dashboard.py)."""
        started = bool(self._showing)
        self._showing = [
            *(partial(card.show_figure, figure) for card, figure in zip(self.cards, summary.figures, strict=True)),
            partial(self._show_staff, summary),
            partial(self._shown, summary),
        ]
        self._show_status(summary)
        if not started:
            self._show_next()

    def _show_next(self) -> None:
        if self._showing:
            self._showing.pop(0)()
        if self._showing:
            self._next_turn.start()

    def _shown(self, summary: CloseOfDay) -> None:
        self.summary = summary

    def _show_status(self, summary: CloseOfDay) -> None:
        if summary.empty:
            self.status.setText(
                self.tr(
                    "Nothing recorded in the four weeks up to {date} yet: the figures fill in as purchases, members "
                    "and complaints are recorded."
                ).format(date=summary.day.isoformat())
            )
        else:
            self.status.setText(
                self.tr(
                    "{date}: net sales {net} (returns {returns}); compared with the same weekday of the weeks before."
                ).format(
                    date=summary.day.isoformat(),
                    net=format_yuan(summary.sales_fen - summary.returns_fen),
                    returns=format_yuan(summary.returns_fen),
                )
            )

    def show_work_lists(self, lists: tuple[WorkList, ...]) -> None:
        for work in lists:
            self.work_counts[work.code].setText(f"{work.count:,}")
            for buttons in (self.work_buttons, self.set_buttons):
                if work.code in buttons:
                    buttons[work.code].setEnabled(work.count > 0)

    def _add_work_row(self, row: int, code: str, label: str) -> None:
        """A work list's row, made with the page: its count arrives later (the slow part on a big store)."""
        count = QLabel("…")
        count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.work_grid.addWidget(QLabel(_t(label)), row, 0)
        self.work_grid.addWidget(count, row, 1)
        self.work_counts[code] = count
        action = self._work_action(code)
        if action is not None:
            button = QPushButton(action[0])
            button.setObjectName(f"work_{code}")
            button.clicked.connect(action[1])
            button.setEnabled(False)
            self.work_grid.addWidget(button, row, 2)
            self.work_buttons[code] = button
        if code in SET_LISTS:
            more = QPushButton(self.tr("Act on them…"))
            more.setObjectName(f"work_set_{code}")
            more.setToolTip(self.tr("A coupon campaign for exactly these members, follow-up tasks, or a contact list."))
            more.clicked.connect(lambda _c=False: self.act_on(code))
            more.setEnabled(False)
            self.work_grid.addWidget(more, row, 3)
            self.set_buttons[code] = more

    def act_on(self, code: str) -> None:
        """The members of a work list to the three actions on a set, as a menu under the list's button."""
        if self.services is None:
            return
        services, day = self.services, self.chosen_day()

        def offer(members: MemberSet) -> None:
            from ui.insights.member_actions import actions_menu

            button = self.set_buttons[code]
            self.set_menu = actions_menu(self.tasks, services, members, self)
            self.set_menu.popup(button.mapToGlobal(button.rect().bottomLeft()))

        self.tasks.run(lambda: services.work_lists.members_of(code, day), offer)

    def _work_action(self, code: str) -> tuple[str, Callable[[], None]] | None:
        actions = {
            "birthdays_today": (self.tr("Mark greeted"), self.greet_birthdays),
            "birthdays_week": (self.tr("Print birthday coupons…"), self.print_birthday_coupons),
            "churn_risks": (self.tr("Create follow-ups"), self.follow_up_risks),
            "overdue_complaints": (self.tr("Open complaints"), lambda: self.open_area.emit("complaints")),
            "follow_ups_due": (self.tr("Open follow-ups"), lambda: self.open_area.emit("complaints")),
            "points_expiring": (self.tr("Export list…"), self.export_expiring),
        }
        return actions.get(code)

    def _show_staff(self, summary: CloseOfDay) -> None:
        self.staff_title.setText(
            self.tr("Staff, {first} to {last}").format(
                first=summary.staff_from.isoformat(), last=summary.day.isoformat()
            )
        )
        stars = []
        if summary.sales_star is not None:
            stars.append(self.tr("Sales champion: {name}").format(name=summary.sales_star.name))
        if summary.service_star is not None:
            stars.append(self.tr("Service star: {name}").format(name=summary.service_star.name))
        self.stars.setText("    ".join(stars) or self.tr("No staff figures in this period yet."))
        header = self.staff_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # sized once below, not after every cell
        self.staff_table.setRowCount(len(summary.staff))
        for row, s in enumerate(summary.staff):
            satisfaction = (
                "—" if s.satisfaction_tenths is None else f"{s.satisfaction_tenths // 10}.{s.satisfaction_tenths % 10}"
            )
            cells = [
                s.name,
                f"{s.members_registered:,}",
                f"{s.purchases:,}",
                format_yuan(s.sales_fen),
                f"{s.complaints_resolved:,}",
                f"{s.follow_ups_done:,}",
                satisfaction,
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.staff_table.setItem(row, col, item)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    # -- actions ------------------------------------------------------------------------------------------------
    def follow_up_risks(self) -> None:
        if self.services is not None:
            self.tasks.run(self.services.work_lists.follow_up_churn_risks, self._created_follow_ups)

    def _created_follow_ups(self, done: WorkDone) -> None:
        show_info(self, self.tr("{count} follow-up calls created, due tomorrow.").format(count=done.count))

    def greet_birthdays(self) -> None:
        if self.services is not None:
            self.tasks.run(self.services.work_lists.greet_birthdays, self._greeted)

    def _greeted(self, done: WorkDone) -> None:
        show_info(self, self.tr("{count} birthdays marked as greeted.").format(count=done.count))

    def print_birthday_coupons(self) -> None:
        if self.services is None:
            return
        services = self.services

        def show(found: BirthdayCoupons) -> None:
            print_coupons(self.tasks, services, None, found.campaign_id, "a4", False, self, found.coupon_ids)

        self.tasks.run(services.work_lists.birthday_coupons, show)

    def export_expiring(self) -> None:
        if self.services is None:
            return
        chosen, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export"), "points-expiring.csv", "CSV (*.csv);;Excel (*.xlsx)"
        )
        if chosen:
            self.export_expiring_to(Path(chosen))

    def export_expiring_to(self, path: Path) -> None:
        if self.services is None:
            return
        if path.suffix.lower() not in (".csv", ".xlsx"):
            path = path.with_suffix(".csv")
        jobs = jobs_for(self.services)

        def saved(done: WorkDone) -> None:
            show_info(self, self.tr("{count} rows saved to {file}").format(count=done.count, file=path))

        self.tasks.run_job(
            self.tr("Exporting {file}").format(file=path.name),
            lambda progress: jobs().export_expiring_points(path, progress),
            saved,
        )

    def print_day(self) -> None:
        if self.services is None:
            return
        services, day = self.services, self.chosen_day()

        def write() -> Path:
            from app.dashboard.day_report import write_day_report

            summary = services.close_of_day.close_of_day(day)
            printed_at = services.close_of_day.store_now()

            def pdf(target: Path) -> None:
                write_day_report(summary, target, printed_at)

            return scratch_pdf(services.store.paths.root, "day-summary", pdf)

        title = self.tr("Day summary {date}").format(date=day.isoformat())
        self.tasks.run(write, lambda path: PrintPreviewDialog(self.tasks, Printout(path, title, False), self).open())
