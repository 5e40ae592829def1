"""The main window: a navigation list, the screens (built when first shown), and a status bar saying who works at
which store and branch. The window appears before the store is open; `attach(services)` brings it to life, so the
cashier can start typing while the database is still being opened."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QStackedWidget,
    QWidget,
)

from app.changes import Changes
from ui.care import care_page
from ui.counter.page import CounterPage
from ui.crash import log_file_path
from ui.insights.segments_page import SegmentsPage
from ui.labels import ROLES, label
from ui.local_settings import LANGUAGE, LAST_USERNAME, LocalSettings
from ui.messages import show_info
from ui.pages.base import Page
from ui.pages.not_yet import NotYetPage
from ui.server_status import ServerStatus
from ui.signals import emit
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services

log = logging.getLogger("memberdesk.ui")

MAINTENANCE_INTERVAL_MS = 24 * 60 * 60 * 1000
BUSY_DELAY_MS = 200
"""Work quicker than this (every lookup) shows no busy indicator, so the status bar does not flicker."""


class MainWindow(QMainWindow):
    services_attached = Signal()

    def __init__(self, tasks: TaskRunner, local: LocalSettings | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.tasks = tasks
        self.local = local
        self.services: Services | None = None
        self._asked_for_pin: set[int | None] = set()
        """Staff asked this session to replace the starting PIN: asked once, then only the status bar reminds."""
        self.setWindowTitle(self.tr("MemberDesk"))
        self.resize(1280, 800)

        self.counter = CounterPage(tasks, local)
        self._pages: dict[int, Page] = {0: self.counter}
        self._factories: list[tuple[str, Callable[[], Page]]] = [
            (self.tr("Counter"), lambda: self.counter),
            (self.tr("Members"), self._members_page),
            (self.tr("Complaints"), lambda: care_page(tasks, "complaints")),
            (self.tr("Coupons"), lambda: NotYetPage(tasks, self.tr("Coupons"))),
            (self.tr("Surveys"), lambda: care_page(tasks, "surveys")),
            (self.tr("Segments"), lambda: SegmentsPage(tasks)),
            (self.tr("Settings"), self._settings_page),
            (self.tr("Data & privacy"), self._trust_area),
        ]
        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.stack = QStackedWidget()
        for row, (title, _factory) in enumerate(self._factories):
            QListWidgetItem(title, self.navigation)
            self.stack.addWidget(self.counter if row == 0 else QWidget())
        self.navigation.currentRowChanged.connect(self.show_page)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.navigation)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self._build_status_bar()
        self._build_menus()
        tasks.changed.connect(self._changed)
        tasks.busy_changed.connect(self._busy)
        self.navigation.setCurrentRow(0)
        if local is not None:
            local.restore_geometry(self)

    # -- building -----------------------------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.store_label = QLabel(self.tr("Opening the store…"))
        self.store_label.setObjectName("storeLabel")
        self.operator_label = QLabel()
        self.operator_label.setObjectName("operatorLabel")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(90)
        self.busy_bar.setMaximumHeight(12)
        self.busy_bar.hide()
        self._busy_timer = QTimer(self, singleShot=True, interval=BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(self.busy_bar.show)
        hint = QLabel(self.tr("F12 switch operator"))
        hint.setObjectName("statusHint")
        hint_text = self.tr("Please replace the starting PIN")
        self.pin_hint = QLabel(f'<a href="#" style="color: #e65100">{hint_text}</a>')
        self.pin_hint.setObjectName("pinHint")
        self.pin_hint.setToolTip(self.tr("You still sign in with the store's starting PIN. Click to choose your own."))
        self.pin_hint.linkActivated.connect(lambda _link: self.change_pin())
        self.pin_hint.hide()
        self.server_status = ServerStatus(self.tasks)
        bar.addWidget(self.store_label)
        bar.addPermanentWidget(self.server_status)
        bar.addPermanentWidget(self.pin_hint)
        bar.addPermanentWidget(self.busy_bar)
        bar.addPermanentWidget(self.operator_label)
        bar.addPermanentWidget(hint)

    def _build_menus(self) -> None:
        app_menu = self.menuBar().addMenu(self.tr("&MemberDesk"))
        self.switch_action = QAction(self.tr("Switch operator…"), self)
        self.switch_action.setShortcut(QKeySequence("F12"))
        self.switch_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.switch_action.triggered.connect(self.switch_operator)
        app_menu.addAction(self.switch_action)
        self.change_pin_action = QAction(self.tr("Change my PIN…"), self)
        self.change_pin_action.triggered.connect(lambda: self.change_pin())
        app_menu.addAction(self.change_pin_action)
        app_menu.addSeparator()
        quit_action = QAction(self.tr("Quit"), self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        app_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu(self.tr("&Go"))
        for row in range(self.navigation.count()):
            action = QAction(self.navigation.item(row).text(), self)
            action.setShortcut(QKeySequence(f"Ctrl+{row + 1}"))
            action.triggered.connect(lambda _checked=False, row=row: self.navigation.setCurrentRow(row))
            view_menu.addAction(action)

        language_menu = self.menuBar().addMenu(self.tr("&Language"))
        group = QActionGroup(self)
        current = self.local.language() if self.local is not None else ""
        for code, name in (("zh_CN", "中文"), ("en", "English")):  # each language by its own name
            action = QAction(name, self, checkable=True, checked=code == current)
            action.triggered.connect(lambda _checked=False, code=code: self.choose_language(code))
            group.addAction(action)
            language_menu.addAction(action)

        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        about = QAction(self.tr("About MemberDesk"), self)
        about.triggered.connect(self.about)
        help_menu.addAction(about)

    def _members_page(self) -> Page:
        from ui.pages.members import MembersPage

        page = MembersPage(self.tasks)
        page.open_member.connect(self.open_member)
        return page

    def _settings_page(self) -> Page:
        from ui.pages.settings_area import SettingsArea

        return SettingsArea(self.tasks, self.local)

    def _trust_area(self) -> Page:
        from ui.trust.area import TrustArea

        return TrustArea(self.tasks)

    # -- pages --------------------------------------------------------------------------------------------------
    def page(self, row: int) -> Page:
        """The screen at `row`, built the first time it is needed (so start-up builds only the counter)."""
        if row not in self._pages:
            page = self._factories[row][1]()
            self._pages[row] = page
            stand_in = self.stack.widget(row)
            assert stand_in is not None
            self.stack.removeWidget(stand_in)
            stand_in.deleteLater()
            self.stack.insertWidget(row, page)
            if self.services is not None:
                page.attach(self.services)
        return self._pages[row]

    def show_page(self, row: int) -> None:
        if row < 0:
            return
        self.stack.setCurrentWidget(self.page(row))
        if self.navigation.currentRow() != row:
            self.navigation.setCurrentRow(row)

    def open_member(self, member_id: int) -> None:
        self.show_page(0)
        self.counter.open_member(member_id)

    def _changed(self, changes: Changes) -> None:
        for page in self._pages.values():
            page.on_changed(changes)
        if changes & Changes.SETTINGS:
            self._load_store_names()
        if changes & Changes.STAFF:
            self._check_starting_pin()

    def _busy(self, busy: bool) -> None:
        if busy:
            self._busy_timer.start()
        else:
            self._busy_timer.stop()
            self.busy_bar.hide()

    # -- operator and store -------------------------------------------------------------------------------------
    def attach(self, services: Services) -> None:
        """The store is open (or another operator signed in): every screen now works as this operator."""
        self.services = services
        self.server_status.watch(services.store)
        operator = services.operator
        self.operator_label.setText(
            self.tr("{name} ({role})").format(name=operator.display_name, role=label(ROLES, operator.role))
        )
        for page in self._pages.values():
            page.attach(services)
        self._load_store_names()
        self._check_starting_pin()
        emit(self.services_attached)

    def _load_store_names(self) -> None:
        services = self.services
        if services is None:
            return
        from app.members.queries import branch_name

        def names() -> tuple[str, str]:
            return services.settings.current().store_name, branch_name(services.store.db, services.operator.branch_id)

        self.tasks.run(names, self._show_store_names)

    def _show_store_names(self, names: tuple[str, str]) -> None:
        store, branch = names
        self.store_label.setText(self.tr("{store} · {branch}").format(store=store, branch=branch))
        self.setWindowTitle(self.tr("MemberDesk — {store}").format(store=store))

    def start_daily_maintenance(self, background: TaskRunner) -> None:
        """Expire due points and apply due tier reviews now and once a day, so a counter left running for weeks
        still shows true balances and tiers (idempotent: several counters of a chain may all do it).

        It runs on its own runner: on a big store a clearing day can mean thousands of short transactions, and
        the counter's lookups must not queue behind them."""
        background.changed.connect(self._changed)
        timer = QTimer(self, interval=MAINTENANCE_INTERVAL_MS)
        timer.timeout.connect(lambda: self._run_maintenance(background))
        timer.start()
        self._run_maintenance(background)

    def _run_maintenance(self, background: TaskRunner) -> None:
        if self.services is not None:
            background.run(
                self.services.loyalty.daily_maintenance,
                lambda result: log.info("daily maintenance: %s", result),
                changes=Changes.POINTS | Changes.MEMBERS,
            )
            background.run(
                self.services.backups.auto_backup, lambda made: log.info("daily backup: %s", made and made.path)
            )
            background.run(self.services.segments.refresh_if_due)

    def _check_starting_pin(self) -> None:
        services = self.services
        if services is not None:
            self.tasks.run(services.staff.needs_new_pin, lambda needs: self._starting_pin(services, needs))

    def _starting_pin(self, services: Services, needs_new_pin: bool) -> None:
        """Whoever still signs in with the starting PIN is asked once to replace it (it can wait: a queue at the
        counter comes first), and reminded in the status bar until they do."""
        if services is not self.services:
            return  # someone else signed in meanwhile
        self.pin_hint.setVisible(needs_new_pin)
        staff_id = services.operator.staff_id
        if needs_new_pin and staff_id not in self._asked_for_pin:
            self._asked_for_pin.add(staff_id)
            self.change_pin(starting_pin=True)

    def change_pin(self, starting_pin: bool = False) -> None:
        if self.services is None:
            return
        from ui.admin.pins import ChangePinDialog

        dialog = ChangePinDialog(self.tasks, self.services, self, starting_pin)
        dialog.completed.connect(lambda text: self.statusBar().showMessage(text, 8000))
        dialog.finished.connect(self.counter.focus_lookup)
        dialog.open()

    def store_failed(self, message: str) -> None:
        self.store_label.setText(self.tr("The store could not be opened: {message}").format(message=message))

    def switch_operator(self) -> None:
        if self.services is None:
            return
        from ui.operator_dialog import OperatorDialog

        username = self.local.get(LAST_USERNAME) if self.local is not None else ""
        dialog = OperatorDialog(self.tasks, self.services, username, self)
        dialog.signed_in.connect(self._signed_in)
        dialog.completed.connect(lambda text: self.statusBar().showMessage(text, 8000))
        dialog.finished.connect(self.counter.focus_lookup)
        dialog.open()

    def _signed_in(self, services: Services, username: str) -> None:
        if self.local is not None:
            self.local.set(LAST_USERNAME, username)
        self.attach(services)

    # -- menus --------------------------------------------------------------------------------------------------
    def choose_language(self, code: str) -> None:
        if self.local is not None:
            self.local.set(LANGUAGE, code)
        show_info(self, self.tr("The new language is used the next time MemberDesk starts."))

    def about(self) -> None:
        from importlib import metadata

        try:
            version = metadata.version("memberdesk")
        except metadata.PackageNotFoundError:
            version = "?"
        show_info(
            self,
            self.tr("MemberDesk {version}\nMember management at the store counter.\nLog: {log}").format(
                version=version, log=log_file_path() or "—"
            ),
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.local is not None:
            self.local.save_geometry(self)
        super().closeEvent(event)
