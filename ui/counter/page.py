"""The counter page (收银台), keyboard first: the lookup box has the focus, matches appear as you type, Enter opens
the top match, Esc goes back, function keys act on the open member (docs/ARCHITECTURE.md §5)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.errors import MemberDeskError, ValidationError
from app.members.validation import fold_width, normalize_phone
from ui import formatting as fmt
from ui.counter.lookup_box import LookupBox
from ui.counter.panel import MemberPanel
from ui.coupons.counter import lookup_with_coupons
from ui.flow_layout import FlowLayout
from ui.forms import ActionDialog
from ui.i18n import local_name
from ui.local_settings import SLIP_WIDTH_MM, LocalSettings
from ui.messages import show_error
from ui.models import Column, RowsModel, number_column, row_table
from ui.pages.base import Page
from ui.signals import emit
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.members.profile import MemberProfile
    from app.members.service import LookupResult, MemberForm, MemberHit
    from ui.printing.slips import SlipContent

_CARD = re.compile(r"(?=.*\d)[0-9A-Za-z]{6,20}")
MEMBER_CHANGES = (
    Changes.MEMBERS
    | Changes.POINTS
    | Changes.SALES
    | Changes.COUPONS
    | Changes.COMPLAINTS
    | Changes.CATALOGUE
    | Changes.FOLLOW_UPS
)


def prefill_for(text: str) -> MemberForm:
    """A registration form started from what was typed: a phone, a scanned card, or else a name. Full-width
    digits and letters from a Chinese input method count as the ASCII ones."""
    from app.members.service import MemberForm

    text = fold_width(text).strip()
    try:
        return MemberForm(phone=normalize_phone(text), name="")
    except ValidationError:
        pass
    if _CARD.fullmatch(text):
        return MemberForm(phone="", name="", card_no=text)
    return MemberForm(phone="", name=text)


class CounterPage(Page):
    answered = Signal()
    """A lookup's answer is on screen, painted (the main window starts the work that can wait after the first)."""

    def __init__(self, tasks: TaskRunner, local: LocalSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("counterPage")
        self.local = local
        self._cards_printable = False
        """The store's cards.print_enabled: some stores hand out pre-printed cards only."""
        self.slip: SlipContent | None = None
        """The slip the last action at the counter offered, while its member stays open."""
        self._lookup_seq = 0
        self._member_seq = 0
        self._answered: tuple[str, LookupResult] | None = None
        """The query the pick-list shows the answer to, and that answer."""
        self._unpainted = False
        """An answer is set but not yet painted (`answered` is emitted once it is)."""
        self._enter_pending: bool | None = None
        """Enter was pressed before the answer for the current text came: open it when it does (True: a scan)."""
        self.dialog: ActionDialog | None = None
        self.member_id: int | None = None
        """The one current member: shown (or being loaded) in the panel, and the only one F3–F9 act on. A new
        search, Esc, a scan, a registration and an operator switch each change it, and the panel shows the result."""

        self.lookup = LookupBox()
        self.lookup.setPlaceholderText(self.tr("Phone, last 4 digits, card number, name or pinyin — or scan a card"))
        self.lookup.textEdited.connect(self._text_edited)
        self.lookup.move_selection.connect(self._move_selection)
        self.lookup.submitted.connect(self._submitted)
        self.lookup.escaped.connect(self._escaped)
        self._in_flight = False
        """A lookup is on its way: keys typed meanwhile are looked up once it is back (`_again`)."""
        self._again: bool | None = None
        """Look up again when the answer on its way is back (True: only to refresh what is shown)."""

        self.hits: RowsModel[MemberHit] = RowsModel(self._hit_columns(), self)
        self.hits_view = row_table(self.hits, takes_focus=False)
        self.hits_view.setObjectName("hitsView")
        self.hits_view.horizontalHeader().setStretchLastSection(True)  # names fit their text, never squeezed to "姓"
        self.hits_view.clicked.connect(lambda index: self._open_hit(index.row()))

        self.no_match = QLabel()
        self.no_match.setObjectName("noMatch")
        self.no_match.setWordWrap(True)
        self.no_match.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.register_typed = QPushButton()
        self.register_typed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.register_typed.clicked.connect(self.register_member)
        self.no_match_page = QWidget()
        no_match_layout = QVBoxLayout(self.no_match_page)
        no_match_layout.addStretch(1)
        no_match_layout.addWidget(self.no_match)
        no_match_layout.addWidget(self.register_typed, 0, Qt.AlignmentFlag.AlignCenter)
        no_match_layout.addStretch(2)
        self.idle = QLabel(self.tr("Matches appear here as you type.\n↑ ↓ choose · Enter open · Esc clear"))
        self.idle.setObjectName("emptyHint")
        self.idle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.idle.setWordWrap(True)
        self.results = QStackedWidget()
        for widget in (self.idle, self.hits_view, self.no_match_page):
            self.results.addWidget(widget)
        for painted in (self.hits_view.viewport(), self.no_match_page):
            painted.installEventFilter(self)

        self.panel = MemberPanel(tasks)
        panel_scroll = QScrollArea()  # on a small screen (1366×768 at 150 %) the member scrolls, the window fits
        panel_scroll.setObjectName("panelScroll")
        panel_scroll.setWidget(self.panel)
        panel_scroll.setWidgetResizable(True)
        panel_scroll.setFrameShape(QFrame.Shape.NoFrame)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.results)
        splitter.addWidget(panel_scroll)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([460, 820])
        splitter.setChildrenCollapsible(False)

        self.actions_bar = FlowLayout()
        self.member_actions: list[QAction] = []
        self.register_action = self._action("F2", self.tr("Register"), self.register_member, needs_member=False)
        self.edit_action = self._action("F3", self.tr("Edit member"), self.edit_member)
        self.purchase_action = self._action("F4", self.tr("Purchase"), self.record_purchase)
        self.gift_action = self._action("F5", self.tr("Redeem gift"), self.redeem_gift)
        self.return_action = self._action("F6", self.tr("Return"), self.return_purchase)
        self.adjust_action = self._action("F7", self.tr("Adjust points"), self.adjust_points)
        self.card_action = self._action("F8", self.tr("Print member card"), self.print_member_card, needs_member=False)
        self.slip_action = self._action("F9", self.tr("Print slip"), self.print_slip, needs_member=False)
        self.complaint_action = self._action("F11", self.tr("Complaint"), self.log_complaint, needs_member=False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.lookup)
        layout.addWidget(splitter, 1)
        layout.addLayout(self.actions_bar)
        self._member_actions_enabled(False)

    # -- building -----------------------------------------------------------------------------------------------
    def _hit_columns(self) -> list[Column[MemberHit]]:
        return [
            Column(lambda: self.tr("Name"), lambda h: h.name),
            Column(lambda: self.tr("Phone"), lambda h: h.phone or h.masked_phone),
            Column(lambda: self.tr("Tier"), lambda h: local_name(h.tier_name, h.tier_name_en)),
            number_column(lambda: self.tr("Points"), lambda h: h.points, fmt.points),
            Column(lambda: self.tr("Last visit"), lambda h: fmt.local_date(h.last_visit_at)),
        ]

    def _action(self, key: str, text: str, slot: Callable[[], None], needs_member: bool = True) -> QAction:
        action = QAction(f"{key} {text}", self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        button = QToolButton()
        button.setDefaultAction(action)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setObjectName("fkeyButton")
        self.actions_bar.addWidget(button)
        if needs_member:
            self.member_actions.append(action)
        return action

    def _member_actions_enabled(self, enabled: bool) -> None:
        for action in self.member_actions:
            action.setEnabled(enabled)
        self._print_actions_enabled()

    def _print_actions_enabled(self) -> None:
        """A card only where the store prints its own and the member has a number; a slip only for the open member."""
        profile = self.panel.profile
        self.card_action.setEnabled(self._cards_printable and profile is not None and bool(profile.card_no))
        self.slip_action.setEnabled(self.slip is not None and profile is not None and self.slip.member_id == profile.id)

    # -- page ---------------------------------------------------------------------------------------------------
    def attach(self, services: Services) -> None:
        """A new operator (or the store just opened): start clean, and answer what was typed while waiting."""
        super().attach(services)
        self.close_member()
        self._answered = None
        if self.lookup.text().strip():
            self._run_lookup()
        self._load_card_setting()

    def _load_card_setting(self) -> None:
        """Read once the services are loaded (the main window asks again then: ui/main_window.py)."""
        if (services := self.services) is not None and services.store.loaded:
            self.tasks.run(lambda: services.settings.current().cards_print_enabled, self._card_setting_loaded)

    def _card_setting_loaded(self, printable: bool) -> None:
        self._cards_printable = printable
        self._print_actions_enabled()

    def on_changed(self, changes: Changes) -> None:
        if changes & Changes.SETTINGS:
            self._load_card_setting()
        if not changes & MEMBER_CHANGES:
            return
        if self.member_id is not None:
            self._load_member(self.member_id, keep_notice=True)
        if self._answered is not None and self._answered[1].hits:
            self._run_lookup(refresh=True)

    def focus_lookup(self) -> None:
        self.lookup.setFocus(Qt.FocusReason.OtherFocusReason)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.focus_lookup()

    # -- lookup -------------------------------------------------------------------------------------------------
    def _text_edited(self, text: str) -> None:
        """Typing is a new search: the member open until now is closed at the first key, so no function key can
        act on the previous customer while the next one's number is typed."""
        self._enter_pending = None
        if self.member_id is not None:
            self.close_member()
        if text.strip():
            self._run_lookup()
            return
        self._lookup_seq += 1  # anything still on its way answers a question nobody asks any more
        self._answered = None
        self.hits.set_rows([])
        self.results.setCurrentWidget(self.idle)

    def _run_lookup(self, refresh: bool = False) -> None:
        """Look the box's text up at once. While a lookup is on its way the keys typed meanwhile wait for it and
        are then looked up together (a burst or a scanner costs a lookup per answer, not per key, and the last key
        is never kept waiting by a timer: docs/ARCHITECTURE.md §7, last key → painted ≤ 30 ms, ≤ 50 ms after a
        burst)."""
        services = self.services
        query = self.lookup.text()
        if services is None or not query.strip():
            return
        if self._in_flight:
            self._again = refresh and self._again is not False
            return
        self._in_flight = True
        self._lookup_seq += 1
        seq = self._lookup_seq
        self.tasks.run(
            lambda: lookup_with_coupons(services, query),
            lambda result: self._answer(seq, query, result, refresh),
            self._lookup_refused,
            on_failed=self._lookup_failed,
        )

    def _lookup_back(self) -> bool | None:
        """The lookup on its way is back; whether (and how) to look up again."""
        again, self._again, self._in_flight = self._again, None, False
        return again

    def _lookup_refused(self, error: MemberDeskError) -> None:
        self._lookup_back()
        show_error(self, str(error))

    def _lookup_failed(self) -> None:
        self._lookup_back()

    def _answer(self, seq: int, query: str, result: LookupResult, refresh: bool) -> None:
        again = self._lookup_back()
        if seq != self._lookup_seq or (again is not None and query != self.lookup.text()):
            # The box was emptied, or has moved on: what it holds now is looked up, this stale answer never shown.
            if again is not None:
                self._run_lookup(again)
            return
        selected = self._selected_hit()
        self._answered = (query, result)
        self._unpainted = True
        self.hits.set_rows(result.hits)
        if not result.hits:
            self._show_no_match(query)
        else:
            self.results.setCurrentWidget(self.hits_view)
            ids = [hit.id for hit in result.hits]
            self._select_row(ids.index(selected.id) if refresh and selected and selected.id in ids else 0)
        if again is not None:
            self._run_lookup(again)
        if refresh:
            return
        pending, self._enter_pending = self._enter_pending, None
        if result.exact and len(result.hits) == 1:
            self._open_hit(0)
        elif pending is not None:
            self._act_on_answer(scan=pending)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._unpainted and event.type() == QEvent.Type.Paint:
            self._unpainted = False
            QTimer.singleShot(0, lambda: emit(self.answered))  # after the paint, not inside it
        return False

    def _show_no_match(self, query: str) -> None:
        self.no_match.setText(self.tr('No member matches "{query}".').format(query=query.strip()))
        self.register_typed.setText(self.tr("F2 Register with what was typed"))
        self.results.setCurrentWidget(self.no_match_page)

    def _submitted(self, scan: bool) -> None:
        if not self.lookup.text().strip():
            return
        if self._answered is not None and self._answered[0] == self.lookup.text():
            self._act_on_answer(scan)
            return
        self._enter_pending = scan
        self._run_lookup()

    def _act_on_answer(self, scan: bool) -> None:
        """Enter on an answered query: open the chosen match; a scan that found nothing says so plainly."""
        assert self._answered is not None
        query, result = self._answered
        if scan and not (result.hits and result.exact):
            self.close_member()
            self.panel.show_notice(self.tr("Card {code} not found.").format(code=query.strip()), warning=True)
        elif result.hits:
            row = self.hits_view.currentIndex().row()
            self._open_hit(row if row >= 0 else 0)
        else:
            self.register_member()

    def _selected_hit(self) -> MemberHit | None:
        return self.hits.row_at(self.hits_view.currentIndex().row())

    def _select_row(self, row: int) -> None:
        index = self.hits.index(row, 0)
        self.hits_view.setCurrentIndex(index)
        self.hits_view.scrollTo(index)

    def _move_selection(self, step: int) -> None:
        count = self.hits.rowCount()
        if count and self.results.currentWidget() is self.hits_view:
            current = self.hits_view.currentIndex().row()
            self._select_row(max(0, min(count - 1, current + step)))

    def _escaped(self) -> None:
        """Esc is back to a clean counter at once: what was typed and the open member both go."""
        self.lookup.clear()
        self._text_edited("")
        self.close_member()

    # -- the open member ----------------------------------------------------------------------------------------
    def _open_hit(self, row: int) -> None:
        hit = self.hits.row_at(row)
        if hit is not None:
            self.open_member(hit.id)

    def open_member(self, member_id: int) -> None:
        if self.slip is not None and self.slip.member_id != member_id:
            self.slip = None
        if member_id != self.member_id:
            self.close_member()  # until the new member is shown, nothing can act on the previous one
        self.member_id = member_id
        self._load_member(member_id, keep_notice=False)
        self.lookup.selectAll()  # the next customer's number simply replaces this one
        self.focus_lookup()

    def _load_member(self, member_id: int, keep_notice: bool) -> None:
        services = self.services
        if services is None:
            return
        self._member_seq += 1
        seq = self._member_seq
        if not keep_notice:
            self.panel.hide_notice()
        self.panel.follow_ups_tab.show_member(services, member_id)  # first: the profile then names the member
        self.tasks.run(lambda: services.members.profile(member_id), lambda profile: self._show_member(seq, profile))
        self.tasks.run(lambda: services.care.complaints.member_summary(member_id), self.panel.show_complaints)
        self.panel.sales_model.set_loader(lambda offset, limit: services.members.sales_page(member_id, offset, limit))
        self.panel.ledger_model.set_loader(lambda offset, limit: services.members.ledger_page(member_id, offset, limit))
        self.panel.coupons_tab.show_member(services, member_id)

    def _show_member(self, seq: int, profile: MemberProfile) -> None:
        if seq != self._member_seq or profile.id != self.member_id:
            return
        self.panel.show_profile(profile)
        self._member_actions_enabled(True)

    def clear_for_new_operator(self) -> None:
        """Another person signed in: what the previous one typed and their customer are gone from the screen."""
        self.lookup.clear()
        self._text_edited("")
        self.close_member()

    def close_member(self) -> None:
        self.member_id = None
        self._member_seq += 1
        self.slip = None
        self.panel.clear()
        self._member_actions_enabled(False)

    # -- actions ------------------------------------------------------------------------------------------------
    def _show_dialog(self, dialog: ActionDialog, about_member: bool = True) -> None:
        """Dialogs open without blocking; when they close the focus comes back to the lookup box. A dialog about
        the member says whom in its title, so the cashier sees who it acts on."""
        if about_member and self.panel.profile is not None:
            dialog.setWindowTitle(
                self.tr("{action} — {name}").format(action=dialog.windowTitle(), name=self.panel.profile.name)
            )
        self.dialog = dialog
        dialog.completed.connect(lambda text: self._completed(text, dialog.slip))
        dialog.finished.connect(self._dialog_closed)
        dialog.open()

    def _completed(self, text: str, slip: SlipContent | None) -> None:
        """The confirmation, offering the slip the action warrants (the previous action's offer ends here)."""
        self.slip = slip
        self.panel.show_notice(text, action=self.slip_action if slip is not None else None)
        self._print_actions_enabled()

    def _dialog_closed(self) -> None:
        self.dialog = None
        self.focus_lookup()

    def _ready(self) -> tuple[Services, MemberProfile] | None:
        services, profile = self.services, self.panel.profile
        if services is None or profile is None or profile.id != self.member_id:
            return None
        return services, profile

    def register_member(self) -> None:
        if self.services is None:
            return
        from ui.counter.member_dialog import MemberDialog

        answered_empty = self._answered is not None and not self._answered[1].hits
        prefill = prefill_for(self._answered[0]) if self._answered is not None and answered_empty else None
        dialog = MemberDialog(self.tasks, self.services, None, prefill, self)
        dialog.member_saved.connect(self._registered)
        dialog.open_existing.connect(self.open_member)
        self._show_dialog(dialog, about_member=False)

    def _registered(self, member_id: int) -> None:
        """The new member is the current one; the search that found nobody is over."""
        self.lookup.clear()
        self._text_edited("")
        self.open_member(member_id)

    def edit_member(self) -> None:
        if (ready := self._ready()) is None:
            return
        from ui.counter.member_dialog import MemberDialog

        dialog = MemberDialog(self.tasks, ready[0], ready[1].id, None, self)
        dialog.open_existing.connect(self.open_member)
        self._show_dialog(dialog)

    def record_purchase(self) -> None:
        if (ready := self._ready()) is None:
            return
        from ui.counter.purchase_dialog import PurchaseDialog

        self._show_dialog(PurchaseDialog(self.tasks, *ready, self))

    def redeem_gift(self) -> None:
        if (ready := self._ready()) is None:
            return
        from ui.counter.gift_dialog import GiftDialog

        self._show_dialog(GiftDialog(self.tasks, *ready, self))

    def return_purchase(self) -> None:
        if (ready := self._ready()) is None:
            return
        from ui.counter.return_dialog import ReturnDialog

        dialog = ReturnDialog(self.tasks, *ready, self)
        dialog.print_slip.connect(lambda: self.print_slip(dialog))
        self._show_dialog(dialog)

    def adjust_points(self) -> None:
        if (ready := self._ready()) is None:
            return
        from ui.counter.adjust_dialog import AdjustDialog

        self._show_dialog(AdjustDialog(self.tasks, *ready, self))

    def log_complaint(self) -> None:
        """F11: a complaint for the open member, or for a walk-in customer when none is open."""
        if self.services is None:
            return
        from ui.care.complaint_dialogs import ComplaintDialog

        profile = self.panel.profile
        member = (profile.id, profile.name) if profile is not None else None
        self._show_dialog(ComplaintDialog(self.tasks, self.services, member, self))

    # -- printing -----------------------------------------------------------------------------------------------
    def print_member_card(self) -> None:
        if (ready := self._ready()) is None or not self.card_action.isEnabled():
            return
        from ui.printing.printouts import print_member_card

        print_member_card(self.tasks, *ready, self)

    def print_slip(self, parent: QWidget | None = None) -> None:
        """`parent`: the dialog that offered the slip, if it is still open (the preview must come above it)."""
        services, slip = self.services, self.slip
        if services is None or slip is None or not self.slip_action.isEnabled():
            return
        from ui.printing.printouts import print_slip

        width = self.local.slip_width_mm() if self.local is not None else SLIP_WIDTH_MM.default
        print_slip(self.tasks, services, slip, width, parent or self)
