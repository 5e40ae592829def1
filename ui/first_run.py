"""The first start on a new PC (首次使用向导): a new store, a counter joining a chain's server, or a demo store for
training. The work itself is app.first_run's, run off the GUI thread; a refusal is shown on the page and changes
nothing, so the cashier can correct the field and finish again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.errors import MemberDeskError, ValidationError
from app.first_run import NewStore, check_server, create_demo_store, create_store, join_chain
from app.i18n import QT_TRANSLATE_NOOP
from ui.forms import error_label
from ui.local_settings import LAST_USERNAME, LocalSettings
from ui.signals import emit
from ui.tasks import TaskRunner

CHOICE_PAGE, NEW_STORE_PAGE, JOIN_CHAIN_PAGE, DEMO_PAGE = range(4)
PREFERRED_SIZE = QSize(640, 480)
WINDOW_FRAME = QSize(16, 40)
"""The title bar and borders the system adds around the wizard, in logical pixels."""
PINS_DIFFER = QT_TRANSLATE_NOOP("Errors", "The two PINs differ.")
NO_KEY_FILE = QT_TRANSLATE_NOOP("Errors", "Choose the key file exported on the chain's first counter.")


def _line(name: str, text: str = "", *, password: bool = False) -> QLineEdit:
    edit = QLineEdit(text)
    edit.setObjectName(name)
    if password:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def _spin(name: str, low: int, high: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(low, high)
    spin.setValue(value)
    return spin


class ChoicePage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle(self.tr("Welcome to MemberDesk"))
        self.setSubTitle(self.tr("This PC has no store yet. What should it be?"))
        self.new_store = QRadioButton(self.tr("A new store: I start from scratch"))
        self.new_store.setObjectName("newStore")
        self.new_store.setChecked(True)
        self.join_chain = QRadioButton(self.tr("A counter of our chain: join the chain's server"))
        self.join_chain.setObjectName("joinChain")
        self.demo_store = QRadioButton(self.tr("A demo store for training (made-up members, change nothing real)"))
        self.demo_store.setObjectName("demoStore")
        group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        for button in (self.new_store, self.join_chain, self.demo_store):
            group.addButton(button)
            layout.addWidget(button)
        layout.addStretch(1)

    def nextId(self) -> int:
        if self.new_store.isChecked():
            return NEW_STORE_PAGE
        if self.join_chain.isChecked():
            return JOIN_CHAIN_PAGE
        return DEMO_PAGE


class DemoPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle(self.tr("A demo store for training"))
        self.setSubTitle(self.tr("3,000 made-up members with two years of purchases, to learn the counter on."))
        text = QLabel(
            self.tr(
                "Sign in as owner (PIN 0000), manager (6666) or cashier1 (1234). Use it only for training: for the "
                "real store, start MemberDesk with another data folder (--data-dir)."
            )
        )
        text.setWordWrap(True)
        self.error = error_label("generalError")
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addStretch(1)
        layout.addWidget(self.error)

    def nextId(self) -> int:
        return -1


class NewStorePage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle(self.tr("A new store"))
        self.setSubTitle(self.tr("The owner's account can do everything; add the cashiers' accounts later."))
        self.store_name = _line("storeName")
        self.owner_name = _line("ownerName", self.tr("Owner"))
        self.owner_username = _line("ownerUsername", "owner")
        self.pin = _line("pin", password=True)
        self.pin_again = _line("pinAgain", password=True)
        self.yuan_per_point = _spin("yuanPerPoint", 1, 1000, 1)
        self.yuan_per_point.setPrefix("¥")
        self.points_per_yuan = _spin("pointsPerYuan", 1, 100_000, 100)
        self.expiry_months = _spin("expiryMonths", 0, 120, 24)
        self.expiry_months.setSpecialValueText(self.tr("never"))
        self.error = error_label("generalError")
        form = QFormLayout(self)
        form.addRow(self.tr("Store name"), self.store_name)
        form.addRow(self.tr("Owner's name on screen"), self.owner_name)
        form.addRow(self.tr("Owner's user name"), self.owner_username)
        form.addRow(self.tr("Owner's PIN (4 to 8 digits)"), self.pin)
        form.addRow(self.tr("PIN again"), self.pin_again)
        form.addRow(self.tr("Spend for one point"), self.yuan_per_point)
        form.addRow(self.tr("Points worth ¥1 at the till"), self.points_per_yuan)
        form.addRow(self.tr("Points last (months)"), self.expiry_months)
        form.addRow(self.error)

    def nextId(self) -> int:
        return -1

    def setup(self) -> NewStore:
        if self.pin.text() != self.pin_again.text():
            raise ValidationError(PINS_DIFFER, field="pin")
        return NewStore(
            store_name=self.store_name.text(),
            owner_name=self.owner_name.text(),
            owner_username=self.owner_username.text(),
            owner_pin=self.pin.text(),
            yuan_per_point=self.yuan_per_point.value(),
            points_per_yuan=self.points_per_yuan.value(),
            expiry_months=self.expiry_months.value(),
        )


class JoinChainPage(QWizardPage):
    def __init__(self, tasks: TaskRunner) -> None:
        super().__init__()
        self.tasks = tasks
        self.setTitle(self.tr("Join the chain's server"))
        self.setSubTitle(
            self.tr("Ask for the server's address and for the key file exported on the chain's first counter.")
        )
        self.address = _line("serverAddress")
        self.address.setPlaceholderText("postgresql+psycopg://user:password@server/memberdesk")
        self.test_button = QPushButton(self.tr("Test the connection"))
        self.test_button.setObjectName("testConnection")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel()
        self.test_result.setObjectName("savedNote")
        self.test_result.setWordWrap(True)
        self.key_file = _line("keyFile")
        browse = QPushButton(self.tr("Choose…"))
        browse.clicked.connect(self.choose_key_file)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_file, 1)
        key_row.addWidget(browse)
        self.passphrase = _line("passphrase", password=True)
        self.error = error_label("generalError")
        form = QFormLayout(self)
        form.addRow(self.tr("Server address"), self.address)
        form.addRow("", self.test_button)
        form.addRow(self.test_result)
        form.addRow(self.tr("Key file"), key_row)
        form.addRow(self.tr("Key file's passphrase"), self.passphrase)
        form.addRow(self.error)

    def nextId(self) -> int:
        return -1

    def test_connection(self) -> None:
        self.test_button.setEnabled(False)
        self.test_result.clear()
        self.error.hide()
        address = self.address.text()

        def answered(version: str) -> None:
            self.test_button.setEnabled(True)
            self.test_result.setText(self.tr("The server answered: {version}").format(version=version))

        def failed(error: MemberDeskError) -> None:
            self.test_button.setEnabled(True)
            self.error.setText(str(error))
            self.error.show()

        self.tasks.run(lambda: check_server(address), answered, failed)

    def choose_key_file(self) -> None:
        dialog = QFileDialog(self, self.tr("The chain's key file"))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.key_file.setText)
        dialog.open()

    def key_path(self) -> Path:
        if not self.key_file.text().strip():
            raise ValidationError(NO_KEY_FILE, field="key_file")
        return Path(self.key_file.text().strip())


class FirstRunWizard(QWizard):
    """Accepted once the store is made (or joined, or filled with the demo); `summary` says what was done."""

    progressed = Signal(int, int)
    """Members of the demo store made so far, and how many in all (emitted from the worker)."""

    def __init__(self, tasks: TaskRunner, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunWizard")
        self.setWindowTitle(self.tr("MemberDesk: first start on this PC"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, False)
        self.tasks = tasks
        self.data_dir = data_dir
        self.summary = ""
        self._finished_work = False
        self._working = False
        self.first_account = ""
        """The account the sign-in after the wizard offers first: the new owner's, or the demo's owner."""
        self.choice = ChoicePage()
        self.new_store = NewStorePage()
        self.join_chain = JoinChainPage(tasks)
        self.setPage(CHOICE_PAGE, self.choice)
        self.setPage(NEW_STORE_PAGE, self.new_store)
        self.setPage(JOIN_CHAIN_PAGE, self.join_chain)
        self.demo = DemoPage()
        self.setPage(DEMO_PAGE, self.demo)
        # Under the fields of the page whose Finish started the work: what is being done, and how far.
        self.working = QWidget(self)
        self.working_note = QLabel(self.tr("Making the store…"))
        self.busy = QProgressBar()
        self.busy.setObjectName("firstRunBusy")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        working_layout = QVBoxLayout(self.working)
        working_layout.setContentsMargins(0, 0, 0, 0)
        working_layout.addWidget(self.working_note)
        working_layout.addWidget(self.busy)
        self.working.hide()
        self.progressed.connect(self._show_progress)
        self.setButtonText(QWizard.WizardButton.FinishButton, self.tr("Start"))
        self.setButtonText(QWizard.WizardButton.NextButton, self.tr("Next >"))
        self.setButtonText(QWizard.WizardButton.BackButton, self.tr("< Back"))
        self.setButtonText(QWizard.WizardButton.CancelButton, self.tr("Cancel"))
        self._place_on_screen()

    def _place_on_screen(self) -> None:
        """640×480 centred where that fits; on a small screen at 125–150 % (1366×768 at 150 % leaves about 910×470
        logical pixels above the taskbar) only as big as the room there, so Next and Start stay on the screen."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
        size = PREFERRED_SIZE.boundedTo(available.size() - WINDOW_FRAME).expandedTo(self.minimumSizeHint())
        self.resize(size)
        self.move(
            available.x() + max(0, (available.width() - size.width() - WINDOW_FRAME.width()) // 2),
            available.y() + max(0, (available.height() - size.height() - WINDOW_FRAME.height()) // 2),
        )

    def accept(self) -> None:
        """Finish runs the chosen work; the wizard closes only when it is done."""
        if self._finished_work:
            super().accept()
            return
        page = self.currentPage()
        data_dir = self.data_dir
        try:
            work = self._work(page, data_dir)
        except MemberDeskError as error:
            self._failed(page, error)
            return
        self._busy(True, page)
        self.tasks.run(work, self._done, lambda error: self._failed(page, error))

    def _work(self, page: QWizardPage, data_dir: Path) -> Callable[[], str]:
        """What Finish does on `page`, read from its fields here on the GUI thread; run on the worker."""
        if page is self.new_store:
            setup = self.new_store.setup()
            ready = self.tr("The new store is ready.")
            self.first_account = setup.owner_username.strip().lower()

            def make_store() -> str:
                create_store(data_dir, setup)
                return ready

            return make_store
        if page is self.join_chain:
            address, key_path = self.join_chain.address.text(), self.join_chain.key_path()
            passphrase = self.join_chain.passphrase.text()
            joined = self.tr("Joined the chain's server ({version}).")
            return lambda: joined.format(version=join_chain(data_dir, address, key_path, passphrase))

        def progress(done: int, total: int, _what: str) -> bool:
            emit(self.progressed, done, total)
            return True

        self.first_account = "owner"  # the demo page says: sign in as owner, PIN 0000
        return lambda: create_demo_store(data_dir, progress)

    def reject(self) -> None:
        """Cancel, Esc or the window's close button: not while the store is being made, which would leave it half
        made (and the next start would take it for a finished store)."""
        if not self._working:
            super().reject()

    def _busy(self, busy: bool, page: QWizardPage | None = None) -> None:
        self._working = busy
        layout = page.layout() if page is not None else None
        if busy and layout is not None:
            layout.addWidget(self.working)
            self.busy.setRange(0, 0)
        self.working.setVisible(busy)
        for button in (
            QWizard.WizardButton.FinishButton,
            QWizard.WizardButton.BackButton,
            QWizard.WizardButton.CancelButton,
        ):
            self.button(button).setEnabled(not busy)

    def _show_progress(self, done: int, total: int) -> None:
        """How many members are made; once all are, the rest of the work has no count: the bar moves without one
        rather than stand full."""
        if done >= total:
            self.busy.setRange(0, 0)
            return
        self.busy.setRange(0, total)
        self.busy.setValue(done)

    def _done(self, summary: str) -> None:
        self._busy(False)
        self.summary = summary
        if self.first_account:
            LocalSettings(self.data_dir).set(LAST_USERNAME, self.first_account)
        self._finished_work = True
        self.accept()

    def _failed(self, page: QWizardPage, error: MemberDeskError) -> None:
        self._busy(False)
        label = getattr(page, "error", None)
        if isinstance(label, QLabel):
            label.setText(str(error))
            label.show()
