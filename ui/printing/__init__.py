"""Printing from the GUI: what a slip says, making the PDFs with app.printing on the worker, and the print preview.
Imported only when something is printed: QtPdf and ReportLab are no part of start-up."""
