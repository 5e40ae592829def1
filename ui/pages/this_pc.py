"""Settings of this PC only (本机设置), kept in its local settings file: what differs from counter to counter of the
same store, such as the paper in its receipt printer."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from ui.local_settings import SLIP_WIDTH_MM, SLIP_WIDTHS_MM, LocalSettings
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
        self.saved = QLabel()
        self.saved.setObjectName("savedNote")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow(self.tr("Receipt printer paper width"), self.slip_width)
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
