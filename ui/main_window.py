"""The main window: a navigation list, the screens (built when first shown), and a status bar saying who works at
which store and branch. The window appears before the store is open; `attach(services)` brings it to life, so the
cashier can start typing while the database is still being opened."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
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
from app.lanes import Lane
from ui.care import care_page
from ui.counter.page import CounterPage
from ui.crash import log_file_path
from ui.insights.segments_page import SegmentsPage
from ui.jobs import JobStatus, job_language
from ui.labels import ROLES, label
from ui.local_settings import IDLE_LOCK_MINUTES, LANGUAGE, LAST_USERNAME, LocalSettings
from ui.messages import show_info
from ui.pages.base import Page
from ui.server_status import ServerStatus
from ui.sign_in_dialog import SignInDialog, SignInMode
from ui.signals import emit
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services, Store
    from app.jobs import BackgroundJobs
    from app.security.sign_in import SignedIn

log = logging.getLogger("memberdesk.ui")

COMPLAINTS_ROW = 2
MAINTENANCE_INTERVAL_MS = 24 * 60 * 60 * 1000
MAINTENANCE_DELAY_MS = 20_000
"""At start-up daily maintenance waits for the counter's first lookup to be answered and painted, or this long if
nobody types."""
QUIET_MS = 1000
"""…and then for a pause: no key and no answer for this long (a cashier serving the first customers is not slowed
by the other services being loaded and the day's maintenance starting)."""
BUSY_DELAY_MS = 200
"""Work quicker than this (every lookup) shows no busy indicator, so the status bar does not flicker."""
DEFAULT_SIZE = QSize(1280, 800)
FRAME_ALLOWANCE = QSize(16, 40)
"""A window manager's border and title bar, outside the size given to resize()."""
_ACTIVITY = (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel)
"""What counts as someone at the counter, for the idle lock."""


class MainWindow(QMainWindow):
    services_attached = Signal()
    services_loaded = Signal()
    """The services are made (SQLAlchemy and the models loaded): at once on a server, else once the counter is quiet
    after its first answer (app/context.py `Store`)."""

    def __init__(self, tasks: TaskRunner, local: LocalSettings | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.tasks = tasks
        self.local = local
        self.services: Services | None = None
        self.store: Store | None = None
        self.sign_in_dialog: SignInDialog | None = None
        self._first_answer = False
        self._loading = False
        self._hidden_dialogs: list[QDialog] = []
        """Dialogs hidden by the idle lock, shown again when the same person unlocks."""
        self.setWindowTitle(self.tr("MemberDesk"))
        self._idle_timer = QTimer(self, singleShot=True)
        self._idle_timer.timeout.connect(self.lock)
        self.resize(1280, 800)

        self.counter = CounterPage(tasks.for_lane(Lane.COUNTER), local)
        self.counter.answered.connect(self._answered)
        self._pages: dict[int, Page] = {0: self.counter}
        self._factories: list[tuple[str, Callable[[], Page]]] = [
            (self.tr("Counter"), lambda: self.counter),
            (self.tr("Members"), self._members_page),
            (self.tr("Complaints"), lambda: care_page(tasks, "complaints")),
            (self.tr("Coupons"), self._campaigns_page),
            (self.tr("Surveys"), lambda: care_page(tasks, "surveys")),
            (self.tr("Segments"), lambda: SegmentsPage(tasks)),
            (self.tr("Charts"), self._charts_page),
            (self.tr("Saved segments"), self._saved_segments_page),
            (self.tr("Follow-ups"), self._follow_ups_page),
            (self.tr("Close of day"), self._dashboard_page),
            (self.tr("Settings"), self._settings_page),
            (self.tr("Data & privacy"), self._trust_area),
        ]
        self.dashboard_row = next(i for i, (_t, f) in enumerate(self._factories) if f == self._dashboard_page)
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
        self._place_on_screen()

    # -- building -----------------------------------------------------------------------------------------------
    def _place_on_screen(self) -> None:
        """Where this PC last had the window, if that still fits its screen; else 1280×800 centred where it fits,
        else maximised (1366×768 at 125 % or 150 % leaves less than that above the taskbar)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
        if self.local is not None and self.local.restore_geometry(self) and available.contains(self.frameGeometry()):
            return
        room = available.size() - FRAME_ALLOWANCE
        if room.width() >= DEFAULT_SIZE.width() and room.height() >= DEFAULT_SIZE.height():
            self.resize(DEFAULT_SIZE)
            frame = self.frameGeometry()
            frame.moveCenter(available.center())
            self.move(frame.topLeft())
            return
        self.resize(room.boundedTo(DEFAULT_SIZE))
        self.move(available.topLeft())
        self.setWindowState(Qt.WindowState.WindowMaximized)

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
        self.jobs = JobStatus(self.tasks)
        self.tasks.show_jobs_in(self.jobs)
        bar.addWidget(self.store_label)
        # Qt hides the bar's normal widgets for a message only if they are visible when it comes: the sign-in's
        # message, posted while the window was still hidden, was painted over the store's name for 8 s.
        bar.messageChanged.connect(lambda message: self.store_label.setVisible(not message))
        bar.addPermanentWidget(self.server_status)
        bar.addPermanentWidget(self.jobs)
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
        self.lock_action = QAction(self.tr("Lock the counter"), self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(self.lock)
        app_menu.addAction(self.lock_action)
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

    def _dashboard_page(self) -> Page:
        from ui.dashboard.page import DashboardPage

        page = DashboardPage(self.tasks)
        page.open_area.connect(lambda _area: self.show_page(COMPLAINTS_ROW))
        return page

    def _members_page(self) -> Page:
        from ui.pages.members import MembersPage

        page = MembersPage(self.tasks)
        page.open_member.connect(self.open_member)
        return page

    def _campaigns_page(self) -> Page:
        from ui.coupons.campaigns import CampaignsPage

        return CampaignsPage(self.tasks, self.local)

    def _saved_segments_page(self) -> Page:
        from ui.insights.saved_segments_page import SavedSegmentsPage

        return SavedSegmentsPage(self.tasks)

    def _follow_ups_page(self) -> Page:
        from ui.care.follow_ups_view import FollowUpsPage

        return FollowUpsPage(self.tasks)

    def _charts_page(self) -> Page:
        from ui.charts.page import ChartsPage

        return ChartsPage(self.tasks)

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
        self.store = services.store
        self.server_status.watch(services.store)
        operator = services.operator
        self.operator_label.setText(
            self.tr("{name} ({role})").format(name=operator.display_name, role=label(ROLES, operator.role))
        )
        for page in self._pages.values():
            page.attach(services)
        self._watch_idle()
        emit(self.services_attached)
        if services.store.loaded:
            self._loaded()
        elif not self._loading:
            self._load_when_quiet(services)

    def _answered(self) -> None:
        self._first_answer = True

    def _load_when_quiet(self, services: Services) -> None:
        """The store opened without SQLAlchemy (app/context.py `Store`): it, the models and the services are loaded
        on a worker once the counter is quiet — QUIET_MS without a key or an answer, counted from the first answer
        when something was typed before the sign-in — so neither the first answer nor the next keys wait for it;
        the lookups meanwhile run on the plain connection. Then the status bar's names and the checks that read
        through the services follow."""
        self._loading = True
        quiet = QTimer(self, singleShot=True, interval=QUIET_MS)

        def restart(*_typed: str) -> None:
            quiet.start()

        def load() -> None:
            self.counter.answered.disconnect(restart)
            self.counter.lookup.textEdited.disconnect(restart)
            self.tasks.run(services.prepare, lambda _made: self._services_made())

        quiet.timeout.connect(load)
        self.counter.answered.connect(restart)
        self.counter.lookup.textEdited.connect(restart)
        if self._first_answer or not self.counter.lookup.text().strip():
            quiet.start()

    def _services_made(self) -> None:
        self.counter.on_changed(Changes.SETTINGS)  # what the counter left unread while they were not loaded
        self._loaded()

    def _loaded(self) -> None:
        """The services can be used without loading anything on the GUI thread (for whoever works now)."""
        self._loading = False
        if self.services is None:
            return
        self._load_store_names()
        self._check_starting_pin()
        emit(self.services_loaded)

    def _load_store_names(self) -> None:
        services = self.services
        if services is None:
            return

        def names() -> tuple[str, str]:
            return services.settings.current().store_name, services.info.branch_name()

        self.tasks.run(names, self._show_store_names)

    def _show_store_names(self, names: tuple[str, str]) -> None:
        store, branch = names
        self.store_label.setText(self.tr("{store} · {branch}").format(store=store, branch=branch))
        self.setWindowTitle(self.tr("MemberDesk — {store}").format(store=store))

    def start_daily_maintenance(self) -> None:
        """Expire due points and apply due tier reviews now and once a day, so a counter left running for weeks
        still shows true balances and tiers (idempotent: several counters of a chain may all do it).

        It runs on the heavy lane (app/lanes.py): on a big store a clearing day can mean thousands of members, and
        neither the counter's lookups nor the lists may queue behind them. At start-up it waits until the first
        lookup has been answered and painted and the counter then pauses for QUIET_MS (or MAINTENANCE_DELAY_MS at
        the latest), so it never competes with the first keystrokes."""
        timer = QTimer(self, interval=MAINTENANCE_INTERVAL_MS)
        timer.timeout.connect(self._run_maintenance)
        first = QTimer(self, singleShot=True, interval=MAINTENANCE_DELAY_MS)
        quiet = QTimer(self, singleShot=True, interval=QUIET_MS)

        armed = False

        def restart(*_typed: str) -> None:
            quiet.start()

        def arm() -> None:  # the first answer is painted: from now on every key and every answer holds the work back
            nonlocal armed
            armed = True
            self.counter.answered.disconnect(arm)
            self.counter.answered.connect(restart)
            self.counter.lookup.textEdited.connect(restart)
            quiet.start()

        def begin() -> None:
            if armed:
                self.counter.answered.disconnect(restart)
                self.counter.lookup.textEdited.disconnect(restart)
            else:
                self.counter.answered.disconnect(arm)
            first.stop()
            quiet.stop()
            if self.services is not None:  # what the counter has not used yet, made on a worker (app/context.py)
                self.tasks.run(self.services.prepare)
            timer.start()
            self._run_maintenance()

        first.timeout.connect(begin)
        quiet.timeout.connect(begin)
        self.counter.answered.connect(arm)
        first.start()
        if self._first_answer:  # the services were loaded after the first answer (`_load_when_quiet`)
            arm()

    def _run_maintenance(self) -> None:
        """Each step in a process of its own (app/jobs.py), shown with a Stop button in the status bar."""
        services = self.services
        if services is None:
            return
        language = job_language()

        def jobs() -> BackgroundJobs:
            # Made, and its modules imported, on the heavy lane's worker, never on the GUI thread.
            from app.jobs import BackgroundJobs

            return BackgroundJobs.of(services, language)

        self.jobs.run(
            self.tr("Daily maintenance"),
            lambda progress: jobs().maintenance(progress),
            lambda result: log.info("daily maintenance: %s", result),
            changes=Changes.POINTS | Changes.MEMBERS,
        )
        self.jobs.run(
            self.tr("Coupon maintenance"),
            lambda progress: jobs().coupon_maintenance(progress),
            lambda result: log.info("coupon maintenance: %s", result),
        )
        self.jobs.run(
            self.tr("Daily backup"),
            lambda progress: jobs().auto_backup(progress),
            lambda made: log.info("daily backup: %s", made and made.path),
        )
        self.jobs.run(self.tr("Segment refresh"), lambda progress: jobs().segments_if_due(progress))
        # A few short transactions folding the day's points into the points day totals (the points chart).
        self.tasks.for_lane(Lane.HEAVY).run(
            lambda: services.charts.catch_up_points(), lambda moved: log.info("points day totals: %s rows", moved)
        )
        self.tasks.for_lane(Lane.HEAVY).run(
            services.charts.pack_spend_months, lambda packed: log.info("spend months packed: %s", packed)
        )

    def _check_starting_pin(self) -> None:
        services = self.services
        if services is not None:
            self.tasks.run(services.staff.needs_new_pin, lambda needs: self._starting_pin(services, needs))

    def _starting_pin(self, services: Services, needs_new_pin: bool) -> None:
        """Whoever still signs in with the starting PIN is reminded in the status bar until they replace it (they
        are asked once right at their sign-in, never by a prompt that pops up while the counter is typing)."""
        if services is self.services:  # else someone else signed in meanwhile
            self.pin_hint.setVisible(needs_new_pin)

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

    def store_opened(self, store: Store) -> None:
        """The store is open: whoever works at this counter signs in first (the last account is pre-selected)."""
        self.store = store
        self.ask_sign_in(SignInMode.START)

    def ask_sign_in(self, mode: SignInMode) -> None:
        if self.store is None or self.sign_in_dialog is not None:
            return
        previous = self.services.operator if self.services is not None else None
        last = self.local.get(LAST_USERNAME) if self.local is not None else ""
        preselect = "" if mode is SignInMode.SWITCH else last
        dialog = SignInDialog(self.tasks.for_lane(Lane.COUNTER), self.store.sign_ins(), mode, preselect, previous, self)
        dialog.signed_in.connect(self._signed_in)
        dialog.finished.connect(lambda _result: self._sign_in_closed(dialog))
        self.sign_in_dialog = dialog
        dialog.open()

    def _sign_in_closed(self, dialog: SignInDialog) -> None:
        self.sign_in_dialog = None
        self.stack.show()
        hidden, self._hidden_dialogs = self._hidden_dialogs, []
        for waiting in hidden:
            waiting.show()  # the same person: the half-done dialog is back; another one's were closed at sign-in
        if dialog.result() != SignInDialog.DialogCode.Accepted and dialog.mode is not SignInMode.SWITCH:
            self.close()  # nobody may work unsigned: closing the sign-in closes MemberDesk
            return
        self._watch_idle()
        if not self.counter.dialog:
            self.counter.focus_lookup()

    def switch_operator(self) -> None:
        if self.services is not None:
            self.ask_sign_in(SignInMode.SWITCH)

    def lock(self) -> None:
        """Idle too long: the counter stays as it was behind the sign-in, which asks for the PIN again."""
        if self.services is None or self.store is None or self.sign_in_dialog is not None:
            return
        operator, sign_ins = self.services.operator, self.store.sign_ins()
        self.tasks.run(lambda: sign_ins.sign_out(operator, "lock"))
        self.stack.hide()  # kept as it was, but no customer's data shows on a counter nobody is at
        self._hidden_dialogs = [
            widget
            for widget in QApplication.topLevelWidgets()
            if isinstance(widget, QDialog) and widget.isVisible() and widget.parentWidget() is not None
        ]
        for dialog in self._hidden_dialogs:
            dialog.hide()
        self.ask_sign_in(SignInMode.LOCKED)

    def _signed_in(self, result: SignedIn) -> None:
        if self.local is not None:
            self.local.set(LAST_USERNAME, result.username)
        operator = result.operator
        self.statusBar().showMessage(
            self.tr("Signed in as {name} ({role}).").format(
                name=operator.display_name, role=label(ROLES, operator.role)
            ),
            8000,
        )
        same = self.services is not None and self.services.operator.staff_id == operator.staff_id
        if not same and self.store is not None:
            if self.services is not None:  # another person: nothing of the previous one's customer stays open
                for waiting in [*self._hidden_dialogs, self.counter.dialog]:
                    if waiting is not None:
                        waiting.reject()  # it would act as the previous operator
                self._hidden_dialogs = []
                self.counter.clear_for_new_operator()
            serving = bool(self.counter.lookup.text().strip())  # typed while the store opened: the counter stays
            services = self.store.services(operator)
            self.attach(services)
            from app.vocabulary import StaffRole  # not at import: the first screen loads no database library

            if operator.at_least(StaffRole.MANAGER) and not serving:  # owners and managers land on the day's figures
                self.tasks.run(services.prepare, lambda _made: self._land_on_dashboard(services))
        if result.starting_pin:
            self.change_pin(starting_pin=True)

    def _land_on_dashboard(self, services: Services) -> None:
        """The close-of-day figures, once their services are made on a worker (else the page's first use would
        import them on the GUI thread); not if someone else signed in or a customer's number was typed meanwhile."""
        if services is self.services and not self.counter.lookup.text().strip():
            self.show_page(self.dashboard_row)

    def _idle_ms(self) -> int:
        """Read at every restart, so a change on the This PC tab counts from the next key."""
        minutes = self.local.idle_lock_minutes() if self.local is not None else IDLE_LOCK_MINUTES.default
        return minutes * 60_000

    def _watch_idle(self) -> None:
        if self.services is not None and self.sign_in_dialog is None:
            self._idle_timer.start(self._idle_ms())
            app = QApplication.instance()
            if app is not None:
                app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY and self._idle_timer.isActive():
            self._idle_timer.start(self._idle_ms())
        return False

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
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._idle_timer.stop()
        if self.services is not None and self.store is not None:
            operator, sign_ins = self.services.operator, self.store.sign_ins()
            self.tasks.run(lambda: sign_ins.sign_out(operator))
            self.services = None
        super().closeEvent(event)
