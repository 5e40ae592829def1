"""Backups (备份与恢复): a verified copy to a chosen folder (a USB stick), the list of copies in the data folder,
and a restore. Both run on the worker with a progress bar; a restore asks first and keeps a copy of the state before."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.errors import MemberDeskError
from app.vocabulary import StaffRole
from ui.forms import ActionDialog, error_label
from ui.messages import show_info
from ui.models import Column, RowsModel, row_table
from ui.pages.base import Page
from ui.signals import emit
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.context import Services
    from app.trust.backup import BackupFile, RestoreResult


class Progress(QObject):
    """Pages copied, reported from the worker; the signal crosses to the GUI thread queued."""

    moved = Signal(int, int)

    def __call__(self, done: int, total: int) -> None:
        emit(self.moved, done, total)


def _size(size: int) -> str:
    return f"{size / 1_048_576:,.1f} MB"


class RestoreDialog(ActionDialog):
    changes = Changes.MEMBERS | Changes.POINTS | Changes.SALES | Changes.SETTINGS | Changes.AUDIT

    def __init__(
        self, tasks: TaskRunner, services: Services, source: Path, progress: Progress, parent: QWidget | None
    ) -> None:
        super().__init__(tasks, services, self.tr("Restore a backup"), self.tr("Restore"), parent)
        self.setObjectName("restoreDialog")
        self.source = source
        self.progress = progress
        warning = QLabel(
            self.tr(
                "The store will be replaced by the backup {name}. Everything recorded since that backup is set "
                "aside in a copy made first. Other counters should be closed; start MemberDesk again afterwards."
            ).format(name=source.name)
        )
        warning.setWordWrap(True)
        self.form.addRow(warning)
        self.resize(480, self.sizeHint().height())

    def prepare(self) -> Callable[[], Any]:
        backups, source, progress = self.services.backups, self.source, self.progress
        return lambda: backups.restore(source, progress)

    def succeeded(self, result: RestoreResult) -> str:
        return self.tr("Restored {name}; the state before is kept in {copy}.").format(
            name=result.restored.path.name, copy=result.safety_copy.name
        )


class BackupPage(Page):
    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("backupPage")
        self.folder = QLineEdit()
        self.folder.setObjectName("backupFolder")
        self.folder.setPlaceholderText(self.tr("A folder, e.g. a USB stick"))
        choose = QPushButton(self.tr("Choose…"))
        choose.clicked.connect(self.choose_folder)
        self.backup_button = QPushButton(self.tr("Back up now"))
        self.backup_button.setObjectName("backupButton")
        self.backup_button.clicked.connect(self.back_up)
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("Back up to")))
        row.addWidget(self.folder, 1)
        row.addWidget(choose)
        row.addWidget(self.backup_button)
        hint = QLabel(
            self.tr(
                "Every day the first counter to start makes an automatic copy in the data folder (kept: 7 days, "
                "4 weeks, 12 months). Copy to a USB stick too: a copy on the same disk dies with it. The ID-number "
                "key is written beside the copy; keep the stick somewhere safe."
            )
        )
        hint.setWordWrap(True)
        self.progress = Progress(self)
        self.bar = QProgressBar()
        self.bar.setObjectName("backupProgress")
        self.bar.hide()
        self.progress.moved.connect(self._moved)
        self.model: RowsModel[BackupFile] = RowsModel(
            [
                Column(lambda: self.tr("Backup"), lambda b: str(b.path.name)),
                Column(lambda: self.tr("Folder"), lambda b: str(b.path.parent)),
                Column(lambda: self.tr("Size"), lambda b: _size(b.size)),
            ],
            self,
        )
        self.view = row_table(self.model, takes_focus=True)
        self.view.setObjectName("backupList")
        self.view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.restore_file = QLineEdit()
        self.restore_file.setObjectName("restoreFile")
        self.restore_file.setPlaceholderText(self.tr("A backup file, or select one above"))
        pick = QPushButton(self.tr("Choose…"))
        pick.clicked.connect(self.choose_file)
        self.restore_button = QPushButton(self.tr("Restore…"))
        self.restore_button.setObjectName("restoreButton")
        self.restore_button.clicked.connect(self.restore)
        self.view.selectionModel().currentRowChanged.connect(lambda now, _before: self._selected(now.row()))
        restore_row = QHBoxLayout()
        restore_row.addWidget(QLabel(self.tr("Restore from")))
        restore_row.addWidget(self.restore_file, 1)
        restore_row.addWidget(pick)
        restore_row.addWidget(self.restore_button)
        self.note = QLabel()
        self.note.setObjectName("savedNote")
        self.note.setWordWrap(True)
        self.error = error_label("generalError")
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(hint)
        layout.addWidget(self.bar)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addWidget(self.view, 1)
        layout.addLayout(restore_row)

    def attach(self, services: Services) -> None:
        super().attach(services)
        owner = services.operator.at_least(StaffRole.OWNER)
        self.restore_button.setEnabled(owner)
        self.restore_button.setToolTip("" if owner else self.tr("Only the owner restores a backup."))
        self.reload()

    def reload(self) -> None:
        if self.services is not None:
            self.tasks.run(self.services.backups.backups_list, self.model.set_rows, lambda _e: self.model.set_rows([]))

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Back up to"), self.folder.text())
        if folder:
            self.folder.setText(folder)

    def choose_file(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(
            self, self.tr("Restore from"), self.restore_file.text(), self.tr("Backups (*.sqlite3)")
        )
        if name:
            self.restore_file.setText(name)

    def _selected(self, row: int) -> None:
        backup = self.model.row_at(row)
        if backup is not None:
            self.restore_file.setText(str(backup.path))

    def _moved(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)

    def _busy(self, busy: bool) -> None:
        self.backup_button.setEnabled(not busy)
        self.bar.setVisible(busy)
        if busy:
            self.bar.setRange(0, 0)
            self.note.clear()
            self.error.clear()

    def back_up(self) -> None:
        if self.services is None:
            return
        text = self.folder.text().strip()
        dest = Path(text) if text else None
        if dest is not None and not dest.is_dir():
            self.error.setText(self.tr("No such folder: {folder}").format(folder=text))
            return
        self._busy(True)
        backups, progress = self.services.backups, self.progress
        self.tasks.run(lambda: backups.backup(dest, progress), self._backed_up, self._failed)

    def _backed_up(self, made: BackupFile) -> None:
        self._busy(False)
        self.note.setText(
            self.tr("Backed up and verified: {path} ({size}, {members} members).").format(
                path=made.path, size=_size(made.size), members=made.members
            )
        )
        self.reload()

    def _failed(self, error: MemberDeskError) -> None:
        self._busy(False)
        self.error.setText(str(error))

    def restore(self) -> None:
        text = self.restore_file.text().strip()
        if self.services is None or not text:
            return
        dialog = RestoreDialog(self.tasks, self.services, Path(text), self.progress, self)
        dialog.completed.connect(self._restored)
        dialog.open()

    def _restored(self, message: str) -> None:
        self.note.setText(message)
        show_info(self, message)
        self.reload()
