"""Saved segments (已保存的分群): named filters over the segment figures and member fields, each with its live count;
create one from the filters, rename, delete, look at its members, and act on them (coupon campaign, follow-up
tasks, contact list). The win-back button acts on every member with a churn warning."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.actions.member_sets import MemberSet
from app.changes import Changes
from app.errors import MemberDeskError, ValidationError
from app.insights.labels import PYRAMID, PYRAMID_LABELS, RFM_CLASSES, RFM_LABELS, STAGE_LABELS, STAGES
from app.insights.saved import SavedSegmentView, SegmentChoices, SegmentFilter, SegmentMember, SegmentMembersPage
from app.money import format_yuan, parse_yuan
from ui import formatting as fmt
from ui.forms import ActionDialog, InputError
from ui.insights.member_actions import ContactListDialog, SetCampaignDialog, SetFollowUpsDialog
from ui.messages import show_error
from ui.models import Column, RowsModel, row_table
from ui.pages.base import Page
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services

MEMBERS_SHOWN = 200


def _seg(text: str) -> str:
    return QCoreApplication.translate("Segments", text)


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return QCoreApplication.translate("SavedSegments", "Yes") if value else ""


def member_columns() -> list[Column[SegmentMember]]:
    return [
        Column(lambda: QCoreApplication.translate("SavedSegments", "Member no."), lambda m: m.member_no),
        Column(lambda: QCoreApplication.translate("SavedSegments", "Name"), lambda m: m.name),
        Column(lambda: QCoreApplication.translate("SavedSegments", "Phone"), lambda m: m.phone),
        Column(lambda: QCoreApplication.translate("SavedSegments", "Tier"), lambda m: m.tier or ""),
        Column(
            lambda: QCoreApplication.translate("SavedSegments", "Pyramid"),
            lambda m: _seg(PYRAMID_LABELS[m.pyramid_level]) if m.pyramid_level else "",
        ),
        Column(
            lambda: QCoreApplication.translate("SavedSegments", "RFM class"),
            lambda m: _seg(RFM_LABELS[m.rfm_class]) if m.rfm_class else "",
        ),
        Column(
            lambda: QCoreApplication.translate("SavedSegments", "Churn warning"),
            lambda m: _yes_no(m.churn_warning),
            negative=lambda m: bool(m.churn_warning),
        ),
        Column(
            lambda: QCoreApplication.translate("SavedSegments", "Marketing consent"),
            lambda m: _yes_no(m.marketing_consent),
        ),
    ]


class SavedSegmentsPage(Page):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        heading = QLabel(self.tr("Saved segments"))
        heading.setObjectName("pageHeading")
        hint = QLabel(
            self.tr(
                "A saved segment is a named filter over the latest segment refresh and the member fields; its count "
                "is live. Pick one to see its members and act on them."
            )
        )
        hint.setWordWrap(True)
        self.win_back = QPushButton(self.tr("Win back members with a churn warning…"))
        self.win_back.setObjectName("winBack")
        self.win_back.clicked.connect(self._win_back)
        top = QHBoxLayout()
        top.addWidget(hint, 1)
        top.addWidget(self.win_back)

        self.list = QListWidget()
        self.list.setObjectName("savedSegmentList")
        self.list.currentRowChanged.connect(lambda _row: self._selected())
        self.new_button = QPushButton(self.tr("New…"))
        self.new_button.setObjectName("newSegment")
        self.new_button.clicked.connect(self._new)
        self.rename_button = QPushButton(self.tr("Rename…"))
        self.rename_button.setObjectName("renameSegment")
        self.rename_button.clicked.connect(self._rename)
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setObjectName("deleteSegment")
        self.delete_button.clicked.connect(self._delete)
        list_buttons = QHBoxLayout()
        for button in (self.new_button, self.rename_button, self.delete_button):
            list_buttons.addWidget(button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.list, 1)
        left_layout.addLayout(list_buttons)

        self.filter_text = QLabel()
        self.filter_text.setObjectName("segmentFilterText")
        self.filter_text.setWordWrap(True)
        self.shown = QLabel()
        self.shown.setObjectName("segmentMembersShown")
        self.members_model: RowsModel[SegmentMember] = RowsModel(member_columns(), self)
        self.members_view = row_table(self.members_model, takes_focus=True)
        self.members_view.setObjectName("segmentMembers")
        self.campaign_button = QPushButton(self.tr("Coupon campaign…"))
        self.campaign_button.setObjectName("segmentCampaign")
        self.follow_up_button = QPushButton(self.tr("Follow-up tasks…"))
        self.follow_up_button.setObjectName("segmentFollowUps")
        self.export_button = QPushButton(self.tr("Export contacts…"))
        self.export_button.setObjectName("segmentExport")
        for button, dialog in (
            (self.campaign_button, SetCampaignDialog),
            (self.follow_up_button, SetFollowUpsDialog),
            (self.export_button, ContactListDialog),
        ):
            button.clicked.connect(lambda _c=False, d=dialog: self._act(d))
        actions = QHBoxLayout()
        actions.addWidget(self.shown, 1)
        for button in (self.campaign_button, self.follow_up_button, self.export_button):
            actions.addWidget(button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.filter_text)
        right_layout.addWidget(self.members_view, 1)
        right_layout.addLayout(actions)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([260, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.segments: list[SavedSegmentView] = []
        self.choices = SegmentChoices((), ())
        self._enable(None)

    def attach(self, services: Services) -> None:
        super().attach(services)
        self.tasks.run(services.saved_segments.choices, self._chosen)
        self.reload()

    def _chosen(self, choices: SegmentChoices) -> None:
        self.choices = choices

    def on_changed(self, changes: Changes) -> None:
        if changes & (Changes.SEGMENTS | Changes.MEMBERS | Changes.COUPONS):
            self.reload_when_seen()

    def reload(self) -> None:
        if self.services is not None:
            self.tasks.run(self.services.saved_segments.all, self._listed)

    def _listed(self, segments: list[SavedSegmentView]) -> None:
        current = self.current()
        self.segments = segments
        self.list.blockSignals(True)
        self.list.clear()
        for view in segments:
            item = QListWidgetItem(self.tr("{name} ({count})").format(name=view.name, count=fmt.points(view.members)))
            self.list.addItem(item)
        self.list.blockSignals(False)
        ids = [s.id for s in segments]
        row = ids.index(current.id) if current is not None and current.id in ids else (0 if segments else -1)
        self.list.setCurrentRow(row)
        self._selected()

    def current(self) -> SavedSegmentView | None:
        row = self.list.currentRow()
        return self.segments[row] if 0 <= row < len(self.segments) else None

    def _enable(self, view: SavedSegmentView | None) -> None:
        for button in (
            self.rename_button,
            self.delete_button,
            self.campaign_button,
            self.follow_up_button,
            self.export_button,
        ):
            button.setEnabled(view is not None)

    def _selected(self) -> None:
        view, services = self.current(), self.services
        self._enable(view)
        if view is None or services is None:
            self.members_model.set_rows([])
            self.filter_text.setText(self.tr("No saved segment yet: New… makes one from the filters."))
            self.shown.clear()
            return
        self.filter_text.setText(describe_filter(view.filter, self.choices))
        segment_id = view.id
        self.tasks.run(lambda: services.saved_segments.members(segment_id, 0, MEMBERS_SHOWN), self._members)

    def _members(self, page: SegmentMembersPage) -> None:
        self.members_model.set_rows(page.rows)
        self.shown.setText(
            self.tr("{total} members").format(total=fmt.points(page.total))
            if page.total <= len(page.rows)
            else self.tr("The first {shown} of {total} members").format(
                shown=fmt.points(len(page.rows)), total=fmt.points(page.total)
            )
        )

    def _act(self, dialog: type[SetCampaignDialog | SetFollowUpsDialog | ContactListDialog]) -> None:
        view = self.current()
        if view is not None and self.services is not None:
            dialog(self.tasks, self.services, MemberSet.of_segment(view.id, view.name), self).open()

    def _win_back(self) -> None:
        if self.services is not None:
            SetCampaignDialog(self.tasks, self.services, MemberSet.win_back(), self).open()

    def _new(self) -> None:
        if self.services is not None:
            dialog = SegmentDialog(self.tasks, self.services, self.choices, self)
            dialog.completed.connect(lambda _text: self.reload())
            dialog.open()

    def _rename(self) -> None:
        view, services = self.current(), self.services
        if view is None or services is None:
            return
        name, ok = QInputDialog.getText(self, self.tr("Rename the segment"), self.tr("New name"), text=view.name)
        if ok and name.strip() and name.strip() != view.name:
            segment_id = view.id
            self.tasks.run(lambda: services.saved_segments.rename(segment_id, name), lambda _r: self.reload())

    def _delete(self) -> None:
        view, services = self.current(), self.services
        if view is None or services is None:
            return
        answer = QMessageBox.question(
            self, self.tr("Delete the segment"), self.tr("Delete the saved segment {name}?").format(name=view.name)
        )
        if answer == QMessageBox.StandardButton.Yes:
            segment_id = view.id
            self.tasks.run(
                lambda: services.saved_segments.remove(segment_id),
                lambda _r: self.reload(),
                self._refused,
            )

    def _refused(self, error: MemberDeskError) -> None:
        show_error(self, str(error))


def describe_filter(flt: SegmentFilter, choices: SegmentChoices) -> str:
    """The filter in words, for the screen."""
    tiers = dict(choices.tiers)
    parts = []
    if flt.tiers:
        parts.append(
            QCoreApplication.translate("SavedSegments", "Tier: {v}").format(
                v=", ".join(tiers.get(c, c) for c in flt.tiers)
            )
        )
    if flt.pyramid_levels:
        parts.append(
            QCoreApplication.translate("SavedSegments", "Pyramid: {v}").format(
                v=", ".join(_seg(PYRAMID_LABELS[c]) for c in flt.pyramid_levels)
            )
        )
    if flt.rfm_classes:
        parts.append(
            QCoreApplication.translate("SavedSegments", "RFM: {v}").format(
                v=", ".join(_seg(RFM_LABELS[c]) for c in flt.rfm_classes)
            )
        )
    if flt.lifecycle_stages:
        parts.append(
            QCoreApplication.translate("SavedSegments", "Stage: {v}").format(
                v=", ".join(_seg(STAGE_LABELS[c]) for c in flt.lifecycle_stages)
            )
        )
    if flt.churn_warning is not None:
        parts.append(
            QCoreApplication.translate("SavedSegments", "Churn warning")
            if flt.churn_warning
            else QCoreApplication.translate("SavedSegments", "No churn warning")
        )
    if flt.birthday_month is not None:
        parts.append(QCoreApplication.translate("SavedSegments", "Birthday in month {m}").format(m=flt.birthday_month))
    if flt.tags:
        parts.append(QCoreApplication.translate("SavedSegments", "Tags: {v}").format(v=", ".join(flt.tags)))
    if flt.marketing_consent is not None:
        parts.append(
            QCoreApplication.translate("SavedSegments", "Agreed to marketing")
            if flt.marketing_consent
            else QCoreApplication.translate("SavedSegments", "Did not agree to marketing")
        )
    if flt.spend_min_fen is not None:
        parts.append(
            QCoreApplication.translate("SavedSegments", "Spend from {v}").format(v=format_yuan(flt.spend_min_fen))
        )
    if flt.spend_max_fen is not None:
        parts.append(
            QCoreApplication.translate("SavedSegments", "Spend up to {v}").format(v=format_yuan(flt.spend_max_fen))
        )
    return " · ".join(parts) if parts else QCoreApplication.translate("SavedSegments", "Every member")


def _checks(items: list[tuple[str, str]]) -> QListWidget:
    box = QListWidget()
    for code, text in items:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, code)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        box.addItem(item)
    box.setMinimumHeight(80)
    box.setMaximumHeight(180)
    box.setMinimumWidth(box.sizeHintForColumn(0) + 2 * box.frameWidth() + 8)  # every choice readable in full
    return box


def _checked(box: QListWidget) -> tuple[str, ...]:
    return tuple(
        str(box.item(row).data(Qt.ItemDataRole.UserRole))
        for row in range(box.count())
        if box.item(row).checkState() == Qt.CheckState.Checked
    )


def _tristate(yes: str, no: str) -> QComboBox:
    box = QComboBox()
    box.addItem(QCoreApplication.translate("SavedSegments", "Any"), None)
    box.addItem(yes, True)
    box.addItem(no, False)
    return box


class SegmentDialog(ActionDialog):
    """A new saved segment from the segment filters, with the live count as the filters change."""

    changes = Changes.SEGMENTS

    def __init__(self, tasks: TaskRunner, services: Services, choices: SegmentChoices, parent: QWidget | None):
        super().__init__(tasks, services, self.tr("New saved segment"), self.tr("Save"), parent)
        self.setObjectName("segmentDialog")
        self.name = QLineEdit()
        self.name.setObjectName("segmentName")
        self.name.setMaxLength(100)
        self.add_row(self.tr("Name"), "name", self.name)
        self.tiers = _checks(list(choices.tiers))
        self.pyramid = _checks([(c, _seg(PYRAMID_LABELS[c])) for c in PYRAMID])
        self.rfm = _checks([(c, _seg(RFM_LABELS[c])) for c in reversed(RFM_CLASSES)])
        self.rfm.setObjectName("segmentRfm")
        self.stages = _checks([(c, _seg(STAGE_LABELS[c])) for c in STAGES])
        grid = QGridLayout()
        for column, (title, box) in enumerate(
            (
                (self.tr("Tier"), self.tiers),
                (self.tr("Pyramid"), self.pyramid),
                (self.tr("RFM class"), self.rfm),
                (self.tr("Lifecycle stage"), self.stages),
            )
        ):
            group = QGroupBox(title)
            QVBoxLayout(group).addWidget(box)
            grid.addWidget(group, 0, column)
        self.form.addRow(grid)
        self.churn = _tristate(self.tr("With a churn warning"), self.tr("Without a churn warning"))
        self.churn.setObjectName("segmentChurn")
        self.consent = _tristate(self.tr("Agreed to marketing"), self.tr("Did not agree"))
        self.birthday = QComboBox()
        self.birthday.addItem(QCoreApplication.translate("SavedSegments", "Any"), None)
        for month in range(1, 13):
            self.birthday.addItem(self.tr("Month {m}").format(m=month), month)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText(", ".join(choices.tags[:5]) or self.tr("Tags, separated by commas"))
        self.spend_min = QLineEdit()
        self.spend_max = QLineEdit()
        spend = QHBoxLayout()
        spend.addWidget(self.spend_min)
        spend.addWidget(QLabel("—"))
        spend.addWidget(self.spend_max)
        spend_box = QWidget()
        spend_box.setLayout(spend)
        spend.setContentsMargins(0, 0, 0, 0)
        self.add_row(self.tr("Churn warning"), "churn_warning", self.churn)
        self.add_row(self.tr("Marketing consent"), "marketing_consent", self.consent)
        self.add_row(self.tr("Birthday month"), "birthday_month", self.birthday)
        self.add_row(self.tr("Tags (any of)"), "tags", self.tags)
        self.add_row(self.tr("Spend in the period (¥)"), "spend_min_fen", spend_box)
        self.count = QLabel()
        self.count.setObjectName("segmentLiveCount")
        self.form.addRow(self.count)
        for box in (self.tiers, self.pyramid, self.rfm, self.stages):
            box.itemChanged.connect(lambda _item: self.recount())
        for combo in (self.churn, self.consent, self.birthday):
            combo.currentIndexChanged.connect(lambda _i: self.recount())
        for line in (self.tags, self.spend_min, self.spend_max):
            line.editingFinished.connect(self.recount)
        self.resize(820, self.sizeHint().height())
        self.recount()
        self.name.setFocus()

    def segment_filter(self) -> SegmentFilter:
        def fen(line: QLineEdit, field: str) -> int | None:
            text = line.text().strip()
            if not text:
                return None
            try:
                return parse_yuan(text)
            except ValidationError as exc:
                raise InputError(str(exc), field) from None

        return SegmentFilter(
            tiers=_checked(self.tiers),
            pyramid_levels=_checked(self.pyramid),
            rfm_classes=_checked(self.rfm),
            lifecycle_stages=_checked(self.stages),
            churn_warning=self.churn.currentData(),
            birthday_month=self.birthday.currentData(),
            tags=tuple(t.strip() for t in self.tags.text().replace("，", ",").split(",") if t.strip()),
            marketing_consent=self.consent.currentData(),
            spend_min_fen=fen(self.spend_min, "spend_min_fen"),
            spend_max_fen=fen(self.spend_max, "spend_min_fen"),
        )

    def recount(self) -> None:
        try:
            flt = self.segment_filter()
        except InputError as exc:
            self.count.setText(exc.text)
            return
        service = self.services.saved_segments
        self.tasks.run(lambda: service.count(flt), self._counted, self._not_counted)

    def _counted(self, count: int) -> None:
        self.count.setText(self.tr("{count} members match now.").format(count=fmt.points(count)))

    def _not_counted(self, error: MemberDeskError) -> None:
        self.count.setText(str(error))

    def prepare(self) -> Callable[[], Any]:
        name = self.name.text().strip()
        if not name:
            raise InputError(self.tr("Give the segment a name."), "name")
        flt, service = self.segment_filter(), self.services.saved_segments
        return lambda: service.save(name, flt)

    def succeeded(self, result: int) -> str:
        return self.tr("Segment saved.")
