"""The print preview (打印预览): a PDF made by app.printing, shown as it will come out, then printed or saved.

Qt cannot send a PDF to a printer as it is, so each page is rendered (QtPdf) and painted onto the printer's page at
its true size. A slip goes to a roll printer, whose driver left at its default paper prints the slip onto an A4
length of roll (PLATFORM.md). Many Windows drivers for 58/80 mm printers also ignore a custom page size, so the
driver's own roll paper of the slip's width is chosen from the sizes it lists ("80(72) x 297 mm", "Roll Paper 58 x
3276 mm"…), the shortest that holds the whole slip; only a driver without one gets a custom size of exactly the
slip. Printing "to a PDF file" copies the original instead, which keeps its text and its sharp barcodes.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSize, QSizeF, QStandardPaths, Qt
from PySide6.QtGui import QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import MemberDeskError
from app.i18n import QT_TRANSLATE_NOOP
from ui.forms import error_label
from ui.selftest import on_white
from ui.tasks import TaskRunner

POINTS_PER_INCH = 72
MM_PER_POINT = 25.4 / POINTS_PER_INCH
MAX_RENDER_DPI = 600
"""Fine enough for 0.25 mm barcode bars on any counter printer; an A4 page at a laser's 1200 dpi would need 140 MB."""
PREVIEW_PIXELS_PER_MM = 5
PREVIEW_MAX = QSize(900, 640)
ROLL_WIDTH_TOLERANCE_MM = 1.5
"""Drivers list an 80 mm roll as 79.5 or 80 mm wide (and 58 mm as 57.5 or 58)."""
_UNSAFE_IN_FILE_NAMES = re.compile(r'[<>:"/\\|?*\s]+')

PRINTER_FAILED = QT_TRANSLATE_NOOP("Errors", "The printer {printer} could not be started. Is it on and connected?")
SAVE_FAILED = QT_TRANSLATE_NOOP("Errors", "{path} could not be written: {reason}")


class PrintError(MemberDeskError):
    """A printer that is off or gone, a folder that cannot be written: the cashier can fix that, so it is a message,
    not a crash."""


def copy_pdf(source: Path, target: Path) -> None:
    try:
        shutil.copyfile(source, target)
    except OSError as exc:
        raise PrintError(SAVE_FAILED, path=str(target), reason=exc.strerror or type(exc).__name__) from exc


@dataclass(frozen=True)
class Printout:
    path: Path
    """The PDF; a scratch file in the data folder, removed when the preview closes."""
    title: str
    """Names the window, the print job and the suggested file name."""
    roll_paper: bool
    """A receipt slip: the printer's page is the PDF's own page."""


def page_size(points: QSizeF) -> QPageSize:
    """A custom paper of exactly this size (in mm, the unit receipt printer drivers list their paper in)."""
    size = QSizeF(points.width() * MM_PER_POINT, points.height() * MM_PER_POINT)
    return QPageSize(size, QPageSize.Unit.Millimeter, "", QPageSize.SizeMatchPolicy.ExactMatch)


def roll_paper(supported: Sequence[QPageSize], points: QSizeF) -> QPageSize:
    """The driver's own paper as wide as the slip (within a printer's tolerance) and at least as long, the shortest
    such; else a custom size of exactly the slip."""
    slip = page_size(points).size(QPageSize.Unit.Millimeter)
    fitting = [
        size
        for size in supported
        if abs(size.size(QPageSize.Unit.Millimeter).width() - slip.width()) <= ROLL_WIDTH_TOLERANCE_MM
        and size.size(QPageSize.Unit.Millimeter).height() >= slip.height() - ROLL_WIDTH_TOLERANCE_MM
    ]
    if fitting:
        return min(fitting, key=lambda size: size.size(QPageSize.Unit.Millimeter).height())
    return page_size(points)


def use_roll_paper(printer: QPrinter, points: QSizeF, supported: Sequence[QPageSize] | None = None) -> None:
    """The slip on the printer's roll paper (see the module's docstring), margins included (the slip's layout keeps
    clear of the printer's edges). `supported` defaults to the paper sizes the printer's driver lists."""
    if supported is None:
        info = QPrinterInfo(printer)
        supported = [] if info.isNull() else info.supportedPageSizes()
    layout = QPageLayout(
        roll_paper(supported, points),
        QPageLayout.Orientation.Portrait,
        QMarginsF(0, 0, 0, 0),
        QPageLayout.Unit.Millimeter,
    )
    printer.setPageLayout(layout)
    printer.setFullPage(True)


def print_pdf(path: Path, printer: QPrinter) -> None:
    """Send the PDF at `path` to `printer` (runs on the worker: a printer driver may take its time)."""
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat:
        copy_pdf(path, Path(printer.outputFileName()))
    else:
        paint_pages(path, printer)


def paint_pages(path: Path, printer: QPrinter) -> None:
    """Each page rendered onto white and painted at its true size, shrunk only where the paper is smaller."""
    document = QPdfDocument()
    try:
        error = document.load(str(path))
        if error != QPdfDocument.Error.None_:
            raise OSError(f"{path} cannot be read back for printing: {error.name}")
        painter = QPainter()
        if not painter.begin(printer):
            raise PrintError(PRINTER_FAILED, printer=printer.printerName() or printer.outputFileName())
        try:
            _paint(document, printer, painter)
        finally:
            painter.end()
    finally:
        document.close()


def _paint(document: QPdfDocument, printer: QPrinter, painter: QPainter) -> None:
    device_dpi = printer.resolution()
    render_dpi = min(device_dpi, MAX_RENDER_DPI)
    area = printer.pageRect(QPrinter.Unit.DevicePixel).size()
    for page in range(document.pageCount()):
        if page and not printer.newPage():
            raise PrintError(PRINTER_FAILED, printer=printer.printerName())
        points = document.pagePointSize(page)
        pixels = (points * (render_dpi / POINTS_PER_INCH)).toSize()
        image = on_white(document.render(page, pixels))
        actual = points * (device_dpi / POINTS_PER_INCH)
        scale = min(1.0, area.width() / actual.width(), area.height() / actual.height())
        painter.drawImage(QRectF(0, 0, actual.width() * scale, actual.height() * scale), image)


def suggested_file_name(title: str) -> str:
    """The title as a file name every system accepts."""
    return f"{_UNSAFE_IN_FILE_NAMES.sub('-', title).strip('-') or 'MemberDesk'}.pdf"


class PrintPreviewDialog(QDialog):
    def __init__(self, tasks: TaskRunner, printout: Printout, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("printPreview")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(self.tr("Print preview: {title}").format(title=printout.title))
        self.tasks = tasks
        self.printout = printout
        self.document = QPdfDocument(self)
        # On the GUI thread, where the view needs its document: a page or two just written by us, read in a blink.
        error = self.document.load(str(printout.path))
        if error != QPdfDocument.Error.None_:
            raise OSError(f"{printout.path} cannot be shown: {error.name}")
        self.view = QPdfView(self)
        self.view.setObjectName("pdfView")
        if self.document.pageCount() == 1:  # a card or a slip, fitted whole: a scroll bar would only shrink it
            self.view.setPageMode(QPdfView.PageMode.SinglePage)
            self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        else:
            self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitInView)
        self.view.setDocument(self.document)

        self.status = QLabel()
        self.status.setObjectName("savedNote")
        self.status.setWordWrap(True)
        self.status.hide()
        self.error = error_label("generalError")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("Close"))
        self.print_button: QPushButton = self.buttons.addButton(
            self.tr("Print…"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.print_button.setObjectName("printButton")
        self.print_button.setDefault(True)
        self.print_button.clicked.connect(self.choose_printer)
        self.save_button: QPushButton = self.buttons.addButton(
            self.tr("Save as PDF…"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.save_button.clicked.connect(self.choose_file)
        self.buttons.rejected.connect(self.reject)
        self.body = QVBoxLayout(self)
        self.body.addWidget(self.view, 1)
        self.body.addWidget(self.status)
        self.body.addWidget(self.error)
        self.body.addWidget(self.buttons)
        self.resize(self._size_for(self.document.pagePointSize(0)))
        self.print_button.setFocus()
        self.finished.connect(self._discard)

    def _size_for(self, points: QSizeF) -> QSize:
        """The page at a size that reads at a glance, the view shaped like the page (no grey band beside it), within
        what a counter screen has room for and never narrower than the buttons."""
        margins = self.view.documentMargins()
        frame = 2 * self.view.frameWidth()
        extra = QSize(margins.left() + margins.right() + frame, margins.top() + margins.bottom() + frame)
        page = QSizeF(points.width() * MM_PER_POINT, points.height() * MM_PER_POINT) * PREVIEW_PIXELS_PER_MM
        page = page.scaled(QSizeF(PREVIEW_MAX - extra), Qt.AspectRatioMode.KeepAspectRatio).boundedTo(page)
        width = max(round(page.width()) + extra.width(), self.buttons.sizeHint().width())
        height = round((width - extra.width()) * points.height() / points.width()) + extra.height()
        body = self.body.contentsMargins()
        chrome = self.buttons.sizeHint().height() + self.body.spacing() + body.top() + body.bottom()
        return QSize(width + body.left() + body.right(), min(height, PREVIEW_MAX.height()) + chrome)

    # -- printing -------------------------------------------------------------------------------------------
    def new_printer(self) -> QPrinter:
        """A printer set up for this printout; the print dialog starts from it."""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.printout.title)
        if self.printout.roll_paper:
            use_roll_paper(printer, self.document.pagePointSize(0))
        return printer

    def choose_printer(self) -> None:
        printer = self.new_printer()
        dialog = QPrintDialog(printer, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setOption(QPrintDialog.PrintDialogOption.PrintPageRange, False)
        dialog.accepted.connect(lambda: self.print_to(printer))
        QDialog.open(dialog)  # QDialog's own open(): the type hints know only QPrintDialog's overload with a receiver

    def print_to(self, printer: QPrinter) -> None:
        if self.printout.roll_paper:  # choosing a printer in the dialog brings back that printer's default paper
            use_roll_paper(printer, self.document.pagePointSize(0))
        self._start()
        name = printer.outputFileName() if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat else ""
        self.tasks.run(
            lambda: print_pdf(self.printout.path, printer),
            lambda _none: self._done(
                self.tr("Saved to {path}.").format(path=name)
                if name
                else self.tr("Sent to {printer}.").format(printer=printer.printerName())
            ),
            self._failed,
        )

    # -- saving ---------------------------------------------------------------------------------------------
    def choose_file(self) -> None:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        dialog = QFileDialog(
            self,
            self.tr("Save as PDF"),
            str(Path(folder) / suggested_file_name(self.printout.title)),
            self.tr("PDF files (*.pdf)"),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("pdf")
        dialog.fileSelected.connect(lambda path: self.save_to(Path(path)))
        dialog.open()

    def save_to(self, target: Path) -> None:
        self._start()
        source = self.printout.path
        self.tasks.run(
            lambda: copy_pdf(source, target),
            lambda _path: self._done(self.tr("Saved to {path}.").format(path=target)),
            self._failed,
        )

    # -- state ----------------------------------------------------------------------------------------------
    def _start(self) -> None:
        self.status.hide()
        self.error.hide()
        self.print_button.setEnabled(False)
        self.save_button.setEnabled(False)

    def _done(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.print_button.setEnabled(True)
        self.save_button.setEnabled(True)

    def _failed(self, error: MemberDeskError) -> None:
        self._done("")
        self.error.setText(str(error))
        self.error.show()

    def _discard(self) -> None:
        """The scratch PDF goes once nobody can print it any more; queued behind a print job still running."""
        self.document.close()
        path = self.printout.path
        self.tasks.run(lambda: path.unlink(missing_ok=True))
