"""Settings of this PC only (本机设置), kept in its local settings file: what differs from counter to counter of the
same store, such as the paper in its receipt printer."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from ui.local_settings import IDLE_LOCK_CHOICES, IDLE_LOCK_MINUTES, SLIP_WIDTH_MM, SLIP_WIDTHS_MM, LocalSettings
from ui.pages.base import Page
from ui.tasks import TaskRunner


class ThisPcPage(Page):
    def __init__(self, tasks: TaskRunner, local: LocalSettings, parent: QWidget | None = None) -> None:
        super().__init__(tasks, parent)
        self.setObjectName("thisPcPage")
        self.local = local
        note = QLabel(self.tr("These settings apply to this computer only; every counter keeps its own."))
        note.setObjectName("emptyHint")
        note.setWordWrap(True)
        self.slip_width = QComboBox()
        self.slip_width.setObjectName("slipWidth")
        for width in SLIP_WIDTHS_MM:
            self.slip_width.addItem(self.tr("{width} mm").format(width=width), width)
        self.slip_width.setCurrentIndex(self.slip_width.findData(local.slip_width_mm()))
        self.slip_width.currentIndexChanged.connect(self._slip_width_chosen)
        self.idle_lock = QComboBox()
        self.idle_lock.setObjectName("idleLock")
        for minutes in IDLE_LOCK_CHOICES:
            self.idle_lock.addItem(self.tr("after {minutes} min").format(minutes=minutes), minutes)
        self.idle_lock.setCurrentIndex(self.idle_lock.findData(local.idle_lock_minutes()))
        self.idle_lock.currentIndexChanged.connect(self._idle_lock_chosen)
        self.saved = QLabel()
        self.saved.setObjectName("savedNote")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow(self.tr("Receipt printer paper width"), self.slip_width)
        form.addRow(self.tr("Lock the counter when idle"), self.idle_lock)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.saved)
        layout.addStretch(1)

    def _slip_width_chosen(self) -> None:
        self.local.set(SLIP_WIDTH_MM, int(self.slip_width.currentData()))
        self.saved.setText(
            self.tr("Slips are now laid out for {width} mm paper.").format(width=self.slip_width.currentData())
        )

    def _idle_lock_chosen(self) -> None:
        minutes = int(self.idle_lock.currentData())
        self.local.set(IDLE_LOCK_MINUTES, minutes)
        self.saved.setText(
            self.tr("The counter now asks for the PIN after {minutes} minutes without a key or a click.").format(
                minutes=minutes
            )
        )
