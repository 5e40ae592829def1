"""Register (F2) or edit (F3) a member. Membership consent is required; marketing consent is a separate, optional
box (docs/ARCHITECTURE.md §4). A phone or card that already belongs to someone offers to open that member instead. The
home branch (所属门店) defaults to the operator's own branch for a new member, so a single-branch store never has to
touch it (it is shown read-only there)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QPlainTextEdit, QPushButton, QWidget

from app.catalog_queries import BranchRow
from app.changes import Changes
from app.context import Services
from app.errors import ConflictError, MemberDeskError, ValidationError
from app.members.service import MemberForm
from app.members.validation import normalize_phone
from app.vocabulary import Gender
from ui.forms import ActionDialog, InputError
from ui.labels import GENDERS, label
from ui.signals import emit
from ui.tasks import TaskRunner

_TAG_SPLIT = re.compile(r"[,，;；、\s]+")


def parse_birthday(text: str) -> dt.date | None:
    """YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD; blank means not given."""
    text = text.strip()
    if not text:
        return None
    digits = re.sub(r"[-/.]", "", text)
    if not re.fullmatch(r"\d{8}", digits):
        raise ValueError(text)
    return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


class MemberDialog(ActionDialog):
    member_saved = Signal(int)
    open_existing = Signal(int)
    """The cashier chose to open the member a clashing phone or card belongs to."""

    changes = Changes.MEMBERS

    def __init__(
        self,
        tasks: TaskRunner,
        services: Services,
        member_id: int | None,
        prefill: MemberForm | None,
        parent: QWidget | None,
    ) -> None:
        title = self.tr("Register a member") if member_id is None else self.tr("Edit member")
        ok_text = self.tr("Register") if member_id is None else self.tr("Save")
        super().__init__(tasks, services, title, ok_text, parent)
        self.setObjectName("memberDialog")
        self.member_id = member_id
        self._existing_id: int | None = None

        self.phone = self.scanned(QLineEdit())
        self.phone.setPlaceholderText(self.tr("11-digit mobile number"))
        self.name = QLineEdit()
        self.gender = QComboBox()
        for gender in Gender:
            self.gender.addItem(label(GENDERS, gender), gender)
        self.birthday = QLineEdit()
        self.birthday.setPlaceholderText(self.tr("YYYY-MM-DD (optional)"))
        self.home_branch = QComboBox()
        self.home_branch.setObjectName("homeBranch")
        self._home_branch_id: int | None = None if member_id is not None else services.operator.branch_id
        self._shown_phone: str | None = None
        """The branch to show once the list has loaded: the operator's for a new member, the stored one when editing."""
        self.card_no = self.scanned(QLineEdit())
        self.card_no.setPlaceholderText(self.tr("Blank: a new card number is made; or scan the card"))
        self.id_number = QLineEdit()
        self.id_number.setPlaceholderText(self.tr("Optional; stored encrypted"))
        self.referrer = self.scanned(QLineEdit())
        self.referrer.setPlaceholderText(self.tr("Referrer's phone or card number (optional)"))
        self.tags = QLineEdit()
        self.tags.setPlaceholderText(self.tr("Separated by commas"))
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(60)
        self.consent = QCheckBox(self.tr("The member agrees to the membership terms (required)"))
        self.marketing = QCheckBox(self.tr("The member agrees to receive offers and news (optional)"))

        self.add_row(self.tr("Phone"), "phone", self.phone)
        self.add_row(self.tr("Name"), "name", self.name)
        self.add_row(self.tr("Gender"), "gender", self.gender)
        self.add_row(self.tr("Birthday"), "birthday", self.birthday)
        self.add_row(self.tr("Home branch"), "home_branch_id", self.home_branch)
        self.add_row(self.tr("Card number"), "card_no", self.card_no)
        self.add_row(self.tr("ID number"), "id_number", self.id_number)
        self.add_row(self.tr("Referred by"), "referrer", self.referrer)
        self.add_row(self.tr("Tags"), "tags", self.tags)
        self.add_row(self.tr("Notes"), "notes", self.notes)
        self.add_row("", "consent", self.consent)
        self.add_row("", "marketing", self.marketing)

        self.open_existing_button = QPushButton(self.tr("Open that member"))
        self.open_existing_button.setAutoDefault(False)
        self.open_existing_button.hide()
        self.open_existing_button.clicked.connect(self._open_existing)
        self.body.insertWidget(2, self.open_existing_button)
        self.resize(520, self.sizeHint().height())

        tasks.run(services.info.branches, self._set_branches)
        if member_id is not None:
            self.ok.setEnabled(False)
            tasks.run(lambda: services.members.form_for(member_id), self._fill, self._load_refused)
        elif prefill is not None:
            self._fill(prefill)
        (self.name if self.phone.text() and not self.name.text() else self.phone).setFocus()

    def _set_branches(self, rows: list[BranchRow]) -> None:
        for row in rows:
            self.home_branch.addItem(row.name, row.id)
        self.home_branch.setEnabled(len(rows) > 1)
        self._show_home_branch()

    def _show_home_branch(self) -> None:
        """Select the wanted branch; one not in the list (closed since) selects nothing, which saves no change."""
        self.home_branch.setCurrentIndex(self.home_branch.findData(self._home_branch_id))

    def _fill(self, form: MemberForm) -> None:
        if form.home_branch_id is not None:
            self._home_branch_id = form.home_branch_id
            self._show_home_branch()
        self.phone.setText(form.phone)
        self._shown_phone = form.phone
        self.name.setText(form.name)
        self.gender.setCurrentIndex(max(0, self.gender.findData(form.gender)))
        self.birthday.setText(form.birthday.isoformat() if form.birthday else "")
        self.card_no.setText(form.card_no or "")
        self.id_number.setText(form.id_number or "")
        self.referrer.setText(form.referrer or "")
        self.tags.setText(", ".join(form.tags))
        self.notes.setPlainText(form.notes or "")
        self.consent.setChecked(form.membership_consent)
        self.marketing.setChecked(form.marketing_consent)
        self.ok.setEnabled(True)

    def _load_refused(self, error: MemberDeskError) -> None:
        self.errors.show(error)

    def member_form(self) -> MemberForm:
        try:
            birthday = parse_birthday(self.birthday.text())
        except ValueError:
            raise InputError(self.tr("Enter the birthday as YYYY-MM-DD, e.g. 1990-05-17."), "birthday") from None
        return MemberForm(
            phone=self.phone.text(),
            name=self.name.text(),
            gender=self.gender.currentData(),
            birthday=birthday,
            card_no=self.card_no.text().strip() or None,
            home_branch_id=self.home_branch.currentData(),
            id_number=self.id_number.text().strip() or None,
            referrer=self.referrer.text().strip() or None,
            tags=[tag for tag in _TAG_SPLIT.split(self.tags.text()) if tag],
            notes=self.notes.toPlainText(),
            membership_consent=self.consent.isChecked(),
            marketing_consent=self.marketing.isChecked(),
        )

    def submit(self) -> None:
        """Everything the form can tell without the database is shown at once, each problem by its field; the
        service still checks all of it (and what needs the database: a phone or card already taken)."""
        problems = self._problems()
        if not problems or not self.ok.isEnabled():
            super().submit()
            return
        self.errors.clear()
        self.errors.show_all(problems)

    def _problems(self) -> list[Exception]:
        problems: list[Exception] = []
        try:
            if self.phone.text() != self._shown_phone:  # a cashier is shown a masked phone: unchanged means "keep"
                normalize_phone(self.phone.text())
        except ValidationError as exc:
            problems.append(exc)
        if not self.name.text().strip():
            problems.append(InputError(self.tr("Enter the member's name."), "name"))
        try:
            self.member_form()
        except InputError as exc:
            problems.append(exc)
        if self.member_id is None and not self.consent.isChecked():
            problems.append(InputError(self.tr("The member must agree to the membership terms first."), "consent"))
        return problems

    def prepare(self) -> Callable[[], Any]:
        self.open_existing_button.hide()
        form, members, member_id = self.member_form(), self.services.members, self.member_id
        if member_id is None:
            return lambda: members.register(form)

        def save() -> int:
            members.update(member_id, form)
            return member_id

        return save

    def succeeded(self, result: Any) -> str:
        member_id = int(result)
        emit(self.member_saved, member_id)
        name = self.name.text().strip()
        if self.member_id is None:
            return self.tr("Registered {name}. Welcome!").format(name=name)
        return self.tr("Saved the changes to {name}.").format(name=name)

    def refused(self, error: MemberDeskError) -> None:
        if isinstance(error, ConflictError) and error.existing_id not in (None, self.member_id):
            self._existing_id = error.existing_id
            self.open_existing_button.show()

    def _open_existing(self) -> None:
        if self._existing_id is not None:
            emit(self.open_existing, self._existing_id)
            self.reject()
