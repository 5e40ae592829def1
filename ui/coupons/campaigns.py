"""The campaigns screen (优惠券活动): every campaign with its figures; create and edit a draft, activate, issue,
print, end, and export the figures or a campaign's coupons. Buttons follow the operator's role and the campaign's
status, and the service checks both again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QDate, QStandardPaths, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.coupons.campaigns import (
    FORM_TARGETS,
    KIND_LABELS,
    STATUS_LABELS,
    TARGET_LABELS,
    CampaignDraft,
    CampaignStatus,
    CampaignTarget,
    CouponKind,
    StaffRole,
)
from app.coupons.service import CampaignChoices, CampaignFigures, CampaignRow, StoreDays
from app.i18n import translate
from app.money import format_yuan, parse_yuan
from ui import formatting as fmt
from ui.coupons.printing import print_coupons
from ui.forms import ActionDialog, InputError, grow_to_fit
from ui.jobs import Progress, jobs_for
from ui.local_settings import LocalSettings
from ui.messages import show_info
from ui.models import Column, RowsModel, number_column, row_table, show_rows
from ui.pages.base import Page
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services

LAYOUT_NAMES = (("a4", "A4"), ("80mm", "80 mm"), ("58mm", "58 mm"))
LAST_MOMENT = dt.timedelta(microseconds=1)
"""A campaign is valid until the midnight after its last day: shown, that day is the last one."""
UNDATED = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""Stands in for a draft's dates until the worker turns the chosen days into the store's instants."""


def _yuan_text(fen: int) -> str:
    """An amount as typed into a field: 20.00, no ¥ and no thousands separator; nothing for 0."""
    return format_yuan(fen).replace("¥", "").replace(",", "") if fen else ""


def _yuan_field() -> QLineEdit:
    line = QLineEdit()
    line.setPlaceholderText("0.00")
    return line


def _fen(line: QLineEdit, field: str) -> int:
    text = line.text().strip()
    if not text:
        return 0
    try:
        return parse_yuan(text)
    except Exception as exc:
        raise InputError(str(exc), field) from exc


class OfferFields:
    """The offer part of a campaign form: the kind, and what that kind needs — amount off, percent off with its cap,
    the points multiplier, the gift and its value — and the minimum spend; only the rows of the chosen kind show.
    The campaigns screen and the set-campaign dialog (ui/insights/member_actions.py) both build their offer from it,
    so both offer every kind and hand the same draft fields to the same validation (app.coupons.campaigns)."""

    def __init__(self, dialog: ActionDialog, draft: CampaignDraft | None) -> None:
        self.dialog = dialog
        self._boxes: dict[QWidget, QWidget] = {}
        self.kind = QComboBox()
        self.kind.setObjectName("campaignKind")
        for kind, text in KIND_LABELS.items():
            self.kind.addItem(translate("Coupons", text), kind)
        self.value = _yuan_field()
        self.value.setObjectName("campaignValue")
        self.percent = QSpinBox()
        self.percent.setObjectName("campaignPercent")
        self.percent.setRange(0, 100)
        self.percent.setSuffix(" %")
        self.cap = _yuan_field()
        self.cap.setObjectName("campaignCap")
        self.multiplier = QSpinBox()
        self.multiplier.setObjectName("campaignMultiplier")
        self.multiplier.setRange(100, 1000)
        self.multiplier.setSingleStep(50)
        self.multiplier.setSuffix(" %")
        self.multiplier.setValue(200)
        self.gift = QLineEdit()
        self.gift.setObjectName("campaignGift")
        self.min_spend = _yuan_field()
        self.min_spend.setObjectName("campaignMinSpend")
        if draft is not None:
            self.fill(draft)

    def add_rows(self) -> None:
        """The rows, in the dialog's form where it has come to."""
        for label, field, widget in (
            (QCoreApplication.translate("CampaignDialog", "Kind"), "kind", self.kind),
            (QCoreApplication.translate("CampaignDialog", "Amount off (¥)"), "value", self.value),
            (QCoreApplication.translate("CampaignDialog", "Percent off"), "percent", self.percent),
            (QCoreApplication.translate("CampaignDialog", "At most (¥, 0: no cap)"), "max_discount", self.cap),
            (QCoreApplication.translate("CampaignDialog", "Points multiplier"), "multiplier", self.multiplier),
            (QCoreApplication.translate("CampaignDialog", "Gift"), "gift", self.gift),
            (QCoreApplication.translate("CampaignDialog", "Minimum spend (¥)"), "min_spend", self.min_spend),
        ):
            box = self.dialog.errors.wrap(field, widget)
            self.dialog.form.addRow(label, box)
            self._boxes[widget] = box
        self.kind.currentIndexChanged.connect(self.show_for_kind)
        self.show_for_kind()

    def fill(self, draft: CampaignDraft) -> None:
        self.kind.setCurrentIndex(self.kind.findData(draft.kind))
        for line, fen in (
            (self.value, draft.value_fen),
            (self.cap, draft.max_discount_fen),
            (self.min_spend, draft.min_spend_fen),
        ):
            line.setText(_yuan_text(fen))
        self.percent.setValue(draft.percent_off)
        if draft.kind == CouponKind.POINTS_MULTIPLIER:
            self.multiplier.setValue(draft.points_multiplier_pct)
        self.gift.setText(draft.gift_name)

    def show_for_kind(self) -> None:
        kind = self.kind.currentData()
        form = self.dialog.form
        for widget, visible in (
            (self.value, kind in (CouponKind.AMOUNT_OFF, CouponKind.GIFT)),
            (self.percent, kind == CouponKind.PERCENT_OFF),
            (self.cap, kind == CouponKind.PERCENT_OFF),
            (self.multiplier, kind == CouponKind.POINTS_MULTIPLIER),
            (self.gift, kind == CouponKind.GIFT),
        ):
            form.setRowVisible(self._boxes[widget], visible)
        value_label = form.labelForField(self._boxes[self.value])
        if isinstance(value_label, QLabel) and kind == CouponKind.GIFT:
            value_label.setText(QCoreApplication.translate("CampaignDialog", "Gift's value (¥)"))
        elif isinstance(value_label, QLabel):
            value_label.setText(QCoreApplication.translate("CampaignDialog", "Amount off (¥)"))
        grow_to_fit(self.kind)  # a kind with more rows than the last one

    def offer(self) -> dict[str, Any]:
        """The draft's offer fields as typed for the chosen kind (the hidden rows' values are not kept); a bad amount
        is refused here, at its field."""
        kind = self.kind.currentData()
        percent = kind == CouponKind.PERCENT_OFF
        return {
            "kind": kind,
            "value_fen": _fen(self.value, "value") if kind in (CouponKind.AMOUNT_OFF, CouponKind.GIFT) else 0,
            "percent_off": self.percent.value() if percent else 0,
            "max_discount_fen": _fen(self.cap, "max_discount") if percent else 0,
            "points_multiplier_pct": self.multiplier.value() if kind == CouponKind.POINTS_MULTIPLIER else 100,
            "gift_name": self.gift.text() if kind == CouponKind.GIFT else "",
            "min_spend_fen": _fen(self.min_spend, "min_spend"),
        }


class CampaignDialog(ActionDialog):
    """Create a campaign (`campaign_id` None) or change a draft."""

    changes = Changes.COUPONS

    def __init__(
        self,
        tasks: TaskRunner,
        services: Services,
        choices: CampaignChoices,
        campaign_id: int | None,
        draft: CampaignDraft | None,
        parent: QWidget | None,
    ) -> None:
        title = self.tr("New campaign") if campaign_id is None else self.tr("Edit campaign")
        super().__init__(tasks, services, title, self.tr("Save"), parent)
        self.setObjectName("campaignDialog")
        self.choices = choices
        self._boxes: dict[QWidget, QWidget] = {}
        self.campaign_id = campaign_id
        self.code = QLineEdit(draft.code if draft else "")
        self.code.setObjectName("campaignCode")
        self.code.setPlaceholderText(self.tr("e.g. MJ100-20 (letters, digits, - or _)"))
        self.code.setReadOnly(draft is not None)
        self.name = QLineEdit(draft.name if draft else "")
        self.name.setObjectName("campaignName")
        self.offer = OfferFields(self, draft)
        today = QDate.currentDate()
        self.first_day = QDateEdit(today)
        self.last_day = QDateEdit(today.addDays(30))
        for edit in (self.first_day, self.last_day):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.last_day.setObjectName("campaignLastDay")
        self.target = QComboBox()
        self.target.setObjectName("campaignTarget")
        for target in FORM_TARGETS:
            self.target.addItem(translate("Coupons", TARGET_LABELS[target]), target)
        self.tier = QComboBox()
        self.tier.setObjectName("campaignTier")
        for tier_id, name, _name_en in choices.tiers:
            self.tier.addItem(name, tier_id)
        self.quantity = QSpinBox()
        self.quantity.setRange(0, 1_000_000)
        self.quantity.setGroupSeparatorShown(True)
        self.quantity.setSpecialValueText(self.tr("No limit"))
        self.per_member = QSpinBox()
        self.per_member.setRange(1, 100)
        self.excluded = QLineEdit(" ".join(draft.excluded_categories) if draft else "")
        self.excluded.setPlaceholderText(self.tr("Category codes, e.g. TOBACCO (their goods do not count)"))
        self.terms = QPlainTextEdit(draft.terms if draft else "")
        self.terms.setPlaceholderText(self.tr("Printed on the coupon, e.g. 每单限用一张，不找零"))
        self.terms.setFixedHeight(60)
        if draft is not None:
            self.target.setCurrentIndex(self.target.findData(draft.target))
            if draft.tier_id is not None:
                self.tier.setCurrentIndex(self.tier.findData(draft.tier_id))
            self.quantity.setValue(draft.total_quantity)
            self.per_member.setValue(draft.per_member_limit)
            days = services.coupons.days(draft.valid_from, draft.valid_until, choices.timezone)
            self.first_day.setDate(QDate(days.first.year, days.first.month, days.first.day))
            self.last_day.setDate(QDate(days.last.year, days.last.month, days.last.day))

        self._row(self.tr("Code"), "code", self.code)
        self._row(self.tr("Name"), "name", self.name)
        self.offer.add_rows()
        self._row(self.tr("First day"), "valid_from", self.first_day)
        self._row(self.tr("Last day"), "valid_until", self.last_day)
        self._row(self.tr("For"), "target", self.target)
        self._row(self.tr("Tier"), "tier", self.tier)
        self._row(self.tr("Quantity"), "quantity", self.quantity)
        self._row(self.tr("Per member"), "per_member", self.per_member)
        self._row(self.tr("Excluded categories"), "categories", self.excluded)
        self._row(self.tr("Terms"), "terms", self.terms)
        self.target.currentIndexChanged.connect(self._show_target)
        self._show_target()
        self.resize(520, self.sizeHint().height())
        (self.name if draft else self.code).setFocus()

    def _row(self, label: str, field: str, widget: QWidget) -> None:
        box = self.errors.wrap(field, widget)
        self.form.addRow(label, box)
        self._boxes[widget] = box

    def _show_target(self) -> None:
        self.form.setRowVisible(self._boxes[self.tier], self.target.currentData() == CampaignTarget.TIER)

    def draft(self) -> tuple[CampaignDraft, StoreDays]:
        """The form as a draft; its dates are filled on the worker (they need the store's time zone)."""
        first, last = self.first_day.date().toPython(), self.last_day.date().toPython()
        assert not isinstance(first, str) and not isinstance(last, str)
        days = StoreDays(first, last)  # type: ignore[arg-type]
        draft = CampaignDraft(
            code=self.code.text(),
            name=self.name.text(),
            valid_from=UNDATED,
            valid_until=UNDATED,
            **self.offer.offer(),
            target=self.target.currentData(),
            tier_id=self.tier.currentData(),
            excluded_categories=tuple(code.upper() for code in self.excluded.text().replace(",", " ").split()),
            total_quantity=self.quantity.value(),
            per_member_limit=self.per_member.value(),
            terms=self.terms.toPlainText(),
        )
        return draft, days

    def prepare(self) -> Callable[[], Any]:
        draft, days = self.draft()
        coupons, timezone, campaign_id = self.services.coupons, self.choices.timezone, self.campaign_id

        def save() -> object:
            start, until = coupons.bounds(days, timezone)
            dated = replace(draft, valid_from=start, valid_until=until)
            if campaign_id is None:
                return coupons.create_campaign(dated)
            return coupons.update_campaign(campaign_id, dated)

        return save

    def succeeded(self, result: object) -> str:
        return self.tr("Campaign {name} saved.").format(name=self.name.text().strip())


class IssueDialog(ActionDialog):
    """Issue a campaign's coupons: a number of bearer coupons, or to the members it targets."""

    changes = Changes.COUPONS

    def __init__(self, tasks: TaskRunner, services: Services, campaign: CampaignRow, parent: QWidget | None) -> None:
        super().__init__(
            tasks, services, self.tr("Issue coupons: {name}").format(name=campaign.name), self.tr("Issue"), parent
        )
        self.setObjectName("issueDialog")
        self.campaign = campaign
        self.count = QSpinBox()
        self.count.setObjectName("issueCount")
        self.count.setRange(0, 200_000)
        self.count.setGroupSeparatorShown(True)
        self.members = QPlainTextEdit()
        self.members.setObjectName("issueMembers")
        self.members.setPlaceholderText(self.tr("Member numbers, card numbers or phones, one a line"))
        self.members.setFixedHeight(90)
        target = campaign.target
        hint = {
            CampaignTarget.BEARER: self.tr("Bearer coupons: anyone may use them. How many?"),
            CampaignTarget.ALL_MEMBERS: self.tr("One coupon to every member who has fewer than the limit."),
            CampaignTarget.TIER: self.tr("One coupon to every member of the tier who has fewer than the limit."),
            CampaignTarget.CHOSEN_MEMBERS: self.tr("One coupon to each member listed."),
            CampaignTarget.SAVED_SEGMENT: self.tr("One coupon to every member of the segment who has none yet."),
        }[target]
        note = QLabel(hint)
        note.setWordWrap(True)
        self.form.addRow(note)
        if target == CampaignTarget.CHOSEN_MEMBERS:
            self.add_row(self.tr("Members"), "members", self.members)
        else:
            if target != CampaignTarget.BEARER:
                self.count.setSpecialValueText(self.tr("All of them"))
            else:
                self.count.setRange(1, 200_000)
                self.count.setValue(100)
            self.add_row(self.tr("How many"), "count", self.count)
        self.resize(440, self.sizeHint().height())

    def prepare(self) -> Callable[[], Any]:
        coupons, campaign_id, key = self.services.coupons, self.campaign.id, self.idempotency_key
        if self.campaign.target == CampaignTarget.CHOSEN_MEMBERS:
            numbers = self.members.toPlainText().replace(",", "\n").splitlines()
            if not any(n.strip() for n in numbers):
                raise InputError(self.tr("List the members to issue coupons to."), "members")
            return lambda: coupons.issue(campaign_id, key, member_ids=coupons.member_ids(numbers))
        count = self.count.value()
        return lambda: coupons.issue(campaign_id, key, count=count)

    def succeeded(self, result: Any) -> str:
        return self.tr("{count} coupons issued.").format(count=fmt.points(result.issued))


class CampaignsPage(Page):
    def __init__(self, tasks: TaskRunner, local: LocalSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("campaignsPage")
        self.local = local
        self.model: RowsModel[CampaignRow] = RowsModel(
            [
                Column(lambda: self.tr("Code"), lambda c: c.code),
                Column(lambda: self.tr("Name"), lambda c: c.name),
                Column(lambda: self.tr("Offer"), lambda c: c.offer),
                Column(lambda: self.tr("Status"), lambda c: translate("Coupons", STATUS_LABELS[c.status])),
                Column(
                    lambda: self.tr("Valid"),
                    lambda c: f"{fmt.local_date(c.valid_from)} – {fmt.local_date(c.valid_until - LAST_MOMENT)}",
                ),
                number_column(lambda: self.tr("Issued"), lambda c: c.issued, fmt.points),
                number_column(lambda: self.tr("Printed"), lambda c: c.printed, fmt.points),
                number_column(lambda: self.tr("Redeemed"), lambda c: c.redeemed, fmt.points),
                Column(lambda: self.tr("Rate"), lambda c: f"{c.redemption_rate_pct:.1f} %"),
            ],
            self,
        )
        self.view = row_table(self.model, takes_focus=True)
        self.view.setObjectName("campaignList")
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._selected())
        self.view.doubleClicked.connect(lambda _index: self.edit())
        self.buttons: dict[str, QPushButton] = {}
        bar = QHBoxLayout()
        for key, text, slot in (
            ("new", self.tr("New…"), self.new),
            ("edit", self.tr("Edit…"), self.edit),
            ("activate", self.tr("Activate"), self.activate),
            ("issue", self.tr("Issue…"), self.issue),
            ("print", self.tr("Print…"), self.print_selected),
            ("end", self.tr("End"), self.end),
            ("export_coupons", self.tr("Export coupons…"), self.export_coupons),
            ("export_figures", self.tr("Export figures…"), self.export_figures),
        ):
            button = QPushButton(text)
            button.setObjectName(f"campaign_{key}")
            button.clicked.connect(slot)
            bar.addWidget(button)
            self.buttons[key] = button
        bar.addStretch(1)
        self.layout_choice = QComboBox()
        self.layout_choice.setObjectName("printLayout")
        for layout_name, text in LAYOUT_NAMES:
            self.layout_choice.addItem(text, layout_name)
        self.only_unprinted = QCheckBox(self.tr("Only not yet printed"))
        print_bar = QHBoxLayout()
        print_bar.addWidget(QLabel(self.tr("Print on")))
        print_bar.addWidget(self.layout_choice)
        print_bar.addWidget(self.only_unprinted)
        print_bar.addStretch(1)
        self.figures_box = QGroupBox(self.tr("Figures"))
        self.figures_box.setObjectName("campaignFigures")
        grid = QGridLayout(self.figures_box)
        self.figure_labels: dict[str, QLabel] = {}
        for index, (key, caption) in enumerate(
            (
                ("issued", self.tr("Issued")),
                ("printed", self.tr("Printed (reprints)")),
                ("redeemed", self.tr("Redeemed")),
                ("rate", self.tr("Redemption rate")),
                ("voided", self.tr("Voided / expired")),
                ("sales", self.tr("Sales with the coupon")),
                ("sales_fen", self.tr("Their amount")),
                ("discount", self.tr("Discount given")),
            )
        ):
            value = QLabel("—")
            value.setObjectName(f"figure_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(QLabel(caption), index // 4, (index % 4) * 2)
            grid.addWidget(value, index // 4, (index % 4) * 2 + 1)
            self.figure_labels[key] = value
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(print_bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.figures_box)
        self._selected()

    # -- loading --------------------------------------------------------------------------------------------
    def attach(self, services: Services) -> None:
        super().attach(services)
        self.reload()

    def on_changed(self, changes: Changes) -> None:
        if changes & (Changes.COUPONS | Changes.SALES):
            self.reload_when_seen()

    def reload(self) -> None:
        if self.services is None:
            return
        coupons = self.services.coupons
        self.tasks.run(coupons.campaigns, self._loaded)

    def _loaded(self, rows: list[CampaignRow]) -> None:
        show_rows(self.view, self.model, rows, key=lambda c: c.id)
        if self.view.currentIndex().row() < 0 and rows:
            self.view.selectRow(0)
        self._selected()

    def current(self) -> CampaignRow | None:
        return self.model.row_at(self.view.currentIndex().row())

    def _selected(self) -> None:
        campaign = self.current()
        manager = self.services is not None and self.services.operator.at_least(StaffRole.MANAGER)
        status = campaign.status if campaign else None
        enabled = {
            "new": manager,
            "edit": manager and status == CampaignStatus.DRAFT,
            "activate": manager and status == CampaignStatus.DRAFT,
            "issue": manager and status in (CampaignStatus.DRAFT, CampaignStatus.ACTIVE),
            "print": status in (CampaignStatus.DRAFT, CampaignStatus.ACTIVE) and bool(campaign and campaign.issued),
            "end": manager and status in (CampaignStatus.DRAFT, CampaignStatus.ACTIVE),
            "export_coupons": manager and campaign is not None,
            "export_figures": manager,
        }
        for key, button in self.buttons.items():
            button.setEnabled(enabled[key])
        if campaign is None or self.services is None:
            for label in self.figure_labels.values():
                label.setText("—")
            return
        coupons, campaign_id = self.services.coupons, campaign.id
        self.tasks.run(lambda: coupons.figures(campaign_id), self._show_figures)

    def _show_figures(self, figures: CampaignFigures) -> None:
        current = self.current()
        if current is None or current.id != figures.campaign_id:
            return
        values = {
            "issued": fmt.points(figures.issued),
            "printed": f"{fmt.points(figures.printed)} ({fmt.points(figures.reprints)})",
            "redeemed": fmt.points(figures.redeemed),
            "rate": f"{figures.redemption_rate_pct:.1f} %",
            "voided": f"{fmt.points(figures.voided)} / {fmt.points(figures.expired)}",
            "sales": fmt.points(figures.sales),
            "sales_fen": fmt.yuan(figures.sales_fen),
            "discount": fmt.yuan(figures.discount_fen),
        }
        for key, label in self.figure_labels.items():
            label.setText(values[key])

    # -- actions --------------------------------------------------------------------------------------------
    def _dialog_done(self, text: str) -> None:
        self.reload()
        window = self.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(text, 8000)

    def new(self) -> None:
        self._open_form(None)

    def edit(self) -> None:
        campaign = self.current()
        if campaign is not None and campaign.status == CampaignStatus.DRAFT:
            self._open_form(campaign.id)

    def _open_form(self, campaign_id: int | None) -> None:
        services = self.services
        if services is None:
            return
        coupons = services.coupons

        def load() -> tuple[CampaignChoices, CampaignDraft | None]:
            return coupons.choices(), coupons.draft_of(campaign_id) if campaign_id is not None else None

        def show(loaded: tuple[CampaignChoices, CampaignDraft | None]) -> None:
            dialog = CampaignDialog(self.tasks, services, loaded[0], campaign_id, loaded[1], self)
            dialog.completed.connect(self._dialog_done)
            dialog.open()

        self.tasks.run(load, show)

    def activate(self) -> None:
        self._move(lambda coupons, campaign_id: coupons.activate(campaign_id))

    def end(self) -> None:
        self._move(lambda coupons, campaign_id: coupons.end(campaign_id))

    def _move(self, call: Callable[[Any, int], object]) -> None:
        campaign = self.current()
        if campaign is None or self.services is None:
            return
        coupons, campaign_id = self.services.coupons, campaign.id
        self.tasks.run(lambda: call(coupons, campaign_id), lambda _result: self.reload(), changes=Changes.COUPONS)

    def issue(self) -> None:
        campaign = self.current()
        if campaign is None or self.services is None:
            return
        dialog = IssueDialog(self.tasks, self.services, campaign, self)
        dialog.completed.connect(self._dialog_done)
        dialog.open()

    def print_selected(self) -> None:
        campaign = self.current()
        if campaign is None or self.services is None:
            return
        print_coupons(
            self.tasks,
            self.services,
            self.local,
            campaign.id,
            self.layout_choice.currentData(),
            self.only_unprinted.isChecked(),
            self,
        )

    def _choose_export(self, suggested: str, then: Callable[[Path], None]) -> None:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        dialog = QFileDialog(
            self, self.tr("Export"), str(Path(folder) / suggested), self.tr("CSV or Excel (*.csv *.xlsx)")
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("xlsx")
        dialog.fileSelected.connect(lambda path: then(Path(path)))
        dialog.open()

    def export_coupons(self) -> None:
        campaign = self.current()
        if campaign is None or self.services is None:
            return
        jobs, campaign_id = jobs_for(self.services), campaign.id
        self._choose_export(
            f"coupons-{campaign.code}.xlsx",
            lambda path: self._export(lambda progress: jobs().export_coupons(campaign_id, path, progress), path),
        )

    def export_figures(self) -> None:
        if self.services is None:
            return
        jobs = jobs_for(self.services)
        self._choose_export(
            "campaign-figures.xlsx",
            lambda path: self._export(lambda progress: jobs().export_campaign_figures(path, progress), path),
        )

    def _export(self, call: Callable[[Progress], int], path: Path) -> None:
        def written(count: int) -> None:
            show_info(self, self.tr("{count} rows written to {path}.").format(count=count, path=path))

        self.tasks.run_job(self.tr("Exporting {file}").format(file=path.name), call, written, changes=Changes.AUDIT)
