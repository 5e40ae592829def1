"""The member panel (客户画像): everything the cashier should see at a glance once a member is open, and the
member's purchase and points history a page at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui import formatting as fmt
from ui.care.follow_ups_view import MemberFollowUpsTab
from ui.coupons.counter import MemberCouponsTab
from ui.i18n import local_name
from ui.labels import LEDGER_SOURCES, SALE_KINDS, label
from ui.models import Column, PagedModel, number_column, row_table

if TYPE_CHECKING:
    from app.care.complaints import MemberComplaints
    from app.loyalty.tiers import TierProgress
    from app.members.profile import LedgerRow, MemberProfile, SaleRow
    from ui.tasks import TaskRunner

NOTICE_SECONDS = 20
HISTORY_PAGE = 20
ADJUSTMENT = "adjustment"
"""LedgerSource.ADJUSTMENT's stored value (a StrEnum equals its value)."""
"""Rows of purchase or points history fetched at a time; more come as the list scrolls."""


def set_negative(widget: QWidget, negative: bool) -> None:
    """Red through the style sheet's [negative="true"] rule."""
    widget.setProperty("negative", negative)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def sale_columns() -> list[Column[SaleRow]]:
    """A member's purchases and returns (the panel's tab and the return dialog's list)."""

    def kind(row: SaleRow) -> str:
        name = label(SALE_KINDS, row.kind)
        return QCoreApplication.translate("History", "{kind} (returned)").format(kind=name) if row.returned else name

    return [
        Column(lambda: QCoreApplication.translate("History", "Date"), lambda r: fmt.local_datetime(r.sold_at)),
        Column(lambda: QCoreApplication.translate("History", "Kind"), kind),
        Column(lambda: QCoreApplication.translate("History", "Receipt"), lambda r: r.receipt_no or ""),
        number_column(lambda: QCoreApplication.translate("History", "Amount"), lambda r: r.total_fen, fmt.yuan),
        number_column(lambda: QCoreApplication.translate("History", "Paid"), lambda r: r.paid_fen, fmt.yuan),
        number_column(
            lambda: QCoreApplication.translate("History", "Points used"), lambda r: r.points_used, fmt.points
        ),
        number_column(
            lambda: QCoreApplication.translate("History", "Points earned"), lambda r: r.points_earned, fmt.signed_points
        ),
    ]


def _typed_reason(row: LedgerRow) -> str:
    """Only an adjustment's reason was typed by staff; the others are the core's English bookkeeping notes
    ("sale 12"), which the Source column already says in the cashier's language."""
    return row.reason if row.source == ADJUSTMENT else ""


def ledger_columns() -> list[Column[LedgerRow]]:
    return [
        Column(lambda: QCoreApplication.translate("History", "Date"), lambda r: fmt.local_datetime(r.created_at)),
        Column(lambda: QCoreApplication.translate("History", "Source"), lambda r: label(LEDGER_SOURCES, r.source)),
        number_column(lambda: QCoreApplication.translate("History", "Points"), lambda r: r.delta, fmt.signed_points),
        number_column(lambda: QCoreApplication.translate("History", "Balance"), lambda r: r.balance_after, fmt.points),
        Column(lambda: QCoreApplication.translate("History", "Reason"), _typed_reason),
        Column(lambda: QCoreApplication.translate("History", "Staff"), lambda r: r.staff_name or ""),
    ]


class StatCard(QFrame):
    """One figure with its caption, big enough to read from the other side of the counter."""

    def __init__(self, caption: str) -> None:
        super().__init__()
        self.setObjectName("statCard")
        self.value = QLabel()
        self.value.setObjectName("statValue")
        self.value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel(caption)
        self.caption.setObjectName("statCaption")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)

    def set(self, value: str, caption: str | None = None, negative: bool = False) -> None:
        self.value.setText(value)
        if caption is not None:
            self.caption.setText(caption)
        set_negative(self.value, negative)


class MemberPanel(QWidget):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("memberPanel")
        self.profile: MemberProfile | None = None
        self.sales_model: PagedModel[SaleRow] = PagedModel(sale_columns(), tasks, HISTORY_PAGE, self)
        self.ledger_model: PagedModel[LedgerRow] = PagedModel(ledger_columns(), tasks, HISTORY_PAGE, self)
        self.coupons_tab = MemberCouponsTab(tasks)
        self.follow_ups_tab = MemberFollowUpsTab(tasks)

        self.notice_bar = QFrame()
        self.notice_bar.setObjectName("notice")
        self.notice = QLabel()
        self.notice.setObjectName("noticeText")
        self.notice.setWordWrap(True)
        self.notice_button = QToolButton()
        self.notice_button.setObjectName("noticeButton")
        self.notice_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        notice_layout = QHBoxLayout(self.notice_bar)
        notice_layout.setContentsMargins(10, 6, 6, 6)
        notice_layout.addWidget(self.notice, 1)
        notice_layout.addWidget(self.notice_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.notice_bar.hide()
        self._notice_timer = QTimer(self, singleShot=True, interval=NOTICE_SECONDS * 1000)
        self._notice_timer.timeout.connect(self.hide_notice)

        self.stack = QStackedWidget()
        self.empty = QLabel(
            self.tr(
                "Type a phone number, its last 4 digits, a card number, a name or pinyin initials, "
                "or scan a member card.\n\nF2 registers a new member."
            )
        )
        self.empty.setObjectName("emptyHint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self._build_profile())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.notice_bar)
        layout.addWidget(self.stack, 1)

    # -- building -----------------------------------------------------------------------------------------------
    def _build_profile(self) -> QWidget:
        page = QWidget()
        self.name = QLabel()
        self.name.setObjectName("memberName")
        self.tier = QLabel()
        self.tier.setObjectName("tierBadge")
        self.birthday = QLabel()
        self.birthday.setObjectName("birthdayBadge")
        self.phone = QLabel()
        self.phone.setObjectName("memberPhone")
        self.card = QLabel()
        self.card.setObjectName("memberCard")
        header = QHBoxLayout()
        header.addWidget(self.name)
        header.addWidget(self.tier)
        header.addWidget(self.birthday)
        header.addStretch(1)
        ids = QHBoxLayout()
        ids.addWidget(self.phone)
        ids.addSpacing(16)
        ids.addWidget(self.card)
        ids.addStretch(1)

        self.points_card = StatCard(self.tr("Points"))
        self.expiring_card = StatCard(self.tr("Expiring soon"))
        self.complaints_card = StatCard(self.tr("Open complaints"))
        self.coupons_card = StatCard(self.tr("Coupons held"))
        self.visits_card = StatCard(self.tr("Visits"))
        self.spend_card = StatCard(self.tr("Total spend"))
        cards = QHBoxLayout()
        for card in (
            self.points_card,
            self.expiring_card,
            self.complaints_card,
            self.coupons_card,
            self.visits_card,
            self.spend_card,
        ):
            cards.addWidget(card)

        self.tier_text = QLabel()
        self.tier_text.setWordWrap(True)
        self.tier_bar = QProgressBar()
        self.tier_bar.setTextVisible(False)
        self.tier_bar.setMaximumHeight(8)

        self.details = QGridLayout()
        self.details.setColumnStretch(1, 1)
        self.details.setColumnStretch(3, 1)
        self._detail_labels: dict[str, QLabel] = {}
        for row, column, key, caption in (
            (0, 0, "tags", self.tr("Tags")),
            (0, 2, "categories", self.tr("Buys most")),
            (1, 0, "last_visit", self.tr("Last visit")),
            (1, 2, "joined", self.tr("Member since")),
            (2, 0, "segment", self.tr("Segment")),
            (3, 0, "referrer", self.tr("Referred by")),
            (4, 0, "tasks", self.tr("Follow-up")),
            (5, 0, "notes", self.tr("Notes")),
        ):
            title = QLabel(caption)
            title.setObjectName("detailCaption")
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            span = 3 if key in ("segment", "tasks", "notes") else 1
            self.details.addWidget(title, row, column, Qt.AlignmentFlag.AlignTop)
            self.details.addWidget(value, row, column + 1, 1, span)
            self._detail_labels[key] = value
            self._detail_labels[f"{key}:caption"] = title

        self.history = QTabWidget()
        self.history.addTab(row_table(self.sales_model, takes_focus=False), self.tr("Purchases"))
        self.history.addTab(row_table(self.ledger_model, takes_focus=False), self.tr("Points history"))
        self.history.addTab(self.coupons_tab, self.tr("Coupons"))
        self.history.addTab(self.follow_ups_tab, self.tr("Follow-ups"))
        self.history.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        layout = QVBoxLayout(page)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addLayout(ids)
        layout.addLayout(cards)
        layout.addWidget(self.tier_text)
        layout.addWidget(self.tier_bar)
        layout.addLayout(self.details)
        layout.addWidget(self.history, 1)
        return page

    # -- showing ------------------------------------------------------------------------------------------------
    def clear(self) -> None:
        self.profile = None
        self.hide_notice()
        self.sales_model.set_loader(None)
        self.ledger_model.set_loader(None)
        self.stack.setCurrentWidget(self.empty)

    def show_notice(self, text: str, warning: bool = False, action: QAction | None = None) -> None:
        """A short confirmation (or warning) above the member, gone after NOTICE_SECONDS; `action` is what the
        cashier may want to do next (print a slip), offered beside it."""
        self.notice.setText(text)
        self.notice_bar.setProperty("warning", warning)
        for widget in (self.notice_bar, self.notice):  # the text's colour follows the bar's [warning] in the style
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        if action is not None:
            self.notice_button.setDefaultAction(action)
        self.notice_button.setVisible(action is not None)
        self.notice_bar.show()
        self._notice_timer.start()

    def hide_notice(self) -> None:
        self._notice_timer.stop()
        self.notice_bar.hide()

    def show_profile(self, profile: MemberProfile) -> None:
        self.profile = profile
        self.follow_ups_tab.member_name = profile.name
        self.name.setText(profile.name)
        self.tier.setText(local_name(profile.tier_name, profile.tier_name_en))
        self.phone.setText(self.tr("Phone {phone}").format(phone=profile.phone or profile.masked_phone))
        self.card.setText(
            self.tr("Card {card} · No. {number}").format(card=profile.card_no or "—", number=profile.member_no)
        )
        if profile.birthday_today:
            self.birthday.setText(self.tr("Birthday today!"))
        elif profile.birthday_this_week and profile.birthday is not None:
            self.birthday.setText(
                self.tr("Birthday this week ({date})").format(date=profile.birthday.strftime("%m-%d"))
            )
        self.birthday.setVisible(profile.birthday_this_week or profile.birthday_today)

        self.points_card.set(fmt.points(profile.points_balance), negative=profile.points_balance < 0)
        if profile.points_expiring:
            self.expiring_card.set(
                fmt.points(profile.points_expiring),
                self.tr("Expire by {date}").format(date=fmt.local_date(profile.points_expiring_at)),
            )
        else:
            self.expiring_card.set("0", self.tr("Expiring soon"))
        self.complaints_card.set(str(profile.open_complaints), negative=profile.open_complaints > 0)
        self.coupons_card.set(str(profile.coupons_held))
        self.visits_card.set(str(profile.visit_count))
        self.spend_card.set(fmt.yuan(profile.lifetime_spend_fen))
        self._show_tier_progress(profile.tier_progress)

        self._detail("tags", " · ".join(profile.tags))
        self._detail("categories", " · ".join(local_name(c.name, c.name_en) for c in profile.preferred_categories))
        self._detail("last_visit", fmt.local_datetime(profile.last_visit_at) or self.tr("Never"))
        self._detail("joined", fmt.local_date(profile.joined_at))
        self._detail("segment", profile.segment or "")
        self._detail("referrer", profile.referrer_name or "")
        self._detail(
            "tasks",
            "\n".join(
                f"{task.title} ({fmt.local_date(task.due_at)})" if task.due_at else task.title
                for task in profile.open_tasks
            ),
        )
        self._detail("notes", profile.notes or "")
        self.stack.setCurrentIndex(1)

    def show_complaints(self, summary: MemberComplaints) -> None:
        """Open complaints, and how many are past their due time (filled in just after the profile)."""
        caption = self.tr("{count} overdue").format(count=summary.overdue) if summary.overdue else None
        self.complaints_card.set(str(summary.open), caption or self.tr("Open complaints"), negative=summary.open > 0)

    def _detail(self, key: str, text: str) -> None:
        """A line with nothing to say is hidden rather than shown empty (e.g. the segment before it is computed)."""
        self._detail_labels[key].setText(text)
        self._detail_labels[key].setVisible(bool(text))
        self._detail_labels[f"{key}:caption"].setVisible(bool(text))

    def _show_tier_progress(self, progress: TierProgress) -> None:
        if progress.next_tier_name is None:
            self.tier_text.setText(self.tr("Top tier reached."))
            self.tier_bar.setRange(0, 1)
            self.tier_bar.setValue(1)
            return
        tier = local_name(progress.next_tier_name, progress.next_tier_name_en)
        if progress.basis == "spend":
            text = self.tr("Spend {amount} more within 12 months to reach {tier}.").format(
                amount=fmt.yuan(progress.missing), tier=tier
            )
        else:
            text = self.tr("Earn {points} more points within 12 months to reach {tier}.").format(
                points=fmt.points(progress.missing), tier=tier
            )
        self.tier_text.setText(text)
        goal = progress.metric + progress.missing
        self.tier_bar.setRange(0, max(goal, 1))
        self.tier_bar.setValue(min(progress.metric, goal))
